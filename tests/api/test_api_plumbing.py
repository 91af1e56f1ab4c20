"""API keys from the command line, throttling, and the OpenAPI document."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from portal.api.throttling import PerKeyRateThrottle
from portal.models import ApiKey, ApiKeyRole, hash_key
from tests.api.conftest import assert_vendor_error

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
    cache.clear()
    monkeypatch.setattr(PerKeyRateThrottle, "THROTTLE_RATES", {"api": "2/min"})
    assert read_client.get("/people/2/tags").status_code == 200
    assert read_client.get("/people/2/tags").status_code == 200
    assert_vendor_error(read_client.get("/people/2/tags"), 429, "TOO_MANY_REQUESTS")
    cache.clear()


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
    assert len(operations) == 23
    assert document["components"]["securitySchemes"]["AppKey"]["name"] == "Authorization"
    delete_batch = document["paths"]["/people/2/persons/batch"]["delete"]
    assert "requestBody" in delete_batch


def test_the_api_docs_load_no_asset_from_the_network(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui" in page
    assert "cdn." not in page and "unpkg" not in page and "https://" not in page
