"""push.set on a population: each installation switched records what a one-installation change
records, and its undo puts back only installations as the job left them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import roles
from core.errors import DomainError, ErrorCode
from directory.revert import revert_event
from installations import services as installation_services
from installations.depersonalize import installation_depersonalize
from installations.models import Application, Installation
from jobs import actions
from jobs.actions import SELECTION_LIMIT
from people.history import Actor
from people.models import Event, EventKind, Person
from tests.factories import ApplicationFactory, InstallationFactory, PersonFactory
from tests.populations.conftest import (
    assert_event_names_job,
    by_person,
    events_of,
    run,
    snapshot,
    start,
    undo,
)

SYSTEM = Actor.system("tests")


@pytest.fixture
def devices(db):
    """Ana: a phone (shop) and a watch (news); Ben: a disabled phone (shop); Cy: none."""
    shop = ApplicationFactory(name="Shop", code="shop")
    news = ApplicationFactory(name="News", code="news")
    ana, ben, cy = (PersonFactory(external_id=name) for name in ("ana", "ben", "cy"))
    InstallationFactory(person=ana, application=shop, push_registration_id="ana-phone")
    InstallationFactory(person=ana, application=news, push_registration_id="ana-watch")
    InstallationFactory(
        person=ben, application=shop, push_registration_id="ben-phone", registration_enabled=False
    )
    return ana, ben, cy


def enabled(push_id: str) -> bool:
    return Installation.objects.get(push_registration_id=push_id).registration_enabled


def test_off_switches_every_installation_on_with_an_event_each(devices, editor):
    ana, ben, cy = devices
    job = start("push.set", {"enabled": False}, editor)

    outcomes = by_person(run(job, [p.pk for p in devices]))

    assert not enabled("ana-phone") and not enabled("ana-watch") and not enabled("ben-phone")
    assert [outcomes[p.pk].changed for p in devices] == [True, False, False]
    events = list(events_of(job))
    assert [e.push_registration_id for e in events] == ["ana-phone", "ana-watch"]
    for event in events:
        assert_event_names_job(event, job, editor)
        assert event.kind == EventKind.PUSH_CHANGED
        assert event.changes == {"registrationEnabled": {"before": True, "after": False}}
    # A push change is the installation's: the person's version stays (as one change's).
    assert Person.objects.get(pk=ana.pk).version == 1
    # Each event is a one-installation change, revertible alone.
    revert_event(event_id=events[1].pk, actor=SYSTEM)
    assert enabled("ana-watch") and not enabled("ana-phone")


def test_one_applications_installations_only(devices, editor):
    ana, ben, _cy = devices
    job = start("push.set", {"enabled": True, "application": "shop"}, editor)
    installation_services.installation_set_push_enabled(
        installation="ana-watch", actor=SYSTEM, enabled=False
    )

    outcomes = by_person(run(job, [p.pk for p in devices]))

    assert enabled("ben-phone") and not enabled("ana-watch")
    assert [outcomes[p.pk].changed for p in devices] == [False, True, False]


@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        ({"enabled": "yes"}, ErrorCode.REQUEST_FORMAT_INVALID, "enabled"),
        ({}, ErrorCode.REQUEST_FORMAT_INVALID, "enabled"),
        ({"enabled": True, "application": "nope"}, ErrorCode.NOT_FOUND, "application"),
        ({"enabled": True, "application": 5}, ErrorCode.REQUEST_FORMAT_INVALID, "application"),
    ],
)
def test_bad_parameters_are_refused(devices, params, code, field):
    with pytest.raises(DomainError) as caught:
        actions.get("push.set").clean_params(params)
    assert (caught.value.code, caught.value.field) == (code, field)


def test_an_application_deleted_since_fails_every_person(devices, editor):
    lone = ApplicationFactory(code="lone")
    job = start("push.set", {"enabled": False, "application": "lone"}, editor)
    lone.delete()
    outcomes = run(job, [p.pk for p in devices])
    assert {o.error_code for o in outcomes} == {ErrorCode.NOT_FOUND}


def test_undo_puts_back_installations_as_the_job_left_them(devices, editor):
    ana, ben, cy = devices
    dan = PersonFactory(external_id="dan")
    InstallationFactory(person=dan, push_registration_id="dan-phone")
    eve = PersonFactory(external_id="eve")
    InstallationFactory(person=eve, push_registration_id="eve-phone")
    everyone = [ana, ben, cy, dan, eve]
    before = {p.pk: snapshot(p) for p in everyone}
    job = start("push.set", {"enabled": False}, editor)
    outcomes = run(job, [p.pk for p in everyone])
    # Since the job: Dan's phone turned on again, Eve's logged out (moved to a new profile),
    # and Ana's watch changed otherwise (its data), which is no change of push.
    installation_services.installation_set_push_enabled(
        installation="dan-phone", actor=SYSTEM, enabled=True
    )
    installation_depersonalize(installation="eve-phone", actor=SYSTEM)
    installation_services.installation_update(
        installation="ana-watch", actor=SYSTEM, additional_data={"k": "v"}
    )

    undoing, result = undo(job, outcomes, editor)

    result = by_person(result)
    assert result[ana.pk].changed and enabled("ana-phone") and enabled("ana-watch")
    assert result[dan.pk].error_code == ErrorCode.CHANGED_SINCE
    assert "Push of installation dan-phone was turned on since the job" in result[dan.pk].message
    assert result[eve.pk].error_code == ErrorCode.CHANGED_SINCE
    assert "eve-phone belongs to person" in result[eve.pk].message
    assert not enabled("eve-phone")
    assert snapshot(ana) == before[ana.pk]
    events = list(events_of(undoing))
    assert [e.push_registration_id for e in events] == ["ana-phone", "ana-watch"]
    assert events[0].changes == {"registrationEnabled": {"before": False, "after": True}}
    assert events[0].reverts == Event.objects.get(job_id=job.id, push_registration_id="ana-phone")


def test_roles_and_undo(db):
    action = actions.get("push.set")
    assert (action.role, action.undoable) == (roles.EDITOR, True)


def test_preview_lists_the_installations_and_writes_nothing(devices):
    ana, ben, _cy = devices
    with CaptureQueriesContext(connection) as queries:
        rows = actions.get("push.set").preview(
            {"enabled": False, "application": "shop"}, [ana.pk, ben.pk]
        )
    assert all(q["sql"].lstrip().upper().startswith("SELECT") for q in queries)
    assert rows[0].before == {"Shop ana-phone": "push on"}
    assert rows[0].after == {"Shop ana-phone": "push off"}
    assert rows[1].before == rows[1].after == {"Shop ben-phone": "push off"}


def test_a_person_deleted_since_the_job_started_fails_alone(devices, editor):
    ana, ben, cy = devices
    job = start("push.set", {"enabled": False}, editor)
    Person.objects.filter(pk=cy.pk).delete()

    outcomes = by_person(run(job, [ana.pk, cy.pk]))

    assert outcomes[cy.pk].error_code == ErrorCode.NOT_FOUND
    assert outcomes[ana.pk].changed and not enabled("ana-phone")


# ---------------------------------------------------------------------------------------------
# Restricted to the installations given (Django admin's selected rows)


def installation_ids(*push_ids: str) -> list[int]:
    return [Installation.objects.get(push_registration_id=p).pk for p in push_ids]


@pytest.fixture
def more_devices(devices):
    """Cy gets a phone (shop) and a tablet (news) too."""
    _ana, _ben, cy = devices
    shop, news = Application.objects.get(code="shop"), Application.objects.get(code="news")
    InstallationFactory(person=cy, application=shop, push_registration_id="cy-phone")
    InstallationFactory(person=cy, application=news, push_registration_id="cy-tablet")
    return devices


def test_the_installations_given_only_of_several_people_and_applications(more_devices, editor):
    ana, ben, cy = more_devices
    given = installation_ids("ana-watch", "cy-phone", "cy-tablet")
    job = start("push.set", {"enabled": False, "installations": given}, editor)

    applied = run(job, [ana.pk, cy.pk])

    assert not enabled("ana-watch") and not enabled("cy-phone") and not enabled("cy-tablet")
    assert enabled("ana-phone")
    assert [o.changed for o in applied] == [True, True]
    events = list(events_of(job))
    assert [e.push_registration_id for e in events] == ["ana-watch", "cy-phone", "cy-tablet"]
    for event in events:
        assert_event_names_job(event, job, editor)
        assert event.changes == {"registrationEnabled": {"before": True, "after": False}}

    undoing, result = undo(job, applied, editor)

    assert all(o.changed for o in result)
    assert enabled("ana-watch") and enabled("cy-phone") and enabled("cy-tablet")
    assert [e.push_registration_id for e in events_of(undoing)] == [
        "ana-watch",
        "cy-phone",
        "cy-tablet",
    ]


def test_the_installations_given_and_an_application_both_restrict(more_devices, editor):
    ana, _ben, cy = more_devices
    given = installation_ids("ana-phone", "ana-watch", "cy-tablet")
    job = start(
        "push.set", {"enabled": False, "application": "shop", "installations": given}, editor
    )

    outcomes = by_person(run(job, [ana.pk, cy.pk]))

    assert not enabled("ana-phone")
    assert enabled("ana-watch") and enabled("cy-tablet") and enabled("cy-phone")
    assert (outcomes[ana.pk].changed, outcomes[cy.pk].changed) == (True, False)


def test_an_installation_given_that_left_its_person_since_is_left_as_it_is(more_devices, editor):
    ana, _ben, cy = more_devices
    job = start(
        "push.set", {"enabled": False, "installations": installation_ids("ana-watch")}, editor
    )
    installation_depersonalize(installation="ana-watch", actor=SYSTEM)

    outcomes = by_person(run(job, [ana.pk]))

    assert outcomes[ana.pk].changed is False
    assert enabled("ana-watch") and enabled("ana-phone")


def test_the_preview_shows_the_installations_given_only(more_devices):
    ana, _ben, cy = more_devices
    rows = actions.get("push.set").preview(
        {"enabled": False, "installations": installation_ids("ana-watch", "cy-phone")},
        [ana.pk, cy.pk],
    )
    assert rows[0].after == {"News ana-watch": "push off"}
    assert rows[1].after == {"Shop cy-phone": "push off"}


def test_the_installations_are_kept_sorted_once_each_and_only_when_given(db):
    action = actions.get("push.set")
    assert action.clean_params({"enabled": True, "installations": [9, 3, 9]}) == {
        "enabled": True,
        "application": None,
        "installations": [3, 9],
    }
    assert "installations" not in action.clean_params({"enabled": True})


@pytest.mark.parametrize(
    ("installations", "code"),
    [
        ("7", ErrorCode.REQUEST_FORMAT_INVALID),
        ([], ErrorCode.REQUEST_FORMAT_INVALID),
        (["7"], ErrorCode.REQUEST_FORMAT_INVALID),
        ([True], ErrorCode.REQUEST_FORMAT_INVALID),
        ([0], ErrorCode.REQUEST_FORMAT_INVALID),
        ([1.5], ErrorCode.REQUEST_FORMAT_INVALID),
        (list(range(1, SELECTION_LIMIT + 2)), ErrorCode.BAD_REQUEST),
    ],
)
def test_bad_installations_are_refused(db, installations, code):
    with pytest.raises(DomainError) as caught:
        actions.get("push.set").clean_params({"enabled": False, "installations": installations})
    assert (caught.value.code, caught.value.field) == (code, "installations")


def test_as_many_installations_as_the_selection_limit_are_taken(db):
    given = list(range(1, SELECTION_LIMIT + 1))
    cleaned = actions.get("push.set").clean_params({"enabled": False, "installations": given})
    assert cleaned["installations"] == given
