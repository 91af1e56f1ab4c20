"""Read paths of people's own sections of the person page: an attribute row, a page of
history, tag suggestions. The whole page, which shows installations too, is read by
directory.person_page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.db.models import Q

from people import custom_attributes as attribute_types
from people.models import (
    AttributeDefinition,
    AttributeValue,
    Event,
    EventKind,
    Person,
    Tag,
)
from people.name_keys import name_key

HISTORY_PAGE_SIZE = 20
TAG_SUGGESTIONS = 10
ACTOR_LABEL_LENGTH = Event._meta.get_field("actor_label").max_length


@dataclass
class AttributeRow:
    """One custom attribute definition and this person's value of it (None if unset)."""

    definition: AttributeDefinition
    value: Any

    @property
    def is_set(self) -> bool:
        return self.value is not None


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


@dataclass(frozen=True)
class HistoryFilter:
    """Which of a person's events the history shows: of one kind (an EventKind), by one actor
    (its label exactly as the history shows it: "eddie.editor", "API key crm"); empty is all."""

    kind: str = ""
    actor: str = ""

    @classmethod
    def from_query(cls, params: Mapping[str, Any]) -> HistoryFilter:
        """The filter of ``?kind=…&actor=…``; an unknown kind is no filter."""
        kind = str(params.get("kind") or "")
        actor = str(params.get("actor") or "").strip()[:ACTOR_LABEL_LENGTH]
        return cls(kind if kind in EventKind.values else "", actor)

    def __bool__(self) -> bool:
        return bool(self.kind or self.actor)

    def query_string(self) -> str:
        """``kind=…&actor=…`` of what is set ("" for none), to carry over to other pages."""
        return urlencode({k: v for k, v in (("kind", self.kind), ("actor", self.actor)) if v})


def history_page(
    person: Person | int,
    *,
    before: str | None = None,
    size: int = HISTORY_PAGE_SIZE,
    history_filter: HistoryFilter | None = None,
) -> HistoryPage:
    """Events newest first, a keyset page (no OFFSET) after the cursor ``before``, of those
    ``history_filter`` keeps. Each walk has its index (Event.Meta.indexes): all events
    event_person_time_idx, one kind event_person_kind_time_idx, one actor
    event_person_actor_time_idx, each in the page's order, so no page sorts a whole history."""
    person_id = person.pk if isinstance(person, Person) else person
    position = decode_history_cursor(before)
    events = Event.objects.filter(person_id=person_id)
    if history_filter and history_filter.kind:
        events = events.filter(kind=history_filter.kind)
    if history_filter and history_filter.actor:
        events = events.filter(actor_label=history_filter.actor)
    if position is not None:
        moment, pk = position
        # created_at <= moment bounds the index scan (an Index Cond): a page deep in a long
        # history starts at its cursor instead of reading and dropping every newer event;
        # only events of the cursor's very moment are left to the OR.
        events = events.filter(Q(created_at__lte=moment), Q(created_at__lt=moment) | Q(pk__lt=pk))
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
