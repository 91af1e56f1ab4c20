"""Django admin: an application's JWT key id, secret and 'require JWT' setting.

The secret is write-only: set in a password field that never renders its value, stored, and
never shown again on any admin page (the change form says only whether one is set).
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from installations.models import Application
from tests.factories import ApplicationFactory

SECRET = "6f0c5e9c1f7a4b2d8e3a9c0b5d7e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a"


@pytest.fixture
def app(db) -> Application:
    return ApplicationFactory(name="Shop")


def change_url(app: Application) -> str:
    return reverse("admin:installations_application_change", args=[app.pk])


def never_shows(page: str, secret: str) -> bool:
    """Not the secret, nor any 8 hex digits of it, in either case."""
    text = page.lower()
    return all(secret[i : i + 8] not in text for i in range(len(secret) - 7))


def test_an_administrator_sets_the_jwt_secret_and_it_is_never_displayed(admin_client, app):
    response = admin_client.post(
        change_url(app),
        {"jwt_key_id": "key-1", "new_jwt_secret": SECRET.upper(), "jwt_required": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    app.refresh_from_db()
    assert (app.jwt_key_id, app.jwt_secret, app.jwt_required) == ("key-1", SECRET, True)

    page = admin_client.get(change_url(app)).content.decode()
    assert "Set (hidden)" in page
    assert never_shows(page, SECRET)
    listing = admin_client.get(reverse("admin:installations_application_changelist"))
    assert never_shows(listing.content.decode(), SECRET)


def test_saving_the_form_again_without_a_secret_keeps_the_stored_one(admin_client, app):
    admin_client.post(change_url(app), {"jwt_key_id": "key-1", "new_jwt_secret": SECRET})
    response = admin_client.post(change_url(app), {"jwt_key_id": "key-2", "new_jwt_secret": ""})
    assert response.status_code == 302
    app.refresh_from_db()
    assert (app.jwt_key_id, app.jwt_secret) == ("key-2", SECRET)


def test_a_secret_that_is_not_long_hexadecimal_is_refused_at_its_field(admin_client, app):
    for bad in ("not-hex-at-all", "abcd" * 4):
        response = admin_client.post(change_url(app), {"jwt_key_id": "k", "new_jwt_secret": bad})
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors
        assert "new_jwt_secret" in errors, errors
        assert never_shows(response.content.decode(), bad) or len(bad) < 8
    app.refresh_from_db()
    assert app.jwt_secret == ""


def test_requiring_jwt_without_a_secret_is_refused(admin_client, app):
    response = admin_client.post(change_url(app), {"jwt_key_id": "k", "jwt_required": "on"})
    assert response.status_code == 200
    assert "jwt_required" in response.context["adminform"].form.errors
    app.refresh_from_db()
    assert app.jwt_required is False


def test_removing_the_secret_turns_jwt_off(admin_client, app):
    admin_client.post(change_url(app), {"jwt_key_id": "key-1", "new_jwt_secret": SECRET})
    admin_client.post(change_url(app), {"jwt_key_id": "key-1", "remove_jwt_secret": "on"})
    app.refresh_from_db()
    assert app.jwt_secret == ""
    assert "Not set" in admin_client.get(change_url(app)).content.decode()
