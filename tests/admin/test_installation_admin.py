import pytest
from django.urls import reverse

from installations.models import Installation
from people.models import Event, EventKind, Person, Source
from tests.admin.conftest import installation
from tests.factories import ApplicationFactory, InstallationFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:installations_installation_changelist"


def run(admin_client, action: str, *push_ids: str):
    ids = [installation(p).pk for p in push_ids]
    return admin_client.post(
        reverse(CHANGELIST), {"action": action, "_selected_action": ids}, follow=True
    )


def last_event(person: Person, kind: str) -> Event:
    return Event.objects.filter(person=person, kind=kind).latest("id")


def test_make_primary_moves_the_primary_flag_and_records_it_as_an_admin_event(
    admin_client, administrator, ana
):
    response = run(admin_client, "make_primary", "push-ana-tablet")
    assert response.status_code == 200
    primary = Installation.objects.filter(person=ana, is_primary=True)
    assert [i.push_registration_id for i in primary] == ["push-ana-tablet"]
    event = last_event(ana, EventKind.PRIMARY_CHANGED)
    assert event.push_registration_id == "push-ana-tablet"
    assert (event.source, event.actor_user, event.actor_label) == (
        Source.ADMIN,
        administrator,
        administrator.username,
    )
    assert event.changes == {"isPrimary": {"before": False, "after": True}}


def test_make_primary_on_two_installations_of_one_person_leaves_exactly_one(admin_client, ana):
    run(admin_client, "make_primary", "push-ana-phone", "push-ana-tablet")
    assert Installation.objects.filter(person=ana, is_primary=True).count() == 1


def test_unset_primary_leaves_the_person_without_a_primary_device(admin_client, ana):
    run(admin_client, "unset_primary", "push-ana-phone")
    assert not Installation.objects.filter(person=ana, is_primary=True).exists()
    event = last_event(ana, EventKind.PRIMARY_CHANGED)
    assert event.source == Source.ADMIN
    assert event.changes == {"isPrimary": {"before": True, "after": False}}


def test_remote_logout_moves_the_installation_to_a_fresh_anonymous_lead(
    admin_client, administrator, ana
):
    run(admin_client, "remote_logout", "push-ana-phone")
    moved = installation("push-ana-phone")
    assert moved.person_id != ana.pk
    assert moved.person.type == "LEAD" and moved.person.external_id is None
    assert not moved.is_primary
    event = last_event(ana, EventKind.DEPERSONALIZE)
    assert (event.source, event.actor_user) == (Source.ADMIN, administrator)
    assert event.push_registration_id == "push-ana-phone"


def test_push_off_and_on_change_registration_enabled_with_events(admin_client, ana):
    run(admin_client, "push_off", "push-ana-phone", "push-ana-tablet")
    assert not Installation.objects.filter(person=ana, registration_enabled=True).exists()
    run(admin_client, "push_on", "push-ana-tablet")
    assert installation("push-ana-tablet").registration_enabled
    assert not installation("push-ana-phone").registration_enabled
    events = Event.objects.filter(person=ana, kind=EventKind.PUSH_CHANGED, source=Source.ADMIN)
    assert events.count() == 3


def test_the_installation_change_page_keeps_system_data_read_only(admin_client, ana):
    item = installation("push-ana-phone")
    url = reverse("admin:installations_installation_change", args=[item.pk])
    response = admin_client.post(
        url,
        {
            "is_primary": "on",
            "registration_enabled": "",
            "additional_data": '{"loyalty": 3}',
            "device_model": "Hacked",
            "os": "Hacked",
        },
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.device_model, item.os) == ("Pixel 8", "Android")
    assert item.registration_enabled is False
    assert item.additional_data == {"loyalty": 3}
    event = last_event(ana, EventKind.INSTALLATION_CHANGED)
    assert event.source == Source.ADMIN


def test_invalid_additional_data_is_refused_at_the_field(admin_client, ana):
    item = installation("push-ana-phone")
    url = reverse("admin:installations_installation_change", args=[item.pk])
    response = admin_client.post(
        url, {"is_primary": "on", "registration_enabled": "on", "additional_data": '{"x": [1]}'}
    )
    assert response.status_code == 200
    assert "additional_data" in response.context["adminform"].form.errors
    item.refresh_from_db()
    assert item.additional_data == {}


@pytest.mark.parametrize("q", ["push-ana-tablet", "+385 1 6419-710", "crm-1001", "kova"])
def test_the_installation_search_finds_by_push_id_or_by_its_person(admin_client, ana, q):
    InstallationFactory(push_registration_id="someone-else")
    response = admin_client.get(reverse(CHANGELIST), {"q": q})
    found = sorted(i.push_registration_id for i in response.context["cl"].result_list)
    expected = (
        ["push-ana-tablet"] if q.startswith("push") else ["push-ana-phone", "push-ana-tablet"]
    )
    assert found == expected


def test_deleting_an_installation_in_admin_leaves_an_uninstall_event(admin_client, ana):
    item = installation("push-ana-tablet")
    url = reverse("admin:installations_installation_delete", args=[item.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not Installation.objects.filter(pk=item.pk).exists()
    event = last_event(ana, EventKind.UNINSTALL)
    assert event.source == Source.ADMIN


def test_an_application_is_created_through_the_service_and_kept_while_in_use(admin_client, ana):
    response = admin_client.post(
        reverse("admin:installations_application_add"), {"name": "Loyalty", "code": ""}
    )
    assert response.status_code == 302
    from installations.models import Application

    created = Application.objects.get(name="Loyalty")
    assert len(created.code) == 32
    used = installation("push-ana-phone").application
    url = reverse("admin:installations_application_delete", args=[used.pk])
    page = admin_client.post(url, {"post": "yes"})
    assert page.status_code == 200
    assert "has 1 installations and cannot be deleted" in page.content.decode()
    assert Application.objects.filter(pk=used.pk).exists()


def test_an_application_with_an_existing_code_is_refused_at_the_field(admin_client):
    ApplicationFactory(code="taken")
    response = admin_client.post(
        reverse("admin:installations_application_add"), {"name": "Other", "code": "taken"}
    )
    assert response.status_code == 200
    assert "code" in response.context["adminform"].form.errors


def test_the_installation_list_filters_by_platform(admin_client, ana):
    response = admin_client.get(reverse(CHANGELIST), {"platform": "iOS"})
    assert [i.push_registration_id for i in response.context["cl"].result_list] == [
        "push-ana-tablet"
    ]
