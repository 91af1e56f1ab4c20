"""Revert one history event's change (DOMAIN.md, "Merge, revert, erasure"): the operator's
Revert button on a history row and the API's ``POST /people/2/events/{id}/revert``.

What reverting means is read from the event's ``changes`` (people.history_lines describes
their shapes) and applied through the services that made such changes in the first place
(``people.services.person_update``, ``installations.services``), so the same validation,
uniqueness, normalization, version bump and history event happen. The new event names the
event it reverts (``Event.reverts``) and has the same shape, so it can be reverted in turn.

It lives here, above people and installations, because push and primary changes are
installations' while the other revertible changes are people's.

The rules, per item of the event:

- a value (a standard attribute, a custom attribute, push on/off, primary) is restored to its
  ``before`` while it still holds the event's ``after``; when it holds ``before`` already there
  is nothing to do for it; when it holds anything else it changed again since: a conflict;
- a list item (tags, phones, emails) the event added is removed if the person still has it,
  and is nothing to do if it is gone already; an item the event removed is added back unless
  the person has it already (nothing to do) or, for a phone or an email, another person has it
  now: a conflict naming that person (identities are never merged silently);
- the installation of a push or primary event that no longer exists, or belongs to another
  person now, is a conflict.

Any conflict refuses the whole revert with REVERT_CONFLICT, nothing written, its details
listing each conflict (field, the value now, the value the revert would restore, and the
owner of an identity). A revert that finds nothing to do writes nothing and records no event.
Install, uninstall, app launch, personalize, depersonalize, custom events, the creation of a
person and system-data changes of an installation are NOT_REVERTIBLE.

Reverting "made X primary" makes X not primary; it does not make primary again the
installation that lost the flag then (that one's change was not recorded as its own event).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from core.errors import DomainError, ErrorCode
from installations import services as installation_services
from installations.models import Installation
from people import custom_attributes as attribute_types
from people.apply import lock_person, lock_references, owner_of_external_id, owner_of_identity
from people.changes import PersonChanges, attribute_definitions_named, parse_tag_names
from people.fields import STANDARD_FIELDS, clean_standard_fields
from people.history import Actor
from people.identities import parse_phone
from people.models import Event, IdentityKind, Person
from people.name_keys import name_key
from people.reverts import INSTALLATION_KINDS, is_diff, is_revertible
from people.services import check_person_version, person_update

IDENTITY_FIELDS = {"phones": IdentityKind.PHONE, "emails": IdentityKind.EMAIL}


@dataclass(frozen=True)
class Conflict:
    """A value that changed again since the event: what it is now, what a revert restores.
    ``owner``: the person who has the phone, email or externalId now, or the installation."""

    field: str
    now: Any
    restore: Any
    owner: int | None = None

    def as_dict(self) -> dict[str, Any]:
        body = {"field": self.field, "now": self.now, "restore": self.restore}
        if self.owner is not None:
            body["ownerId"] = self.owner
        return body


@dataclass
class Revert:
    """What a revert did: the event reverted, the person as the revert left it, the event it
    recorded (None: nothing was left to revert) and the page's sections it touched."""

    event: Event
    person: Person
    recorded: Event | None
    sections: frozenset[str] = field(default_factory=frozenset)


def sections_of(event: Event) -> frozenset[str]:
    """The person page's sections an event's change is shown in."""
    if event.kind in INSTALLATION_KINDS:
        return frozenset({"installations"})
    names = set()
    for key in event.changes or {}:
        if key == "tags":
            names.add("tags")
        elif key in IDENTITY_FIELDS:
            names.add("contacts")
        elif key == "customAttributes":
            names.add("attributes")
        else:
            names.add("overview")
    return frozenset(names)


@transaction.atomic
def revert_event(*, event_id: int, actor: Actor, expected_version: int | None = None) -> Revert:
    """Revert event ``event_id``'s change (see the module's rules) in one transaction: the
    person locked first, then the installation (installations.locks' order). The actor's
    source is the new event's. ``expected_version``: the person's version the caller saw; an
    older one is refused with VERSION_CONFLICT."""
    # An erased person's events stay as tombstones, with no person: nothing to revert to.
    event = Event.objects.filter(pk=event_id, person__isnull=False).first()
    if event is None:
        raise DomainError(ErrorCode.NOT_FOUND, f"Event {event_id} does not exist.")
    if not is_revertible(event):
        raise DomainError(
            ErrorCode.NOT_REVERTIBLE,
            f"A {event.get_kind_display()} event cannot be reverted.",
            details={"eventId": event.pk, "kind": event.kind},
        )
    if event.kind in INSTALLATION_KINDS:
        return _revert_installation(event, actor, expected_version)
    return _revert_person(event, actor, expected_version)


# ---------------------------------------------------------------------------------------------
# Person edits


def _revert_person(event: Event, actor: Actor, expected_version: int | None) -> Revert:
    changes = event.changes
    definitions = attribute_definitions_named(changes.get("customAttributes") or {})
    restored_tags = parse_tag_names((changes.get("tags") or {}).get("removed") or [])
    # What a restore may attach is locked FOR SHARE before the person, the services' order
    # (people.apply.lock_references), so a tag or definition deleter cannot deadlock with it.
    lock_references(
        PersonChanges(
            tags=restored_tags or None,
            custom_attributes=dict.fromkeys(definitions.values()) or None,
        )
    )
    person = lock_person(event.person_id)
    check_person_version(person, expected_version)
    plan = PersonChanges()
    conflicts: list[Conflict] = []
    _plan_fields(person, changes, plan, conflicts)
    _plan_tags(person, changes.get("tags"), plan)
    _plan_identities(person, changes, plan, conflicts)
    _plan_custom_attributes(person, changes.get("customAttributes"), definitions, plan, conflicts)
    if conflicts:
        raise _conflict_error(event, conflicts)
    made = person_update(person=person, actor=actor, changes=plan, reverts=event)
    return Revert(event, made, made.recorded_event, sections_of(event))


def _plan_fields(
    person: Person, changes: dict[str, Any], plan: PersonChanges, conflicts: list[Conflict]
) -> None:
    restore: dict[str, Any] = {}
    for vendor, (model_field, _) in STANDARD_FIELDS.items():
        diff = changes.get(vendor)
        if not is_diff(diff):
            continue
        now = getattr(person, model_field)
        now = now.isoformat() if hasattr(now, "isoformat") else now
        before, after = diff.get("before"), diff.get("after")
        if _same_field(now, before):
            continue  # reverted already
        if not _same_field(now, after):
            conflicts.append(Conflict(vendor, now, before))
            continue
        if vendor == "externalId" and before:
            owner = owner_of_external_id(before)
            if owner is not None and owner != person.pk:
                conflicts.append(Conflict(vendor, now, before, owner))
                continue
        restore[vendor] = before
    plan.fields = clean_standard_fields(restore)


def _plan_tags(person: Person, diff: Any, plan: PersonChanges) -> None:
    if not isinstance(diff, dict):
        return
    have = {tag.name_key for tag in person.tags.all()}
    added = parse_tag_names(diff.get("added") or [])
    removed = parse_tag_names(diff.get("removed") or [])
    plan.tags_remove = [name for name in added if name_key(name) in have]
    back = [name for name in removed if name_key(name) not in have]
    plan.tags = back or None


def _plan_identities(
    person: Person, changes: dict[str, Any], plan: PersonChanges, conflicts: list[Conflict]
) -> None:
    wanted = [key for key in IDENTITY_FIELDS if isinstance(changes.get(key), dict)]
    if not wanted:
        return
    have = {(identity.kind, identity.value) for identity in person.identities.all()}
    for key in wanted:
        kind = IDENTITY_FIELDS[key]
        diff = changes[key]
        remove = [v for v in diff.get("added") or [] if (kind, v) in have]
        back = []
        for value in diff.get("removed") or []:
            if (kind, value) in have:
                continue
            owner = owner_of_identity(kind, value)
            if owner is not None:
                conflicts.append(Conflict(key, None, value, owner))
            else:
                back.append(value)
        if kind == IdentityKind.PHONE:
            plan.phones_remove = remove
            plan.phones = [parse_phone(value, field="contactInformation.phone") for value in back]
        else:
            plan.emails_remove = remove
            plan.emails = back


def _plan_custom_attributes(
    person: Person,
    diffs: Any,
    definitions: dict[str, Any],
    plan: PersonChanges,
    conflicts: list[Conflict],
) -> None:
    if not isinstance(diffs, dict):
        return
    rows = {row.definition_id: row for row in person.attribute_values.all()}
    restore = {}
    for name, diff in diffs.items():
        if not is_diff(diff):
            continue
        before, after = diff.get("before"), diff.get("after")
        definition = definitions.get(name)
        if definition is None:
            # Undefined since: no value of it is left, and none can be restored.
            if before is not None:
                conflicts.append(Conflict(f"customAttributes.{name}", None, before))
            continue
        row = rows.get(definition.pk)
        stored = attribute_types.from_row(definition, row) if row is not None else None
        now = attribute_types.fingerprint(definition, stored)
        if now == _canonical(before):
            continue  # reverted already
        if now != _canonical(after):
            conflicts.append(Conflict(f"customAttributes.{name}", json.loads(now), before))
            continue
        restore[definition] = (
            None
            if before is None
            else attribute_types.parse_value(definition, before, from_text=True)
        )
    if restore:
        plan.custom_attributes = restore


# ---------------------------------------------------------------------------------------------
# Installation edits


def _revert_installation(event: Event, actor: Actor, expected_version: int | None) -> Revert:
    name = INSTALLATION_KINDS[event.kind]
    diff = event.changes[name]
    before, after = diff.get("before"), diff.get("after")
    push_id = event.push_registration_id
    person = lock_person(event.person_id)  # the person first, then the installation
    check_person_version(person, expected_version)
    installation = (
        Installation.objects.select_for_update().filter(push_registration_id=push_id).first()
    )
    if installation is None:
        raise _conflict_error(event, [Conflict("installation", None, push_id)])
    if installation.person_id != person.pk:
        moved = Conflict("installation", push_id, push_id, installation.person_id)
        raise _conflict_error(event, [moved])
    if name == "registrationEnabled":
        now = installation.registration_enabled
    else:
        now = installation.is_primary
    if now == before:
        return Revert(event, person, None, sections_of(event))  # reverted already
    if now != after:
        raise _conflict_error(event, [Conflict(name, now, before)])
    installation.person = person
    if name == "registrationEnabled":
        made = installation_services.installation_set_push_enabled(
            installation=installation, actor=actor, enabled=bool(before), reverts=event
        )
    elif before:
        made = installation_services.installation_set_primary(
            installation=installation, actor=actor, reverts=event
        )
    else:
        made = installation_services.installation_unset_primary(
            installation=installation, actor=actor, reverts=event
        )
    return Revert(event, person, made.recorded_event, sections_of(event))


# ---------------------------------------------------------------------------------------------
# Helpers


def _conflict_error(event: Event, conflicts: list[Conflict]) -> DomainError:
    first = conflicts[0]
    what = ", ".join(_conflict_text(c) for c in conflicts)
    return DomainError(
        ErrorCode.REVERT_CONFLICT,
        f"Event {event.pk} cannot be reverted: changed again since ({what}). Nothing was changed.",
        first.field,
        details={"eventId": event.pk, "conflicts": [c.as_dict() for c in conflicts]},
    )


def _conflict_text(conflict: Conflict) -> str:
    if conflict.field == "installation":
        if conflict.owner is not None:
            return f"installation {conflict.restore} belongs to person {conflict.owner} now"
        return f"installation {conflict.restore} no longer exists"
    if conflict.owner is not None:
        return f"{conflict.field} {conflict.restore} belongs to person {conflict.owner} now"
    return (
        f"{conflict.field} is {_value_text(conflict.now)} now,"
        f" the revert would restore {_value_text(conflict.restore)}"
    )


def _value_text(value: Any) -> str:
    if value is None or value == "":
        return "not set"
    if isinstance(value, str):
        return repr(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def _same_field(a: Any, b: Any) -> bool:
    """Two standard attribute values alike: an empty text is stored as "" and read as null."""
    return (a if a != "" else None) == (b if b != "" else None)


def _canonical(value: Any) -> str:
    """A value as the history recorded it, spelled as ``attribute_types.fingerprint`` spells a
    stored one (the history's decimals are the strings the fingerprint makes of them)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
