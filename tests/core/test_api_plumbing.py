"""API keys from the command line, throttling, and the OpenAPI document."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from rest_framework.test import APIClient

from core.api.throttling import PerKeyRateThrottle
from core.models import ApiKey, ApiKeyRole, hash_key
from installations.api.authentication import DeviceRateThrottle
from tests.vendor_api import assert_vendor_error

pytestmark = pytest.mark.django_db


def test_create_api_key_prints_a_working_key_once_and_stores_only_its_hash():
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_key", "crm-sync", "--role", "manage", stdout=out, stderr=err)
    raw = out.getvalue().strip()
    key = ApiKey.objects.get(name="crm-sync")
    assert key.role == ApiKeyRole.MANAGE
    assert key.key_hash == hash_key(raw) and raw not in key.key_hash
    assert "cannot be shown again" in err.getvalue()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"App {raw}")
    assert client.post("/people/2/persons", {}, format="json").status_code == 200


def test_create_api_key_defaults_to_read_and_refuses_an_unknown_role():
    call_command("create_api_key", "reports", stdout=io.StringIO(), stderr=io.StringIO())
    assert ApiKey.objects.get(name="reports").role == ApiKeyRole.READ
    with pytest.raises(CommandError):
        call_command("create_api_key", "x", "--role", "admin", stderr=io.StringIO())


def test_a_key_over_its_rate_gets_a_429_in_the_vendor_body(read_client, monkeypatch):
    monkeypatch.setattr(PerKeyRateThrottle, "THROTTLE_RATES", {"api": "2/min"})
    assert read_client.get("/people/2/tags").status_code == 200
    assert read_client.get("/people/2/tags").status_code == 200
    assert_vendor_error(read_client.get("/people/2/tags"), 429, "TOO_MANY_REQUESTS")


def test_device_requests_are_counted_per_connection_address_whatever_they_forward(
    application, monkeypatch
):
    rates = {"api": "10/min", "device": "10/min"}
    monkeypatch.setattr(DeviceRateThrottle, "THROTTLE_RATES", rates)
    device = APIClient(REMOTE_ADDR="203.0.113.7")
    device.credentials(HTTP_AUTHORIZATION=f"App {application.code}")
    statuses = [
        device.get(
            "/mobile/1/appinstance/no-such-device", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}"
        ).status_code
        for n in range(40)
    ]
    assert statuses == [404] * 10 + [429] * 30
    response = device.get("/mobile/1/appinstance/no-such-device")
    assert_vendor_error(response, 429, "TOO_MANY_REQUESTS")
    assert 0 < int(response["Retry-After"]) <= 60


@override_settings(
    CACHES={
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing answers there
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
)
def test_a_rate_limit_store_that_does_not_answer_refuses_with_a_503_not_unlimited(read_client):
    response = read_client.get("/people/2/tags")
    assert_vendor_error(response, 503, "SERVICE_UNAVAILABLE")
    assert response["Retry-After"] == "5"


def test_the_openapi_document_describes_every_people_operation(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    document = response.json()
    operations = {
        (path, method.upper())
        for path, item in document["paths"].items()
        for method in item
        if path.startswith("/people/2/") and "contactInformation/push" not in path
    }
    assert ("/people/2/persons", "GET") in operations
    assert ("/people/2/persons/batch", "DELETE") in operations
    assert ("/people/2/customAttributes/{name}/append", "POST") in operations
    assert ("/people/2/persons/dataExport", "POST") in operations
    assert ("/people/2/events/{eventId}/revert", "POST") in operations
    assert ("/people/2/persons/merge", "POST") in operations
    assert ("/people/2/merges/{eventId}/undo", "POST") in operations
    assert ("/people/2/jobs/{jobId}/undo", "POST") in operations
    assert ("/people/2/views", "GET") in operations
    assert ("/people/2/views/{viewId}/persons", "GET") in operations
    assert ("/people/2/imports", "POST") in operations
    assert ("/people/2/exports", "POST") in operations
    assert ("/people/2/exports/{jobId}/file", "GET") in operations
    assert len(operations) == 37
    assert document["components"]["securitySchemes"]["AppKey"]["name"] == "Authorization"
    delete_batch = document["paths"]["/people/2/persons/batch"]["delete"]
    assert "requestBody" in delete_batch


def test_the_api_docs_load_no_asset_from_the_network(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui" in page
    assert "cdn." not in page and "unpkg" not in page and "https://" not in page
