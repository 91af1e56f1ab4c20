"""Every page and action needs a signed-in operator; viewers read but never write."""

import re

import pytest
from django.urls import reverse

from tests.profiles import HTMX

pytestmark = pytest.mark.django_db


def pages(profile):
    person = profile.person.pk
    return [
        reverse("home"),
        reverse("home") + "?q=Horvat",
        reverse("dashboard"),
        reverse("preferences"),
        reverse("people:search_value_field") + "?attribute=Balance",
        reverse("people:tag_suggestions") + "?name=v",
        reverse("people:create"),
        reverse("people:detail", args=[person]),
        reverse("people:header", args=[person]),
        reverse("people:history", args=[person]),
        reverse("people:delete", args=[person]),
        reverse("installations:card", args=[profile.primary.pk]),
    ]


def actions(profile):
    person = profile.person.pk
    definition = profile.definitions["Nickname"].pk
    installation = profile.second.pk
    return [
        (reverse("people:create"), {"firstName": "Zed", "type": "CUSTOMER"}),
        (reverse("people:overview", args=[person]), {"firstName": "X", "type": "CUSTOMER"}),
        (reverse("people:identity_add", args=[person]), {"kind": "phone", "value": "+4930123456"}),
        (
            reverse("people:identity_remove", args=[person]),
            {"kind": "phone", "value": "38516419710"},
        ),
        (reverse("people:tags_add", args=[person]), {"name": "gold"}),
        (reverse("people:tags_remove", args=[person]), {"name": "vip"}),
        (reverse("people:attribute_set", args=[person, definition]), {"value": "Nina"}),
        (reverse("people:attribute_remove", args=[person, definition]), {}),
        (reverse("people:delete", args=[person]), {}),
        (reverse("installations:set_primary", args=[installation]), {"is_primary": "true"}),
        (reverse("installations:set_push", args=[installation]), {"enabled": "false"}),
        (
            reverse("installations:set_additional_data", args=[installation]),
            {"additional_data": "{}"},
        ),
        (reverse("installations:depersonalize", args=[installation]), {}),
    ]


def test_an_anonymous_visitor_of_any_page_is_sent_to_sign_in(client, profile):
    for url in pages(profile):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("login") + "?next="), url


def test_an_anonymous_htmx_request_sends_the_whole_page_to_sign_in(client, profile):
    page = reverse("people:detail", args=[profile.person.pk])
    response = client.get(
        reverse("people:history", args=[profile.person.pk]),
        HTTP_HX_CURRENT_URL="http://testserver" + page,
        **HTMX,
    )
    assert response["HX-Redirect"] == f"{reverse('login')}?next={page}"


def test_an_anonymous_write_is_sent_to_sign_in_and_changes_nothing(client, profile):
    for url, data in actions(profile):
        response = client.post(url, data)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("login")), url
        response = client.post(url, data, **HTMX)
        assert response["HX-Redirect"].startswith(reverse("login") + "?next="), url
    profile.person.refresh_from_db()
    assert profile.person.first_name == "Ana"
    assert sorted(t.name for t in profile.person.tags.all()) == ["newsletter", "vip"]
    assert profile.person.installations.count() == 2


def test_a_viewer_reads_every_page(viewer_client, profile):
    for url in pages(profile):
        if "delete" in url or "new" in url:
            continue
        assert viewer_client.get(url).status_code in (200, 302), url
        assert viewer_client.get(url, **HTMX).status_code == 200, url


def test_every_write_refuses_a_viewer_with_403_and_changes_nothing(viewer_client, profile):
    for url, data in actions(profile):
        assert viewer_client.post(url, data, **HTMX).status_code == 403, url
    assert viewer_client.get(reverse("people:create")).status_code == 403
    profile.person.refresh_from_db()
    assert profile.person.first_name == "Ana"
    assert profile.person.installations.filter(is_primary=True).get() == profile.primary
    assert profile.person.events.count() == 1


def test_an_editor_cannot_delete_people(editor_client, profile):
    url = reverse("people:delete", args=[profile.person.pk])
    assert editor_client.get(url).status_code == 403
    assert editor_client.post(url).status_code == 403
    assert type(profile.person).objects.filter(pk=profile.person.pk).exists()


def test_a_viewer_sees_no_edit_controls_on_the_person_page(viewer_client, profile):
    html = viewer_client.get(reverse("people:detail", args=[profile.person.pk])).content.decode()
    assert "Ana" in html and "push-ana-phone" in html
    # The only posts a viewer has: revealing a masked value (a read, recorded).
    reveal = reverse("people:reveal", args=[profile.person.pk])
    assert html.count("hx-post=") == html.count(f'hx-post="{reveal}"') == 3
    html = re.sub(r'<form [^>]*class="reveal-form".*?</form>', "", html, flags=re.S)
    for control in (
        "Save basic information",
        "Add phone",
        "Add email",
        "Make primary",
        "Turn push off",
        "Remote logout",
        "Add tag",
        "Remove tag",
        "hx-post",
        "Delete person",
    ):
        assert control not in html, control


def test_an_editor_sees_edit_controls_but_no_delete(editor_client, profile):
    html = editor_client.get(reverse("people:detail", args=[profile.person.pk])).content.decode()
    for control in (
        "Save basic information",
        "Add phone",
        "Make primary",
        "Remote logout",
        "Add tag",
    ):
        assert control in html, control
    assert "Delete person" not in html


def test_an_administrator_sees_the_delete_button_and_the_admin_link(admin_client_, profile):
    html = admin_client_.get(reverse("people:detail", args=[profile.person.pk])).content.decode()
    assert "Delete person" in html
    assert reverse("admin:index") in html


def test_an_editor_made_staff_by_hand_sees_no_admin_link(client, editor, profile):
    editor.is_staff = True
    editor.save(update_fields=["is_staff"])
    client.force_login(editor)
    html = client.get(reverse("people:detail", args=[profile.person.pk])).content.decode()
    assert reverse("admin:index") not in html


def test_writes_need_the_csrf_token(profile, editor):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    url = reverse("people:tags_add", args=[profile.person.pk])
    assert client.post(url, {"name": "gold"}, **HTMX).status_code == 403
    page = client.get(reverse("people:detail", args=[profile.person.pk]))
    token = page.cookies["csrftoken"].value
    response = client.post(url, {"name": "gold"}, HTTP_X_CSRFTOKEN=token, **HTMX)
    assert response.status_code == 200
    assert "gold" in {t.name for t in profile.person.tags.all()}


def test_an_operator_signs_in_and_out(client, editor):
    response = client.post(
        reverse("login"), {"username": "eddie.editor", "password": "correct-horse-battery"}
    )
    assert response.status_code == 302 and response.url == reverse("home")
    page = client.get(reverse("home")).content.decode()
    assert "eddie.editor" in page and "Sign out" in page
    assert f'href="{reverse("dashboard")}"' in page
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response.url == reverse("login")
    assert client.get(reverse("home")).status_code == 302


def test_a_wrong_password_is_refused_on_the_sign_in_page(client, editor):
    response = client.post(reverse("login"), {"username": "eddie.editor", "password": "nope"})
    assert response.status_code == 200
    assert "didn't match" in response.content.decode()
