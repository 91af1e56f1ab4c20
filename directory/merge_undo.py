"""Undo a merge of two people (directory.merge, whose docstring says what a merge records):
within MERGE_UNDO_DAYS, once, and only while the survivor is as the merge left it; otherwise
the conflicts are listed (REVERT_CONFLICT) and nothing is written."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from core.errors import DomainError, ErrorCode
from directory.merge import (
    FIELD_COLUMNS,
    OTHER,
    SURVIVOR,
    UNDO_KEY,
    Side,
    _same,
    _set_fields,
    _state,
    read_sides,
)
from installations.models import Installation
from people import custom_attributes as attribute_types
from people.apply import _lock_for_share, lock_person, owner_of_external_id
from people.fields import STANDARD_FIELDS
from people.history import Actor, event_row
from people.models import (
    AttributeDefinition,
    AttributeValue,
    ContactIdentity,
    Event,
    EventKind,
    Person,
    PersonTag,
    Tag,
)


@dataclass(frozen=True)
class Conflict:
    """Something that changed since the merge: what it is now, what the merge left."""

    field: str
    now: Any
    merged: Any
    owner: int | None = None

    def as_dict(self) -> dict[str, Any]:
        body = {"field": self.field, "now": self.now, "restore": self.merged}
        if self.owner is not None:
            body["ownerId"] = self.owner
        return body


@dataclass
class Undo:
    """What an undo did: the survivor and the other person restored, the event it recorded."""

    merge_event: Event
    survivor: Person
    other: Person
    event: Event


def undo_days() -> int:
    return int(getattr(settings, "MERGE_UNDO_DAYS", 30))


def undo_deadline(event: Event) -> dt.datetime:
    return event.created_at + dt.timedelta(days=undo_days())


def can_undo(event: Event) -> bool:
    """A MERGE event not undone yet, within the window (what the screen offers)."""
    return (
        event.kind == EventKind.MERGE
        and UNDO_KEY in (event.changes or {})
        and timezone.now() <= undo_deadline(event)
        and not Event.objects.filter(reverts=event, kind=EventKind.MERGE_UNDONE).exists()
    )


@transaction.atomic
def undo_merge(*, event_id: int, actor: Actor) -> Undo:
    """Undo the merge recorded by event ``event_id`` (see the module's rules)."""
    undone = Event.objects.filter(reverts=OuterRef("pk"), kind=EventKind.MERGE_UNDONE)
    event = (
        Event.objects.filter(pk=event_id, person__isnull=False)
        .annotate(undone=Exists(undone))
        .first()
    )
    if event is None:
        raise DomainError(ErrorCode.NOT_FOUND, f"Event {event_id} does not exist.")
    if event.undone:
        raise _not_undoable(event, f"The merge of event {event_id} was undone already.")
    record = (event.changes or {}).get(UNDO_KEY)
    if event.kind != EventKind.MERGE or not isinstance(record, dict):
        raise _not_undoable(event, f"Event {event_id} is no merge that can be undone.")
    if timezone.now() > undo_deadline(event):
        raise _not_undoable(
            event, f"A merge can be undone for {undo_days()} days; this one is older."
        )
    before_other, before_survivor = record["before"][OTHER], record["before"][SURVIVOR]
    # The tags both had (the other's link to them went with it) are locked FOR SHARE before
    # the person, people.apply's order, so that a tag deleter waits for the undo.
    shared_tags = _lock_for_share(Tag, record["sharedTags"]) if record["sharedTags"] else set()
    # Two undos of one merge: the second waits here for the first, then finds the survivor
    # changed (a conflict) or the other person back.
    survivor = lock_person(event.person_id)
    (now,) = read_sides(survivor, lock=True)
    # The custom attribute values to write again: the survivor's that the other's replaced,
    # the other's that did not move (they went with it).
    moved_values = set(record["attributeValues"])
    survivor_names = {
        name
        for name, value in before_survivor["customAttributes"].items()
        if record["after"]["customAttributes"].get(name) != value
    }
    other_names = {
        name
        for name in before_other["customAttributes"]
        if now.attribute_rows.get(name) not in moved_values
    }
    names = survivor_names | other_names
    definitions = {d.name: d for d in AttributeDefinition.objects.filter(name__in=names)}
    conflicts = _conflicts(now, record, definitions, names)
    if len(shared_tags) != len(record["sharedTags"]):
        conflicts.append(Conflict("tags", None, "a tag deleted since"))
    if conflicts:
        what = ", ".join(_conflict_text(c) for c in conflicts)
        raise DomainError(
            ErrorCode.REVERT_CONFLICT,
            f"The merge cannot be undone: changed since ({what}). Nothing was changed.",
            conflicts[0].field,
            details={"eventId": event.pk, "conflicts": [c.as_dict() for c in conflicts]},
        )

    # The survivor lets go of the other's externalId before the other takes it back.
    if survivor.external_id and survivor.external_id == before_other["fields"]["externalId"]:
        Person.objects.filter(pk=survivor.pk).update(external_id=None)
    other = Person(id=before_other["id"], origin=before_other["origin"])
    _set_fields(other, before_other["fields"])
    other.version = before_other["version"]
    other.save(force_insert=True)
    # The very row as it was: its own times (auto_now and auto_now_add set them on insert).
    other.created_at = dt.datetime.fromisoformat(before_other["createdAt"])
    other.modified_at = dt.datetime.fromisoformat(before_other["modifiedAt"])
    Person.objects.filter(pk=other.pk).update(
        created_at=other.created_at, modified_at=other.modified_at
    )
    if record["identities"]:
        ContactIdentity.objects.filter(pk__in=record["identities"]).update(person=other)
    if record["events"]:
        Event.objects.filter(pk__in=record["events"]).update(person=other)
    # Primaries: those that change unset first, the installations moved back, then set.
    primary_before = {**before_survivor["installations"], **before_other["installations"]}
    unset = [
        i.pk
        for i in now.installations
        if i.is_primary and not primary_before[i.push_registration_id]
    ]
    if unset:
        Installation.objects.filter(pk__in=unset).update(is_primary=False)
    if record["installations"]:
        Installation.objects.filter(pk__in=record["installations"]).update(person=other)
    made_primary = [
        i.pk
        for i in now.installations
        if primary_before[i.push_registration_id] and not i.is_primary
    ]
    if made_primary:
        Installation.objects.filter(pk__in=made_primary).update(is_primary=True)

    if record["tags"]:
        PersonTag.objects.filter(person=survivor, tag_id__in=record["tags"]).update(person=other)
    if shared_tags:
        PersonTag.objects.bulk_create([PersonTag(person=other, tag_id=pk) for pk in shared_tags])

    if moved_values:
        AttributeValue.objects.filter(pk__in=moved_values).update(person=other)
    rows = [
        _value_row(person, definitions[name], values[name])
        for person, values, wanted in (
            (survivor, before_survivor["customAttributes"], survivor_names),
            (other, before_other["customAttributes"], other_names),
        )
        for name in sorted(wanted)
    ]
    if rows:
        AttributeValue.objects.bulk_create(rows)

    _set_fields(survivor, before_survivor["fields"])
    survivor.version += 1
    survivor.save(update_fields=[*FIELD_COLUMNS, "version", "modified_at"])

    changes = {"mergedPersonId": other.pk, "mergeEventId": event.pk}
    recorded, _ = Event.objects.bulk_create(
        [_undone_event(person, actor, changes, event) for person in (survivor, other)]
    )
    survivor.recorded_event = recorded
    return Undo(event, survivor, other, recorded)


def _undone_event(person: Person, actor: Actor, changes: dict, merge_event: Event) -> Event:
    row = event_row(person=person, kind=EventKind.MERGE_UNDONE, actor=actor, changes=changes)
    row.reverts = merge_event
    return row


def _value_row(person: Person, definition: AttributeDefinition, raw: Any) -> AttributeValue:
    value = attribute_types.parse_value(definition, raw, from_text=True)
    return AttributeValue(
        person=person, definition=definition, **attribute_types.to_columns(definition, value)
    )


def _not_undoable(event: Event, message: str) -> DomainError:
    return DomainError(
        ErrorCode.NOT_REVERTIBLE, message, details={"eventId": event.pk, "kind": event.kind}
    )


def _conflicts(
    side: Side, record: dict[str, Any], definitions: dict[str, AttributeDefinition], names: set
) -> list[Conflict]:
    """What differs now from what the merge left, and what blocks re-creating the other."""
    survivor = side.person
    now, then = _state(side), record["after"]
    conflicts: list[Conflict] = []
    for name in STANDARD_FIELDS:
        if not _same(now["fields"][name], then["fields"][name]):
            conflicts.append(Conflict(name, now["fields"][name], then["fields"][name]))
    for key in ("phones", "emails", "tags"):
        if sorted(now[key]) != sorted(then[key]):
            conflicts.append(Conflict(key, sorted(now[key]), sorted(then[key])))
    for name in sorted(set(now["customAttributes"]) | set(then["customAttributes"])):
        a, b = now["customAttributes"].get(name), then["customAttributes"].get(name)
        if a != b:
            conflicts.append(Conflict(f"customAttributes.{name}", a, b))
    if now["installations"] != then["installations"]:
        for push in sorted(set(now["installations"]) | set(then["installations"])):
            if now["installations"].get(push) != then["installations"].get(push):
                owner = (
                    Installation.objects.filter(push_registration_id=push)
                    .values_list("person_id", flat=True)
                    .first()
                )
                conflicts.append(Conflict("installation", push, push, owner))
    other = record["before"][OTHER]
    if Person.objects.filter(pk=other["id"]).exists():
        conflicts.append(Conflict("id", other["id"], None, other["id"]))
    external_id = other["fields"].get("externalId")
    if external_id and external_id != survivor.external_id:
        owner = owner_of_external_id(external_id)
        if owner is not None:
            conflicts.append(Conflict("externalId", external_id, external_id, owner))
    for name in sorted(names - set(definitions)):
        conflicts.append(Conflict(f"customAttributes.{name}", None, "undefined since"))
    return conflicts


def _conflict_text(conflict: Conflict) -> str:
    if conflict.field == "installation":
        if conflict.owner is not None:
            return f"installation {conflict.now} changed (now person {conflict.owner}'s)"
        return f"installation {conflict.now} no longer exists"
    if conflict.field == "id":
        return f"person {conflict.now} exists again"
    if conflict.owner is not None:
        return f"{conflict.field} {conflict.now} belongs to person {conflict.owner} now"
    return f"{conflict.field} changed"
