"""Merge two people into one, with a choice per field, and undo it (DOMAIN.md, "Merge, revert,
erasure"): the merge screen (directory.views.merge), the API's ``POST /people/2/persons/merge``
and ``POST /people/2/merges/{eventId}/undo``, and admin's merge action.

It lives here, above people and installations, because a merge moves installations.

What a merge does, in one transaction (the people locked in the order of their ids, then their
installations: installations.locks' order), refused with VERSION_CONFLICT if either person is
not at the version the caller saw:

- every standard attribute of the survivor takes the chosen side's value (``choices.fields``,
  vendor names -> ``"survivor"`` or ``"other"``); unchosen fields take the default: the newer
  non-empty value (the person modified last is the newer), a customer over a lead. The
  externalId is a field like the others: the survivor keeps at most one, the other's is dropped
  when the survivor's is chosen;
- the other's phones and emails move to the survivor (at most 100 of each kind, as always);
- its installations move to the survivor, one primary kept (``choices.primary``: a
  pushRegistrationId of either person, ``""`` for none; by default the newer person's primary);
- tags are combined; each custom attribute takes the chosen side's value (by default the newer
  non-empty one);
- the other's history moves to the survivor, and the survivor records a MERGE event.

The merged-away person's row is deleted. Its full snapshot (its fields with created_at,
modified_at, version and origin; tags; custom attribute values) and the survivor's own
snapshot from before the merge, the ids of the identities, installations and events that
moved, and the survivor's state after the merge are kept in the MERGE event's
``changes["_undo"]`` (a key the history's lines skip). Undo re-creates the other person with
the same id, exactly as it was (same version and times: nobody could change it meanwhile),
moves its identities, installations (with their primary flags) and events back, and restores
the survivor's fields, tags and custom attributes (a new version of the survivor). An erasure
replaces the event's values with tombstones, which leaves nothing to undo.

Undo is possible for MERGE_UNDO_DAYS (default 30) after the merge, once, and only while the
survivor is as the merge left it: every field, identity, tag, custom attribute and installation
that differs since is a conflict, and so is the other's externalId taken by someone else since
or one of its custom attributes undefined since. Any conflict refuses the undo with
REVERT_CONFLICT listing each (field, the value now, the value the merge left); nothing is
written, and the operator decides what to do.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.errors import DomainError, ErrorCode
from installations.models import Installation
from people import custom_attributes as attribute_types
from people.apply import _tags_by_name, lock_person, owner_of_external_id
from people.changes import MAX_CONTACTS_PER_KIND
from people.fields import STANDARD_FIELDS, search_names, vendor_value
from people.history import Actor, record_event
from people.models import (
    AttributeDefinition,
    AttributeValue,
    ContactIdentity,
    Event,
    EventKind,
    IdentityKind,
    Person,
    PersonTag,
    PersonType,
)

SURVIVOR = "survivor"
OTHER = "other"
SIDES = (SURVIVOR, OTHER)
UNDO_KEY = "_undo"


@dataclass
class MergeChoices:
    """Which side's value the survivor keeps: ``fields`` by vendor name, ``custom_attributes``
    by attribute name, each ``"survivor"`` or ``"other"``; ``primary``: the pushRegistrationId
    of the installation that stays primary, ``""`` for none, None for the default."""

    fields: dict[str, str] = field(default_factory=dict)
    custom_attributes: dict[str, str] = field(default_factory=dict)
    primary: str | None = None

    @classmethod
    def from_data(cls, data: Any) -> MergeChoices:
        """Parse the API's (and the screen's) ``choices`` object; BAD_REQUEST when malformed."""
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise _bad("choices", "choices must be an object.")
        fields = _sides(data.get("fields"), "choices.fields")
        unknown = sorted(set(fields) - set(STANDARD_FIELDS))
        if unknown:
            raise _bad(f"choices.fields.{unknown[0]}", f"{unknown[0]} is no standard attribute.")
        attributes = _sides(data.get("customAttributes"), "choices.customAttributes")
        primary = data.get("primaryInstallation")
        if primary is not None and not isinstance(primary, str):
            raise _bad("choices.primaryInstallation", "primaryInstallation must be a string.")
        return cls(fields, attributes, primary)


def _sides(raw: Any, name: str) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or any(v not in SIDES for v in raw.values()):
        raise _bad(name, f'{name} must map names to "survivor" or "other".')
    return {str(k): v for k, v in raw.items()}


def _bad(field_name: str, message: str) -> DomainError:
    return DomainError(ErrorCode.BAD_REQUEST, message, field_name)


# ---------------------------------------------------------------------------------------------
# What the screen shows: both people side by side, with the defaults


@dataclass
class Side:
    """One person as the merge sees it (read in a fixed number of statements)."""

    person: Person
    fields: dict[str, Any]
    phones: list[str]
    emails: list[str]
    tags: list[str]
    attributes: dict[str, Any]  # name -> value as the API shows it
    definitions: dict[str, AttributeDefinition]
    installations: list[Installation]

    @property
    def primary(self) -> str | None:
        return next((i.push_registration_id for i in self.installations if i.is_primary), None)


def read_side(person: Person) -> Side:
    identities = list(ContactIdentity.objects.filter(person=person).order_by("pk"))
    values = list(AttributeValue.objects.filter(person=person).select_related("definition"))
    installations = list(
        Installation.objects.filter(person=person).select_related("application").order_by("pk")
    )
    tags = sorted(
        PersonTag.objects.filter(person=person).values_list("tag__name", flat=True), key=str
    )
    return Side(
        person=person,
        fields={name: vendor_value(person, name) for name in STANDARD_FIELDS},
        phones=[i.value for i in identities if i.kind == IdentityKind.PHONE],
        emails=[i.value for i in identities if i.kind == IdentityKind.EMAIL],
        tags=tags,
        attributes={
            row.definition.name: _jsonable(
                attribute_types.serialize_value(
                    row.definition, attribute_types.from_row(row.definition, row)
                )
            )
            for row in values
        },
        definitions={row.definition.name: row.definition for row in values},
        installations=installations,
    )


def _newer(survivor: Person, other: Person) -> str:
    """The side modified last (the survivor on a tie)."""
    return OTHER if other.modified_at > survivor.modified_at else SURVIVOR


def _empty(value: Any) -> bool:
    return value is None or value == ""


def default_side(name: str, a: Any, b: Any, newer: str) -> str:
    """The default choice for one value: a customer over a lead, a value over none, else the
    newer person's."""
    if name == "type":
        if a != b:
            return SURVIVOR if a == PersonType.CUSTOMER else OTHER
        return SURVIVOR
    if _empty(b):
        return SURVIVOR
    if _empty(a):
        return OTHER
    return newer


def default_choices(survivor: Side, other: Side) -> MergeChoices:
    newer = _newer(survivor.person, other.person)
    fields = {
        name: default_side(name, survivor.fields[name], other.fields[name], newer)
        for name in STANDARD_FIELDS
    }
    names = set(survivor.attributes) | set(other.attributes)
    attributes = {
        name: default_side(name, survivor.attributes.get(name), other.attributes.get(name), newer)
        for name in sorted(names)
    }
    newer_side, older_side = (other, survivor) if newer == OTHER else (survivor, other)
    primary = newer_side.primary or older_side.primary or ""
    return MergeChoices(fields, attributes, primary)


def resolved(choices: MergeChoices, survivor: Side, other: Side) -> MergeChoices:
    """The caller's choices over the defaults; a primary that is no installation of either is
    refused."""
    defaults = default_choices(survivor, other)
    fields = {**defaults.fields, **choices.fields}
    unknown = sorted(set(choices.custom_attributes) - set(defaults.custom_attributes))
    if unknown:
        raise _bad(
            f"choices.customAttributes.{unknown[0]}",
            f"Neither person has the custom attribute {unknown[0]}.",
        )
    attributes = {**defaults.custom_attributes, **choices.custom_attributes}
    primary = defaults.primary if choices.primary is None else choices.primary
    pushes = {i.push_registration_id for i in survivor.installations + other.installations}
    if primary and primary not in pushes:
        raise _bad(
            "choices.primaryInstallation",
            f"{primary!r} is no installation of either person.",
        )
    return MergeChoices(fields, attributes, primary)


# ---------------------------------------------------------------------------------------------
# Merge


@dataclass
class Merge:
    """What a merge did: the survivor as it left it and the MERGE event."""

    person: Person
    event: Event


@transaction.atomic
def merge(
    *,
    survivor_id: int,
    other_id: int,
    choices: MergeChoices | None,
    actor: Actor,
    expected_versions: dict[int, int | None] | None = None,
) -> Merge:
    """Merge person ``other_id`` into ``survivor_id`` (see the module's rules).
    ``expected_versions``: person id -> the version the caller saw (VERSION_CONFLICT when
    either changed since)."""
    if survivor_id == other_id:
        raise _bad("otherId", "A person cannot be merged with itself.")
    # Both people locked in the order of their ids, then their installations: the order of
    # installations.locks, so a concurrent personalize, edit or delete of either waits (or we
    # wait for it) instead of deadlocking or being overwritten.
    locked = {pk: lock_person(pk) for pk in sorted((survivor_id, other_id))}
    survivor, other = locked[survivor_id], locked[other_id]
    for person in (survivor, other):
        expected = (expected_versions or {}).get(person.pk)
        if expected is not None and person.version != expected:
            raise DomainError(
                ErrorCode.VERSION_CONFLICT,
                f"Person {person.pk} was changed since version {expected}"
                f" (now version {person.version}). Nothing was merged.",
                details={"personId": person.pk, "version": person.version},
            )
    list(
        Installation.objects.select_for_update()
        .filter(person_id__in=(survivor_id, other_id))
        .order_by("pk")
    )
    mine, theirs = read_side(survivor), read_side(other)
    chosen = resolved(choices or MergeChoices(), mine, theirs)
    for kind, name in ((IdentityKind.PHONE, "phones"), (IdentityKind.EMAIL, "emails")):
        total = len(getattr(mine, name)) + len(getattr(theirs, name))
        if total > MAX_CONTACTS_PER_KIND:
            raise _bad(
                f"contactInformation.{kind.lower()}",
                f"Together they have {total} {name}; a person has at most {MAX_CONTACTS_PER_KIND}.",
            )
    before = {SURVIVOR: _snapshot(mine), OTHER: _snapshot(theirs)}

    # The other's identities, installations, history and tags move to the survivor.
    identity_ids = [
        pk for pk in ContactIdentity.objects.filter(person=other).values_list("pk", flat=True)
    ]
    ContactIdentity.objects.filter(pk__in=identity_ids).update(person=survivor)
    installation_ids = [i.pk for i in theirs.installations]
    # One primary: the others unset first, then the installations move, then the chosen one
    # is set (a single statement that flips two could meet the partial unique index half-way).
    Installation.objects.filter(person_id__in=(survivor_id, other_id), is_primary=True).exclude(
        push_registration_id=chosen.primary or None
    ).update(is_primary=False)
    Installation.objects.filter(pk__in=installation_ids).update(person=survivor)
    if chosen.primary:
        Installation.objects.filter(push_registration_id=chosen.primary).update(is_primary=True)
    event_ids = list(Event.objects.filter(person=other).values_list("pk", flat=True))
    Event.objects.filter(pk__in=event_ids).update(person=survivor)
    have_tags = set(PersonTag.objects.filter(person=survivor).values_list("tag_id", flat=True))
    PersonTag.objects.filter(person=other).exclude(tag_id__in=have_tags).update(person=survivor)

    # Custom attributes: the chosen side's value (None: none).
    wanted, attribute_values = {}, {}
    for name, side in chosen.custom_attributes.items():
        source = mine if side == SURVIVOR else theirs
        definition = source.definitions.get(name) or (mine.definitions | theirs.definitions)[name]
        wanted[definition] = attribute_values[name] = source.attributes.get(name)
    _set_attributes(survivor, wanted)

    # The survivor's standard attributes; the other's row goes (its externalId first, which
    # the survivor may take).
    fields = {
        name: (mine if side == SURVIVOR else theirs).fields[name]
        for name, side in chosen.fields.items()
    }
    Person.objects.filter(pk=other.pk).delete()
    _set_fields(survivor, fields)
    survivor.version += 1
    survivor.save()

    # What the merge leaves (what undo compares the survivor with), without reading it back.
    after = {
        "fields": {name: vendor_value(survivor, name) for name in STANDARD_FIELDS},
        "phones": mine.phones + theirs.phones,
        "emails": mine.emails + theirs.emails,
        "tags": sorted(set(mine.tags) | set(theirs.tags), key=str),
        "customAttributes": {
            name: value for name, value in attribute_values.items() if value is not None
        },
        "installations": {
            i.push_registration_id: i.push_registration_id == chosen.primary
            for i in mine.installations + theirs.installations
        },
    }
    changes: dict[str, Any] = {"mergedPersonId": other.pk}
    for name in STANDARD_FIELDS:
        if not _same(mine.fields[name], fields[name]):
            changes[name] = {"before": mine.fields[name], "after": fields[name]}
    for key in ("phones", "emails", "tags"):
        added = sorted(set(getattr(theirs, key)) - set(getattr(mine, key)))
        if added:
            changes[key] = {"added": added}
    custom = {
        name: {"before": mine.attributes.get(name), "after": value}
        for name, value in after["customAttributes"].items()
        if mine.attributes.get(name) != value
    }
    custom |= {
        name: {"before": value, "after": None}
        for name, value in mine.attributes.items()
        if name not in after["customAttributes"]
    }
    if custom:
        changes["customAttributes"] = custom
    if installation_ids:
        changes["installations"] = {"added": [i.push_registration_id for i in theirs.installations]}
    changes[UNDO_KEY] = {
        "before": before,
        "after": after,
        "identities": identity_ids,
        "installations": installation_ids,
        "events": event_ids,
    }
    event = record_event(person=survivor, kind=EventKind.MERGE, actor=actor, changes=changes)
    survivor.recorded_event = event
    return Merge(survivor, event)


def _set_fields(person: Person, values: dict[str, Any]) -> None:
    for name, value in values.items():
        model_field = STANDARD_FIELDS[name][0]
        if model_field == "birth_date":
            value = dt.date.fromisoformat(value) if value else None
        elif model_field == "external_id":
            value = value or None
        elif value is None:
            value = ""
        setattr(person, model_field, value)
    person.search_name, person.search_name_reversed = search_names(
        person.first_name, person.last_name
    )


def _set_attributes(person: Person, wanted: dict[AttributeDefinition, Any]) -> None:
    """Make the person's values of ``wanted``'s definitions the given ones (API form; None:
    no value)."""
    rows = {row.definition_id: row for row in AttributeValue.objects.filter(person=person)}
    for definition, raw in wanted.items():
        row = rows.get(definition.pk)
        if raw is None:
            if row is not None:
                row.delete()
            continue
        value = attribute_types.parse_value(definition, raw, from_text=True)
        if row is not None and _jsonable(
            attribute_types.serialize_value(definition, attribute_types.from_row(definition, row))
        ) == _jsonable(attribute_types.serialize_value(definition, value)):
            continue  # the value it has already
        columns = attribute_types.to_columns(definition, value)
        if row is None:
            AttributeValue.objects.create(person=person, definition=definition, **columns)
        else:
            for column, column_value in columns.items():
                setattr(row, column, column_value)
            row.save()


# ---------------------------------------------------------------------------------------------
# Snapshots


def _snapshot(side: Side) -> dict[str, Any]:
    """Everything undo needs to re-create ``side``'s person as it is."""
    person = side.person
    return {
        "id": person.pk,
        "fields": side.fields,
        "origin": person.origin,
        "version": person.version,
        "createdAt": person.created_at.isoformat(),
        "modifiedAt": person.modified_at.isoformat(),
        "tags": side.tags,
        "customAttributes": side.attributes,
        "installations": {i.push_registration_id: i.is_primary for i in side.installations},
    }


def _state(person_id: int) -> dict[str, Any]:
    """What undo compares: the person's values, identities, tags, attributes, installations."""
    person = Person.objects.get(pk=person_id)
    side = read_side(person)
    return {
        "fields": side.fields,
        "phones": side.phones,
        "emails": side.emails,
        "tags": side.tags,
        "customAttributes": side.attributes,
        "installations": {i.push_registration_id: i.is_primary for i in side.installations},
    }


def _same(a: Any, b: Any) -> bool:
    return (None if a == "" else a) == (None if b == "" else b)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


# ---------------------------------------------------------------------------------------------
# Undo


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
    event = Event.objects.filter(pk=event_id, person__isnull=False).first()
    if event is None:
        raise DomainError(ErrorCode.NOT_FOUND, f"Event {event_id} does not exist.")
    record = (event.changes or {}).get(UNDO_KEY)
    if event.kind != EventKind.MERGE or not isinstance(record, dict):
        raise DomainError(
            ErrorCode.NOT_REVERTIBLE,
            f"Event {event_id} is no merge that can be undone.",
            details={"eventId": event.pk, "kind": event.kind},
        )
    if timezone.now() > undo_deadline(event):
        raise DomainError(
            ErrorCode.NOT_REVERTIBLE,
            f"A merge can be undone for {undo_days()} days; this one is older.",
            details={"eventId": event.pk, "kind": event.kind},
        )
    before_other = record["before"][OTHER]
    before_survivor = record["before"][SURVIVOR]
    # Tags to re-attach are locked FOR SHARE before the person (people.apply's order).
    other_tags = _tags_by_name(before_other["tags"])
    survivor_tags = _tags_by_name(before_survivor["tags"])
    survivor = lock_person(event.person_id)
    if Event.objects.filter(reverts=event, kind=EventKind.MERGE_UNDONE).exists():
        raise DomainError(
            ErrorCode.NOT_REVERTIBLE,
            f"The merge of event {event_id} was undone already.",
            details={"eventId": event.pk, "kind": event.kind},
        )
    list(Installation.objects.select_for_update().filter(person=survivor).order_by("pk"))
    conflicts = _conflicts(survivor, record)
    if conflicts:
        what = ", ".join(_conflict_text(c) for c in conflicts)
        raise DomainError(
            ErrorCode.REVERT_CONFLICT,
            f"The merge cannot be undone: changed since ({what}). Nothing was changed.",
            conflicts[0].field,
            details={"eventId": event.pk, "conflicts": [c.as_dict() for c in conflicts]},
        )

    # The survivor lets go of the other's externalId before the other takes it back.
    Person.objects.filter(pk=survivor.pk).update(external_id=None)
    other = Person(id=before_other["id"], origin=before_other["origin"])
    _set_fields(other, before_other["fields"])
    other.version = before_other["version"]
    other.save(force_insert=True)
    # The very row as it was: its own times (auto_now and auto_now_add set them on insert).
    Person.objects.filter(pk=other.pk).update(
        created_at=dt.datetime.fromisoformat(before_other["createdAt"]),
        modified_at=dt.datetime.fromisoformat(before_other["modifiedAt"]),
    )
    ContactIdentity.objects.filter(pk__in=record["identities"]).update(person=other)
    Event.objects.filter(pk__in=record["events"]).update(person=other)
    # Primaries: all unset, the installations moved back, then each person's own set again.
    moved = record["installations"]
    Installation.objects.filter(person=survivor, is_primary=True).update(is_primary=False)
    Installation.objects.filter(pk__in=moved).update(person=other)
    primaries = [
        push
        for snapshot in (before_survivor, before_other)
        for push, primary in snapshot["installations"].items()
        if primary
    ]
    Installation.objects.filter(push_registration_id__in=primaries).update(is_primary=True)

    PersonTag.objects.bulk_create([PersonTag(person=other, tag=tag) for tag in other_tags])
    keep = {tag.pk for tag in survivor_tags}
    PersonTag.objects.filter(person=survivor).exclude(tag_id__in=keep).delete()
    have = set(PersonTag.objects.filter(person=survivor).values_list("tag_id", flat=True))
    PersonTag.objects.bulk_create(
        [PersonTag(person=survivor, tag=tag) for tag in survivor_tags if tag.pk not in have]
    )

    names = set(before_other["customAttributes"]) | set(before_survivor["customAttributes"])
    names |= set(record["after"]["customAttributes"])
    definitions = {d.name: d for d in AttributeDefinition.objects.filter(name__in=names)}
    _set_attributes(other, {definitions[n]: v for n, v in before_other["customAttributes"].items()})
    _set_attributes(
        survivor,
        {
            definition: before_survivor["customAttributes"].get(name)
            for name, definition in definitions.items()
        },
    )

    survivor.refresh_from_db()
    _set_fields(survivor, before_survivor["fields"])
    survivor.version += 1
    survivor.save()
    other.refresh_from_db()

    changes = {"mergedPersonId": other.pk, "mergeEventId": event.pk}
    recorded = record_event(
        person=survivor, kind=EventKind.MERGE_UNDONE, actor=actor, changes=changes, reverts=event
    )
    record_event(
        person=other, kind=EventKind.MERGE_UNDONE, actor=actor, changes=changes, reverts=event
    )
    survivor.recorded_event = recorded
    return Undo(event, survivor, other, recorded)


def _conflicts(survivor: Person, record: dict[str, Any]) -> list[Conflict]:
    """What differs now from what the merge left, and what blocks re-creating the other."""
    now, then = _state(survivor.pk), record["after"]
    conflicts: list[Conflict] = []
    for name in STANDARD_FIELDS:
        if not _same(now["fields"][name], then["fields"][name]):
            conflicts.append(Conflict(name, now["fields"][name], then["fields"][name]))
    for key in ("phones", "emails", "tags"):
        if sorted(now[key]) != sorted(then[key]):
            conflicts.append(Conflict(key, sorted(now[key]), sorted(then[key])))
    names = sorted(set(now["customAttributes"]) | set(then["customAttributes"]))
    for name in names:
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
    if external_id:
        owner = owner_of_external_id(external_id)
        if owner is not None and owner != survivor.pk:
            conflicts.append(Conflict("externalId", external_id, external_id, owner))
    names = set(other["customAttributes"]) | set(record["before"][SURVIVOR]["customAttributes"])
    defined = set(AttributeDefinition.objects.filter(name__in=names).values_list("name", flat=True))
    for name in sorted(names - defined):
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
