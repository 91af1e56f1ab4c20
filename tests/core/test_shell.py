import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_home_sends_anonymous_visitors_to_sign_in(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_signed_in_operator_sees_home_with_their_name(client, editor):
    client.force_login(editor)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert editor.username in response.content.decode()


def test_health_reports_the_database(client):
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_roles_exist_with_their_permissions(viewer, editor, administrator):
    assert viewer.has_perm("people.view_person") and not viewer.has_perm("people.change_person")
    assert editor.has_perm("people.change_person") and not editor.has_perm("people.delete_person")
    assert administrator.has_perm("people.delete_person")
