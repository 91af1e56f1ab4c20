"""Every write to an installation: register, primary, push, data, uninstall.

Personalize is installations.personalize, depersonalize and deleting people
installations.depersonalize, applications installations.applications; the lock order they all
keep is installations.locks'.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from core.errors import DomainError, ErrorCode, reject_nul
from installations.locks import _lock_installation, _set_primary_locked, lock_with_primaries
from installations.models import Application, Installation, mask_push_service_token
from installations.personalize import _primary_of_another_application
from people import custom_attributes as attribute_types
from people.history import Actor, record_event
from people.models import (
    Event,
    EventKind,
    Origin,
    Person,
)
from people.services import (
    new_anonymous_person,
)

# System data the device may write (SDK names -> model fields).
DEVICE_SYSTEM_FIELDS = {
    "notificationsEnabled": ("notifications_enabled", bool),
    "geofencingSdk": ("geofencing_sdk", bool),
    "sdkVersion": ("sdk_version", str),
    "appVersion": ("app_version", str),
    "os": ("os", str),
    "osVersion": ("os_version", str),
    "deviceManufacturer": ("device_manufacturer", str),
    "deviceModel": ("device_model", str),
    "deviceSecure": ("device_secure", bool),
    "osLanguage": ("os_language", str),
    "deviceTimezoneOffset": ("device_timezone_offset", str),
    "deviceName": ("device_name", str),
    "cloudType": ("cloud_type", str),
    "registrationEnabled": ("registration_enabled", bool),
    # The SDK's module flags (iOS In-app chat, Inbox, WebRTC UI), kept as system data.
    "inappchat": ("inapp_chat", bool),
    "inbox": ("inbox", bool),
    "webrtcui": ("webrtc_ui", bool),
    # Device-written installation fields of the SDK (not system data for the vendor's API).
    "applicationUserId": ("application_user_id", str),
    "pushServiceToken": ("push_service_token", str),
}
# Never written whole into history (operators read it): the push address of the device.
MASKED_IN_HISTORY = {"push_service_token": mask_push_service_token}


def clean_system_data(data: Any, *, field: str = "systemData") -> dict[str, Any]:
    """Model field -> value for system data sent by a device (vendor/SDK names)."""
    if not isinstance(data, dict):
        raise DomainError(ErrorCode.REQUEST_FORMAT_INVALID, "systemData must be an object.", field)
    cleaned: dict[str, Any] = {}
    for name, value in data.items():
        if name not in DEVICE_SYSTEM_FIELDS:
            raise DomainError(
                ErrorCode.BAD_REQUEST, f"{name} is not a system data field.", f"{field}.{name}"
            )
        model_field, kind = DEVICE_SYSTEM_FIELDS[name]
        if value is None:
            value = False if kind is bool else ""
        if not isinstance(value, kind):
            expected = "true or false" if kind is bool else "a string"
            raise DomainError(
                ErrorCode.REQUEST_FORMAT_INVALID,
                f"{name} must be {expected}.",
                f"{field}.{name}",
            )
        if kind is str:
            reject_nul(value, f"{field}.{name}", name)
            max_length = Installation._meta.get_field(model_field).max_length
            if len(value) > max_length:
                raise DomainError(
                    ErrorCode.BAD_REQUEST,
                    f"{name} must be at most {max_length} characters.",
                    f"{field}.{name}",
                )
        cleaned[model_field] = value
    return cleaned


@transaction.atomic
def installation_register(
    *,
    application: Application,
    actor: Actor,
    push_registration_id: str | None = None,
    system_data: dict[str, Any] | None = None,
    additional_data: dict[str, Any] | None = None,
    is_primary: bool | None = None,
) -> tuple[Installation, bool]:
    """What a device does on first launch: a new installation on a fresh anonymous lead.

    Registering the same pushRegistrationId again updates that installation (returns
    created=False), never a duplicate.
    """
    fields = clean_system_data(system_data or {})
    extra = attribute_types.validate_additional_data(additional_data or {})
    if push_registration_id is not None and not isinstance(push_registration_id, str):
        raise DomainError(
            ErrorCode.REQUEST_FORMAT_INVALID, "pushRegId must be a string.", "pushRegId"
        )
    if is_primary is not None and not isinstance(is_primary, bool):
        # Checked here too: a new installation does not go through installation_device_update.
        raise DomainError(
            ErrorCode.REQUEST_FORMAT_INVALID, "isPrimary must be true or false.", "isPrimary"
        )
    if push_registration_id is not None and not isinstance(push_registration_id, str):
        raise DomainError(
            ErrorCode.REQUEST_FORMAT_INVALID, "pushRegId must be a string.", "pushRegId"
        )
    push_id = reject_nul((push_registration_id or "").strip(), "pushRegId") or str(uuid.uuid4())
    if len(push_id) > 255:
        raise DomainError(
            ErrorCode.BAD_REQUEST, "pushRegId must be at most 255 characters.", "pushRegId"
        )
    if "/" in push_id:
        # The id is a path segment of every push and device URL: with a "/" the installation
        # could be created but never reached again.
        raise DomainError(ErrorCode.BAD_REQUEST, "pushRegId must not contain '/'.", "pushRegId")
    existing = Installation.objects.filter(push_registration_id=push_id).first()
    if existing is None:
        person = new_anonymous_person(origin=Origin.DEVICE)
        try:
            with transaction.atomic():
                installation = Installation.objects.create(
                    push_registration_id=push_id,
                    application=application,
                    person=person,
                    additional_data={k: v for k, v in extra.items() if v is not None},
                    is_primary=bool(is_primary),
                    **fields,
                )
        except IntegrityError:
            # The same device registered twice at once: the other request created it.
            person.delete()
            existing = Installation.objects.get(push_registration_id=push_id)
        else:
            record_event(
                person=person,
                kind=EventKind.INSTALL,
                actor=actor,
                push_registration_id=push_id,
                changes={"application": application.code, "os": installation.os},
            )
            return installation, True
    if existing.application_id != application.pk:
        raise DomainError(
            ErrorCode.BAD_REQUEST,
            "This pushRegId is registered for another application.",
            "pushRegId",
        )
    installation = installation_device_update(
        installation=existing,
        actor=actor,
        application=application,
        system_data=system_data,
        additional_data=additional_data,
        is_primary=is_primary,
    )
    return installation, False


# ---------------------------------------------------------------------------------------------
# Changing an installation: one function per operation, each one transaction and one event

# Model field -> its name in the vendor's and the SDK's bodies (the history speaks those).
VENDOR_NAMES = {model: vendor for vendor, (model, _) in DEVICE_SYSTEM_FIELDS.items()}


class _Edit:
    """What one operation changes on one locked installation: the new values, the before and
    after of each for the history, and the columns to save. ``save`` writes them and records
    the one event of the operation (nothing when nothing changed)."""

    def __init__(self, installation: Installation) -> None:
        self.installation = installation
        self.diffs: dict[str, Any] = {}
        self.columns = {"modified_at"}

    def set_fields(self, fields: dict[str, Any]) -> None:
        """System data and push on/off (model field -> value, checked by the caller)."""
        for model_field, value in fields.items():
            old = getattr(self.installation, model_field)
            if old != value:
                shown = MASKED_IN_HISTORY.get(model_field, _as_is)
                self.diffs[VENDOR_NAMES[model_field]] = {
                    "before": shown(old),
                    "after": shown(value),
                }
                setattr(self.installation, model_field, value)
                self.columns.add(model_field)

    def set_primary(self, is_primary: bool, others: list[Installation] | None = None) -> None:
        """``others``: the person's other primary installations, when the caller read them
        under the person's lock (``_set_primary_locked``)."""
        if is_primary != self.installation.is_primary:
            self.diffs["isPrimary"] = {"before": self.installation.is_primary, "after": is_primary}
            _set_primary_locked(self.installation, is_primary, others)
            self.columns.add("is_primary")

    def merge_additional_data(self, data: dict[str, Any], *, onto: dict[str, Any] | None = None):
        """Set the names of ``data`` (a None value removes the name) over ``onto`` (by default
        what is stored: the other names stay)."""
        before = dict(self.installation.additional_data or {})
        after = dict(before if onto is None else onto)
        for key, value in data.items():
            if value is None:
                after.pop(key, None)
            else:
                after[key] = value
        if {k: _typed(v) for k, v in after.items()} != {k: _typed(v) for k, v in before.items()}:
            self.diffs["additionalData"] = {"before": before, "after": after}
            self.installation.additional_data = after
            self.columns.add("additional_data")

    def replace_additional_data(self, typed: dict[str, Any], shown: dict[str, Any] | None):
        """additionalData as an editor typed it whole; with ``shown``, what it showed before,
        only what the operator changed is written over what is stored now
        (``edit_of_additional_data``)."""
        if shown is None:
            self.merge_additional_data(typed, onto={})
        else:
            stored = dict(self.installation.additional_data or {})
            self.merge_additional_data(edit_of_additional_data(stored, shown, typed))

    def save(self, actor: Actor, reverts: Event | None = None) -> Installation:
        """``reverts``: the event whose change this one reverts (directory.revert); the
        installation returned carries the event recorded as ``recorded_event``."""
        locked = self.installation
        locked.recorded_event = None
        if not self.diffs:
            return locked
        locked.save(update_fields=self.columns)
        if set(self.diffs) == {"isPrimary"}:
            kind = EventKind.PRIMARY_CHANGED
        elif set(self.diffs) == {"registrationEnabled"}:
            kind = EventKind.PUSH_CHANGED
        else:
            kind = EventKind.INSTALLATION_CHANGED
        locked.recorded_event = record_event(
            person=locked.person,
            kind=kind,
            actor=actor,
            push_registration_id=locked.push_registration_id,
            changes=self.diffs,
            reverts=reverts,
        )
        return locked


def _as_is(value: Any) -> Any:
    return value


def _check_flag(value: Any, message: str, field: str) -> None:
    if value is not None and not isinstance(value, bool):
        raise DomainError(ErrorCode.REQUEST_FORMAT_INVALID, message, field)


def _check_is_primary(is_primary: Any) -> None:
    _check_flag(is_primary, "isPrimary must be true or false.", "isPrimary")


def _check_push_enabled(enabled: Any) -> None:
    _check_flag(
        enabled, "registrationEnabled must be true or false.", "systemData.registrationEnabled"
    )


def _additional_data(data: Any) -> dict[str, Any] | None:
    return attribute_types.validate_additional_data(data) if data is not None else None


@transaction.atomic
def installation_set_primary(
    *, installation: Installation | str, actor: Actor, reverts: Event | None = None
) -> Installation:
    """Make this the person's primary device: its other installations lose the flag."""
    locked, _person = _lock_installation(installation)
    edit = _Edit(locked)
    edit.set_primary(True)
    return edit.save(actor, reverts)


@transaction.atomic
def installation_unset_primary(
    *, installation: Installation | str, actor: Actor, reverts: Event | None = None
) -> Installation:
    """This installation is no longer the person's primary device (none is, then)."""
    locked, _person = _lock_installation(installation)
    edit = _Edit(locked)
    edit.set_primary(False)
    return edit.save(actor, reverts)


@dataclass
class PrimaryChange:
    """What Make (or Unset) primary on a card changed: the installation as stored, with its
    application and its locked person, and the person's installations that lost the flag."""

    installation: Installation
    unset: list[Installation]


@transaction.atomic
def installation_set_primary_by_id(*, pk: int, is_primary: bool, actor: Actor) -> PrimaryChange:
    """An operator's Make primary (``is_primary``) or Unset primary on the card of
    installation ``pk``: the person and the installations are locked as
    ``locks.lock_with_primaries`` does, and the answer carries the cards that lost the flag
    (read under the lock, nothing read back). A missing installation: NOT_FOUND."""
    _check_is_primary(is_primary)
    locked, others = lock_with_primaries(pk)
    edit = _Edit(locked)
    edit.set_primary(is_primary, others)
    stored = edit.save(actor)
    unset = others if is_primary else []  # unsetting this one leaves another primary as it is
    for other in unset:
        other.is_primary = False
    return PrimaryChange(stored, unset)


@transaction.atomic
def installation_set_push_enabled(
    *,
    installation: Installation | str,
    actor: Actor,
    enabled: bool,
    reverts: Event | None = None,
) -> Installation:
    """Turn push on or off for one installation."""
    _check_push_enabled(enabled)
    locked, _person = _lock_installation(installation)
    edit = _Edit(locked)
    edit.set_fields({"registration_enabled": enabled})
    return edit.save(actor, reverts)


@transaction.atomic
def installation_set_additional_data(
    *,
    installation: Installation | str,
    actor: Actor,
    data: dict[str, Any],
    shown: dict[str, Any] | None = None,
) -> Installation:
    """Put ``data`` in place of the whole additionalData, as an editor typed it; with
    ``shown``, the value the editor showed, only what the operator changed from it is written
    over what is stored now (``edit_of_additional_data``)."""
    typed = attribute_types.validate_additional_data(data)
    locked, _person = _lock_installation(installation)
    edit = _Edit(locked)
    edit.replace_additional_data(typed, shown)
    return edit.save(actor)


@transaction.atomic
def installation_update(
    *,
    installation: Installation | str,
    actor: Actor,
    is_primary: bool | None = None,
    registration_enabled: bool | None = None,
    additional_data: dict[str, Any] | None = None,
) -> Installation:
    """The push API's PATCH: what an operator or automation may write, in one event (None:
    unchanged). In ``additional_data`` a None value removes that name; the others stay."""
    _check_push_enabled(registration_enabled)
    _check_is_primary(is_primary)
    extra = _additional_data(additional_data)
    locked, _person = _lock_installation(installation)
    edit = _Edit(locked)
    if registration_enabled is not None:
        edit.set_fields({"registration_enabled": registration_enabled})
    if is_primary is not None:
        edit.set_primary(is_primary)
    if extra is not None:
        edit.merge_additional_data(extra)
    return edit.save(actor)


@transaction.atomic
def installation_edit(
    *,
    installation: Installation | str,
    actor: Actor,
    is_primary: bool | None = None,
    registration_enabled: bool | None = None,
    additional_data: dict[str, Any] | None = None,
    additional_data_shown: dict[str, Any] | None = None,
) -> Installation:
    """An operator's form (admin's change page and its inline), in one event: the primary flag,
    push on/off, and additionalData typed whole over what the form showed
    (``additional_data_shown``, as ``installation_set_additional_data``). None: unchanged."""
    _check_push_enabled(registration_enabled)
    _check_is_primary(is_primary)
    typed = _additional_data(additional_data)
    locked, _person = _lock_installation(installation)
    edit = _Edit(locked)
    if registration_enabled is not None:
        edit.set_fields({"registration_enabled": registration_enabled})
    if is_primary is not None:
        edit.set_primary(is_primary)
    if typed is not None:
        edit.replace_additional_data(typed, additional_data_shown)
    return edit.save(actor)


@transaction.atomic
def installation_device_update(
    *,
    installation: Installation | str,
    actor: Actor,
    application: Application,
    system_data: dict[str, Any] | None = None,
    is_primary: bool | None = None,
    additional_data: dict[str, Any] | None = None,
) -> Installation:
    """What a device of ``application`` reports of its installation, in one event: system data,
    the primary flag and additionalData (names set, a None value removes one, the others stay).

    A device changes only its own application's installations: when another application's
    installation is its person's primary one, a request to make this one primary leaves it
    non-primary (its answer says isPrimary false).
    """
    fields = clean_system_data(system_data) if system_data is not None else {}
    _check_is_primary(is_primary)
    extra = _additional_data(additional_data)
    locked, _person = _lock_installation(installation)
    edit = _Edit(locked)
    edit.set_fields(fields)
    if is_primary and _primary_of_another_application(locked, application):
        is_primary = None  # not the device's to take from another application
    if is_primary is not None:
        edit.set_primary(is_primary)
    if extra is not None:
        edit.merge_additional_data(extra)
    return edit.save(actor)


def edit_of_additional_data(
    stored: dict[str, Any], shown: dict[str, Any], typed: dict[str, Any]
) -> dict[str, Any]:
    """What an editor changed in additionalData, as names to set (None: remove), to apply
    over what is stored now.

    The editor showed ``shown`` and the operator typed ``typed`` in its place. Names the
    operator left as shown keep what is stored now, so a name the device or someone else set
    in between is not lost. A name the operator changed that was changed in between too (to
    something else) is refused with VERSION_CONFLICT, naming it, and nothing is written.
    """
    edit = {name: value for name, value in typed.items() if not _same(shown.get(name), value)}
    edit.update({name: None for name in shown if name not in typed})
    clashes = [
        name
        for name, value in edit.items()
        if not _same(stored.get(name), shown.get(name)) and not _same(stored.get(name), value)
    ]
    if clashes:
        name = clashes[0]
        now = stored.get(name)
        raise DomainError(
            ErrorCode.VERSION_CONFLICT,
            f"additionalData {name!r} was changed since the editor showed it"
            f" (now {'not set' if now is None else repr(now)}); nothing was saved. Save again"
            " to write yours over it.",
            f"additionalData.{name}",
            details={"additionalData": stored},
        )
    return edit


def _typed(value: Any) -> tuple[type, Any]:
    """A value with its type, to compare: in JSON true is not 1, and 1 is not 1.0."""
    return type(value), value


def _same(a: Any, b: Any) -> bool:
    return _typed(a) == _typed(b)


@transaction.atomic
def installation_delete(*, installation: Installation | str, actor: Actor) -> Person:
    """Uninstall: the installation goes; an Uninstall event stays in its person's history."""
    locked, person = _lock_installation(installation)
    record_event(
        person=person,
        kind=EventKind.UNINSTALL,
        actor=actor,
        push_registration_id=locked.push_registration_id,
        changes={"application": locked.application.code, "os": locked.os},
    )
    locked.delete()
    return person


# ---------------------------------------------------------------------------------------------
# Personalize and depersonalize
