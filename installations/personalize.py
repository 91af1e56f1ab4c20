"""Personalize: an installation joins the person who owns an identity (DOMAIN.md)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists

from core.errors import DomainError, ErrorCode
from installations.depersonalize import _is_anonymous, depersonalize_locked
from installations.locks import (
    _check_push_id,
    _installation_key,
    _lock_now,
    _lock_people_and_installation,
    _no_registration,
    _serialize,
    _set_primary_locked,
)
from installations.models import Application, Installation
from people import suppression
from people.apply import apply_person_changes, lock_references, owner_of_external_id
from people.changes import REPLACE, PersonChanges, parse_custom_attributes, parse_tag_names
from people.fields import FIELD_ALIASES, STANDARD_FIELDS, clean_standard_fields
from people.history import Actor, record_event
from people.identities import normalize_email, normalize_external_id, parse_phone
from people.models import (
    ContactIdentity,
    Event,
    EventKind,
    IdentityKind,
    Origin,
    Person,
    SuppressedKind,
)


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
    """An anonymous profile takes the identity; IntegrityError if another writer won it;
    IDENTIFIER_SUPPRESSED if a part of it was an erased person's (nobody holds it now)."""
    parts = [(SuppressedKind.PHONE, p.number, "identity.phones") for p in identity["phones"]]
    parts += [(SuppressedKind.EMAIL, e, "identity.emails") for e in identity["emails"]]
    if identity["external_id"]:
        parts.append((SuppressedKind.EXTERNAL_ID, identity["external_id"], "identity.externalId"))
    suppression.check_none_suppressed(parts)
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
    # In the same statement: whether the registration was an erased person's (a device that
    # registered again after its person's erasure stays anonymous: people.suppression).
    now = (
        Installation.objects.filter(push_registration_id=push_id)
        .annotate(suppressed=Exists(suppression.marker(SuppressedKind.PUSH_REGISTRATION, push_id)))
        .values("person_id", "person__external_id", "suppressed")
        .first()
    )
    if now is None:
        raise _no_registration(push_id)
    if now["suppressed"]:
        raise suppression.refusal(SuppressedKind.PUSH_REGISTRATION, "pushRegistrationId")
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
