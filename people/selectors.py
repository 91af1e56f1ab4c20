"""Read paths of the operator UI's person page: a fixed number of queries per page.

The person page shows the profile, its phones and emails, tags, custom attribute values,
installations (through Person's reverse relation: people does not import installations),
the attribute definitions and one page of history. On PostgreSQL all of it is one statement
(the related rows as JSON arrays, see people.search); elsewhere one query per relation,
whatever the number of rows (tests/ui/test_person_page.py pins the count).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Prefetch, Q
from django.db.models.expressions import RawSQL
from django.shortcuts import get_object_or_404

from people import custom_attributes as attribute_types
from people.models import (
    AttributeDefinition,
    AttributeValue,
    ContactIdentity,
    Event,
    IdentityKind,
    Person,
    Tag,
)
from people.name_keys import name_key
from people.related_rows import RelatedRowsField, instances_from_json, with_related_rows

HISTORY_PAGE_SIZE = 20
TAG_SUGGESTIONS = 10


def person_queryset():
    """People with everything the person page shows, prefetched (one query per relation)."""
    installation = Person._meta.get_field("installations").related_model
    queryset = Person.objects.prefetch_related(
        Prefetch("identities", queryset=ContactIdentity.objects.order_by("kind", "id")),
        Prefetch("tags", queryset=Tag.objects.order_by("name_key", "id")),
        Prefetch(
            "attribute_values",
            queryset=AttributeValue.objects.select_related("definition"),
        ),
        Prefetch(
            "installations",
            queryset=installation.objects.select_related("application").order_by(
                "-is_primary", "id"
            ),
        ),
    )
    # On PostgreSQL the same rows come in the person's own row; the prefetches find them done.
    return with_related_rows(queryset, attribute_values=True, tags_by_lower_name=True)


def _page_extras_sql() -> dict[str, str]:
    """The first history page and every attribute definition, as JSON, for the page's row."""
    person = Person._meta.db_table
    return {
        "page_history": (
            "SELECT COALESCE(jsonb_agg(to_jsonb(e) ORDER BY e.created_at DESC, e.id DESC), '[]') "
            f'FROM (SELECT * FROM {Event._meta.db_table} WHERE person_id = "{person}"."id" '
            f"ORDER BY created_at DESC, id DESC LIMIT {HISTORY_PAGE_SIZE + 1}) e"
        ),
        "page_definitions": (
            "SELECT COALESCE(jsonb_agg(to_jsonb(d) ORDER BY d.name_key, d.id), '[]') "
            f"FROM {AttributeDefinition._meta.db_table} d"
        ),
    }


def person_for_page(pk: int) -> Person:
    """The person with its relations prefetched, or 404.

    On PostgreSQL also the first page of history and the attribute definitions, in the same
    statement: ``history_page`` and ``attribute_rows`` then run no query.
    """
    queryset = person_queryset()
    if connection.vendor == "postgresql":
        queryset = queryset.annotate(
            **{
                name: RawSQL(f"({sql})", [], output_field=RelatedRowsField())
                for name, sql in _page_extras_sql().items()
            }
        )
    return get_object_or_404(queryset, pk=pk)


def phones_of(person: Person) -> list[ContactIdentity]:
    return [i for i in person.identities.all() if i.kind == IdentityKind.PHONE]


def emails_of(person: Person) -> list[ContactIdentity]:
    return [i for i in person.identities.all() if i.kind == IdentityKind.EMAIL]


@dataclass
class AttributeRow:
    """One custom attribute definition and this person's value of it (None if unset)."""

    definition: AttributeDefinition
    value: Any

    @property
    def is_set(self) -> bool:
        return self.value is not None


def attribute_rows(person: Person) -> list[AttributeRow]:
    """Every definition, with the person's value: the rows of the attribute editor."""
    values = {
        row.definition_id: attribute_types.from_row(row.definition, row)
        for row in person.attribute_values.all()
    }
    if "page_definitions" in person.__dict__:
        definitions = instances_from_json(AttributeDefinition, person.page_definitions)
    else:
        definitions = AttributeDefinition.objects.order_by("name_key", "id")
    return [AttributeRow(definition, values.get(definition.pk)) for definition in definitions]


def attribute_row(person: Person, definition: AttributeDefinition) -> AttributeRow:
    row = AttributeValue.objects.filter(person=person, definition=definition).first()
    return AttributeRow(definition, attribute_types.from_row(definition, row) if row else None)


@dataclass
class HistoryPage:
    events: list[Event]
    next_cursor: str | None


def encode_history_cursor(event: Event) -> str:
    return f"{event.created_at.isoformat()}_{event.pk}"


def decode_history_cursor(cursor: str | None) -> tuple[dt.datetime, int] | None:
    """The (created_at, id) of a cursor; None for a missing or malformed one."""
    if not cursor or "_" not in cursor:
        return None
    text, _, pk = cursor.rpartition("_")
    try:
        moment = dt.datetime.fromisoformat(text)
        return moment, int(pk)
    except ValueError:
        return None


def history_page(
    person: Person | int, *, before: str | None = None, size: int = HISTORY_PAGE_SIZE
) -> HistoryPage:
    """Events newest first, a keyset page (no OFFSET) after the cursor ``before``."""
    person_id = person.pk if isinstance(person, Person) else person
    position = decode_history_cursor(before)
    preloaded = getattr(person, "page_history", None)
    if position is None and preloaded is not None and size == HISTORY_PAGE_SIZE:
        rows = instances_from_json(Event, preloaded)
        next_cursor = encode_history_cursor(rows[size - 1]) if len(rows) > size else None
        return HistoryPage(rows[:size], next_cursor)
    events = Event.objects.filter(person_id=person_id)
    if position is not None:
        moment, pk = position
        events = events.filter(Q(created_at__lt=moment) | Q(created_at=moment, pk__lt=pk))
    rows = list(events.order_by("-created_at", "-id")[: size + 1])
    next_cursor = encode_history_cursor(rows[size - 1]) if len(rows) > size else None
    return HistoryPage(rows[:size], next_cursor)


def tag_suggestions(prefix: str, *, exclude: list[str] | None = None) -> list[str]:
    """Existing tag names starting with ``prefix`` (any casing), for the tag input."""
    prefix = name_key(prefix)
    if not prefix:
        return []
    excluded = {name_key(name) for name in exclude or []}
    rows = (
        Tag.objects.filter(name_key__startswith=prefix)
        .order_by("name_key")
        .values_list("name", "name_key")[: TAG_SUGGESTIONS + len(excluded)]
    )
    return [name for name, key in rows if key not in excluded][:TAG_SUGGESTIONS]
