"""Bulk jobs and one-person edits on the same people at once, on PostgreSQL: nobody deadlocks,
no update is lost, the invariants hold.

Real threads with their own database connections, released together by a barrier (the
harness of tests/installations/test_services_concurrency.py); each job's chunk runs in its
own transaction, as the job engine runs it.
"""

from __future__ import annotations

import pytest
from django.db import connection

from installations import services as installation_services
from installations.models import Installation
from people import services
from people.apply import custom_attribute_values
from people.history import Actor
from people.models import Event, Person, Tag
from tests.factories import ApplicationFactory, InstallationFactory, PersonFactory
from tests.installations.test_services_concurrency import run_together
from tests.populations.conftest import run, start

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

SYSTEM = Actor.system("race")


@pytest.fixture
def require_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks and concurrent transactions")


def crowd(size: int) -> list[int]:
    return [PersonFactory(type="CUSTOMER").pk for _ in range(size)]


def test_overlapping_jobs_and_edits_wait_for_each_other_and_lose_nothing(require_postgresql):
    services.attribute_definition_create(name="Score", data_type="INTEGER")
    ids = crowd(90)
    tagging = start("tags.add", {"tags": ["vip"]})
    scoring = start("attribute.set", {"name": "Score", "value": 7})
    leading = start("type.change", {"type": "LEAD"})
    edited = ids[40:50]

    def edit_one_by_one():
        for pk in reversed(edited):
            services.person_add_tags(person=pk, actor=SYSTEM, names=["edited"])

    errors = run_together(
        [
            lambda: run(tagging, ids[:60]),
            lambda: run(scoring, ids[30:]),
            # Given in descending order: the action locks them ascending all the same.
            lambda: run(leading, list(reversed(ids[20:70]))),
            edit_one_by_one,
        ]
    )

    assert errors == []
    for index, pk in enumerate(ids):
        person = Person.objects.get(pk=pk)
        tags = set(person.tags.values_list("name", flat=True))
        expected = 1 + (index < 60) + (index >= 30) + (20 <= index < 70) + (pk in edited)
        assert person.version == expected, (index, person.version)
        assert Event.objects.filter(person_id=pk).count() == expected - 1
        assert ("vip" in tags) == (index < 60)
        assert ("edited" in tags) == (pk in edited)
        assert (custom_attribute_values(person).get("Score") == 7) == (index >= 30)
        assert (person.type == "LEAD") == (20 <= index < 70)
        assert sorted(person.tag_ids) == sorted(person.tags.values_list("pk", flat=True))


def test_adding_a_tag_while_it_is_deleted_ends_one_way_or_the_other(require_postgresql):
    ids = crowd(40)
    vip = services.tag_create(name="vip")
    for pk in ids[:20]:
        services.person_add_tags(person=pk, actor=SYSTEM, names=["vip"])
    tagging = start("tags.add", {"tags": ["vip"]})

    errors = run_together(
        [lambda: run(tagging, ids), lambda: services.tag_delete(tag=vip, actor=SYSTEM)]
    )

    assert errors == []
    tagged = Person.objects.filter(pk__in=ids, tags__name="vip").count()
    # The job first (then everyone loses it), or the delete first (then everyone gets the
    # tag again, made afresh).
    assert tagged in (0, 40)
    assert Tag.objects.filter(name="vip").count() == (1 if tagged else 0)
    for person in Person.objects.filter(pk__in=ids):
        assert sorted(person.tag_ids) == sorted(person.tags.values_list("pk", flat=True))


def test_push_and_logout_jobs_with_primary_changes_keep_one_primary(require_postgresql):
    app = ApplicationFactory(code="shop")
    people = [PersonFactory(external_id=f"crm-{i}") for i in range(30)]
    devices = {
        person.pk: [
            InstallationFactory(person=person, application=app, is_primary=(n == 0))
            for n in range(3)
        ]
        for person in people
    }
    ids = [person.pk for person in people]
    pushing = start("push.set", {"enabled": False})
    logging_out = start("installations.logout", {})

    def make_last_devices_primary():
        for pk in reversed(ids[10:20]):
            installation_services.installation_set_primary(
                installation=devices[pk][2].push_registration_id, actor=SYSTEM
            )

    errors = run_together(
        [
            lambda: run(pushing, ids[:20]),
            lambda: run(logging_out, ids[10:]),
            make_last_devices_primary,
        ]
    )

    assert errors == []
    for index, pk in enumerate(ids):
        for installation in Installation.objects.filter(pk__in=[d.pk for d in devices[pk]]):
            if index >= 10:
                # Logged out: on a profile of its own (made primary there, if the primary
                # change came after the logout).
                assert installation.person_id != pk
                assert Installation.objects.filter(person_id=installation.person_id).count() == 1
            else:
                assert installation.person_id == pk and not installation.registration_enabled
    assert Installation.objects.filter(person_id__in=ids).count() == 30
    # Each logout left one Depersonalize event on each side.
    assert Event.objects.filter(job_id=logging_out.id).count() == 2 * 60
