"""Finding people: one module that the operator UI, the API list and admin share.

The search box input is classified first (pushRegistrationId, phone, email, externalId, name)
and each kind runs an exact lookup on its own index; a name is a prefix match on the folded
name columns. Filters are EXISTS subqueries (no DISTINCT over joins). Pages are keyset pages
on the person id: no OFFSET, no COUNT(*).

Installations are reached through Person's reverse relation, so this module does not import
the installations app.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import Lower

from people import custom_attributes as attribute_types
from people.errors import DomainError
from people.fields import fold
from people.identities import try_phone
from people.models import (
    AttributeDefinition,
    AttributeValue,
    ContactIdentity,
    DataType,
    IdentityKind,
    Person,
    Tag,
)

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
_DIGITS = re.compile(r"\D")


def installation_model():
    """The installation model, through Person's reverse relation ``installations``."""
    return Person._meta.get_field("installations").related_model


@dataclass(frozen=True)
class Match:
    """What the search box input matched on: shown to the operator ("phone 38516419710")."""

    kind: str  # pushRegistrationId | phone | nationalPhone | email | externalId | name | id
    value: str

    @property
    def label(self) -> str:
        names = {
            "pushRegistrationId": "pushRegistrationId",
            "phone": "phone",
            "nationalPhone": "phone (national number)",
            "email": "email",
            "externalId": "externalId",
            "name": "name starting with",
            "id": "person id",
        }
        return f"{names.get(self.kind, self.kind)} {self.value}"


@dataclass
class SearchQuery:
    q: str = ""
    type: str | None = None
    tags: list[str] = field(default_factory=list)
    application: str | None = None  # application code
    platform: str | None = None
    has_primary: bool | None = None
    push_enabled: bool | None = None
    attribute: str | None = None  # custom attribute name
    attribute_value: str | None = None  # as typed; read by the definition's type
    attribute_op: str = "eq"  # eq | gt | gte | lt | lte

    @property
    def has_filters(self) -> bool:
        return bool(
            self.type
            or self.tags
            or self.application
            or self.platform
            or self.has_primary is not None
            or self.push_enabled is not None
            or self.attribute
        )


@dataclass
class SearchPage:
    people: list[Person]
    matches: list[Match]
    next_cursor: int | None
    exact: bool  # the box matched a unique identifier (not a name prefix)

    @property
    def single_exact(self) -> Person | None:
        return self.people[0] if self.exact and len(self.people) == 1 else None


def list_queryset() -> QuerySet[Person]:
    """People with what a result row shows, in a fixed number of queries."""
    installation = installation_model()
    return Person.objects.prefetch_related(
        Prefetch("identities", queryset=ContactIdentity.objects.order_by("id")),
        Prefetch("tags", queryset=Tag.objects.order_by("name")),
        Prefetch(
            "installations",
            queryset=installation.objects.select_related("application").order_by(
                "-is_primary", "id"
            ),
        ),
    )


# ---------------------------------------------------------------------------------------------
# The search box


def exact_matches(text: str) -> tuple[list[int], list[Match]]:
    """Person ids found by an exact identifier in ``text``, each on a unique index."""
    text = text.strip()
    if not text:
        return [], []
    ids: list[int] = []
    matches: list[Match] = []

    def found(person_ids, match: Match) -> None:
        new = [pk for pk in person_ids if pk not in ids]
        if new:
            ids.extend(new)
            matches.append(match)

    installation = installation_model()
    found(
        installation.objects.filter(push_registration_id=text).values_list("person_id", flat=True),
        Match("pushRegistrationId", text),
    )
    found(
        Person.objects.filter(external_id=text).values_list("id", flat=True),
        Match("externalId", text),
    )
    if "@" in text:
        email = text.lower()
        found(
            ContactIdentity.objects.filter(kind=IdentityKind.EMAIL, value=email).values_list(
                "person_id", flat=True
            ),
            Match("email", email),
        )
    digits = _DIGITS.sub("", text)
    if 6 <= len(digits) <= 17 and re.fullmatch(r"[\d\s\-.()+/]+", text):
        phone = try_phone(text)
        if phone is not None:
            found(
                ContactIdentity.objects.filter(
                    kind=IdentityKind.PHONE, value=phone.number
                ).values_list("person_id", flat=True),
                Match("phone", phone.number),
            )
        # Typed without country code: the national number, with or without the trunk 0.
        national = digits.lstrip("0")
        if national:
            found(
                ContactIdentity.objects.filter(
                    kind=IdentityKind.PHONE, national_number=national
                ).values_list("person_id", flat=True)[:MAX_PAGE_SIZE],
                Match("nationalPhone", national),
            )
    return ids, matches


def name_filter(text: str) -> Q | None:
    """Prefix of "first last" or "last first", case- and accent-insensitive."""
    folded = fold(text)
    if not folded or not any(c.isalpha() for c in folded):
        return None
    return Q(search_name__startswith=folded) | Q(search_name_reversed__startswith=folded)


# ---------------------------------------------------------------------------------------------
# Filters


def _bool(value: Any) -> bool | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        return value
    return str(value).lower() in {"1", "true", "yes", "on"}


def apply_filters(queryset: QuerySet[Person], query: SearchQuery) -> QuerySet[Person]:
    installation = installation_model()
    if query.type:
        queryset = queryset.filter(type=query.type)
    if query.tags:
        lowered = [t.strip().lower() for t in query.tags if t.strip()]
        tag_ids = dict(
            Tag.objects.annotate(lname=Lower("name"))
            .filter(lname__in=lowered)
            .values_list("lname", "id")
        )
        through = Person.tags.through
        for name in lowered:
            if name not in tag_ids:
                return queryset.none()
            queryset = queryset.filter(
                Exists(through.objects.filter(person_id=OuterRef("pk"), tag_id=tag_ids[name]))
            )
    installation_filter = Q()
    if query.application:
        installation_filter &= Q(application__code=query.application)
    if query.platform:
        installation_filter &= Q(os__iexact=query.platform)
    if query.push_enabled is not None:
        installation_filter &= Q(registration_enabled=query.push_enabled)
    if installation_filter:
        queryset = queryset.filter(
            Exists(installation.objects.filter(installation_filter, person_id=OuterRef("pk")))
        )
    if query.has_primary is not None:
        has = Exists(installation.objects.filter(person_id=OuterRef("pk"), is_primary=True))
        queryset = queryset.filter(has if query.has_primary else ~has)
    if query.attribute:
        queryset = queryset.filter(attribute_condition(query))
    return queryset


ATTRIBUTE_OPERATORS = {"eq": "exact", "gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte"}
_COLUMNS = {
    DataType.STRING: "value_text",
    DataType.INTEGER: "value_number",
    DataType.DECIMAL: "value_number",
    DataType.BOOLEAN: "value_bool",
    DataType.DATE: "value_date",
    DataType.DATE_TIME: "value_datetime",
}


def attribute_condition(query: SearchQuery) -> Q | Exists:
    """EXISTS a value of the named attribute that compares to the typed value."""
    definition = (
        AttributeDefinition.objects.annotate(lname=Lower("name"))
        .filter(lname=(query.attribute or "").strip().lower())
        .first()
    )
    if definition is None:
        raise DomainError(
            "BAD_REQUEST", f"No custom attribute named {query.attribute!r}.", "attribute"
        )
    values = AttributeValue.objects.filter(person_id=OuterRef("pk"), definition=definition)
    if query.attribute_value in (None, ""):
        return Exists(values)
    if definition.data_type == DataType.LIST_OF_OBJECTS:
        raise DomainError(
            "BAD_REQUEST",
            f"{definition.name} is a list of objects: filter by presence only.",
            "attributeValue",
        )
    op = ATTRIBUTE_OPERATORS.get(query.attribute_op)
    if op is None:
        raise DomainError(
            "BAD_REQUEST", "attributeOp must be eq, gt, gte, lt or lte.", "attributeOp"
        )
    value = attribute_types.parse_scalar(
        definition.data_type,
        query.attribute_value,
        name=definition.name,
        field="attributeValue",
        from_text=True,
    )
    column = _COLUMNS[definition.data_type]
    return Exists(values.filter(**{f"{column}__{op}": value}))


# ---------------------------------------------------------------------------------------------
# The whole search


def search_people(
    query: SearchQuery, *, after: int | None = None, limit: int = DEFAULT_PAGE_SIZE
) -> SearchPage:
    """One page of people for ``query``, newest first, after the person id ``after``."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    queryset = list_queryset()
    matches: list[Match] = []
    exact = False
    text = query.q.strip()
    if text:
        ids, matches = exact_matches(text)
        if ids:
            exact = True
            queryset = queryset.filter(pk__in=ids)
        else:
            condition = name_filter(text)
            if condition is None:
                return SearchPage([], [], None, False)
            matches = [Match("name", fold(text))]
            queryset = queryset.filter(condition)
    queryset = apply_filters(queryset, query)
    if after is not None:
        queryset = queryset.filter(pk__lt=after)
    people = list(queryset.order_by("-pk")[: limit + 1])
    next_cursor = people[limit - 1].pk if len(people) > limit else None
    return SearchPage(people[:limit], matches, next_cursor, exact)
