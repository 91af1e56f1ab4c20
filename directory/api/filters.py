"""The person list's query parameters: the vendor's JSON ``filter`` language, read into the one
query (directory.search.SearchQuery) with ``orderBy`` and the page parameters, and compiled to
one ORM ``Q``.

Standard attributes compare on their columns, tags and custom attributes are EXISTS subqueries
(no joins, so no DISTINCT), a custom attribute value is read by its definition's type and
compared on the typed column of AttributeValue (people.custom_attributes.COMPARED_COLUMNS).

    {"#and": [{"firstName": "Alex"}, {"#contains": {"tags": "VIP Client"}}]}
    {"#gte": {"customAttributes.Age": 30}}  or  {"customAttributes": {"Age": {"#gte": 30}}}
    {"lastName": {"#startsWith": "Smi"}}
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from typing import Any

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet

from core.api.json import JSONInputError, parse_json
from core.errors import DomainError, ErrorCode
from directory.search import filters as search
from directory.search.query import SearchQuery
from people import custom_attributes as attribute_types
from people.api.filters import page_params, parse_order_by
from people.fields import STANDARD_FIELDS
from people.identities import fold_email_text, normalize_email, try_phone
from people.models import (
    AttributeDefinition,
    AttributeValue,
    ContactIdentity,
    DataType,
    IdentityKind,
    Person,
    Tag,
)
from people.name_keys import name_key

MAX_FILTER_LENGTH = 10_000
MAX_FILTER_DEPTH = 10
MAX_FILTER_CONDITIONS = 100

EQUALITY = {"#eq", "#ne"}
TEXT = {"#contains", "#notContain", "#startsWith", "#endsWith"}
RANGE = {"#gt", "#lt", "#gte", "#lte"}
COMPARISONS = EQUALITY | TEXT | RANGE
NEGATED = {"#ne", "#notContain"}
LOOKUPS = {
    "#eq": "exact",
    "#ne": "exact",
    "#contains": "icontains",
    "#notContain": "icontains",
    "#startsWith": "istartswith",
    "#endsWith": "iendswith",
    "#gt": "gt",
    "#lt": "lt",
    "#gte": "gte",
    "#lte": "lte",
}
# Standard attributes that compare as text, and those that compare in order.
TEXT_FIELDS = [name for name in STANDARD_FIELDS if name not in ("birthDate",)]
ORDERED_FIELDS = {"id": "id", "birthDate": "birth_date", "createdAt": "created_at"}
ORDERED_FIELDS["modifiedAt"] = "modified_at"
FILTER_FIELDS_HELP = (
    "Fields: id, type, externalId, firstName, lastName, middleName, gender, birthDate, address, "
    "city, country, preferredLanguage, profilePicture, createdAt, modifiedAt, tags, "
    "contactInformation.phone.number, contactInformation.email.address, "
    "customAttributes.<name>."
)


def _error(message: str, field: str = "filter") -> DomainError:
    return DomainError(ErrorCode.BAD_REQUEST, message, field)


class FilterCompiler:
    """Turns the JSON ``filter`` text into a Q object over Person."""

    def __init__(self) -> None:
        self.conditions = 0
        self._definitions: dict[str, AttributeDefinition | None] = {}
        # What some compiled conditions are, for _and() to combine: a tag. By id() of the Q,
        # with the Q itself beside it: an id is unique only while its object lives.
        self._tags: dict[int, tuple[Q, search.TagFilter]] = {}
        # A custom attribute condition: the values that match (of any person).
        self._attributes: dict[int, tuple[Q, QuerySet[AttributeValue]]] = {}

    def compile(self, text: str) -> Q:
        if len(text) > MAX_FILTER_LENGTH:
            raise _error(f"filter must be at most {MAX_FILTER_LENGTH} characters.")
        try:
            tree = parse_json(text)
        except JSONInputError as exc:
            raise _error(f"filter: {exc}") from None
        return self.node(tree, depth=0)

    def node(self, node: Any, depth: int) -> Q:
        if depth > MAX_FILTER_DEPTH:
            raise _error(f"filter nests more than {MAX_FILTER_DEPTH} levels.")
        if not isinstance(node, dict) or not node:
            raise _error("Each filter clause must be a non-empty JSON object.")
        parts: list[Q] = []  # the clauses of one object hold together
        for key, value in node.items():
            if key in ("#and", "#or"):
                if not isinstance(value, list) or not value:
                    raise _error(f"{key} takes a non-empty list of clauses.")
                items = [self.node(item, depth + 1) for item in value]
                if key == "#and":
                    parts.append(self._and(items))
                else:
                    parts.append(functools.reduce(operator.or_, items))
            elif key.startswith("#"):
                if key not in COMPARISONS:
                    raise _error(f"Unknown operator {key!r}.")
                if not isinstance(value, dict) or not value:
                    raise _error(f"{key} takes an object of field -> value.")
                for field, operand in value.items():
                    parts.append(self.field(field, key, operand))
            elif key == "customAttributes" and isinstance(value, dict):
                for name, operand in value.items():
                    parts.append(self.field(f"customAttributes.{name}", *_operator(operand)))
            else:
                parts.append(self.field(key, *_operator(value)))
        return self._and(parts)

    def _and(self, parts: list[Q]) -> Q:
        """``parts`` all together (a rare tag beside custom attributes: see _probed)."""
        if len(parts) <= 1:
            return parts[0] if parts else Q()
        return functools.reduce(operator.and_, self._probed(parts))

    def _probed(self, parts: list[Q]) -> list[Q]:
        """A rare tag and custom attribute conditions beside it become one condition: the
        tag's people, each probed for the attributes (TagFilter.with_rows)."""
        tag = next((t for t in map(self._recorded_tag, parts) if t and t.rare), None)
        attributes = [p for p in parts if _recorded(self._attributes, p) is not None]
        if tag is None or not attributes:
            return parts
        both = tag.with_rows([_recorded(self._attributes, p) for p in attributes])
        if both is None:
            return parts
        tag_part = next(p for p in parts if self._recorded_tag(p) is tag)
        return [both if p is tag_part else p for p in parts if not any(p is a for a in attributes)]

    def _recorded_tag(self, part: Q) -> search.TagFilter | None:
        return _recorded(self._tags, part)

    def field(self, field: Any, op: str, operand: Any) -> Q:
        self.conditions += 1
        if self.conditions > MAX_FILTER_CONDITIONS:
            raise _error(f"filter has more than {MAX_FILTER_CONDITIONS} conditions.")
        if not isinstance(field, str):
            raise _error("Field names must be strings.")
        if field == "tags":
            return self.tags(op, operand)
        if field.startswith("customAttributes."):
            return self.custom_attribute(field.removeprefix("customAttributes."), op, operand)
        if field in ("contactInformation.phone.number", "contactInformation.email.address"):
            return self.contact(field, op, operand)
        if field in ORDERED_FIELDS:
            return self.ordered(field, op, operand)
        if field in TEXT_FIELDS:
            return self.text(field, op, operand)
        raise _error(f"Cannot filter on {field!r}. {FILTER_FIELDS_HELP}")

    def text(self, field: str, op: str, operand: Any) -> Q:
        if op in RANGE:
            raise _error(f"{op} does not apply to the text field {field}.")
        column = STANDARD_FIELDS[field][0]
        if operand is None and op in EQUALITY:
            empty = Q(external_id__isnull=True) if field == "externalId" else Q(**{column: ""})
            return ~empty if op == "#ne" else empty
        if not isinstance(operand, str):
            raise _error(f"{field} is compared with a string, not {operand!r}.")
        if field in ("gender", "type"):
            operand = operand.upper()
        # firstName/lastName #startsWith: UPPER(name) text_pattern_ops INCLUDE (id, name,
        # created_at, tag_ids), see migrations 0009 and 0010.
        condition = Q(**{f"{column}__{LOOKUPS[op]}": operand})
        return ~condition if op in NEGATED else condition

    def ordered(self, field: str, op: str, operand: Any) -> Q:
        if op in TEXT:
            raise _error(f"{op} applies to text fields, not to {field}.")
        column = ORDERED_FIELDS[field]
        if operand is None and op in EQUALITY and field == "birthDate":
            condition = Q(birth_date__isnull=True)
            return ~condition if op == "#ne" else condition
        if field == "id":
            value: Any = attribute_types.parse_scalar(
                DataType.INTEGER, operand, name="id", field="filter", from_text=True
            )
        elif field == "birthDate":
            value = attribute_types.parse_date(operand, name=field, field="filter")
        else:
            value = attribute_types.parse_datetime(operand, name=field, field="filter")
        condition = Q(**{f"{column}__{LOOKUPS[op]}": value})
        return ~condition if op in NEGATED else condition

    def tags(self, op: str, operand: Any) -> Q:
        if op in RANGE:
            raise _error(f"{op} does not apply to tags.")
        if not isinstance(operand, str):
            raise _error(f"tags are compared with a tag name (a string), not {operand!r}.")
        lookup = "exact" if op in EQUALITY or op in ("#contains", "#notContain") else LOOKUPS[op]
        if lookup == "exact":
            # The tag's id as a value: the planner knows how many people have it.
            tag = search.find_tag(operand)
            if tag is None:
                return ~Q(pk__in=[]) if op in NEGATED else Q(pk__in=[])
            if op in NEGATED:
                return ~tag.condition()
            condition = tag.condition()
            self._tags[id(condition)] = (condition, tag)
            return condition
        tags = Tag.objects.filter(**{f"name_key__{lookup}": name_key(operand)})
        through = Person.tags.through
        has = Exists(through.objects.filter(person_id=OuterRef("pk"), tag_id__in=tags.values("id")))
        return ~Q(has) if op in NEGATED else Q(has)

    def contact(self, field: str, op: str, operand: Any) -> Q:
        if op in RANGE:
            raise _error(f"{op} does not apply to {field}.")
        if not isinstance(operand, str):
            raise _error(f"{field} is compared with a string, not {operand!r}.")
        kind = IdentityKind.PHONE if ".phone." in field else IdentityKind.EMAIL
        if op in EQUALITY:
            if kind == IdentityKind.PHONE:
                phone = try_phone(operand)
                value = phone.number if phone else None
            else:
                try:
                    value = normalize_email(operand, field="filter")
                except DomainError:
                    value = None
            identities = ContactIdentity.objects.filter(kind=kind, value=value or "")
            if value is None:
                identities = identities.none()
        else:
            if kind == IdentityKind.PHONE:
                text = operand.strip().lstrip("+").lower()
            else:
                text = fold_email_text(operand)  # stored addresses are folded alike
            identities = ContactIdentity.objects.filter(
                kind=kind, **{f"value__{LOOKUPS[op]}": text}
            )
        has = Exists(identities.filter(person_id=OuterRef("pk")))
        return ~Q(has) if op in NEGATED else Q(has)

    def definition(self, name: str) -> AttributeDefinition:
        key = name_key(name)
        if key not in self._definitions:
            self._definitions[key] = AttributeDefinition.objects.filter(name_key=key).first()
        definition = self._definitions[key]
        if definition is None:
            raise _error(f"No custom attribute named {name!r} is defined.")
        return definition

    def custom_attribute(self, name: str, op: str, operand: Any) -> Q:
        definition = self.definition(name)
        data_type = definition.data_type
        values = AttributeValue.objects.filter(person_id=OuterRef("pk"), definition=definition)
        if operand is None and op in EQUALITY:
            has = Exists(values)
            return Q(has) if op == "#ne" else ~Q(has)
        if data_type == DataType.LIST_OF_OBJECTS:
            raise _error(f"{definition.name} is a list of objects and cannot be compared.")
        if op in TEXT and data_type != DataType.STRING:
            raise _error(f"{op} applies to STRING attributes; {definition.name} is {data_type}.")
        if op in RANGE and data_type in (DataType.STRING, DataType.BOOLEAN):
            raise _error(f"{op} does not apply to {data_type} attribute {definition.name}.")
        value = attribute_types.parse_scalar(
            data_type,
            operand,
            name=definition.name,
            field="filter",
            from_text=True,
        )
        if data_type == DataType.DATE_TIME and isinstance(value, dt.datetime):
            value = value.astimezone(dt.UTC)
        column = attribute_types.COMPARED_COLUMNS[data_type]
        lookup = "exact" if op in EQUALITY else LOOKUPS[op]

        def compared(rows: QuerySet[AttributeValue]) -> QuerySet[AttributeValue]:
            if column == "value_text" and lookup == "exact":
                return search.text_values(rows, lookup, value)  # through the indexed prefix
            if column == "value_text" and op == "#startsWith":
                return search.text_values_starting(rows, value)
            return rows.filter(**{f"{column}__{lookup}": value})

        matching = Exists(compared(values))
        if op in NEGATED:
            return ~Q(matching)
        condition = Q(matching)
        self._attributes[id(condition)] = (
            condition,
            compared(AttributeValue.objects.filter(definition=definition)),
        )
        return condition


def _recorded(kinds: dict[int, tuple[Q, Any]], part: Q) -> Any:
    """What ``part`` was recorded as in ``kinds``, or None."""
    q, what = kinds.get(id(part), (None, None))
    return what if q is part else None


def _operator(value: Any) -> tuple[str, Any]:
    """``{"#gt": 3}`` -> ("#gt", 3); a plain value means equality."""
    if isinstance(value, dict) and len(value) == 1:
        ((key, operand),) = value.items()
        if isinstance(key, str) and key.startswith("#"):
            if key not in COMPARISONS:
                raise _error(f"Unknown operator {key!r}.")
            return key, operand
    if isinstance(value, dict | list):
        raise _error(f"A field is compared with a single value, not {value!r}.")
    return "#eq", value


def compile_filter(text: str) -> Q:
    return FilterCompiler().compile(text)


# ---------------------------------------------------------------------------------------------
# orderBy, and the parameters as one query

PERSON_ORDER_FIELDS = {
    "firstName": "first_name",
    "lastName": "last_name",
    "createdAt": "created_at",
    "modifiedAt": "modified_at",
}
PERSON_DEFAULT_ORDER = "createdAt:desc"


class PersonFilterSet(django_filters.FilterSet):
    """The list of people: ``filter``, the vendor's JSON language (orderBy and the page
    parameters are read by the view, as they also apply without a filter)."""

    filter = django_filters.CharFilter(method="filter_query")

    class Meta:
        model = Person
        fields: list[str] = []

    def filter_query(self, queryset: QuerySet[Person], name: str, value: str):
        if not value:
            return queryset
        return queryset.filter(compile_filter(value))


def person_ordering(text: str) -> tuple[str, list[str]]:
    return parse_order_by(text, PERSON_ORDER_FIELDS, default=PERSON_DEFAULT_ORDER)


def api_query(params) -> SearchQuery:
    """The list's query parameters as the one query: ``filter`` (the JSON text as given, checked
    when compiled), ``orderBy``, ``limit``, ``page`` and ``includeTotalCount`` (checked here: a
    400 naming the parameter)."""
    pages = page_params(params)
    return SearchQuery(
        filter=params.get("filter") or None,
        order_by=params.get("orderBy") or None,
        page=pages["page"],
        limit=pages["limit"],
        include_total=pages["includeTotalCount"],
    )
