"""The duplicates' one write: two people said not to be the same person.

Finding the candidates reads people and installations (directory.duplicates); saying a pair
is not a duplicate writes people's tables only, so it lives here.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from core.errors import DomainError, ErrorCode
from people.history import Actor, record_audit
from people.models import DuplicatePair, NotDuplicate, Person


def mark_not_duplicate(*, person: Person, other: Person, actor: Actor) -> NotDuplicate:
    """Remember that ``person`` and ``other`` are not the same person, whichever order they
    come in (one row, the lower id first), and take the pair out of the duplicates queue.
    Saying it again changes nothing and records nothing."""
    if person.pk == other.pk:
        raise DomainError(
            ErrorCode.REQUEST_FORMAT_INVALID, "A person is not a duplicate of itself."
        )
    low, high = sorted((person.pk, other.pk))
    user = actor.user if actor.user is not None and actor.user.pk else None
    with transaction.atomic():
        row, created = NotDuplicate.objects.get_or_create(
            low_id=low,
            high_id=high,
            defaults={"operator": user, "operator_label": actor.label[:255]},
        )
        DuplicatePair.objects.filter(Q(low_id=low, high_id=high)).delete()
        if created:
            record_audit(
                action="marked not a duplicate",
                target=f"people {low} and {high}",
                actor=actor,
                low=low,
                high=high,
            )
    return row
