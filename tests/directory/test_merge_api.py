"""POST /people/2/persons/merge and POST /people/2/merges/{eventId}/undo: a manage key merges
with choices and undoes; stale versions, conflicts and read keys are refused in the vendor's
error body."""

import pytest

from installations.models import Installation
from people import services
from people.models import Event, EventKind, Person
from tests.vendor_api import assert_vendor_error

pytestmark = pytest.mark.django_db


def undo_url(event_id: int) -> str:
    return f"/people/2/merges/{event_id}/undo"


def test_a_manage_key_merges_and_undoes(pair, manage_client):
    survivor, other, mine, _ = pair
    response = manage_client.post(
        "/people/2/persons/merge",
        {
            "survivorId": survivor.pk,
            "otherId": other.pk,
            "survivorVersion": survivor.version,
            "otherVersion": other.version,
            "choices": {
                "fields": {"firstName": "survivor", "externalId": "other"},
                "customAttributes": {"Age": "survivor"},
                "primaryInstallation": mine[0].push_registration_id,
            },
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    person = Person.objects.get(pk=survivor.pk)
    event = Event.objects.get(pk=body["eventId"])
    assert event.kind == EventKind.MERGE
    assert event.source == "API"
    assert body["personId"] == survivor.pk
    assert body["mergedPersonId"] == other.pk
    assert body["version"] == person.version
    assert response["ETag"] == f'W/"{person.pk}-{person.version}"'
    assert (person.first_name, person.external_id) == ("Ana", "ext-2")
    assert Installation.objects.get(person=person, is_primary=True) == mine[0]

    response = manage_client.post(undo_url(event.pk))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["eventId"] == event.pk
    assert body["restoredPersonId"] == other.pk
    assert Event.objects.get(pk=body["undoEventId"]).reverts_id == event.pk
    assert Person.objects.get(pk=other.pk).external_id == "ext-2"
    # Undone once only.
    assert_vendor_error(manage_client.post(undo_url(event.pk)), 409, "NOT_REVERTIBLE")


def test_a_stale_version_is_412(pair, manage_client):
    survivor, other, _, _ = pair
    response = manage_client.post(
        "/people/2/persons/merge",
        {"survivorId": survivor.pk, "otherId": other.pk, "otherVersion": other.version - 1},
        format="json",
    )
    assert_vendor_error(response, 412, "VERSION_CONFLICT")
    assert Person.objects.filter(pk=other.pk).exists()


def test_bad_bodies_are_refused(pair, manage_client):
    survivor, other, _, _ = pair
    bad = [
        {"survivorId": "x", "otherId": other.pk},
        {"survivorId": survivor.pk},
        {"survivorId": survivor.pk, "otherId": other.pk, "choices": {"fields": {"city": "both"}}},
        {"survivorId": survivor.pk, "otherId": survivor.pk},
    ]
    for body in bad:
        response = manage_client.post("/people/2/persons/merge", body, format="json")
        assert response.status_code == 400, (body, response.content)
    response = manage_client.post(
        "/people/2/persons/merge", {"survivorId": survivor.pk, "otherId": 10**9}, format="json"
    )
    assert_vendor_error(response, 404, "NOT_FOUND")
    assert Person.objects.filter(pk=other.pk).exists()


def test_an_undo_after_a_change_lists_the_conflicts(pair, manage_client, system_actor):
    survivor, other, _, _ = pair
    response = manage_client.post(
        "/people/2/persons/merge", {"survivorId": survivor.pk, "otherId": other.pk}, format="json"
    )
    event_id = response.json()["eventId"]
    services.person_set_fields(person=survivor.pk, actor=system_actor, fields={"city": "Pula"})
    response = manage_client.post(undo_url(event_id))
    assert_vendor_error(response, 409, "REVERT_CONFLICT")
    exception = response.json()["requestError"]["serviceException"]
    assert exception["conflicts"] == [{"field": "city", "now": "Pula", "restore": "Zagreb"}]
    assert not Person.objects.filter(pk=other.pk).exists()


def test_read_keys_cannot_merge_or_undo(pair, read_client, manage_client):
    survivor, other, _, _ = pair
    body = {"survivorId": survivor.pk, "otherId": other.pk}
    response = read_client.post("/people/2/persons/merge", body, format="json")
    assert response.status_code == 403
    assert Person.objects.filter(pk=other.pk).exists()
    event_id = manage_client.post("/people/2/persons/merge", body, format="json").json()["eventId"]
    assert read_client.post(undo_url(event_id)).status_code == 403
    assert not Person.objects.filter(pk=other.pk).exists()


def test_the_openapi_document_describes_merge_and_undo(client):
    document = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    merge = document["paths"]["/people/2/persons/merge"]["post"]
    assert merge["operationId"] == "merge-two-persons"
    assert "requestBody" in merge
    undo = document["paths"]["/people/2/merges/{eventId}/undo"]["post"]
    assert set(undo["responses"]) >= {"200", "404", "409"}
