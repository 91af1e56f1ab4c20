"""What an app reports about its user: save user, session reports, custom events.

The writes of the device API's ``/user`` paths (installations.api.device_user), each in one
transaction. Lock order as installations.locks: the tags and definitions an edit attaches,
then the installation's person, then the installation.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.errors import DomainError, ErrorCode
from installations.locks import _lock_installation
from installations.models import Application, Installation
from installations.personalize import _device_may_write_profile
from installations.services import clean_system_data, installation_device_update
from people import custom_attributes as attribute_types
from people import event_definitions
from people.apply import lock_references
from people.changes import (
    MERGE,
    REPLACE,
    PersonChanges,
    parse_custom_attributes,
    parse_emails,
    parse_phones,
    parse_tag_names,
)
from people.fields import clean_standard_fields
from people.history import Actor, event_row
from people.models import Event, EventKind, Person
from people.services import person_update

# The SDK's user field -> the vendor's standard attribute.
USER_FIELDS = {
    "externalUserId": "externalId",
    "firstName": "firstName",
    "lastName": "lastName",
    "middleName": "middleName",
    "gender": "gender",
    "birthday": "birthDate",
}
USER_NAMES = {*USER_FIELDS, "phones", "emails", "tags", "customAttributes"}
# What a session report's system data may change on the installation (SDK name -> the
# services' name). Push on/off, the primary flag and the token are not a report's to change:
# the device sends them with its installation (PATCH).
SESSION_SYSTEM_NAMES = {
    "notificationsEnabled": "notificationsEnabled",
    "sdkVersion": "sdkVersion",
    "appVersion": "appVersion",
    "os": "os",
    "osVersion": "osVersion",
    "deviceManufacturer": "deviceManufacturer",
    "deviceModel": "deviceModel",
    "deviceSecure": "deviceSecure",
    "language": "osLanguage",
    "deviceTimezoneOffset": "deviceTimezoneOffset",
    "deviceName": "deviceName",
    "pushServiceType": "cloudType",
}
MAX_SESSIONS = 1000
MAX_CUSTOM_EVENTS = 1000


def _format_invalid(field: str, message: str) -> DomainError:
    return DomainError(ErrorCode.REQUEST_FORMAT_INVALID, message, field)


def _list(value: Any, field: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _format_invalid(field, f"{field} must be a list.")
    return value


def user_changes(body: dict[str, Any]) -> PersonChanges:
    """A save user body (the SDK's names) as an edit. What is given replaces what is stored:
    phones, emails and tags are the whole lists (null or [] empties them), a standard field
    null removes it; customAttributes are merged (a null value removes that name)."""
    unknown = sorted(set(body) - USER_NAMES)
    if unknown:
        raise DomainError(
            ErrorCode.BAD_REQUEST,
            f"{unknown[0]} is not a field of a user; expected {', '.join(sorted(USER_NAMES))}.",
            unknown[0],
        )
    changes = PersonChanges(
        fields=clean_standard_fields(
            {vendor: body[sdk] for sdk, vendor in USER_FIELDS.items() if sdk in body}
        ),
        contacts_mode=REPLACE,
        tags_mode=REPLACE,
        custom_attributes_mode=MERGE,
    )
    if "phones" in body:
        changes.phones = parse_phones(_list(body["phones"], "phones"), field_name="phones")
    if "emails" in body:
        changes.emails = parse_emails(_list(body["emails"], "emails"), field_name="emails")
    if "tags" in body:
        changes.tags = parse_tag_names(_list(body["tags"], "tags"), field_name="tags")
    if body.get("customAttributes") is not None:
        changes.custom_attributes = parse_custom_attributes(body["customAttributes"])
    return changes


@transaction.atomic
def device_save_user(
    *, installation: Installation, actor: Actor, body: dict[str, Any], device_of: Application
) -> Person:
    """Save user: a device edits the profile of its installation, with the rules and history of
    every edit (people.services.person_update). It writes only a profile of its own
    (installations.personalize._device_may_write_profile, as personalize's userAttributes): one
    no other application has an installation on and that an operator, the API or admin did not
    make; any other is refused (FORBIDDEN) and nothing is written."""
    changes = user_changes(body)
    lock_references(changes)
    locked, person = _lock_installation(installation)
    if not _device_may_write_profile(person, device_of, took_identity=False, joined=False):
        raise DomainError(
            ErrorCode.FORBIDDEN,
            "This profile is not the app's to change: it was made by an operator, the API or"
            " admin, or another application's installation belongs to it.",
            "pushRegId",
        )
    return person_update(person=person, actor=actor, changes=changes)


# ---------------------------------------------------------------------------------------------
# Sessions


def _instant(raw: Any, field: str) -> dt.datetime:
    if not isinstance(raw, str):
        raise _format_invalid(field, f"{field} must be ISO 8601 date-times.")
    return attribute_types.parse_datetime(raw, name=field, field=field)


def _iso(value: dt.datetime) -> str:
    return attribute_types.serialize_scalar("DATE_TIME", value)


def parse_sessions(starts: Any, bounds: Any) -> dict[dt.datetime, dt.datetime | None]:
    """Session start -> its end (None while the session goes on)."""
    sessions: dict[dt.datetime, dt.datetime | None] = {}
    for raw in _list(starts, "sessionStarts"):
        sessions.setdefault(_instant(raw, "sessionStarts"), None)
    if bounds is None:
        bounds = {}
    if not isinstance(bounds, dict):
        raise _format_invalid("sessionBounds", "sessionBounds must be an object start -> end.")
    for raw_start, raw_end in bounds.items():
        start = _instant(raw_start, "sessionBounds")
        end = _instant(raw_end, f"sessionBounds.{raw_start}")
        if end < start:
            raise DomainError(
                ErrorCode.BAD_REQUEST,
                f"The session started at {raw_start} ends before it starts.",
                f"sessionBounds.{raw_start}",
            )
        sessions[start] = end
    if len(sessions) > MAX_SESSIONS:
        raise DomainError(
            ErrorCode.BAD_REQUEST,
            f"A report has at most {MAX_SESSIONS} sessions.",
            "sessionStarts",
        )
    return sessions


def session_system_data(raw: Any) -> dict[str, Any]:
    """The services' system data from a report's ``systemData`` (the SDK's names). Names a
    report does not change (push on/off, isPrimary, the token, a module's flag such as
    ``inappchat``) are left out; the values are checked as at registration."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _format_invalid("systemData", "systemData must be an object.")
    data = {vendor: raw[sdk] for sdk, vendor in SESSION_SYSTEM_NAMES.items() if sdk in raw}
    clean_system_data(data, field="systemData")  # a bad value is a 400 before anything runs
    return data


@transaction.atomic
def device_report_sessions(
    *,
    installation: Installation,
    actor: Actor,
    session_starts: Any,
    session_bounds: Any,
    system_data: Any = None,
    device_of: Application,
) -> Installation:
    """A session report: an App Launch event in the person's history for each session start
    not recorded yet (with its end once known), the installation's ``last_seen_at`` moved to
    the latest moment reported (never past now, never back), and its system data updated."""
    sessions = parse_sessions(session_starts, session_bounds)
    system = session_system_data(system_data)
    if system:
        installation_device_update(
            installation=installation, actor=actor, application=device_of, system_data=system
        )
    locked, person = _lock_installation(installation)
    recorded = {
        event.changes.get("sessionStart"): event
        for event in Event.objects.filter(
            person=person,
            kind=EventKind.APP_LAUNCH,
            push_registration_id=locked.push_registration_id,
            changes__sessionStart__in=[_iso(start) for start in sessions],
        )
    }
    new_events = []
    for start, end in sorted(sessions.items()):
        event = recorded.get(_iso(start))
        if event is None:
            changes = {"sessionStart": _iso(start)}
            if end is not None:
                changes["sessionEnd"] = _iso(end)
            new_events.append(
                event_row(
                    person=person,
                    kind=EventKind.APP_LAUNCH,
                    actor=actor,
                    push_registration_id=locked.push_registration_id,
                    changes=changes,
                )
            )
        elif end is not None and "sessionEnd" not in event.changes:
            # The session was reported while it went on; its end came with a later report.
            event.changes = {**event.changes, "sessionEnd": _iso(end)}
            event.save(update_fields=["changes"])
    Event.objects.bulk_create(new_events)
    now = timezone.now()
    moments = [moment for start, end in sessions.items() for moment in (start, end) if moment]
    latest = min(max(moments), now) if moments else now
    if locked.last_seen_at is None or latest > locked.last_seen_at:
        locked.last_seen_at = latest
        locked.save(update_fields=["last_seen_at"])
    return locked


# ---------------------------------------------------------------------------------------------
# Custom events


def parse_custom_events(body: Any, *, validate: bool) -> tuple[list[dict[str, Any]], int]:
    """The events of a report, checked against their definitions: (history changes, how many
    were left out). With ``validate`` the first event that does not fit is refused (400,
    naming it); without, such events are left out and the others kept, as a batch of queued
    events must not be retried forever for one bad event."""
    if not isinstance(body, dict) or set(body) - {"events"}:
        raise _format_invalid("events", 'The body must be {"events": [...]}.')
    events = _list(body.get("events"), "events")
    if len(events) > MAX_CUSTOM_EVENTS:
        raise DomainError(
            ErrorCode.BAD_REQUEST, f"A report has at most {MAX_CUSTOM_EVENTS} events.", "events"
        )
    names = {e.get("definitionId") for e in events if isinstance(e, dict)}
    known = {name: event_definitions.definition_named(name) for name in names}
    parsed, skipped = [], 0
    for index, raw in enumerate(events):
        try:
            parsed.append(_custom_event(raw, f"events[{index}]", known))
        except DomainError:
            if validate:
                raise
            skipped += 1
    return parsed, skipped


def _custom_event(raw: Any, where: str, known: dict) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _format_invalid(where, "An event must be an object.")
    unknown = sorted(set(raw) - {"definitionId", "date", "properties"})
    if unknown:
        raise DomainError(ErrorCode.BAD_REQUEST, f"{unknown[0]} is not a field of an event.", where)
    definition = known.get(raw.get("definitionId"))
    if definition is None:
        raise DomainError(
            ErrorCode.BAD_REQUEST,
            f"There is no event definition {raw.get('definitionId')!r}; define it first.",
            f"{where}.definitionId",
        )
    changes: dict[str, Any] = {"definitionId": definition.definition_id}
    if raw.get("date") is not None:
        changes["date"] = _iso(_instant(raw["date"], f"{where}.date"))
    changes["properties"] = event_definitions.parse_event_properties(
        definition, raw.get("properties"), field=f"{where}.properties"
    )
    return changes


@transaction.atomic
def device_report_custom_events(
    *, installation: Installation, actor: Actor, body: Any, validate: bool
) -> int:
    """Record the custom events of a report in the person's history; returns how many."""
    events, _skipped = parse_custom_events(body, validate=validate)
    locked, person = _lock_installation(installation)
    Event.objects.bulk_create(
        event_row(
            person=person,
            kind=EventKind.CUSTOM_EVENT,
            actor=actor,
            push_registration_id=locked.push_registration_id,
            changes=changes,
        )
        for changes in events
    )
    return len(events)
