"""Every write to an installation: register, personalize, depersonalize, primary, push, data.

Lock order, to keep concurrent writers from deadlocking: first the requests that move one
installation to another person (personalize, depersonalize; for personalize also those of
one identity) wait for each other (``_serialize``, advisory locks); then the tags and
definitions a personalization attaches (FOR SHARE, ``lock_references``); then person rows, in
the order of their ids; then the installation row (``_lock_people_and_installation``).
Whoever holds a person's lock may update any of its installations (making one primary unsets
the others), so nobody may hold an installation lock while waiting for a person's lock: a
person found out of order is only tried (``_lock_now``).
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from core.errors import DomainError, ErrorCode, reject_nul
from installations.models import Application, Installation, mask_push_service_token
from people import custom_attributes as attribute_types
from people.batch_checks import not_found
from people.batches import ROWS_PER_STATEMENT, in_one_transaction
from people.fields import FIELD_ALIASES, STANDARD_FIELDS, clean_standard_fields
from people.history import Actor, event_row, record_audit, record_event
from people.identities import normalize_email, normalize_external_id, parse_phone
from people.models import (
    ContactIdentity,
    Event,
    EventKind,
    IdentityKind,
    Origin,
    Person,
    PersonType,
)
from people.services import (
    REPLACE,
    SYSTEM,
    PersonChanges,
    apply_person_changes,
    lock_person,
    lock_references,
    new_anonymous_person,
    owner_of_external_id,
    parse_custom_attributes,
    parse_tag_names,
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


def _no_registration(push_registration_id: object) -> DomainError:
    return DomainError(
        ErrorCode.NO_REGISTRATION,
        f"No push registration {push_registration_id!r}.",
        "pushRegistrationId",
    )


def _check_push_id(push_registration_id: object) -> None:
    if not isinstance(push_registration_id, str) or "\x00" in push_registration_id:
        # No registration can have such an id, and PostgreSQL refuses NUL in a query.
        raise _no_registration(push_registration_id)


def get_installation(push_registration_id: str, *, for_update: bool = False) -> Installation:
    _check_push_id(push_registration_id)
    queryset = Installation.objects.select_related("application", "person")
    if for_update:
        queryset = Installation.objects.select_for_update()
    try:
        return queryset.get(push_registration_id=push_registration_id)
    except Installation.DoesNotExist:
        raise _no_registration(push_registration_id) from None


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


def _set_primary_locked(installation: Installation, is_primary: bool) -> None:
    """Make ``installation`` the person's only primary one (the person row is locked).

    Unset the others first, then set this one: a single statement that flips both could
    meet the partial unique index half-way.
    """
    if is_primary:
        Installation.objects.filter(person_id=installation.person_id, is_primary=True).exclude(
            pk=installation.pk
        ).update(is_primary=False)
    installation.is_primary = is_primary


def _serialize(*keys: str) -> None:
    """Wait for every other transaction that writes one of these installations or identities.

    PostgreSQL transaction-level advisory locks, taken before any row lock, all at once and
    in one order (of their hashes), so they cannot deadlock among themselves. Two writers of
    one installation (or two personalizations with one new identity) then run one after the
    other from the start: what the second reads before it takes its row locks (the
    installation's person, the identity's owner) cannot be changed under it by the first.
    Other databases serialize writers anyway.
    """
    if connection.vendor != "postgresql" or not keys:
        return
    # 64-bit keys, in one order; the values themselves (personal data) stay out of the SQL.
    ids = sorted(
        {
            int.from_bytes(
                hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True
            )
            for key in keys
        }
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) WITH ORDINALITY AS"
            " keys(k, n) ORDER BY n",
            [ids],
        )


def _installation_key(push_id: str) -> str:
    return f"installation:{push_id}"


def _serialize_installation(installation: Installation | str) -> str:
    """Wait for the other writers of this installation; its pushRegistrationId, to be read
    again after the wait."""
    push_id = (
        installation.push_registration_id
        if isinstance(installation, Installation)
        else installation
    )
    _check_push_id(push_id)
    _serialize(_installation_key(push_id))
    return push_id


def _lock_installation(
    installation: Installation | str, *, moves: bool = False
) -> tuple[Installation, Person]:
    """Lock the installation's person, then the installation; return both. ``moves``: the
    caller moves the installation to another person (see _lock_people_and_installation)."""
    if moves:
        installation = _serialize_installation(installation)
    locked, people = _lock_people_and_installation(installation)
    return locked, people[locked.person_id]


def _lock_people_and_installation(
    installation: Installation | str,
    others: Iterable[int] = (),
    *,
    person_id: int | None = None,
) -> tuple[Installation, dict[int, Person]]:
    """Lock the installation's person and ``others`` in the order of their ids, then the
    installation; return the installation and the locked people by id.

    Taking the installation first deadlocked: a writer holding the primary installation's
    lock waited for the person, while the writer holding the person unset that primary flag
    (tests/installations/test_concurrency.py). So did taking a second person (a personalize
    target) after the installation, and taking the person an installation named a moment
    before it moved (tests/core/test_personalize_concurrency_http.py).

    A writer that moves the installation (personalize, depersonalize) first waits for the
    other writers of the installation (``_serialize_installation``) and passes its
    pushRegistrationId: its person is read then, and stays its person (only a writer that is
    not one of its own, deleting the person, can move it in between). Other writers
    (primary, push, data, uninstall) may pass the installation they read a moment ago: the
    person it named is locked, without that wait.
    Either way, if the installation names another person once it is locked, that person is
    out of order: it is taken without waiting (``_lock_now``), or the answer is
    VERSION_CONFLICT. ``others`` that no longer exist are left out of the answer;
    ``person_id``: the installation's person as the caller read it after its wait.
    """
    push_id = (
        installation.push_registration_id
        if isinstance(installation, Installation)
        else installation
    )
    _check_push_id(push_id)
    if person_id is None and isinstance(installation, Installation):
        person_id = installation.person_id  # read a moment ago: checked under the lock
    if person_id is None:
        person_id = (
            Installation.objects.filter(push_registration_id=push_id)
            .values_list("person_id", flat=True)
            .first()
        )
    if person_id is None:
        raise _no_registration(push_id)
    people: dict[int, Person] = {}
    for pk in sorted({person_id, *others}):
        try:
            people[pk] = lock_person(pk)
        except DomainError:
            if pk == person_id:
                raise _being_moved(push_id) from None
    locked = get_installation(push_id, for_update=True)
    if locked.person_id not in people:
        people[locked.person_id] = _lock_now(locked.person_id, _being_moved(push_id))
    locked.person = people[locked.person_id]
    return locked, people


def _being_moved(push_id: str) -> DomainError:
    return DomainError(
        ErrorCode.VERSION_CONFLICT,
        f"Installation {push_id} is being moved by another request; try again.",
        "pushRegistrationId",
    )


def _lock_now(person_id: int, busy: DomainError) -> Person:
    """Lock a person out of the id order, which may only be tried, never waited for: ``busy``
    is raised if another transaction holds it (or it is gone)."""
    try:
        with transaction.atomic():
            return Person.objects.select_for_update(nowait=True).get(pk=person_id)
    except (DatabaseError, Person.DoesNotExist):
        raise busy from None


# ---------------------------------------------------------------------------------------------
# Device registration


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

    def set_primary(self, is_primary: bool) -> None:
        if is_primary != self.installation.is_primary:
            self.diffs["isPrimary"] = {"before": self.installation.is_primary, "after": is_primary}
            _set_primary_locked(self.installation, is_primary)
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

    def save(self, actor: Actor) -> Installation:
        locked = self.installation
        if not self.diffs:
            return locked
        locked.save(update_fields=self.columns)
        if set(self.diffs) == {"isPrimary"}:
            kind = EventKind.PRIMARY_CHANGED
        elif set(self.diffs) == {"registrationEnabled"}:
            kind = EventKind.PUSH_CHANGED
        else:
            kind = EventKind.INSTALLATION_CHANGED
        record_event(
            person=locked.person,
            kind=kind,
            actor=actor,
            push_registration_id=locked.push_registration_id,
            changes=self.diffs,
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
def installation_set_primary(*, installation: Installation | str, actor: Actor) -> Installation:
    """Make this the person's primary device: its other installations lose the flag."""
    locked, _person = _lock_installation(installation)
    edit = _Edit(locked)
    edit.set_primary(True)
    return edit.save(actor)


@transaction.atomic
def installation_unset_primary(*, installation: Installation | str, actor: Actor) -> Installation:
    """This installation is no longer the person's primary device (none is, then)."""
    locked, _person = _lock_installation(installation)
    edit = _Edit(locked)
    edit.set_primary(False)
    return edit.save(actor)


@transaction.atomic
def installation_set_push_enabled(
    *, installation: Installation | str, actor: Actor, enabled: bool
) -> Installation:
    """Turn push on or off for one installation."""
    _check_push_enabled(enabled)
    locked, _person = _lock_installation(installation)
    edit = _Edit(locked)
    edit.set_fields({"registration_enabled": enabled})
    return edit.save(actor)


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


def _is_anonymous(person: Person) -> bool:
    return not person.external_id and not ContactIdentity.objects.filter(person=person).exists()


def depersonalize_locked(installations: list[Installation], actor: Actor) -> list[Person]:
    """The one way an installation leaves its person (DOMAIN.md, Depersonalize): each of
    ``installations`` (locked, as their people are) moves to a fresh anonymous lead profile of
    its own and is no longer primary. Answers the new profiles, in the same order.

    Remote logout, a forced personalization and deleting a person all come here, so the
    history says the same for each: a Depersonalize event on the person it left, naming the
    profile it went to (``movedTo``), and one on that profile, naming the person it came
    from (``movedFrom``). Deleting the person takes the first event with its history. A few
    statements for any number of installations (a batch deletes a thousand people at once).
    """
    anonymous = [Person(type=PersonType.LEAD, origin=Origin.SYSTEM) for _ in installations]
    Person.objects.bulk_create(anonymous, batch_size=ROWS_PER_STATEMENT)
    now = timezone.now()
    events = []
    for installation, fresh in zip(installations, anonymous, strict=True):
        push_id = installation.push_registration_id
        left = Person(pk=installation.person_id)
        events.append(
            event_row(
                person=left,
                kind=EventKind.DEPERSONALIZE,
                actor=actor,
                push_registration_id=push_id,
                changes={"installation": push_id, "movedTo": fresh.pk},
            )
        )
        events.append(
            event_row(
                person=fresh,
                kind=EventKind.DEPERSONALIZE,
                actor=actor,
                push_registration_id=push_id,
                changes={"installation": push_id, "movedFrom": left.pk},
            )
        )
        installation.person = fresh
        installation.is_primary = False
        installation.modified_at = now
    Installation.objects.bulk_update(
        installations, ["person", "is_primary", "modified_at"], batch_size=ROWS_PER_STATEMENT
    )
    Event.objects.bulk_create(events, batch_size=ROWS_PER_STATEMENT)
    return anonymous


@transaction.atomic
def installation_depersonalize(*, installation: Installation | str, actor: Actor) -> Person:
    """Remote logout: the installation leaves its person for a fresh anonymous lead profile.

    Returns the new anonymous profile. The person keeps its history, with a Depersonalize
    event. An installation that is already alone on an anonymous profile stays as it is.
    """
    locked, person = _lock_installation(installation, moves=True)
    if _is_anonymous(person) and not person.installations.exclude(pk=locked.pk).exists():
        return person
    (anonymous,) = depersonalize_locked([locked], actor)
    return anonymous


# ---------------------------------------------------------------------------------------------
# Deleting people: what joins both apps (people does not know installations)


@transaction.atomic
def person_delete(*, person: Person | int, actor: Actor) -> None:
    """Delete a person (DOMAIN.md): its contact identities, custom attribute values and
    history go with it; its installations go to fresh anonymous profiles
    (``depersonalize_locked``, as a remote logout). The deletion itself is kept in the audit
    log, since the history that would say it goes with the person."""
    locked = lock_person(person)
    installations = list(
        Installation.objects.select_for_update().filter(person=locked).order_by("pk")
    )
    depersonalize_locked(installations, actor)
    record_audit(
        action="person deleted",
        target=f"person {locked.pk}",
        actor=actor,
        installations_moved=len(installations),
    )
    locked.delete()


def person_delete_batch(*, actor: Actor, person_ids: list[int | Exception]) -> list[Any]:
    """Delete each item's person (as ``person_delete``), or keep the item's error; all of them
    in one transaction (people.batches). The same person twice: the second is NOT_FOUND, as
    it would be after the first."""
    return in_one_transaction(lambda: _delete_batch(actor, person_ids))


def _delete_batch(actor: Actor, person_ids: list[int | Exception]) -> list[Any]:
    outcomes: list[Any] = list(person_ids)
    wanted = sorted({pk for pk in person_ids if not isinstance(pk, Exception)})
    locked = set(
        Person.objects.select_for_update()
        .filter(pk__in=wanted)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    deleted: set[int] = set()
    for index, pk in enumerate(person_ids):
        if isinstance(pk, Exception):
            continue
        if pk not in locked or pk in deleted:
            outcomes[index] = not_found(pk)
        else:
            deleted.add(pk)
            outcomes[index] = None
    if not deleted:
        return outcomes
    installations = list(
        Installation.objects.select_for_update().filter(person_id__in=deleted).order_by("pk")
    )
    moved = Counter(installation.person_id for installation in installations)
    depersonalize_locked(installations, actor)
    for pk in sorted(deleted):
        record_audit(
            action="person deleted",
            target=f"person {pk}",
            actor=actor,
            installations_moved=moved[pk],
        )
    Person.objects.filter(pk__in=deleted).delete()
    return outcomes


def parse_identity(identity: Any) -> dict[str, Any]:
    """externalId, phones and emails of a personalize identity, normalized.

    Accepts the vendor's ``phoneNumber``/``email`` and the SDK's ``phones``/``emails`` lists.
    """
    if not isinstance(identity, dict):
        raise DomainError(
            ErrorCode.USER_IDENTITY_INVALID,
            "identity must be an object with externalId, phoneNumber or email.",
            "identity",
        )
    known = {"externalId", "phoneNumber", "email", "phones", "emails", "externalUserId"}
    unknown = sorted(set(identity) - known)
    if unknown:
        raise DomainError(
            ErrorCode.USER_IDENTITY_INVALID,
            f"Unknown identity field(s): {', '.join(unknown)}.",
            "identity",
        )
    external_id = normalize_external_id(
        identity.get("externalId", identity.get("externalUserId")), field="identity.externalId"
    )
    raw_phones = _as_list(identity.get("phoneNumber")) + [
        destination_value(item, "number", ErrorCode.PHONE_INVALID, "identity.phones")
        for item in _as_list(identity.get("phones"))
    ]
    raw_emails = _as_list(identity.get("email")) + [
        destination_value(item, "address", ErrorCode.EMAIL_INVALID, "identity.emails")
        for item in _as_list(identity.get("emails"))
    ]
    phones = []
    for raw in raw_phones:
        phone = parse_phone(raw, field="identity.phoneNumber")
        if phone not in phones:
            phones.append(phone)
    emails = []
    for raw in raw_emails:
        email = normalize_email(raw, field="identity.email")
        if email not in emails:
            emails.append(email)
    if not external_id and not phones and not emails:
        raise DomainError(
            ErrorCode.USER_IDENTITY_INVALID,
            "identity needs an externalId, a phone number or an email.",
            "identity",
        )
    return {"external_id": external_id, "phones": phones, "emails": emails}


# What a destination object of the SDKs may hold besides its value ("preferred" is in the
# SDKs' models and not used by the mobile API).
_DESTINATION_EXTRAS = {"preferred"}


def destination_value(item: Any, key: str, code: str, field: str) -> Any:
    """The value of one phone or email as the SDKs send it: an object ``{"number": ...}``
    (``{"address": ...}`` for an email), or the bare value. The value itself is checked by
    the caller (parse_phone, normalize_email)."""
    if not isinstance(item, dict):
        return item
    unknown = sorted(set(item) - {key, *_DESTINATION_EXTRAS})
    if key not in item or unknown:
        raise DomainError(
            code,
            f"Each of {field.rpartition('.')[2]} must be a string or an object with"
            f" {key}" + (f"; {', '.join(unknown)} is not a field of it." if unknown else "."),
            field,
        )
    return item[key]


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _candidates(identity: dict[str, Any], held: Person | None = None) -> set[int]:
    """The people who own any part of ``identity``.

    ``held``: a person this transaction has locked (or created). When it has the externalId
    it owns it (the column is unique and its row cannot change under the lock): no lookup,
    which is the usual personalize of an app that signs its user in again.
    """
    ids: set[int] = set()
    if identity["external_id"]:
        if held is not None and held.external_id == identity["external_id"]:
            ids.add(held.pk)
        else:
            owner = owner_of_external_id(identity["external_id"])
            if owner is not None:
                ids.add(owner)
    values = [(IdentityKind.PHONE, p.number) for p in identity["phones"]] + [
        (IdentityKind.EMAIL, e) for e in identity["emails"]
    ]
    for kind, value in values:
        ids.update(
            ContactIdentity.objects.filter(kind=kind, value=value).values_list(
                "person_id", flat=True
            )
        )
    return ids


def parse_personalize_attributes(attributes: Any) -> PersonChanges:
    """Person attributes sent with a personalization: they replace the given values."""
    if attributes is None:
        return PersonChanges()
    if not isinstance(attributes, dict):
        raise DomainError(
            ErrorCode.REQUEST_FORMAT_INVALID, "attributes must be an object.", "attributes"
        )
    standard = {}
    changes = PersonChanges(tags_mode=REPLACE)
    for name, value in attributes.items():
        canonical = FIELD_ALIASES.get(name, name)
        if canonical == "tags":
            changes.tags = parse_tag_names(value or [], field_name="attributes.tags")
        elif canonical == "customAttributes":
            changes.custom_attributes = parse_custom_attributes(value or {})
        elif canonical in STANDARD_FIELDS and canonical not in ("externalId", "type"):
            standard[canonical] = value
        else:
            raise DomainError(
                ErrorCode.BAD_REQUEST,
                f"{name} cannot be set on personalization.",
                f"attributes.{name}",
            )
    changes.fields = clean_standard_fields(standard)
    return changes


def _give_identity(person: Person, identity: dict[str, Any]) -> None:
    """An anonymous profile takes the identity; IntegrityError if another writer won it."""
    if identity["external_id"]:
        person.external_id = identity["external_id"]
        person.save(update_fields=["external_id", "modified_at"])
    for phone in identity["phones"]:
        ContactIdentity.objects.create(
            person=person,
            kind=IdentityKind.PHONE,
            value=phone.number,
            national_number=phone.national_number,
        )
    for email in identity["emails"]:
        ContactIdentity.objects.create(person=person, kind=IdentityKind.EMAIL, value=email)


def _single_candidate(identity: dict[str, Any], held: Person | None = None) -> int | None:
    found = _candidates(identity, held)
    if len(found) > 1:
        raise DomainError(
            ErrorCode.AMBIGUOUS_PERSONALIZE_CANDIDATES,
            "The identity matches more than one person: "
            + ", ".join(str(i) for i in sorted(found))
            + ".",
            "identity",
            details={"personIds": sorted(found)},
        )
    return next(iter(found), None)


def _move_installation(installation: Installation, source: Person, target: Person) -> None:
    """Move to ``target``; an anonymous profile left with no installation is removed.

    Its history (the Install event) moves along with the installation.
    """
    installation.person = target
    installation.is_primary = False
    installation.save(update_fields=["person", "is_primary", "modified_at"])
    if _is_anonymous(source) and not source.installations.exists():
        Event.objects.filter(person=source).update(person=target)
        source.delete()


@transaction.atomic
def installation_personalize(
    *,
    installation: Installation | str,
    actor: Actor,
    identity: Any,
    attributes: Any = None,
    force_depersonalize: bool = False,
    keep_as_lead: bool = False,
    set_as_primary: bool = False,
    device_of: Application | None = None,
) -> Person:
    """Attach an installation to the person who owns ``identity`` (DOMAIN.md, Personalize).

    The owner is found, or the installation's anonymous profile takes the identity. A
    personalized installation moves to another person only with ``force_depersonalize``.
    Given attributes replace the stored values; the person becomes a customer unless
    ``keep_as_lead``.

    ``device_of``: the call comes from a device of this application, which changes only its
    own application's installations and writes only a profile of its own
    (``_device_may_write_profile``); what it may not do is left undone and recorded in the
    Personalize event (``notApplied``), the rest of the personalization is done.

    Locks: the writers of this installation and of these identities are serialized
    (``_serialize``); then the installation's person and the identity's owner are locked in
    the order of their ids, then the installation (``_lock_people_and_installation``).
    """
    wanted = parse_identity(identity)
    changes = parse_personalize_attributes(attributes)
    attribute_names = sorted(attributes) if isinstance(attributes, dict) else []
    push_id = (
        installation.push_registration_id
        if isinstance(installation, Installation)
        else installation
    )
    _check_push_id(push_id)
    _serialize(_installation_key(push_id), *_identity_keys(wanted))
    # Whom to lock besides the installation's person: read before the locks (when that
    # person has the externalId, it owns it and there is nothing to look up), checked after.
    now = (
        Installation.objects.filter(push_registration_id=push_id)
        .values("person_id", "person__external_id")
        .first()
    )
    if now is None:
        raise _no_registration(push_id)
    owner = _single_candidate(
        wanted, held=Person(pk=now["person_id"], external_id=now["person__external_id"])
    )
    # The tags and definitions it attaches, FOR SHARE, before any person: the order of
    # tag_delete and attribute_definition_delete (the referenced row, then its people).
    lock_references(changes)
    locked, people = _lock_people_and_installation(
        push_id, [owner] if owner is not None else [], person_id=now["person_id"]
    )
    current = people[locked.person_id]
    candidate = _single_candidate(wanted, held=current)
    if candidate is not None and candidate not in people:
        # The identity went to someone else in between (an edit of a person, which is not
        # serialized with personalizations): out of order, so only tried.
        people[candidate] = _lock_now(candidate, _identity_busy())

    # The person is saved (a new version) only when this call changes the profile: another
    # device or identity, or attributes and type. A device that logs in again with the same
    # identity leaves the profile as it was, so an operator editing it meets no conflict.
    joined = candidate != current.pk
    took_identity = False
    if not joined:
        target = current
    else:
        if not _is_anonymous(current):
            if not force_depersonalize:
                raise DomainError(
                    ErrorCode.PERSONALIZATION_IMPOSSIBLE,
                    f"Installation {locked.push_registration_id} is personalized with person"
                    f" {current.pk}; set forceDepersonalize to move it.",
                    "forceDepersonalize",
                    details={"personId": current.pk},
                )
            (current,) = depersonalize_locked([locked], actor)
        if candidate is not None:
            target = people[candidate]
            _move_installation(locked, current, target)
        else:
            try:
                with transaction.atomic():
                    _give_identity(current, wanted)
                target = current
                took_identity = True
            except IntegrityError:
                # Another writer (an edit of a person) took this identity a moment ago; the
                # unique index waited for its commit. Join that person instead.
                current.refresh_from_db()
                owner = _single_candidate(wanted, held=current)
                if owner is None:
                    raise _identity_busy() from None
                target = _lock_now(owner, _identity_busy())
                _move_installation(locked, current, target)

    not_applied: dict[str, Any] = {}
    if (
        device_of is not None
        and attribute_names
        and not _device_may_write_profile(
            target, device_of, took_identity=took_identity, joined=joined
        )
    ):
        not_applied["userAttributes"] = attribute_names
        changes = PersonChanges()
    diffs = apply_person_changes(target, changes)
    promoted = not keep_as_lead and target.type != "CUSTOMER"
    if promoted:
        diffs["type"] = {"before": target.type, "after": "CUSTOMER"}
        target.type = "CUSTOMER"
    if joined or diffs:
        target.version += 1
        target.save()
    if set_as_primary:
        if device_of is not None and _primary_of_another_application(locked, device_of):
            not_applied["setDeviceAsPrimary"] = "another application's installation is primary"
        else:
            _set_primary_locked(locked, True)
            locked.save(update_fields=["is_primary", "modified_at"])
    record_event(
        person=target,
        kind=EventKind.PERSONALIZE,
        actor=actor,
        push_registration_id=locked.push_registration_id,
        changes={
            "identity": {
                "externalId": wanted["external_id"],
                "phones": [p.number for p in wanted["phones"]],
                "emails": wanted["emails"],
            },
            **diffs,
            **({"notApplied": not_applied} if not_applied else {}),
        },
    )
    return target


def _identity_keys(wanted: dict[str, Any]) -> list[str]:
    keys = [f"email:{email}" for email in wanted["emails"]]
    keys += [f"phone:{phone.number}" for phone in wanted["phones"]]
    if wanted["external_id"]:
        keys.append(f"externalId:{wanted['external_id']}")
    return keys


def _identity_busy() -> DomainError:
    return DomainError(
        ErrorCode.USER_MERGE_INTERRUPTED,
        "The identity is being changed by another request; try again.",
        "identity",
    )


# Profiles made by an operator, the API or admin: a device never writes them.
_MANAGED_ORIGINS = {Origin.UI, Origin.API, Origin.ADMIN}


def _device_may_write_profile(
    person: Person, application: Application, *, took_identity: bool, joined: bool
) -> bool:
    """May a device of ``application`` write this person's attributes (userAttributes)?

    A device proves nothing but an identity it typed, so it writes only a profile of its
    own: one no other application has an installation on, and which either took the
    identity from the installation's anonymous profile in this very call, or the
    installation already belonged to, made by a device (not by an operator, the API or
    admin). Joining a profile that existed already never rewrites it.
    """
    if person.installations.exclude(application=application).exists():
        return False
    if took_identity:
        return True
    return not joined and person.origin not in _MANAGED_ORIGINS


def _primary_of_another_application(installation: Installation, application: Application) -> bool:
    """Is another application's installation the primary one of this installation's person?"""
    return (
        Installation.objects.filter(person_id=installation.person_id, is_primary=True)
        .exclude(application=application)
        .exclude(pk=installation.pk)
        .exists()
    )


@transaction.atomic
def application_create(*, name: str, code: str | None = None, actor: Actor = SYSTEM) -> Application:
    """A push application; its code is generated unless given. Recorded in the audit log."""
    application = _application_create(name=name, code=code)
    record_audit(
        action="application created",
        target=f"application {application.pk} {application.name!r} ({application.code})",
        actor=actor,
    )
    return application


# The vendor hands out 32-byte keys as hex (``secretKeyHex``); HS256 wants at least as many.
JWT_SECRET_MIN_BYTES = 32
KEEP = object()


def application_set_jwt(
    *,
    application: Application,
    key_id: str,
    secret: str | None | object = KEEP,
    required: bool,
    actor: Actor = SYSTEM,
) -> Application:
    """Set an application's user data JWT settings (see installations/api/jwt_authentication).

    ``secret`` is the signing key as hex; KEEP (the default) keeps the stored one, ``None`` or
    ``""`` removes it. A secret needs a key id; requiring JWT needs a secret (the database
    holds both rules too). The audit log records the change, never the secret.
    """
    if not isinstance(key_id, str) or not isinstance(required, bool):
        raise DomainError(ErrorCode.REQUEST_FORMAT_INVALID, "jwtKeyId must be text.", "jwtKeyId")
    key_id = reject_nul(key_id.strip(), "jwtKeyId")
    if len(key_id) > 128:
        raise DomainError(ErrorCode.BAD_REQUEST, "jwtKeyId must be at most 128.", "jwtKeyId")
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=application.pk)
        if secret is not KEEP:
            application.jwt_secret = _jwt_secret(secret)
        if application.jwt_secret and not key_id:
            raise DomainError(
                ErrorCode.BAD_REQUEST, "A JWT secret needs its key id (kid).", "jwtKeyId"
            )
        if required and not application.jwt_secret:
            raise DomainError(
                ErrorCode.BAD_REQUEST, "Requiring JWT needs a JWT secret.", "jwtRequired"
            )
        secret_changed = secret is not KEEP
        application.jwt_key_id = key_id
        application.jwt_required = required
        application.save(update_fields=["jwt_key_id", "jwt_secret", "jwt_required"])
    record_audit(
        action="application JWT settings changed",
        target=f"application {application.pk} {application.name!r} ({application.code})",
        actor=actor,
        jwt_key_id=key_id,
        jwt_secret="replaced" if secret_changed else "kept",
        jwt_required=required,
    )
    return application


def _jwt_secret(secret: object) -> str:
    if secret is None:
        return ""
    if not isinstance(secret, str):
        raise DomainError(ErrorCode.REQUEST_FORMAT_INVALID, "jwtSecret must be text.", "jwtSecret")
    secret = secret.strip().lower()
    if not secret:
        return ""
    try:
        raw = bytes.fromhex(secret)
    except ValueError:
        raise DomainError(
            ErrorCode.BAD_REQUEST,
            "jwtSecret must be hexadecimal (the key as the vendor shows it: secretKeyHex).",
            "jwtSecret",
        ) from None
    if not JWT_SECRET_MIN_BYTES <= len(raw) <= 128:
        raise DomainError(
            ErrorCode.BAD_REQUEST,
            f"jwtSecret must be {JWT_SECRET_MIN_BYTES} to 128 bytes"
            f" ({2 * JWT_SECRET_MIN_BYTES} to 256 hex digits).",
            "jwtSecret",
        )
    return secret


def _application_create(*, name: str, code: str | None) -> Application:
    if not isinstance(name, str) or (code is not None and not isinstance(code, str)):
        raise DomainError(ErrorCode.REQUEST_FORMAT_INVALID, "name and code must be text.", "name")
    name = reject_nul(name.strip(), "name")
    if not name or len(name) > 128:
        raise DomainError(ErrorCode.BAD_REQUEST, "name must be 1 to 128 characters.", "name")
    if code is not None:
        code = reject_nul(code.strip(), "code")
        if not code or len(code) > 64:
            raise DomainError(ErrorCode.BAD_REQUEST, "code must be 1 to 64 characters.", "code")
        if Application.objects.filter(code=code).exists():
            raise DomainError(ErrorCode.BAD_REQUEST, f"Application code {code!r} exists.", "code")
        return Application.objects.create(name=name, code=code)
    return Application.objects.create(name=name)
