"""Depersonalize: an installation leaves its person for a fresh anonymous profile; deleting
people, which moves their installations so (people does not know installations)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db import transaction
from django.utils import timezone

from installations.locks import _lock_installation
from installations.models import Installation
from people.apply import lock_person
from people.batch_checks import not_found
from people.batches import ROWS_PER_STATEMENT, in_one_transaction
from people.history import Actor, event_row, record_audit
from people.models import (
    ContactIdentity,
    Event,
    EventKind,
    Origin,
    Person,
    PersonType,
)


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
