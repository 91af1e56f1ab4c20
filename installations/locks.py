"""The locks every write to an installation takes, and in which order.

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
from collections.abc import Iterable

from django.db import DatabaseError, connection, transaction
from django.db.models import Q, Subquery

from core.errors import DomainError, ErrorCode
from installations.models import Installation
from people.apply import lock_person
from people.models import (
    Person,
)


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


def _set_primary_locked(
    installation: Installation, is_primary: bool, others: list[Installation] | None = None
) -> None:
    """Make ``installation`` the person's only primary one (the person row is locked).

    Unset the others first, then set this one: a single statement that flips both could
    meet the partial unique index half-way. ``others``: the person's other primary
    installations, read under the person's lock (``lock_with_primaries``); none, no statement.
    """
    if is_primary and (others is None or others):
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


def lock_with_primaries(pk: int) -> tuple[Installation, list[Installation]]:
    """Lock installation ``pk``'s person, then the installation and the person's other primary
    ones (each with its application): an operator's Make primary, which answers with the
    cards that lost the flag. Two statements: the person named by the installation, then the
    installations, where a caller's read of the installation and ``_lock_installation`` take
    three (and the other primary cards a fourth).

    The lock order is ``_lock_people_and_installation``'s: the person first. An installation
    moved to another person between the two statements names a person out of order: that
    person is only tried (``_lock_now``), and its primary installations read then.
    """
    person_of = Installation.objects.filter(pk=pk).values("person_id")[:1]
    person = Person.objects.select_for_update().filter(pk=Subquery(person_of)).first()
    if person is None:
        raise _no_installation(pk)
    rows = list(
        Installation.objects.select_for_update(of=("self",))
        .select_related("application")
        .filter(Q(pk=pk) | Q(person_id=person.pk, is_primary=True))
    )
    locked = next((row for row in rows if row.pk == pk), None)
    if locked is None:  # deleted with its person, or uninstalled, meanwhile
        raise _no_installation(pk)
    others = [row for row in rows if row.pk != pk]
    if locked.person_id != person.pk:
        person = _lock_now(locked.person_id, _being_moved(locked.push_registration_id))
        others = list(
            Installation.objects.select_for_update(of=("self",))
            .select_related("application")
            .filter(person_id=person.pk, is_primary=True)
            .exclude(pk=pk)
        )
    locked.person = person
    for other in others:
        other.person = person
    return locked, others


def _no_installation(pk: int) -> DomainError:
    return DomainError(ErrorCode.NOT_FOUND, f"Installation {pk} does not exist.")


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
