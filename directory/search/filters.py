"""Conditions on people beyond the search box: tags, custom attribute values and installations
(application, platform, push enabled, a primary device; device hygiene in .hygiene), each an
EXISTS on an index (no joins, so no DISTINCT).
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Substr, Upper
from django.utils import timezone

from core.errors import DomainError
from installations.models import Installation
from people import custom_attributes as attribute_types
from people.models import AttributeDefinition, AttributeValue, DataType, Person, Tag
from people.name_keys import name_key

from .backends import backend
from .hygiene import hygiene_conditions
from .query import SearchQuery

# A tag on at most this many people is read first (its people by primary key, then the other
# conditions): walking an index in order and testing the tag would visit about
# limit * people / tagged entries before a page is full. On PostgreSQL the walked indexes hold
# each person's tag ids (HasTags), about 0.2 us an entry; reading a person by primary key
# costs about 3 us: at 1,000,000 people the two meet near 2,000 (two name ranges of 26 rows:
# 2 * 26 * 1,000,000 / 2,000 entries = 5 ms, 2,000 rows = 6 ms). Whether a tag is on more is
# one probe past this many index entries (no COUNT).
RARE_TAG_PEOPLE = 2_000


def apply_filters(queryset: QuerySet[Person], query: SearchQuery) -> QuerySet[Person]:
    """Narrow ``queryset`` by the filters of ``query``: each one an EXISTS on an index."""
    return filtered(queryset, query, tags_of(query), drive=False)


def tags_of(query: SearchQuery) -> dict[str, tuple[int, bool]] | None:
    """Folded tag name (name_key) -> (id, whether more than RARE_TAG_PEOPLE people have it); None
    when a tag does not exist. Tag ids as values, not subqueries: the planner then knows from
    the statistics whether a tag is on 30 % of the people or on 0.1 %. The ids are one
    statement; whether each tag is common is remembered (``_tags_over``)."""
    lowered = list(dict.fromkeys(name_key(t) for t in query.tags if t.strip()))
    if not lowered:
        return {}
    ids = dict(Tag.objects.filter(name_key__in=lowered).values_list("name_key", "id"))
    if any(name not in ids for name in lowered):
        return None
    over = _tags_over(sorted(set(ids.values())), RARE_TAG_PEOPLE)
    return {name: (ids[name], over[ids[name]]) for name in lowered}


# Whether a tag is on more than so many people only steers the plan, never the result, and
# changes slowly: each process remembers it this long (seconds) by (tag id, limit). Finding
# out reads up to the limit's index entries (under a millisecond for 2,000).
TAG_SIZE_SECONDS = 60.0
_tag_over: dict[tuple[int, int], tuple[bool, float]] = {}
_clock = time.monotonic


def _tags_over(tag_ids: list[int], limit: int) -> dict[int, bool]:
    """Tag id -> whether more than ``limit`` people have the tag; what is not remembered is
    asked in one statement (an index probe past ``limit`` entries, no COUNT)."""
    now = _clock()
    known: dict[int, bool] = {}
    missing = []
    for tag_id in tag_ids:
        remembered = _tag_over.get((tag_id, limit))
        if remembered is not None and remembered[1] > now:
            known[tag_id] = remembered[0]
        else:
            missing.append(tag_id)
    if missing:
        through = Person.tags.through._meta.db_table
        probe = f"EXISTS(SELECT 1 FROM {through} WHERE tag_id = %s LIMIT 1 OFFSET %s)"
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT " + ", ".join(probe for _ in missing),
                [value for tag_id in missing for value in (tag_id, limit)],
            )
            answers = cursor.fetchone()
        for tag_id, answer in zip(missing, answers, strict=True):
            known[tag_id] = bool(answer)
            _tag_over[tag_id, limit] = (bool(answer), now + TAG_SIZE_SECONDS)
    return known


def forget_tag_sizes() -> None:
    """Forget what ``_tags_over`` remembers (tests that change how many people have a tag)."""
    _tag_over.clear()


def drives(tags: dict[str, tuple[int, bool]] | None) -> bool:
    """Whether a rare tag leaves few enough people to read them first."""
    return bool(tags) and not all(common for _, common in tags.values())


@dataclass(frozen=True)
class TagFilter:
    """A tag as a filter: its id and whether it is rare (on at most RARE_TAG_PEOPLE people)."""

    tag_id: int
    rare: bool

    def condition(self) -> Q:
        """A rare tag: its people (read first, by primary key). A common one: on PostgreSQL
        the person's tag ids (HasTags), which the API's walked indexes hold; elsewhere a probe
        of the tag's index for each person walked."""
        through = Person.tags.through
        if self.rare:
            return Q(pk__in=through.objects.filter(tag_id=self.tag_id).values("person_id"))
        return backend().common_tag(self.tag_id)

    def with_rows(self, related: list[QuerySet]) -> Q | None:
        """People of this rare tag who have a row in each of ``related`` (querysets of models
        with a ``person_id``: the custom attribute values that match, say), where the backend
        probes them one by one (backends.PostgreSQLBackend.rare_tag_with_rows). None: not a
        rare tag, or nothing gained."""
        if not self.rare:
            return None
        return backend().rare_tag_with_rows(self.tag_id, related)


def find_tag(name: str) -> TagFilter | None:
    """The tag ``name`` (any casing) as a filter, in one statement; None if there is none.

    The tag's id goes in as a value: the planner knows from the statistics of the through
    table how many people have it and picks the walk."""
    found = tags_of(SearchQuery(tags=[name]))
    if not found:
        return None
    ((tag_id, common),) = found.values()
    return TagFilter(tag_id, rare=not common)


def filtered(
    queryset: QuerySet[Person],
    query: SearchQuery,
    tags: dict[str, tuple[int, bool]] | None,
    *,
    drive: bool,
    tags_on_row: bool = False,
) -> QuerySet[Person]:
    """``apply_filters`` with the tags looked up; ``drive``: read a rare tag's people first;
    ``tags_on_row``: test the other tags on the person's tag ids (HasTags, PostgreSQL), for a
    walk of an index that holds them (the folded names), not by a probe of the tag's index
    (which a walk of the primary key does better: the tag's (tag_id, person_id) entries are
    in id order themselves)."""
    installation = Installation
    if query.type:
        queryset = queryset.filter(type=query.type)
    if query.created_from or query.created_to:
        queryset = queryset.filter(created_condition(query))
    if query.installed_from or query.installed_to:
        queryset = queryset.filter(pk__in=installed_people(query))
    if tags is None:
        return queryset.none()
    through = Person.tags.through
    rarest = next((name for name, (_, common) in tags.items() if not common), None)
    if not drive:
        rarest = None
    others = []
    for name, (tag_id, _) in tags.items():
        if name == rarest:
            people_ids = Subquery(through.objects.filter(tag_id=tag_id).values("person_id"))
            queryset = queryset.filter(backend().any_of(people_ids))
        else:
            others.append(tag_id)
    on_row = backend().has_tags_on_row(others) if others and tags_on_row else None
    if on_row is not None:
        queryset = queryset.filter(on_row)
    else:
        for tag_id in others:
            queryset = queryset.filter(
                Exists(through.objects.filter(person_id=OuterRef("pk"), tag_id=tag_id))
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
    for condition in hygiene_conditions(query):
        queryset = queryset.filter(condition)
    return queryset


# The days a created filter takes: its bounds are midnights in the operator's zone, which
# must stay inside what a datetime holds whatever the zone's offset.
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(9998, 12, 31)
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
CREATED_LABELS = {
    "createdFrom": "Created from",
    "createdTo": "Created to",
    "installedFrom": "A device registered from",
    "installedTo": "A device registered to",
}


def created_day(text: str, field: str) -> dt.date:
    """The day ``text`` (YYYY-MM-DD) of the created filter's ``field`` (createdFrom,
    createdTo); a DomainError naming the field otherwise."""
    label = CREATED_LABELS[field]
    try:
        if not _DAY.fullmatch(text):
            raise ValueError
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise DomainError(
            "BAD_REQUEST", f"{label}: “{text[:40]}” is not a day; write it as YYYY-MM-DD.", field
        ) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise DomainError(
            "BAD_REQUEST", f"{label} must be a day from {FIRST_DAY} to {LAST_DAY}.", field
        )
    return day


def start_of(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in the current time zone (the operator's)."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def created_condition(query: SearchQuery) -> Q:
    """Created on or after the first day's midnight and before the midnight after the last:
    a range of person_created_idx (created_at, id)."""
    condition = Q()
    if query.created_from:
        condition &= Q(created_at__gte=start_of(created_day(query.created_from, "createdFrom")))
    if query.created_to:
        last = created_day(query.created_to, "createdTo")
        condition &= Q(created_at__lt=start_of(last + dt.timedelta(days=1)))
    return condition


def installed_people(query: SearchQuery):
    """The people holding a device registered from the first day's midnight to before the
    midnight after the last (the operator's zone): a range of installation_created_idx, read
    as the set of their people (the days of the dashboard's installations chart are a few
    thousand devices, not a walk of every person testing theirs)."""
    condition = Q()
    if query.installed_from:
        condition &= Q(created_at__gte=start_of(created_day(query.installed_from, "installedFrom")))
    if query.installed_to:
        last = created_day(query.installed_to, "installedTo")
        condition &= Q(created_at__lt=start_of(last + dt.timedelta(days=1)))
    return Installation.objects.filter(condition).values("person_id")


ATTRIBUTE_OPERATORS = {"eq": "exact", "gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte"}


def attribute_condition(query: SearchQuery) -> Q | Exists:
    """EXISTS a value of the named attribute that compares to the typed value.

    Each type has its column and its (definition, column) index; a STRING is compared through
    the indexed 200-character prefix and then exactly.
    """
    definition = AttributeDefinition.objects.filter(
        name_key=name_key(query.attribute or "")
    ).first()
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
    column = attribute_types.COMPARED_COLUMNS[definition.data_type]
    if column == "value_text":
        return Exists(text_values(values, op, value))
    return Exists(values.filter(**{f"{column}__{op}": value}))


# The index on a text value holds its first TEXT_PREFIX characters (a B-tree entry has a size
# limit): attr_text_idx on (definition, SUBSTRING(value_text, 1, 200)), and on PostgreSQL
# attr_text_person_idx with the person id after them (people 0013).
TEXT_PREFIX = 200


def text_values(values: QuerySet[AttributeValue], op: str, value: str) -> QuerySet[AttributeValue]:
    """``values`` whose text compares to ``value`` by ``op`` (exact, gt, gte, lt, lte), found
    through the indexed prefix: narrowed on the prefix, then compared whole where the prefix
    cannot tell (a value shorter than the prefix equals the text when it equals the prefix).
    Compared on the column alone, an index on the definition would read every value of the
    attribute to find one that nobody has."""
    prefix_op = {"exact": "exact", "gt": "gte", "gte": "gte", "lt": "lte", "lte": "lte"}[op]
    values = values.annotate(text_prefix=Substr("value_text", 1, TEXT_PREFIX)).filter(
        **{f"text_prefix__{prefix_op}": value[:TEXT_PREFIX]}
    )
    if op == "exact" and len(value) < TEXT_PREFIX:
        return values
    return values.filter(**{f"value_text__{op}": value})


def text_values_starting(values: QuerySet[AttributeValue], text: str) -> QuerySet[AttributeValue]:
    """``values`` whose text starts with ``text`` in any casing, found on PostgreSQL through
    attr_text_upper_idx, on (definition, UPPER(SUBSTRING(value_text, 1, 200)), person)
    (people 0015): compared on the column itself, a prefix nobody has read every value of
    the attribute, and the planner, guessing it common, walked every person to find none."""
    values = values.annotate(upper_prefix=Upper(Substr("value_text", 1, TEXT_PREFIX))).filter(
        upper_prefix__startswith=Upper(Value(text[:TEXT_PREFIX]))
    )
    if len(text) > TEXT_PREFIX:
        values = values.filter(value_text__istartswith=text)
    return values
