import json
import re
from html import unescape

import pytest
from django.urls import reverse

from installations import services
from installations.models import Installation
from people.history import Actor
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


def change_url(item: Installation) -> str:
    return reverse("admin:installations_installation_change", args=[item.pk])


def as_shown(admin_client, item: Installation) -> dict[str, str]:
    """What the change page's form sends back untouched, as a browser would: the fields and
    the values the page showed (Django's hidden initials)."""
    response = admin_client.get(change_url(item))
    html = response.content.decode()
    data = {
        name: unescape(value)
        for name, value in re.findall(r'name="(initial-\w+)" value="([^"]*)"', html)
    }
    form = response.context["adminform"].form
    for name in ("is_primary", "registration_enabled"):
        if form.initial.get(name):
            data[name] = "on"
    data["additional_data"] = form["additional_data"].value()
    return data


def device_sets(item: Installation, **data) -> None:
    """The device (its SDK) changes additionalData while the change page is open."""
    services.installation_device_update(
        installation=item,
        actor=Actor.system("sdk"),
        application=item.application,
        additional_data=data,
    )


def test_the_change_page_sends_back_what_it_showed(admin_client, ana):
    item = installation("push-ana-phone")
    data = as_shown(admin_client, item)
    assert {"initial-is_primary", "initial-registration_enabled", "initial-additional_data"} <= set(
        data
    )
    assert json.loads(data["initial-additional_data"]) == item.additional_data


def test_fields_left_as_shown_keep_what_changed_meanwhile(admin_client, ana):
    """The administrator turns push off; the device had set a name and an operator had made
    another device primary after the page was shown: neither is undone."""
    item = installation("push-ana-phone")
    data = as_shown(admin_client, item)
    device_sets(item, locale="hr")
    services.installation_set_primary(
        installation=installation("push-ana-tablet"), actor=Actor.system("ops")
    )
    del data["registration_enabled"]
    assert admin_client.post(change_url(item), data).status_code == 302
    item.refresh_from_db()
    assert item.registration_enabled is False
    assert item.additional_data == {"locale": "hr"}
    assert item.is_primary is False and installation("push-ana-tablet").is_primary is True


def test_additional_data_writes_only_the_names_changed_from_the_page(admin_client, ana):
    item = installation("push-ana-phone")
    device_sets(item, tier="gold", otp=True)
    data = as_shown(admin_client, item)
    device_sets(item, locale="hr")
    data["additional_data"] = '{"tier": "silver"}'  # tier changed, otp removed
    assert admin_client.post(change_url(item), data).status_code == 302
    item.refresh_from_db()
    assert item.additional_data == {"tier": "silver", "locale": "hr"}


def test_a_name_changed_on_both_sides_is_refused_then_saved_over_the_stored_value(
    admin_client, ana
):
    item = installation("push-ana-phone")
    device_sets(item, tier="gold")
    data = as_shown(admin_client, item)
    device_sets(item, tier="platinum")
    data["additional_data"] = '{"tier": "silver"}'
    response = admin_client.post(change_url(item), data)
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "was changed since the editor showed it" in str(form.errors["additional_data"])
    item.refresh_from_db()
    assert item.additional_data == {"tier": "platinum"}
    # The page now takes the stored value as shown: saving again writes the typed one.
    html = response.content.decode()
    shown = re.search(r'name="initial-additional_data" value="([^"]*)"', html).group(1)
    assert json.loads(unescape(shown)) == {"tier": "platinum"}
    assert 'name="additional_data"' in html and "silver" in html
    data["initial-additional_data"] = unescape(shown)
    assert admin_client.post(change_url(item), data).status_code == 302
    item.refresh_from_db()
    assert item.additional_data == {"tier": "silver"}


def test_a_post_without_the_shown_values_is_compared_with_the_stored_row(admin_client, ana):
    """Not from the page (no hidden initials): an unticked box turns push off, as before."""
    item = installation("push-ana-phone")
    data = {"is_primary": "on", "additional_data": "{}"}
    assert admin_client.post(change_url(item), data).status_code == 302
    item.refresh_from_db()
    assert item.registration_enabled is False


def test_the_installation_change_page_keeps_system_data_read_only(admin_client, ana):
    item = installation("push-ana-phone")
    url = change_url(item)
    response = admin_client.post(
        url,
        {
            **as_shown(admin_client, item),
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
        url, {**as_shown(admin_client, item), "additional_data": '{"x": [1]}'}
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
