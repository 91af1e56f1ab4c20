"""Django admin's bulk actions are the console's jobs: InstallationAdmin's Remote logout, Push
on and Push off start one job (jobs.engine.start_job) on the people who hold the selected
installations, restricted to them, as the administrator (source ADMIN); PersonAdmin's bulk
actions open the console's bulk page for the selected people, where the job is set up,
previewed and run. Make primary and Unset primary stay per row (tests/admin/
test_installation_admin.py)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from core import roles
from installations import admin as installation_admin
from installations.models import Installation
from jobs.models import Job, JobState
from people.models import Event, EventKind, Person, PersonType, Source
from tests.factories import ApplicationFactory, InstallationFactory, PersonFactory

pytestmark = pytest.mark.django_db

INSTALLATIONS = "admin:installations_installation_changelist"
PEOPLE = "admin:people_person_changelist"


@pytest.fixture
def devices(db):
    """Ana: a phone (shop) and a watch (news); Ben: a phone (shop) and a tablet (news)."""
    shop = ApplicationFactory(name="Shop", code="shop")
    news = ApplicationFactory(name="News", code="news")
    people = []
    for name in ("ana", "ben"):
        person = PersonFactory(external_id=name, type=PersonType.CUSTOMER)
        InstallationFactory(person=person, application=shop, push_registration_id=f"{name}-phone")
        second = "watch" if name == "ana" else "tablet"
        InstallationFactory(
            person=person, application=news, push_registration_id=f"{name}-{second}"
        )
        people.append(person)
    return people


def pk(push_id: str) -> int:
    return Installation.objects.get(push_registration_id=push_id).pk


def enabled(push_id: str) -> bool:
    return Installation.objects.get(push_registration_id=push_id).registration_enabled


def owner(push_id: str) -> int:
    return Installation.objects.get(push_registration_id=push_id).person_id


def act(client, action: str, *push_ids: str, capture):
    """The installation action on these rows, its job run here (eager mode) once the
    request's writes commit."""
    with capture(execute=True):
        return client.post(
            reverse(INSTALLATIONS),
            {"action": action, "_selected_action": [pk(p) for p in push_ids]},
        )


def only_job() -> Job:
    (job,) = Job.objects.all()
    return job


def texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def assert_started_by_admin(job: Job, administrator) -> None:
    assert (job.source, job.actor_user, job.actor_label) == (
        Source.ADMIN,
        administrator,
        administrator.username,
    )
    assert job.state == JobState.DONE and not job.dry_run


def assert_names_job(events, job: Job, administrator) -> None:
    for event in events:
        assert event.job_id == job.pk and event.source == Source.JOB
        assert (event.actor_label, event.actor_user) == (administrator.username, administrator)


# ---------------------------------------------------------------------------------------------
# InstallationAdmin: one job each


def test_push_off_is_one_job_on_the_installations_selected_of_several_people_and_apps(
    admin_client, administrator, devices, django_capture_on_commit_callbacks
):
    ana, ben = devices
    selected = ("ana-watch", "ben-phone", "ben-tablet")

    response = act(admin_client, "push_off", *selected, capture=django_capture_on_commit_callbacks)

    assert response.status_code == 302 and response.url == reverse(INSTALLATIONS)
    job = only_job()
    assert job.kind == "push.set"
    assert job.query == {"ids": [ana.pk, ben.pk]}
    assert job.params == {
        "enabled": False,
        "application": None,
        "installations": sorted(pk(p) for p in selected),
    }
    assert_started_by_admin(job, administrator)
    assert (job.total, job.changed) == (2, 2)
    assert [enabled(p) for p in selected] == [False, False, False]
    assert enabled("ana-phone")
    events = Event.objects.filter(kind=EventKind.PUSH_CHANGED).order_by("push_registration_id")
    assert [e.push_registration_id for e in events] == sorted(selected)
    assert_names_job(events, job, administrator)
    url = reverse("populations:job_detail", kwargs={"pk": job.pk})
    assert texts(response) == [
        f'<a href="{url}">Job {job.pk}</a> started: push off for 3 installations.'
    ]


def test_push_on_is_one_job_that_the_job_page_can_undo(
    admin_client, administrator, devices, django_capture_on_commit_callbacks
):
    Installation.objects.update(registration_enabled=False)

    response = act(admin_client, "push_on", "ana-phone", capture=django_capture_on_commit_callbacks)

    job = only_job()
    assert (job.kind, job.params["enabled"], job.params["installations"]) == (
        "push.set",
        True,
        [pk("ana-phone")],
    )
    assert_started_by_admin(job, administrator)
    assert enabled("ana-phone") and not enabled("ana-watch")
    assert texts(response) == [
        f'<a href="/jobs/{job.pk}/">Job {job.pk}</a> started: push on for 1 installation.'
    ]
    (event,) = Event.objects.filter(kind=EventKind.PUSH_CHANGED)
    assert_names_job([event], job, administrator)
    # The console's undo of that job puts the push back.
    with django_capture_on_commit_callbacks(execute=True):
        undone = admin_client.post(reverse("populations:job_undo", args=[job.pk]))
    assert undone.status_code < 400
    assert not enabled("ana-phone")


def test_remote_logout_is_one_job_that_moves_the_installations_selected(
    admin_client, administrator, devices, django_capture_on_commit_callbacks
):
    ana, ben = devices

    act(
        admin_client,
        "remote_logout",
        "ana-watch",
        "ben-phone",
        capture=django_capture_on_commit_callbacks,
    )

    job = only_job()
    assert job.kind == "installations.logout"
    assert job.query == {"ids": [ana.pk, ben.pk]}
    assert job.params == {
        "application": None,
        "installations": sorted([pk("ana-watch"), pk("ben-phone")]),
    }
    assert_started_by_admin(job, administrator)
    assert owner("ana-phone") == ana.pk and owner("ben-tablet") == ben.pk
    for moved in ("ana-watch", "ben-phone"):
        person = Person.objects.get(pk=owner(moved))
        assert person.pk not in (ana.pk, ben.pk) and person.type == PersonType.LEAD
    # Each move: a Depersonalize event on the person left and one on the new profile.
    events = Event.objects.filter(kind=EventKind.DEPERSONALIZE)
    assert sorted(e.push_registration_id for e in events if e.person_id in (ana.pk, ben.pk)) == [
        "ana-watch",
        "ben-phone",
    ]
    assert events.count() == 4
    assert_names_job(events, job, administrator)


def test_more_installations_than_a_selection_holds_start_no_job(
    admin_client, devices, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(installation_admin, "SELECTION_LIMIT", 3)

    response = act(
        admin_client,
        "push_off",
        "ana-phone",
        "ana-watch",
        "ben-phone",
        "ben-tablet",
        capture=django_capture_on_commit_callbacks,
    )

    assert not Job.objects.exists()
    assert all(enabled(i.push_registration_id) for i in Installation.objects.all())
    assert texts(response) == [
        "At most 3 installations can be selected for push off; select fewer, or run it on a "
        "search from the console."
    ]


def without_permission(codename: str) -> None:
    """The Administrator role without one of its permissions (the role still opens admin)."""
    app_label, name = codename.split(".")
    Group.objects.get(name=roles.ADMINISTRATOR).permissions.remove(
        Permission.objects.get(content_type__app_label=app_label, codename=name)
    )


def test_without_the_change_permission_the_job_actions_are_neither_offered_nor_run(
    admin_client, devices, django_capture_on_commit_callbacks
):
    without_permission("installations.change_installation")

    page = admin_client.get(reverse(INSTALLATIONS))
    offered = {name for name, _ in page.context["action_form"].fields["action"].choices}
    assert {"remote_logout", "push_on", "push_off"} & offered == set()
    for action in ("remote_logout", "push_on", "push_off"):
        act(admin_client, action, "ana-phone", capture=django_capture_on_commit_callbacks)
    assert not Job.objects.exists()
    assert enabled("ana-phone") and owner("ana-phone") == devices[0].pk


def test_make_primary_stays_a_service_call_per_row(admin_client, devices):
    admin_client.post(
        reverse(INSTALLATIONS), {"action": "make_primary", "_selected_action": [pk("ana-watch")]}
    )
    assert not Job.objects.exists()
    assert Installation.objects.get(push_registration_id="ana-watch").is_primary
    (event,) = Event.objects.filter(kind=EventKind.PRIMARY_CHANGED)
    assert event.source == Source.ADMIN and event.job_id is None


# ---------------------------------------------------------------------------------------------
# PersonAdmin: to the console's bulk page

BULK_ACTIONS = {
    "add_tags": "tags.add",
    "remove_tags": "tags.remove",
    "set_attribute": "attribute.set",
    "change_type": "type.change",
    "set_push": "push.set",
    "remote_logout": "installations.logout",
    "delete_as_job": "people.delete",
}


def on_people(client, action: str, people: list[Person], **extra):
    return client.post(
        reverse(PEOPLE),
        {"action": action, "_selected_action": [p.pk for p in people], **extra},
    )


@pytest.mark.parametrize(("action", "kind"), sorted(BULK_ACTIONS.items()))
def test_each_person_action_opens_the_bulk_page_for_the_people_selected(
    admin_client, devices, action, kind
):
    ana, ben = devices
    PersonFactory()  # not selected

    response = on_people(admin_client, action, [ben, ana])

    assert response.status_code == 302
    url = urlsplit(response.url)
    assert url.path == reverse("populations:bulk")
    assert parse_qs(url.query) == {"ids": [str(ana.pk), str(ben.pk)], "action": [kind]}
    assert not Job.objects.exists()
    page = admin_client.get(response.url)
    assert page.status_code == 200
    assert page.context["action"].kind == kind
    assert page.context["population_label"] == "2 selected people"


def test_the_delete_chosen_in_admin_runs_as_the_consoles_job(
    admin_client, administrator, devices, django_capture_on_commit_callbacks
):
    ana, ben = devices
    bulk = urlsplit(on_people(admin_client, "delete_as_job", [ana]).url)
    ids = parse_qs(bulk.query)["ids"]

    with django_capture_on_commit_callbacks(execute=True):
        started = admin_client.post(
            reverse("populations:bulk_start"), {"ids": ids, "action": "people.delete"}
        )

    job = only_job()
    assert started.url == reverse("populations:job_detail", kwargs={"pk": job.pk})
    assert (job.kind, job.query, job.state) == ("people.delete", {"ids": [ana.pk]}, JobState.DONE)
    assert not Person.objects.filter(pk=ana.pk).exists()
    assert Person.objects.filter(pk=ben.pk).exists()
    # The installations stay, each on an anonymous profile of its own.
    for push_id in ("ana-phone", "ana-watch"):
        person = Person.objects.get(pk=owner(push_id))
        assert person.type == PersonType.LEAD and not person.external_id


def test_djangos_own_delete_of_the_selected_people_is_gone(admin_client, devices):
    ana, _ben = devices
    page = admin_client.get(reverse(PEOPLE))
    offered = {name for name, _ in page.context["action_form"].fields["action"].choices}
    assert "delete_selected" not in offered
    assert {"merge_selected", *BULK_ACTIONS} <= offered

    on_people(admin_client, "delete_selected", [ana], post="yes")

    assert Person.objects.filter(pk=ana.pk).exists()


def test_more_people_than_a_selection_holds_stay_on_the_list(admin_client, devices, monkeypatch):
    from directory import admin as directory_admin

    monkeypatch.setattr(directory_admin, "SELECTION_LIMIT", 2)

    response = on_people(admin_client, "add_tags", [*devices, PersonFactory()])

    assert response.status_code == 302 and response.url == reverse(PEOPLE)
    assert texts(response) == [
        "At most 2 people can be selected for a bulk action; select fewer, or run it on "
        "everyone a search finds from the console."
    ]


@pytest.mark.parametrize(
    ("permission", "hidden"),
    [
        ("people.change_person", set(BULK_ACTIONS) - {"delete_as_job"}),
        ("people.delete_person", {"delete_as_job"}),
    ],
)
def test_an_action_needs_its_permission(admin_client, devices, permission, hidden):
    without_permission(permission)

    page = admin_client.get(reverse(PEOPLE))

    offered = {name for name, _ in page.context["action_form"].fields["action"].choices}
    assert hidden & offered == set()
    for action in hidden:
        response = on_people(admin_client, action, devices)
        assert not response.url.startswith(reverse("populations:bulk"))
