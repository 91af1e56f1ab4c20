"""Privacy operations (DOMAIN.md, erasure and personal data): request (for one person or a
population), cancel and run an erasure; lift a suppression; the access-request bundle; reveal
one masked value. Each records who did it.

An erasure runs in one transaction per person, with the person locked first (the lock order
of every writer): its identifiers are suppressed (people.suppression), its history stays as
tombstones (no person, no personal data), then its installations, identities, attribute
values, tags and the person row are deleted. What stays is the Erasure record (ids, counts).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from redis.exceptions import RedisError

from core.errors import DomainError, ErrorCode
from installations.models import Installation
from people import name_terms, suppression
from people.api.serializers import person_body
from people.apply import lock_person
from people.history import Actor, record_audit
from people.identities import format_phone, normalize_email, normalize_external_id, parse_phone
from people.models import (
    AttributeValue,
    ContactIdentity,
    Event,
    IdentityKind,
    Person,
    Source,
    SuppressedKind,
)
from people.profiles import profile
from privacy.models import AccessKind, AccessRecord, Erasure, ErasureState

REASON_MAX = 2000
# What an erased event's changes keep of each field: its name, never its values.
TOMBSTONE = "erased"
# Who runs the due erasures unless the caller says (manage.py run_erasures does).
ERASER = Actor.system("erasure", Source.SYSTEM)


def _reason(reason: object) -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise DomainError(ErrorCode.BAD_REQUEST, "A reason is required.", "reason")
    if len(text) > REASON_MAX:
        raise DomainError(
            ErrorCode.BAD_REQUEST, f"The reason is at most {REASON_MAX} characters.", "reason"
        )
    return text


def _label(user: AbstractBaseUser) -> str:
    return user.get_username()[:255]


def request_erasure(
    *,
    person_id: int,
    reason: object,
    user: AbstractBaseUser,
    source: str = Source.UI,
    now: dt.datetime | None = None,
) -> Erasure:
    """Mark a person pending erasure for ERASURE_COOLING_OFF_DAYS (Administrators)."""
    text = _reason(reason)
    now = now or timezone.now()
    with transaction.atomic():
        lock_person(person_id)
        try:
            with transaction.atomic():
                erasure = Erasure.objects.create(
                    person_id=person_id,
                    reason=text,
                    requested_by=user,
                    requested_label=_label(user),
                    due_at=now + dt.timedelta(days=settings.ERASURE_COOLING_OFF_DAYS),
                )
        except IntegrityError:
            raise DomainError(
                ErrorCode.CONFLICT,
                f"Person {person_id} is already pending erasure.",
                details={"personId": person_id},
            ) from None
        record_audit(
            action="erasure requested",
            target=f"person {person_id}",
            actor=Actor.operator(user, source),
            erasure=erasure.pk,
            due=erasure.due_at.isoformat(),
        )
        return erasure


def request_erasures(
    *,
    person_ids: list[int],
    reason: object,
    user: AbstractBaseUser,
    source: str = Source.UI,
    now: dt.datetime | None = None,
) -> int:
    """Mark every person of a population pending erasure, as ``request_erasure`` marks one
    (the same cooling-off, cancellable one by one); people already pending keep their
    request. Returns how many requests were made. The caller bounds the population
    (BULK_ERASURE_MAX: without the job engine the requests are written in this request)."""
    text = _reason(reason)
    now = now or timezone.now()
    due = now + dt.timedelta(days=settings.ERASURE_COOLING_OFF_DAYS)
    with transaction.atomic():
        pending = set(
            Erasure.objects.filter(
                person_id__in=person_ids, state=ErasureState.PENDING
            ).values_list("person_id", flat=True)
        )
        made = Erasure.objects.bulk_create(
            [
                Erasure(
                    person_id=pk,
                    reason=text,
                    requested_by=user,
                    requested_label=_label(user),
                    due_at=due,
                )
                for pk in person_ids
                if pk not in pending
            ],
            batch_size=1000,
        )
        record_audit(
            action="erasures requested",
            target=f"{len(made)} people",
            actor=Actor.operator(user, source),
            due=due.isoformat(),
            alreadyPending=len(pending),
        )
    return len(made)


def cancel_erasure(*, erasure_id: int, user: AbstractBaseUser, source: str = Source.UI) -> Erasure:
    """Cancel a pending erasure; one that ran or was cancelled cannot be."""
    with transaction.atomic():
        erasure = Erasure.objects.select_for_update().filter(pk=erasure_id).first()
        if erasure is None:
            raise DomainError(ErrorCode.NOT_FOUND, f"Erasure {erasure_id} does not exist.")
        if erasure.state != ErasureState.PENDING:
            raise DomainError(
                ErrorCode.CONFLICT,
                f"This erasure is {erasure.get_state_display().lower()}: only a pending one "
                "can be cancelled.",
            )
        erasure.state = ErasureState.CANCELLED
        erasure.cancelled_by = user
        erasure.cancelled_at = timezone.now()
        erasure.save(update_fields=["state", "cancelled_by", "cancelled_at"])
        record_audit(
            action="erasure cancelled",
            target=f"person {erasure.person_id}",
            actor=Actor.operator(user, source),
            erasure=erasure.pk,
        )
        return erasure


def _tombstone(changes: Any) -> dict[str, str]:
    if not isinstance(changes, dict):
        return {}
    return {str(name): TOMBSTONE for name in changes}


def _erase_locked(person: Person, erasure: Erasure) -> dict[str, int]:
    pk = person.pk
    identities = list(ContactIdentity.objects.filter(person_id=pk).values_list("kind", "value"))
    push_ids = list(
        Installation.objects.filter(person_id=pk).values_list("push_registration_id", flat=True)
    )
    identifiers = [(suppression.kind_of(kind), value) for kind, value in identities]
    identifiers += [(SuppressedKind.PUSH_REGISTRATION, push_id) for push_id in push_ids]
    if person.external_id:
        identifiers.append((SuppressedKind.EXTERNAL_ID, person.external_id))
    suppressed = suppression.suppress(identifiers, erasure_id=erasure.pk)

    events = list(Event.objects.filter(person_id=pk).only("id", "changes"))
    for event in events:
        event.person = None
        event.erased_person_id = pk
        event.changes = _tombstone(event.changes)
        event.push_registration_id = ""
    Event.objects.bulk_update(
        events, ["person", "erased_person_id", "changes", "push_registration_id"], batch_size=500
    )
    # Other people's history names these devices too (a device that moved here): the id goes.
    mentioned = 0
    if push_ids:
        mentioned = Event.objects.filter(push_registration_id__in=push_ids).update(
            push_registration_id=""
        )
    counts = {
        "identities": len(identities) + (1 if person.external_id else 0),
        "installations": Installation.objects.filter(person_id=pk).delete()[0],
        "attributeValues": AttributeValue.objects.filter(person_id=pk).delete()[0],
        "tags": person.tags.count(),
        "events": len(events),
        "eventsOfOthers": mentioned,
        "suppressed": suppressed,
    }
    person.tags.clear()
    ContactIdentity.objects.filter(person_id=pk).delete()
    person.delete()
    return counts


def erase(erasure: Erasure, *, actor: Actor, now: dt.datetime | None = None) -> Erasure:
    """Run one pending erasure now (its cooling-off is the caller's to check)."""
    with transaction.atomic():
        erasure = Erasure.objects.select_for_update().get(pk=erasure.pk)
        if erasure.state != ErasureState.PENDING:
            return erasure
        person = Person.objects.select_for_update().filter(pk=erasure.person_id).first()
        erasure.erased = _erase_locked(person, erasure) if person else {"missing": 1}
        erasure.state = ErasureState.DONE
        erasure.done_at = now or timezone.now()
        erasure.save(update_fields=["state", "done_at", "erased"])
        record_audit(
            action="person erased",
            target=f"person {erasure.person_id}",
            actor=actor,
            erasure=erasure.pk,
            **erasure.erased,
        )
    return erasure


def run_due_erasures(*, actor: Actor = ERASER, now: dt.datetime | None = None) -> list[Erasure]:
    """Run every pending erasure whose cooling-off is over; then take the erased names' words
    out of the name dictionary (PostgreSQL)."""
    now = now or timezone.now()
    due = list(
        Erasure.objects.filter(state=ErasureState.PENDING, due_at__lte=now).order_by("due_at")
    )
    done = [erase(erasure, actor=actor, now=now) for erasure in due]
    if done and connection.vendor == "postgresql":
        name_terms.prune()
    return done


def _stored_identifier(kind: str, value: object) -> str:
    """The identifier as the portal stores it, so that it hashes as it was suppressed."""
    field = "value"
    if kind == SuppressedKind.PHONE:
        return parse_phone(value, field=field).number
    if kind == SuppressedKind.EMAIL:
        return normalize_email(value, field=field)
    if kind == SuppressedKind.EXTERNAL_ID:
        return normalize_external_id(value, field=field) or ""
    if not isinstance(value, str) or not value.strip():
        raise DomainError(ErrorCode.BAD_REQUEST, "A pushRegistrationId is required.", field)
    return value.strip()


def lift_suppression(
    *, kind: str, value: object, reason: object, user: AbstractBaseUser, source: str
) -> bool:
    """Lift the suppression of one identifier (Administrators); False if it was not
    suppressed. Recorded with the kind, never the value."""
    if kind not in SuppressedKind.values:
        raise DomainError(
            ErrorCode.BAD_REQUEST,
            f"kind must be one of {', '.join(SuppressedKind.values)}.",
            "kind",
        )
    text = _reason(reason)
    stored = _stored_identifier(kind, value)
    with transaction.atomic():
        lifted = suppression.lift(kind, stored)
        if lifted:
            record_audit(
                action="suppression lifted",
                target=f"{SuppressedKind(kind).label} suppression",
                actor=Actor.operator(user, source),
            )
            AccessRecord.objects.create(
                kind=AccessKind.SUPPRESSION_LIFTED,
                actor_user=user,
                actor_label=_label(user),
                source=source,
                detail=SuppressedKind(kind).label,
                reason=text,
            )
    return lifted


def _jsonable(value: Any) -> Any:
    return DjangoJSONEncoder().default(value) if isinstance(value, dt.datetime | dt.date) else value


def _installation_rows(person_id: int) -> list[dict[str, Any]]:
    rows = []
    for installation in Installation.objects.filter(person_id=person_id).select_related(
        "application"
    ):
        row = {
            field.name: _jsonable(getattr(installation, field.attname))
            for field in Installation._meta.concrete_fields
            if field.name not in ("person", "application")
        }
        row["application"] = installation.application.code
        rows.append(row)
    return rows


def _history_rows(person_id: int) -> list[dict[str, Any]]:
    return [
        {
            "id": event.pk,
            "kind": event.kind,
            "createdAt": _jsonable(event.created_at),
            "actor": event.actor_label,
            "actorKind": event.actor_kind,
            "source": event.source,
            "pushRegistrationId": event.push_registration_id or None,
            "changes": event.changes,
        }
        for event in Event.objects.filter(person_id=person_id).order_by("created_at", "id")
    ]


def access_bundle(*, person_id: int, actor: Actor, user: AbstractBaseUser | None) -> dict[str, Any]:
    """Everything the portal holds about one person, as one JSON document, recorded."""
    try:
        read = profile(person_id)
    except Person.DoesNotExist:
        raise DomainError(ErrorCode.NOT_FOUND, f"Person {person_id} does not exist.") from None
    person = read.person
    identities = [{"kind": "externalId", "value": person.external_id}] if person.external_id else []
    identities += [{"kind": i.kind.lower(), "value": i.value} for i in read.identities]
    bundle = {
        "generatedAt": _jsonable(timezone.now()),
        "person": person_body(read),
        "identities": identities,
        "installations": _installation_rows(person_id),
        "history": _history_rows(person_id),
    }
    AccessRecord.objects.create(
        kind=AccessKind.EXPORT,
        person_id=person_id,
        actor_user=user,
        actor_label=actor.label[:255],
        source=actor.source,
    )
    record_audit(action="person data exported", target=f"person {person_id}", actor=actor)
    return bundle


# ---------------------------------------------------------------------------------------------
# Revealing one masked value (people.masking)

REVEAL_KINDS = {"phone": IdentityKind.PHONE, "email": IdentityKind.EMAIL, "externalId": None}


def _count_reveal(user: AbstractBaseUser, now: dt.datetime) -> None:
    """One more reveal by ``user`` in this hour's window of the shared cache; refused
    (RATE_LIMITED) over REVEALS_PER_HOUR, and while the cache does not answer. The counter
    is created and incremented atomically (add, then incr), so concurrent requests of one
    operator count each."""
    key = f"privacy:reveals:{user.pk}:{now:%Y%m%d%H}"
    try:
        cache.add(key, 0, timeout=3600)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=3600)
            count = 1
    except (RedisError, OSError) as error:
        # The shared store does not answer: refuse rather than reveal uncounted.
        raise DomainError(
            ErrorCode.RATE_LIMITED,
            "Revealing is paused: the store that counts reveals does not answer. "
            "Try again in a few minutes.",
        ) from error
    if count > settings.REVEALS_PER_HOUR:
        raise DomainError(
            ErrorCode.RATE_LIMITED,
            f"You have revealed {settings.REVEALS_PER_HOUR} values this hour, the most allowed; "
            "try again next hour.",
        )


def reveal(
    *,
    person_id: int,
    kind: str,
    identity_id: int | None,
    reason: object,
    user: AbstractBaseUser,
    source: str = Source.UI,
) -> str:
    """The whole value of one masked phone, email or externalId of a person, for an operator
    allowed to reveal; recorded (who, which person, which kind, why, when; not the value)."""
    if kind not in REVEAL_KINDS:
        raise DomainError(ErrorCode.BAD_REQUEST, "kind must be phone, email or externalId.", "kind")
    text = _reason(reason)
    now = timezone.now()
    if kind == "externalId":
        value = Person.objects.filter(pk=person_id).values_list("external_id", flat=True).first()
    else:
        value = (
            ContactIdentity.objects.filter(
                pk=identity_id or 0, person_id=person_id, kind=REVEAL_KINDS[kind]
            )
            .values_list("value", flat=True)
            .first()
        )
    if not value:
        raise DomainError(ErrorCode.NOT_FOUND, f"Person {person_id} has no such {kind}.", kind)
    _count_reveal(user, now)
    AccessRecord.objects.create(
        kind=AccessKind.REVEAL,
        person_id=person_id,
        actor_user=user,
        actor_label=_label(user),
        source=source,
        detail=kind,
        reason=text,
    )
    record_audit(
        action="personal data revealed",
        target=f"person {person_id}",
        actor=Actor.operator(user, source),
        field=kind,
    )
    return format_phone(value) if kind == "phone" else value
