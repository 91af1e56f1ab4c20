"""Concurrent writers on PostgreSQL: the invariants hold and nobody sees an unhandled error.

Real threads with their own database connections, started together by a barrier.
"""

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from installations import services
from installations.depersonalize import installation_depersonalize
from installations.models import Installation
from installations.personalize import installation_personalize
from people.history import Actor
from people.models import Event, Person
from tests.factories import ApplicationFactory, InstallationFactory, PersonFactory

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def run_together(calls: list[Callable[[], object]]) -> list[BaseException]:
    """Run each call in its own thread, all released at once; return what they raised."""
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=30)
            call()
        except BaseException as error:  # noqa: BLE001 - every error is a test failure
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


@pytest.mark.parametrize("already_primary", [False, True])
def test_twenty_devices_made_primary_at_once_leave_exactly_one_primary(
    require_postgresql, already_primary
):
    person = PersonFactory()
    application = ApplicationFactory()
    devices = [
        InstallationFactory(person=person, application=application, is_primary=False)
        for _ in range(20)
    ]
    if already_primary:
        Installation.objects.filter(pk=devices[0].pk).update(is_primary=True)
    actor = Actor.system("race")

    errors = run_together(
        [
            lambda push_id=device.push_registration_id: services.installation_set_primary(
                installation=push_id, actor=actor
            )
            for device in devices
        ]
    )

    assert errors == []
    primaries = Installation.objects.filter(person=person, is_primary=True)
    assert primaries.count() == 1
    # Every writer that changed the flag left one event, and the last one names the winner.
    last = Event.objects.filter(person=person, kind="PRIMARY_CHANGED").first()
    assert last.push_registration_id == primaries.get().push_registration_id


def test_making_devices_primary_while_others_are_unset_and_logged_out_keeps_the_rule(
    require_postgresql,
):
    person = PersonFactory(external_id="crm-race")
    application = ApplicationFactory()
    devices = [InstallationFactory(person=person, application=application) for _ in range(12)]
    Installation.objects.filter(pk=devices[0].pk).update(is_primary=True)
    actor = Actor.system("race")
    calls = []
    for index, device in enumerate(devices):
        push_id = device.push_registration_id
        if index % 3 == 0:
            calls.append(
                lambda p=push_id: services.installation_unset_primary(installation=p, actor=actor)
            )
        elif index % 3 == 1:
            calls.append(
                lambda p=push_id: services.installation_set_primary(installation=p, actor=actor)
            )
        else:
            calls.append(lambda p=push_id: installation_depersonalize(installation=p, actor=actor))

    errors = run_together(calls)

    assert errors == []
    assert Installation.objects.filter(person=person, is_primary=True).count() <= 1
    assert Installation.objects.filter(person=person).count() == 8


@pytest.mark.parametrize(
    "identity",
    [{"externalId": "crm-shared"}, {"email": "Shared@Example.com", "externalId": "crm-shared"}],
)
def test_ten_devices_personalized_with_one_new_external_id_end_with_one_person(
    require_postgresql, identity
):
    application = ApplicationFactory()
    devices = []
    for index in range(10):
        installation, _ = services.installation_register(
            application=application,
            actor=Actor.device(application.code),
            push_registration_id=f"reg-{index}",
        )
        devices.append(installation)
    actor = Actor.device(application.code)

    errors = run_together(
        [
            lambda push_id=device.push_registration_id: installation_personalize(
                installation=push_id, actor=actor, identity=identity
            )
            for device in devices
        ]
    )

    assert errors == []
    owner = Person.objects.get(external_id="crm-shared")
    assert Installation.objects.filter(person=owner).count() == 10
    assert Person.objects.count() == 1, "every emptied anonymous profile is removed"
    assert Event.objects.filter(person=owner, kind="PERSONALIZE").count() == 10
    assert Event.objects.filter(person=owner, kind="INSTALL").count() == 10


@pytest.mark.parametrize(
    "identity",
    [
        {"fields": {"externalId": "crm-race"}},
        {"phones": ["+385 1 6419 710"]},
        {"emails": ["race@example.com"]},
    ],
)
def test_ten_people_created_at_once_with_one_identifier_give_one_owner_and_clean_errors(
    require_postgresql, identity
):
    from core.errors import DomainError, ErrorCode
    from people import services as person_services

    actor = Actor.api_key("race")
    errors = run_together(
        [lambda: person_services.person_create(actor=actor, **identity) for _ in range(10)]
    )

    (owner,) = Person.objects.all()
    assert len(errors) == 9
    for error in errors:
        assert isinstance(error, DomainError), repr(error)
        assert error.code == ErrorCode.USER_MERGE_INTERRUPTED
        assert error.details == {"personId": owner.pk}


def test_make_primary_on_a_card_moved_meanwhile_locks_its_new_person(require_postgresql):
    """The installation moves to another person between the statement that locks its person
    and the one that locks it (a personalize committing in between): the service takes the
    new person's lock without waiting, unsets that person's primary, and the old person
    keeps its own."""
    from django.db import connections

    from installations.locks import lock_with_primaries

    application = ApplicationFactory()
    old_owner, new_owner = PersonFactory(), PersonFactory()
    card = InstallationFactory(person=old_owner, application=application, is_primary=False)
    old_primary = InstallationFactory(person=old_owner, application=application, is_primary=True)
    new_primary = InstallationFactory(person=new_owner, application=application, is_primary=True)
    moved = []

    def move_after_the_person_lock(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not moved and sql.startswith('SELECT "people_person"') and "FOR UPDATE" in sql:
            moved.append(True)
            other = connections.create_connection("default")
            try:
                with other.cursor() as cursor:  # autocommit: committed at once
                    cursor.execute(
                        "UPDATE installations_installation SET person_id = %s WHERE id = %s",
                        [new_owner.pk, card.pk],
                    )
            finally:
                other.close()
        return result

    from django.db import transaction

    with connection.execute_wrapper(move_after_the_person_lock), transaction.atomic():
        locked, others = lock_with_primaries(card.pk)
    assert moved
    assert locked.person_id == new_owner.pk and locked.person.pk == new_owner.pk
    assert [other.pk for other in others] == [new_primary.pk]

    change = services.installation_set_primary_by_id(
        pk=card.pk, is_primary=True, actor=Actor.system()
    )
    assert [other.pk for other in change.unset] == [new_primary.pk]
    primaries = set(Installation.objects.filter(is_primary=True).values_list("pk", flat=True))
    assert primaries == {card.pk, old_primary.pk}
