"""Merge two people into one, with a choice per field (DOMAIN.md, "Merge, revert, erasure"): the
merge screen (directory.views.merge), the API's ``POST /people/2/persons/merge``, and admin's
merge action; its undo (``POST /people/2/merges/{eventId}/undo``) is directory.merge_undo.

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

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q

from core.errors import DomainError, ErrorCode
from installations.models import Installation
from people import custom_attributes as attribute_types
from people.changes import MAX_CONTACTS_PER_KIND
from people.fields import STANDARD_FIELDS, search_names, vendor_value
from people.history import Actor, record_event
from people.models import (
    AttributeDefinition,
    AttributeValue,
    ContactIdentity,
    DuplicatePair,
    Event,
    EventKind,
    IdentityKind,
    NotDuplicate,
    Person,
    PersonTag,
    PersonType,
)
from privacy.models import Erasure, ErasureState

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
    """One person as the merge sees it."""

    person: Person
    fields: dict[str, Any]
    identity_ids: list[int]
    phones: list[str]
    emails: list[str]
    tags: dict[int, str]  # tag id -> name
    attributes: dict[str, Any]  # name -> value as the API shows it
    attribute_rows: dict[str, int]  # name -> the AttributeValue row's id
    definitions: dict[str, AttributeDefinition]
    installations: list[Installation]

    @property
    def tag_names(self) -> list[str]:
        return sorted(self.tags.values(), key=str)

    @property
    def primary(self) -> str | None:
        return next((i.push_registration_id for i in self.installations if i.is_primary), None)


def read_sides(*people: Person, lock: bool = False) -> list[Side]:
    """The people's identities, custom attributes, installations and tags, four statements
    for all of them; ``lock``: their installations locked (the people are locked already)."""
    ids = [person.pk for person in people]
    identities = ContactIdentity.objects.filter(person_id__in=ids).order_by("pk")
    values = AttributeValue.objects.filter(person_id__in=ids).select_related("definition")
    installations = (
        Installation.objects.filter(person_id__in=ids).select_related("application").order_by("pk")
    )
    if lock:
        installations = installations.select_for_update(of=("self",))
    tags = PersonTag.objects.filter(person_id__in=ids).values_list(
        "person_id", "tag_id", "tag__name"
    )
    sides = {
        person.pk: Side(
            person=person,
            fields={name: vendor_value(person, name) for name in STANDARD_FIELDS},
            identity_ids=[],
            phones=[],
            emails=[],
            tags={},
            attributes={},
            attribute_rows={},
            definitions={},
            installations=[],
        )
        for person in people
    }
    for identity in identities:
        side = sides[identity.person_id]
        side.identity_ids.append(identity.pk)
        (side.phones if identity.kind == IdentityKind.PHONE else side.emails).append(identity.value)
    for row in values:
        side, definition = sides[row.person_id], row.definition
        value = attribute_types.from_row(definition, row)
        side.attributes[definition.name] = _jsonable(
            attribute_types.serialize_value(definition, value)
        )
        side.attribute_rows[definition.name] = row.pk
        side.definitions[definition.name] = definition
    for installation in installations:
        sides[installation.person_id].installations.append(installation)
    for person_id, tag_id, name in tags:
        sides[person_id].tags[tag_id] = name
    return [sides[pk] for pk in ids]


def read_side(person: Person) -> Side:
    return read_sides(person)[0]


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
    # A person pending erasure is not merged (its erasure would follow neither): the erasure
    # is cancelled first. request_erasure locks the person too, so what is read here holds.
    pending = Erasure.objects.filter(person_id=OuterRef("pk"), state=ErasureState.PENDING)
    locked = {
        person.pk: person
        for person in Person.objects.select_for_update()
        .filter(pk__in=(survivor_id, other_id))
        .annotate(pending_erasure=Exists(pending))
        .order_by("pk")
    }
    for pk in (survivor_id, other_id):
        if pk not in locked:
            raise DomainError(ErrorCode.NOT_FOUND, f"Person {pk} does not exist.")
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
    for person in (survivor, other):
        if person.pending_erasure:
            raise DomainError(
                ErrorCode.CONFLICT,
                f"Person {person.pk} is pending erasure: cancel the erasure before merging.",
                details={"personId": person.pk},
            )
    mine, theirs = read_sides(survivor, other, lock=True)
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
    if theirs.identity_ids:
        ContactIdentity.objects.filter(pk__in=theirs.identity_ids).update(person=survivor)
    everyone = mine.installations + theirs.installations
    # One primary: the others unset first, then the installations move, then the chosen one
    # is set (a single statement that flips two could meet the partial unique index half-way).
    unset = [i.pk for i in everyone if i.is_primary and i.push_registration_id != chosen.primary]
    if unset:
        Installation.objects.filter(pk__in=unset).update(is_primary=False)
    installation_ids = [i.pk for i in theirs.installations]
    if installation_ids:
        Installation.objects.filter(pk__in=installation_ids).update(person=survivor)
    made_primary = [
        i.pk for i in everyone if i.push_registration_id == chosen.primary and not i.is_primary
    ]
    if made_primary:
        Installation.objects.filter(pk__in=made_primary).update(is_primary=True)
    event_ids = list(Event.objects.filter(person=other).order_by().values_list("pk", flat=True))
    if event_ids:
        Event.objects.filter(pk__in=event_ids).update(person=survivor)
    moved_tags = sorted(set(theirs.tags) - set(mine.tags))
    if moved_tags:
        PersonTag.objects.filter(person=other, tag_id__in=moved_tags).update(person=survivor)

    # Custom attributes: where the other's value is chosen, the survivor's row goes and the
    # other's row (if any) moves over, so the value is the very row it was.
    taken = [name for name, side in chosen.custom_attributes.items() if side == OTHER]
    replaced = [mine.attribute_rows[name] for name in taken if name in mine.attribute_rows]
    if replaced:
        AttributeValue.objects.filter(pk__in=replaced).delete()
    moved_values = [theirs.attribute_rows[name] for name in taken if name in theirs.attribute_rows]
    if moved_values:
        AttributeValue.objects.filter(pk__in=moved_values).update(person=survivor)
    attribute_values = {
        name: (theirs if side == OTHER else mine).attributes.get(name)
        for name, side in chosen.custom_attributes.items()
    }

    # The survivor's standard attributes; the other's row goes first (its externalId, which
    # the survivor may take, with it).
    fields = {
        name: (mine if side == SURVIVOR else theirs).fields[name]
        for name, side in chosen.fields.items()
    }
    _delete_merged_away(
        other,
        shared_tags=bool(set(theirs.tags) & set(mine.tags)),
        values_left=(len(theirs.attribute_rows) > len(moved_values)),
    )
    _set_fields(survivor, fields)
    survivor.version += 1
    survivor.save(update_fields=[*FIELD_COLUMNS, "version", "modified_at"])

    # What the merge leaves (what undo compares the survivor with), without reading it back.
    after = {
        "fields": {name: vendor_value(survivor, name) for name in STANDARD_FIELDS},
        "phones": mine.phones + theirs.phones,
        "emails": mine.emails + theirs.emails,
        "tags": sorted(set(mine.tags.values()) | set(theirs.tags.values()), key=str),
        "customAttributes": {k: v for k, v in attribute_values.items() if v is not None},
        "installations": {
            i.push_registration_id: i.push_registration_id == chosen.primary for i in everyone
        },
    }
    changes: dict[str, Any] = {"mergedPersonId": other_id}
    for name in STANDARD_FIELDS:
        if not _same(mine.fields[name], fields[name]):
            changes[name] = {"before": mine.fields[name], "after": fields[name]}
    for key in ("phones", "emails"):
        added = sorted(set(getattr(theirs, key)) - set(getattr(mine, key)))
        if added:
            changes[key] = {"added": added}
    if moved_tags:
        changes["tags"] = {"added": sorted(theirs.tags[pk] for pk in moved_tags)}
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
        "identities": theirs.identity_ids,
        "installations": installation_ids,
        "events": event_ids,
        "tags": moved_tags,
        "sharedTags": sorted(set(theirs.tags) & set(mine.tags)),
        "attributeValues": moved_values,
    }
    event = record_event(person=survivor, kind=EventKind.MERGE, actor=actor, changes=changes)
    survivor.recorded_event = event
    return Merge(survivor, event)


# What refers to a person, and how the merged-away person's rows of each are dealt with
# before its row goes: moved by the merge, deleted here, or only a pending request (refused
# above). tests/directory/test_merge.py holds this list to Person's relations, so a new one
# fails there before it fails a merge.
MERGED_AWAY_RELATIONS = {
    "ContactIdentity.person": "moved",
    "Installation.person": "moved",
    "Event.person": "moved",
    "PersonTag.person": "moved, the shared ones deleted",
    "AttributeValue.person": "moved if chosen, else deleted",
    "NotDuplicate.low": "deleted",
    "NotDuplicate.high": "deleted",
    "DuplicatePair.low": "deleted",
    "DuplicatePair.high": "deleted",
}


def _delete_merged_away(other: Person, *, shared_tags: bool, values_left: bool) -> None:
    """Delete the merged-away person's row and what is left of it, statement by statement:
    what moved is known, so Django's deletion collector (a read of its events and
    installations, a delete from every table that refers to people) is not needed."""
    if shared_tags:
        PersonTag.objects.filter(person_id=other.pk).delete()
    if values_left:
        AttributeValue.objects.filter(person_id=other.pk).delete()
    for model in (NotDuplicate, DuplicatePair):
        model.objects.filter(Q(low_id=other.pk) | Q(high_id=other.pk)).delete()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Person._meta.db_table} WHERE id = %s", [other.pk])


# The columns _set_fields writes.
FIELD_COLUMNS = [column for column, _ in STANDARD_FIELDS.values()] + [
    "search_name",
    "search_name_reversed",
]


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
        "tags": side.tag_names,
        "customAttributes": side.attributes,
        "installations": {i.push_registration_id: i.is_primary for i in side.installations},
    }


def _state(side: Side) -> dict[str, Any]:
    """What undo compares: the person's values, identities, tags, attributes, installations."""
    return {
        "fields": side.fields,
        "phones": side.phones,
        "emails": side.emails,
        "tags": side.tag_names,
        "customAttributes": side.attributes,
        "installations": {i.push_registration_id: i.is_primary for i in side.installations},
    }


def _same(a: Any, b: Any) -> bool:
    return (None if a == "" else a) == (None if b == "" else b)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))
