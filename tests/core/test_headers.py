"""Security headers: a Content-Security-Policy on every answer of the portal, and
``Cache-Control: no-store`` on every answer that carries personal data (issue 24, item 14).
Static files keep their caching. In a browser: tests/browser/test_content_security_policy.py."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.models import ApiKey, ApiKeyRole
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def policy(response) -> dict[str, str]:
    directives = (
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    return {name: value for name, value in directives}


def assert_private(response) -> None:
    assert policy(response).items() >= POLICY.items()
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_a_person_page_has_the_policy_and_is_not_stored(client, editor):
    person = PersonFactory(first_name="Jane")
    client.force_login(editor)
    response = client.get(reverse("people:detail", args=[person.pk]))
    assert response.status_code == 200
    assert_private(response)
    # An htmx partial of the same page too.
    response = client.get(reverse("home"), {"q": "Jane"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert_private(response)


def test_an_admin_page_has_the_policy_and_is_not_stored(client, administrator):
    person = PersonFactory(first_name="Jane")
    client.force_login(administrator)
    response = client.get(reverse("admin:people_person_change", args=[person.pk]))
    assert response.status_code == 200
    assert_private(response)


def test_an_api_answer_has_the_policy_and_is_not_stored(client):
    PersonFactory(first_name="Jane", external_id="jane-1")
    _, key = ApiKey.issue(name="crm-sync", role=ApiKeyRole.READ)
    response = client.get(
        "/people/2/persons",
        {"type": "EXTERNAL_ID", "identifier": "jane-1"},
        HTTP_AUTHORIZATION=f"App {key}",
    )
    assert response.status_code == 200
    assert_private(response)
    # An error answer of the API, and the sign-in page, too.
    assert_private(client.get("/people/2/persons", HTTP_AUTHORIZATION="App wrong-key-123"))
    assert_private(client.get(reverse("login")))


def test_the_api_documents_are_public_with_the_policy(client):
    response = client.get(reverse("api-docs"))
    assert response.status_code == 200
    assert_private(response)
    # Swagger UI's start script comes from the portal, not inline.
    assert "<script>" not in response.content.decode()
    assert "<style>" not in response.content.decode()
    assert client.get(reverse("api-schema")).status_code == 200


def test_static_files_keep_their_caching(client):
    response = client.get("/static/css/portal.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
