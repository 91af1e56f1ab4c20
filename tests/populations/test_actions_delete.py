"""people.delete on a population: the one-person delete for each, an Administrator's action,
not undoable."""

from __future__ import annotations

import logging
from dataclasses import replace

from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import roles
from core.errors import ErrorCode
from installations.models import Installation
from jobs import actions
from people.models import Event, EventKind, Person
from tests.factories import InstallationFactory, PersonFactory
from tests.populations.conftest import assert_event_names_job, by_person, events_of, run, start


def test_the_people_go_and_their_installations_move_to_anonymous_profiles(administrator):
    ana, bob, gone = PersonFactory(external_id="ana"), PersonFactory(), PersonFactory()
    InstallationFactory(person=ana, push_registration_id="ana-phone")
    job = start("people.delete", {"ignored": 1}, administrator)
    assert job.params == {}
    Person.objects.filter(pk=gone.pk).delete()

    outcomes = by_person(run(job, [ana.pk, bob.pk, gone.pk]))

    assert outcomes[ana.pk].changed and outcomes[bob.pk].changed
    assert outcomes[gone.pk].error_code == ErrorCode.NOT_FOUND
    assert not Person.objects.filter(pk__in=[ana.pk, bob.pk]).exists()
    anonymous = Installation.objects.get(push_registration_id="ana-phone").person
    assert not anonymous.external_id
    (event,) = events_of(job)
    assert event.person_id == anonymous.pk
    assert event.kind == EventKind.DEPERSONALIZE
    assert event.changes == {"installation": "ana-phone", "movedFrom": ana.pk}
    assert_event_names_job(event, job, administrator)
    assert not Event.objects.filter(person_id=ana.pk).exists()


def test_only_administrators_and_never_undone(db):
    action = actions.get("people.delete")
    assert (action.role, action.undoable) == (roles.ADMINISTRATOR, False)


def test_preview_names_who_would_go_and_writes_nothing(db):
    ana = PersonFactory(first_name="Ana", last_name="Horvat")
    InstallationFactory(person=ana)
    with CaptureQueriesContext(connection) as queries:
        (row,) = actions.get("people.delete").preview({}, [ana.pk])
    assert len(queries) == 1
    assert row.before == {"Person": "Ana Horvat", "Installations": "1"}
    assert row.after["Installations"] == "1 moved to new anonymous profiles"
    assert Person.objects.filter(pk=ana.pk).exists()


def test_a_dry_run_finds_who_would_go_and_logs_no_deletion(administrator, caplog):
    ana, gone = PersonFactory(), PersonFactory()
    job = replace(start("people.delete", {}, administrator), dry_run=True)
    Person.objects.filter(pk=gone.pk).delete()

    with caplog.at_level(logging.INFO, logger="portal.audit"):
        outcomes = run(job, [ana.pk, gone.pk])

    assert [(o.changed, o.error_code) for o in outcomes] == [(True, ""), (False, "NOT_FOUND")]
    assert Person.objects.filter(pk=ana.pk).exists()
    assert "person deleted" not in caplog.text
