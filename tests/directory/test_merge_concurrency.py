"""A merge and a concurrent edit of either person on PostgreSQL: real threads with their own
connections, started together. Both start from the versions they read; the one that comes
second sees the other's version (or the person gone) and is refused: nothing is overwritten."""

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from core.errors import DomainError, ErrorCode
from directory.merge import merge
from directory.merge_undo import undo_merge
from installations import services as installation_services
from people import services
from people.changes import PersonChanges
from people.history import Actor
from people.models import Event, EventKind, Person
from tests.factories import InstallationFactory, PersonFactory

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def run_together(calls: list[Callable[[], object]]) -> list[BaseException]:
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=30)
            call()
        except BaseException as error:  # noqa: BLE001 - collected, checked by the test
            with lock:
                errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    return errors


@pytest.fixture
def require_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks and concurrent transactions")


@pytest.mark.parametrize("edited", ["survivor", "other"])
def test_a_merge_and_an_edit_of_either_person_one_wins(require_postgresql, edited):
    actor = Actor.system("race")
    for _ in range(5):
        survivor = PersonFactory(city="Zagreb")
        other = PersonFactory(city="Split")
        for person in (survivor, other):
            for _ in range(2):
                InstallationFactory(person=person)
        target = survivor if edited == "survivor" else other
        versions = {survivor.pk: survivor.version, other.pk: other.version}

        def do_merge(s=survivor, o=other, v=versions):
            merge(survivor_id=s.pk, other_id=o.pk, choices=None, actor=actor, expected_versions=v)

        def do_edit(t=target):
            services.person_update(
                person=t.pk,
                actor=actor,
                changes=PersonChanges(fields={"city": "Osijek"}),
                expected_version=t.version,
            )

        errors = run_together([do_merge, do_edit])

        assert len(errors) == 1, errors
        error = errors[0]
        assert isinstance(error, DomainError)
        assert error.code in (ErrorCode.VERSION_CONFLICT, ErrorCode.NOT_FOUND)
        merged = not Person.objects.filter(pk=other.pk).exists()
        if merged:
            # The edit came second and was refused: the merge's values stand.
            assert Person.objects.get(pk=survivor.pk).city != "Osijek"
        else:
            # The merge came second and was refused: the edit stands, nobody moved.
            assert Person.objects.get(pk=target.pk).city == "Osijek"
            assert other.installations.count() == 2


def test_two_merges_of_the_same_pair_one_wins(require_postgresql):
    survivor, other = PersonFactory(), PersonFactory()
    InstallationFactory(person=other, is_primary=True)
    InstallationFactory(person=survivor, is_primary=True)
    actor = Actor.system("race")
    versions = {survivor.pk: survivor.version, other.pk: other.version}
    errors = run_together(
        [
            lambda: merge(
                survivor_id=survivor.pk,
                other_id=other.pk,
                choices=None,
                actor=actor,
                expected_versions=versions,
            ),
            lambda: merge(
                survivor_id=other.pk,
                other_id=survivor.pk,
                choices=None,
                actor=actor,
                expected_versions=versions,
            ),
        ]
    )
    assert len(errors) == 1
    assert errors[0].code in (ErrorCode.VERSION_CONFLICT, ErrorCode.NOT_FOUND)
    assert Person.objects.filter(pk__in=(survivor.pk, other.pk)).count() == 1
    kept = Person.objects.get(pk__in=(survivor.pk, other.pk))
    assert kept.installations.count() == 2
    assert kept.installations.filter(is_primary=True).count() == 1


def test_a_primary_toggle_waits_for_a_merge(require_postgresql):
    survivor, other = PersonFactory(), PersonFactory()
    mine = InstallationFactory(person=survivor, is_primary=True)
    theirs = InstallationFactory(person=other)
    actor = Actor.system("race")
    errors = run_together(
        [
            lambda: merge(survivor_id=survivor.pk, other_id=other.pk, choices=None, actor=actor),
            lambda: installation_services.installation_set_primary(
                installation=theirs.push_registration_id, actor=actor
            ),
        ]
    )
    assert all(isinstance(e, DomainError) for e in errors), errors
    primaries = survivor.installations.filter(is_primary=True)
    assert primaries.count() == 1
    assert {mine.pk, theirs.pk} == set(survivor.installations.values_list("pk", flat=True))


def test_two_undos_of_one_merge_one_wins(require_postgresql):
    survivor, other = PersonFactory(city="Zagreb"), PersonFactory(city="")
    InstallationFactory(person=other, is_primary=True)
    actor = Actor.system("race")
    event = merge(survivor_id=survivor.pk, other_id=other.pk, choices=None, actor=actor).event
    errors = run_together([lambda: undo_merge(event_id=event.pk, actor=actor) for _ in range(2)])
    assert len(errors) == 1
    assert isinstance(errors[0], DomainError)
    assert Person.objects.get(pk=other.pk).installations.get().is_primary
    assert Event.objects.filter(reverts=event, kind=EventKind.MERGE_UNDONE).count() == 2
