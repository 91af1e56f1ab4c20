"""With the database down the portal answers 503, never a traceback, and recovers by itself.

The outage is made by pointing the connection at a port where no server listens (PostgreSQL
only: SQLite's in-memory test database would not survive its connection being closed).
"""

from contextlib import contextmanager

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def client():
    # Like the real server: an exception becomes the handler's response instead of being
    # raised into the test.
    return Client(raise_request_exception=False)


@contextmanager
def database_down():
    settings_dict = connection.settings_dict
    saved_port = settings_dict["PORT"]
    connection.close()
    settings_dict["PORT"] = "1"
    try:
        yield
    finally:
        connection.close()
        settings_dict["PORT"] = saved_port


def test_health_reports_503_while_the_database_is_down(client):
    with database_down():
        response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_a_page_answers_a_plain_503_while_the_database_is_down(client, editor):
    client.force_login(editor)
    with database_down():
        response = client.get(reverse("home"))
    assert response.status_code == 503
    body = response.content.decode()
    assert "Temporarily unavailable" in body
    assert "Traceback" not in body


def test_the_api_answers_503_in_the_vendor_body_while_the_database_is_down(client):
    with database_down():
        response = client.get("/people/2/persons", HTTP_AUTHORIZATION="App some-key")
    assert response.status_code == 503
    body = response.json()["requestError"]["serviceException"]
    assert body["messageId"] == "SERVICE_UNAVAILABLE"


def test_the_portal_recovers_by_itself_when_the_database_is_back(client, editor):
    client.force_login(editor)
    with database_down():
        assert client.get(reverse("home")).status_code == 503
        assert client.get(reverse("health")).status_code == 503
    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("health")).status_code == 200
