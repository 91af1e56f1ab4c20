"""installations.logout on a population: the person page's remote logout for every matching
installation, through the same write; not undoable."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import roles
from core.errors import DomainError, ErrorCode
from installations.models import Installation
from jobs import actions
from jobs.actions import SELECTION_LIMIT
from people import services
from people.history import Actor
from people.models import EventKind, Person, PersonType
from tests.factories import ApplicationFactory, InstallationFactory, PersonFactory
from tests.populations.conftest import assert_event_names_job, by_person, events_of, run, start


@pytest.fixture
def apps(db):
    return ApplicationFactory(name="Shop", code="shop"), ApplicationFactory(
        name="News", code="news"
    )


def owner(push_id: str) -> Person:
    return Installation.objects.select_related("person").get(push_registration_id=push_id).person


def test_every_installation_moves_to_a_new_anonymous_profile(apps, editor):
    shop, news = apps
    ana = PersonFactory(external_id="ana")
    InstallationFactory(
        person=ana, application=shop, push_registration_id="ana-phone", is_primary=True
    )
    InstallationFactory(person=ana, application=news, push_registration_id="ana-watch")
    job = start("installations.logout", {}, editor)

    (outcome,) = run(job, [ana.pk])

    assert outcome.changed and outcome.undo is None
    phone, watch = owner("ana-phone"), owner("ana-watch")
    assert phone.pk != ana.pk and watch.pk != ana.pk and phone.pk != watch.pk
    assert phone.type == PersonType.LEAD and not phone.external_id
    assert not Installation.objects.get(push_registration_id="ana-phone").is_primary
    events = list(events_of(job))
    assert len(events) == 4
    for event in events:
        assert_event_names_job(event, job, editor)
        assert event.kind == EventKind.DEPERSONALIZE
    left = [e.changes for e in events if e.person_id == ana.pk]
    assert {"installation": "ana-phone", "movedTo": phone.pk} in left


def test_an_installation_alone_on_an_anonymous_profile_stays(apps, editor):
    shop, news = apps
    lone = InstallationFactory(application=shop, push_registration_id="lone").person
    pair = PersonFactory(first_name="", last_name="")
    InstallationFactory(person=pair, application=shop, push_registration_id="pair-1")
    InstallationFactory(person=pair, application=shop, push_registration_id="pair-2")
    job = start("installations.logout", {}, editor)

    outcomes = by_person(run(job, [lone.pk, pair.pk]))

    assert outcomes[lone.pk].changed is False
    assert owner("lone").pk == lone.pk
    # One by one, the first leaves and the last is then alone: the same here.
    assert outcomes[pair.pk].changed
    assert owner("pair-1").pk != pair.pk and owner("pair-2").pk == pair.pk


def test_one_applications_installations_only(apps, editor):
    shop, news = apps
    ana = PersonFactory(external_id="ana")
    services.person_add_email(person=ana, actor=Actor.system("tests"), address="a@example.com")
    InstallationFactory(person=ana, application=shop, push_registration_id="ana-phone")
    InstallationFactory(person=ana, application=news, push_registration_id="ana-watch")
    bob = PersonFactory(external_id="bob")
    InstallationFactory(person=bob, application=news, push_registration_id="bob-watch")
    job = start("installations.logout", {"application": "shop"}, editor)

    outcomes = by_person(run(job, [ana.pk, bob.pk]))

    assert owner("ana-phone").pk != ana.pk and owner("ana-watch").pk == ana.pk
    assert owner("bob-watch").pk == bob.pk
    assert (outcomes[ana.pk].changed, outcomes[bob.pk].changed) == (True, False)


def test_it_cannot_be_undone_and_editors_may_run_it(db):
    action = actions.get("installations.logout")
    assert (action.role, action.undoable) == (roles.EDITOR, False)
    assert "cannot be undone" in action.label
    with pytest.raises(DomainError) as caught:
        action.undo(None, [])
    assert caught.value.code == ErrorCode.NOT_REVERTIBLE


def test_preview_lists_the_installations_that_would_move_and_writes_nothing(apps):
    shop, _news = apps
    ana = PersonFactory(external_id="ana", first_name="Ana", last_name="Horvat")
    InstallationFactory(person=ana, application=shop, push_registration_id="ana-phone")
    lone = InstallationFactory(application=shop, push_registration_id="lone").person
    with CaptureQueriesContext(connection) as queries:
        rows = actions.get("installations.logout").preview({"application": None}, [ana.pk, lone.pk])
    assert all(q["sql"].lstrip().upper().startswith("SELECT") for q in queries)
    assert rows[0].before == {"Shop ana-phone": "Ana Horvat"}
    assert rows[0].after == {"Shop ana-phone": "a new anonymous profile"}
    assert rows[1].before == rows[1].after == {}
    assert owner("ana-phone").pk == ana.pk


def test_a_person_deleted_since_the_job_started_fails_alone(apps, editor):
    shop, _news = apps
    ana, gone = PersonFactory(external_id="ana"), PersonFactory(external_id="gone")
    InstallationFactory(person=ana, application=shop, push_registration_id="ana-phone")
    job = start("installations.logout", {}, editor)
    Person.objects.filter(pk=gone.pk).delete()

    outcomes = by_person(run(job, [ana.pk, gone.pk]))

    assert outcomes[gone.pk].error_code == ErrorCode.NOT_FOUND
    assert outcomes[ana.pk].changed and owner("ana-phone").pk != ana.pk


# ---------------------------------------------------------------------------------------------
# Restricted to the installations given (Django admin's selected rows)


def installation_ids(*push_ids: str) -> list[int]:
    return [Installation.objects.get(push_registration_id=p).pk for p in push_ids]


@pytest.fixture
def identified(apps):
    """Ana and Bob, identified, each with a phone (shop) and a watch (news)."""
    shop, news = apps
    people = []
    for name in ("ana", "bob"):
        person = PersonFactory(external_id=name)
        InstallationFactory(person=person, application=shop, push_registration_id=f"{name}-phone")
        InstallationFactory(person=person, application=news, push_registration_id=f"{name}-watch")
        people.append(person)
    return people


def test_the_installations_given_only_of_several_people_and_applications(identified, editor):
    ana, bob = identified
    given = installation_ids("ana-watch", "bob-phone", "bob-watch")
    job = start("installations.logout", {"installations": given}, editor)

    outcomes = by_person(run(job, [ana.pk, bob.pk]))

    assert outcomes[ana.pk].changed and outcomes[bob.pk].changed
    assert owner("ana-phone").pk == ana.pk
    moved = [owner(p) for p in ("ana-watch", "bob-phone", "bob-watch")]
    assert all(p.pk not in (ana.pk, bob.pk) and p.type == PersonType.LEAD for p in moved)
    events = list(events_of(job))
    # Each installation moved: a Depersonalize event on the person left and on the new one.
    assert len(events) == 6
    for event in events:
        assert_event_names_job(event, job, editor)
        assert event.kind == EventKind.DEPERSONALIZE
    left = sorted(e.push_registration_id for e in events if e.person_id in (ana.pk, bob.pk))
    assert left == ["ana-watch", "bob-phone", "bob-watch"]


def test_the_installations_given_and_an_application_both_restrict(identified, editor):
    ana, bob = identified
    given = installation_ids("ana-phone", "ana-watch", "bob-watch")
    job = start("installations.logout", {"application": "shop", "installations": given}, editor)

    outcomes = by_person(run(job, [ana.pk, bob.pk]))

    assert owner("ana-phone").pk != ana.pk and owner("ana-watch").pk == ana.pk
    assert owner("bob-watch").pk == bob.pk and owner("bob-phone").pk == bob.pk
    assert (outcomes[ana.pk].changed, outcomes[bob.pk].changed) == (True, False)


def test_the_last_installation_given_of_an_anonymous_profile_stays(apps, editor):
    shop, _news = apps
    pair = PersonFactory(first_name="", last_name="")
    InstallationFactory(person=pair, application=shop, push_registration_id="pair-1")
    InstallationFactory(person=pair, application=shop, push_registration_id="pair-2")
    given = installation_ids("pair-1", "pair-2")
    job = start("installations.logout", {"installations": given}, editor)

    run(job, [pair.pk])

    assert owner("pair-1").pk != pair.pk and owner("pair-2").pk == pair.pk


def test_the_preview_shows_the_installations_given_only(identified):
    ana, bob = identified
    rows = actions.get("installations.logout").preview(
        {"installations": installation_ids("ana-watch", "bob-phone")}, [ana.pk, bob.pk]
    )
    assert rows[0].after == {"News ana-watch": "a new anonymous profile"}
    assert rows[1].after == {"Shop bob-phone": "a new anonymous profile"}


@pytest.mark.parametrize(
    ("installations", "code"),
    [
        ("7", ErrorCode.REQUEST_FORMAT_INVALID),
        ([], ErrorCode.REQUEST_FORMAT_INVALID),
        ([-3], ErrorCode.REQUEST_FORMAT_INVALID),
        (list(range(1, SELECTION_LIMIT + 2)), ErrorCode.BAD_REQUEST),
    ],
)
def test_bad_installations_are_refused(db, installations, code):
    with pytest.raises(DomainError) as caught:
        actions.get("installations.logout").clean_params({"installations": installations})
    assert (caught.value.code, caught.value.field) == (code, "installations")


def test_the_installations_are_kept_sorted_and_only_when_given(db):
    action = actions.get("installations.logout")
    assert action.clean_params({"installations": [5, 2]}) == {
        "application": None,
        "installations": [2, 5],
    }
    assert action.clean_params({}) == {"application": None}
