"""Contact information, batches and match under /people/2/persons."""

from __future__ import annotations

import pytest

from people.models import Event, Person, Source
from people.services import person_create
from tests.factories import InstallationFactory
from tests.vendor_api import assert_vendor_error, assert_vendor_response

pytestmark = pytest.mark.django_db
CONTACTS = "/people/2/persons/contactInformation"
BATCH = "/people/2/persons/batch"
MATCH = "/people/2/persons/match"


@pytest.fixture
def jane(system_actor) -> Person:
    return person_create(
        actor=system_actor,
        fields={"externalId": "jane", "firstName": "Jane"},
        phones=["41793026727"],
        emails=["jane@acme.example"],
        tags=["VIP"],
    )


def contacts_of(body):
    info = body["contactInformation"]
    return [p["number"] for p in info["phone"]], [e["address"] for e in info["email"]]


def test_put_contact_information_replaces_phones_and_emails(manage_client, jane):
    response = manage_client.put(
        f"{CONTACTS}?type=EXTERNAL_ID&identifier=jane",
        {"contactInformation": {"phone": [{"number": "+385 1 6419 710"}]}},
        format="json",
    )
    body = assert_vendor_response(response, CONTACTS, "put")
    assert contacts_of(body) == (["38516419710"], [])
    assert body["tags"] == ["VIP"] and body["firstName"] == "Jane"


def test_patch_contact_information_adds(manage_client, jane):
    response = manage_client.patch(
        f"{CONTACTS}?type=ID&identifier={jane.pk}",
        {"contactInformation": {"email": [{"address": "Jane.Two@Acme.example"}]}},
        format="json",
    )
    body = assert_vendor_response(response, CONTACTS, "patch")
    assert contacts_of(body) == (["41793026727"], ["jane@acme.example", "jane.two@acme.example"])


def test_delete_contact_information_removes_the_given_ones(manage_client, jane):
    response = manage_client.delete(
        f"{CONTACTS}?type=PHONE&identifier=41793026727",
        {"contactInformation": {"phone": [{"number": "41793026727"}]}},
        format="json",
    )
    body = assert_vendor_response(response, CONTACTS, "delete")
    assert contacts_of(body) == ([], ["jane@acme.example"])
    event = Event.objects.filter(person=jane).first()
    assert event.source == Source.API and event.changes["phones"]["removed"] == ["41793026727"]


def test_contact_information_needs_its_body_and_valid_values(manage_client, jane):
    url = f"{CONTACTS}?externalId=jane"
    exception = assert_vendor_error(
        manage_client.put(url, {}, format="json"), 400, "REQUEST_FORMAT_INVALID"
    )
    assert "contactInformation" in exception["validationErrors"]
    assert_vendor_error(
        manage_client.patch(
            url, {"contactInformation": {"phone": [{"number": "0"}]}}, format="json"
        ),
        400,
        "PHONE_INVALID",
    )
    assert_vendor_error(
        manage_client.patch(
            f"{CONTACTS}?externalId=nobody", {"contactInformation": {}}, format="json"
        ),
        404,
        "NOT_FOUND",
    )


def test_a_phone_of_another_person_is_not_merged(manage_client, jane, system_actor):
    other = person_create(actor=system_actor, fields={"externalId": "other"})
    response = manage_client.patch(
        f"{CONTACTS}?externalId=other",
        {"contactInformation": {"phone": [{"number": "41793026727"}]}},
        format="json",
    )
    assert_vendor_error(response, 400, "USER_MERGE_INTERRUPTED")
    assert not other.identities.exists()


def test_batch_create_gives_a_result_per_item_and_207_when_some_fail(manage_client, jane):
    people = [
        {"firstName": "Ann", "contactInformation": {"email": [{"address": "ann@acme.example"}]}},
        {"firstName": "Dup", "contactInformation": {"email": [{"address": "jane@acme.example"}]}},
        {"firstName": 7},
        {"lastName": "Lee", "tags": ["New"]},
    ]
    response = manage_client.post(BATCH, {"people": people}, format="json")
    assert response.status_code == 207
    body = assert_vendor_response(response, BATCH, "post")
    results = body["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3]
    assert [r["status"] for r in results] == [200, 409, 400, 200]
    assert results[1]["errors"][0]["messageId"] == "USER_MERGE_INTERRUPTED"
    assert results[2]["errors"][0]["field"] == "firstName"
    assert Person.objects.get(pk=results[0]["id"]).first_name == "Ann"
    assert Person.objects.get(pk=results[3]["id"]).tags.get().name == "New"
    # The failed item was not half-applied: no person "Dup" exists.
    assert not Person.objects.filter(first_name="Dup").exists()


def test_batch_create_of_only_good_items_is_a_200(manage_client):
    response = manage_client.post(BATCH, {"people": [{"firstName": "A"}]}, format="json")
    assert response.status_code == 200
    assert assert_vendor_response(response, BATCH, "post")["results"][0]["status"] == 200


@pytest.mark.parametrize(
    "body",
    [{}, {"people": []}, {"people": "x"}, {"people": [{}] * 1001}, []],
)
def test_a_batch_that_is_empty_too_big_or_not_a_list_is_a_400(manage_client, body):
    response = manage_client.post(BATCH, body, format="json")
    exception = assert_vendor_error(response, 400)
    assert "people" in exception["validationErrors"]
    assert Person.objects.count() == 0


def test_batch_update_merges_each_person_and_reports_misses(manage_client, jane):
    response = manage_client.patch(
        BATCH,
        {
            "people": [
                {
                    "query": {"type": "EXTERNAL_ID", "identifier": "jane"},
                    "update": {"lastName": "Doe"},
                },
                {"query": {"type": "PHONE", "identifier": "41793026728"}, "update": {}},
                {"query": {"type": "LINE", "identifier": "x"}, "update": {}},
                {
                    "query": {"type": "EMAIL", "identifier": "jane@acme.example"},
                    "update": {"tags": ["New"]},
                },
            ]
        },
        format="json",
    )
    assert response.status_code == 207
    results = assert_vendor_response(response, BATCH, "patch")["results"]
    assert [r["status"] for r in results] == [200, 404, 400, 200]
    assert results[0]["query"] == {"type": "EXTERNAL_ID", "identifier": "jane"}
    assert results[0]["isModified"] is True
    assert results[2]["query"] == {"identifier": "x"}
    jane.refresh_from_db()
    assert jane.last_name == "Doe" and jane.first_name == "Jane"
    assert sorted(jane.tags.values_list("name", flat=True)) == ["New", "VIP"]


def test_batch_delete_deletes_each_person(administrator, manage_client, jane, system_actor):
    other = person_create(actor=system_actor, fields={"externalId": "other"})
    response = manage_client.delete(
        BATCH,
        {
            "people": [
                {"query": {"type": "EXTERNAL_ID", "identifier": "jane"}},
                {"query": {"type": "ID", "identifier": str(other.pk)}},
                {"query": {"type": "ID", "identifier": str(other.pk)}},
            ]
        },
        format="json",
    )
    assert response.status_code == 207
    results = assert_vendor_response(response, BATCH, "delete")["results"]
    assert [r["status"] for r in results] == [200, 200, 404]
    assert Person.objects.count() == 0


def test_a_read_key_cannot_run_batches(read_client):
    response = read_client.post(BATCH, {"people": [{"firstName": "A"}]}, format="json")
    assert_vendor_error(response, 403, "FORBIDDEN")


def test_match_returns_the_ids_of_matching_people(read_client, jane, application):
    installation = InstallationFactory(application=application)
    response = read_client.post(
        MATCH,
        {
            "identities": [
                {"type": "EXTERNAL_ID", "identifier": "jane"},
                {"type": "EXTERNAL_ID", "identifier": "jane"},
                {"type": "PHONE", "identifier": "+41 79 302 67 27"},
                {"type": "EMAIL", "identifier": "nobody@acme.example"},
                {"type": "PHONE", "identifier": "not a phone"},
                {
                    "type": "PUSH",
                    "identifier": installation.push_registration_id,
                    "sender": application.code,
                },
            ]
        },
        format="json",
    )
    body = assert_vendor_response(response, MATCH, "post")
    assert body["matches"] == [
        {"type": "EXTERNAL_ID", "identifier": "jane", "personId": jane.pk},
        {"type": "PHONE", "identifier": "+41 79 302 67 27", "personId": jane.pk},
        {
            "type": "PUSH",
            "identifier": installation.push_registration_id,
            "sender": application.code,
            "personId": installation.person_id,
        },
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "identities"),
        ({"identities": []}, "identities"),
        ({"identities": [{"type": "EMAIL"}]}, "identities[0].identifier"),
        ({"identities": [{"type": "SMS", "identifier": "1"}]}, "identities[0].type"),
        ({"identities": ["jane"]}, "identities[0]"),
    ],
)
def test_a_malformed_match_request_is_a_400(read_client, body, field):
    exception = assert_vendor_error(read_client.post(MATCH, body, format="json"), 400)
    assert field in exception["validationErrors"], exception
