"""Who did a write, and the event it leaves in a person's history.

A write that belongs to no person's history (defining a custom attribute, creating a tag or an
application, issuing an API key, deleting a person along with its history) leaves a line in
the audit log instead, with the same actor and source (``record_audit``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from people.models import ActorKind, Event, Person, Source

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


@dataclass(frozen=True)
class Actor:
    kind: str
    label: str
    source: str
    user: AbstractBaseUser | None = None
    # The bulk job (jobs.Job) this actor acts for: its events name the job.
    job_id: int | None = None

    @classmethod
    def operator(cls, user: AbstractBaseUser, source: str = Source.UI) -> Actor:
        return cls(ActorKind.OPERATOR, user.get_username(), source, user)

    @classmethod
    def api_key(cls, name: str) -> Actor:
        return cls(ActorKind.API_KEY, f"API key {name}", Source.API)

    @classmethod
    def device(cls, application_code: str) -> Actor:
        return cls(ActorKind.DEVICE, f"Device of app {application_code}", Source.DEVICE)

    @classmethod
    def system(cls, label: str = "system", source: str = Source.SYSTEM) -> Actor:
        return cls(ActorKind.SYSTEM, label, source)


def record_event(
    *,
    person: Person,
    kind: str,
    actor: Actor,
    changes: dict[str, Any] | None = None,
    push_registration_id: str = "",
    reverts: Event | None = None,
) -> Event:
    """``reverts``: the event whose change this one reverts (directory.revert)."""
    event = event_row(
        person=person,
        kind=kind,
        actor=actor,
        changes=changes,
        push_registration_id=push_registration_id,
    )
    event.reverts = reverts
    event.save(force_insert=True)
    return event


def event_row(
    *,
    person: Person,
    kind: str,
    actor: Actor,
    changes: dict[str, Any] | None = None,
    push_registration_id: str = "",
) -> Event:
    """The event ``record_event`` stores, not saved yet: a batch stores its events at once
    (``Event.objects.bulk_create``)."""
    user = actor.user if actor.user is not None and actor.user.pk else None
    return Event(
        person=person,
        kind=kind,
        actor_kind=actor.kind,
        actor_label=actor.label[:255],
        actor_user=user,
        source=actor.source,
        push_registration_id=push_registration_id,
        changes=changes or {},
        job_id=actor.job_id,
    )


audit_log = logging.getLogger("portal.audit")


def record_audit(*, action: str, target: str, actor: Actor, **details: Any) -> None:
    """One audit log line: ``action`` on ``target`` by ``actor``, from its source.

    The record carries the same fields as an event (``record.audit``) for handlers that
    store or ship them. Targets name rows by id and name, never by phone or email.
    """
    audit_log.info(
        "%s: %s by %s (%s, source %s)",
        action,
        target,
        actor.label,
        actor.kind,
        actor.source,
        extra={
            "audit": {
                "action": action,
                "target": target,
                "actor_kind": actor.kind,
                "actor": actor.label,
                "source": actor.source,
                **details,
            }
        },
    )


def diff(before: Any, after: Any) -> dict[str, Any]:
    return {"before": before, "after": after}
