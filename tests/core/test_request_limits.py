"""Request limits over HTTP (issue 24, item 12): the documented largest batch fits, and a
request over a limit is told which one, in the vendor's body under the API, HTML on pages."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.conf import settings

from people.models import AttributeDefinition, DataType, Person
from tests.vendor_api import assert_vendor_error

pytestmark = pytest.mark.django_db
BATCH = "/people/2/persons/batch"


def long_item(n: int) -> dict:
    """A person with long values: standard fields at (nearly) their longest, 8 long tags,
    5 emails, 2 long custom attributes (about 7 KB of JSON)."""
    return {
        "externalId": f"{n:05d}" + "x" * 245,
        "firstName": "F" * 255,
        "lastName": "L" * 255,
        "middleName": "M" * 50,
        "address": "A" * 256,
        "city": "C" * 50,
        "country": "K" * 50,
        "profilePicture": "https://cdn.example.com/" + "p" * 2000,
        "tags": [f"{k} " + "t" * 198 for k in range(8)],
        "contactInformation": {
            "email": [{"address": f"{'e' * 40}.{n}.{k}@example.com"} for k in range(5)]
        },
        "customAttributes": {"Notes": "n" * 700, "Bio": "b" * 700},
    }


def test_a_batch_of_1000_people_with_long_values_is_accepted(manage_client):
    for name in ("Notes", "Bio"):
        AttributeDefinition.objects.create(name=name, data_type=DataType.STRING)
    body = json.dumps({"people": [long_item(n) for n in range(1000)]})
    assert 2.5 * 1024 * 1024 < len(body) <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    response = manage_client.post(BATCH, body, content_type="application/json")

    assert response.status_code == 200, response.content[:500]
    assert {result["status"] for result in response.json()["results"]} == {200}
    assert Person.objects.count() == 1000


@pytest.mark.parametrize(
    "size", [8 * 1024 * 1024 + 1, 10 * 1024 * 1024, 10_000_000, 50 * 1024 * 1024]
)
def test_an_api_body_over_the_size_limit_is_a_413_naming_the_limit(manage_client, size):
    body = b'{"people": [' + b" " * (size - 14) + b"]}"
    assert len(body) == size

    response = manage_client.post(BATCH, body, content_type="application/json")

    exception = assert_vendor_error(response, 413, "REQUEST_TOO_LARGE")
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE" in exception["text"]
    assert str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in exception["text"]
    assert not Person.objects.exists()


def test_a_batch_of_more_than_1000_people_is_a_400_naming_the_limit(manage_client):
    response = manage_client.post(BATCH, {"people": [{}] * 1001}, format="json")

    exception = assert_vendor_error(response, 400)
    assert exception["validationErrors"]["people"] == ["Send between 1 and 1000 people, not 1001."]


def test_a_page_over_the_size_limit_answers_an_html_413(client):
    body = "username=a&password=" + "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    response = client.post(
        "/accounts/login/", body, content_type="application/x-www-form-urlencoded", secure=True
    )

    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert b"DATA_UPLOAD_MAX_MEMORY_SIZE" in response.content


def test_a_page_with_too_many_fields_keeps_the_html_400(client):
    body = urlencode({f"f{n}": "x" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)})

    response = client.post(
        "/accounts/login/", body, content_type="application/x-www-form-urlencoded", secure=True
    )

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
