"""Who did a write, and the event it leaves in a person's history."""

from __future__ import annotations

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
) -> Event:
    user = actor.user if actor.user is not None and actor.user.pk else None
    return Event.objects.create(
        person=person,
        kind=kind,
        actor_kind=actor.kind,
        actor_label=actor.label[:255],
        actor_user=user,
        source=actor.source,
        push_registration_id=push_registration_id,
        changes=changes or {},
    )


def diff(before: Any, after: Any) -> dict[str, Any]:
    return {"before": before, "after": after}
