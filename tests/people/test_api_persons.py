"""/people/2/persons: get one, list, create, replace, update, delete."""

from __future__ import annotations

import pytest
from django.db import connection

from people.models import AttributeDefinition, DataType, Event, Person, PersonType, Source
from people.services import person_create
from tests.factories import InstallationFactory
from tests.vendor_api import assert_vendor_error, assert_vendor_list, assert_vendor_response

pytestmark = pytest.mark.django_db
PERSONS = "/people/2/persons"


@pytest.fixture
def definitions(db):
    AttributeDefinition.objects.create(name="Company", data_type=DataType.STRING)
    AttributeDefinition.objects.create(name="Age", data_type=DataType.INTEGER)
    AttributeDefinition.objects.create(name="Balance", data_type=DataType.DECIMAL)
    AttributeDefinition.objects.create(name="Vip", data_type=DataType.BOOLEAN)
    AttributeDefinition.objects.create(name="Contract Expiry", data_type=DataType.DATE)
    AttributeDefinition.objects.create(
        name="Cart",
        data_type=DataType.LIST_OF_OBJECTS,
        object_schema={"product": DataType.STRING, "price": DataType.DECIMAL},
    )


JANE = {
    "externalId": "crm-1001",
    "firstName": "Jane",
    "lastName": "Smith",
    "middleName": "Janie",
    "gender": "FEMALE",
    "birthDate": "1966-01-15",
    "address": "67 Farringdon Road",
    "city": "London",
    "country": "United Kingdom",
    "preferredLanguage": "en-GB",
    "profilePicture": "https://profile.example.com/jane.png",
    "tags": ["New Customers", "VIP Customers"],
    "customAttributes": {
        "Company": "Acme",
        "Age": 58,
        "Balance": 12.50,
        "Vip": True,
        "Contract Expiry": "2027-06-01",
        "Cart": [{"product": "Sneakers", "price": 25.33}],
    },
    "contactInformation": {
        "phone": [{"number": "41793026727"}],
        "email": [{"address": "jane.smith@acme.example"}],
    },
}


def create_jane(client) -> dict:
    response = client.post(PERSONS, JANE, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_it_creates_a_person_with_every_field_and_returns_it(manage_client, definitions):
    response = manage_client.post(PERSONS, JANE, format="json")

    body = assert_vendor_response(response, PERSONS, "post")
    assert body["type"] == "CUSTOMER"
    for name, value in JANE.items():
        if name != "contactInformation":
            assert body[name] == value, name
    assert body["contactInformation"]["phone"] == [{"number": "41793026727"}]
    assert body["contactInformation"]["email"] == [{"address": "jane.smith@acme.example"}]
    assert body["contactInformation"]["push"] == []
    assert body["origin"] == "API"
    assert len(body["createdAt"]) == 19 and body["createdAt"][10] == "T"


def test_decimals_keep_every_digit_on_the_way_out(manage_client, definitions):
    manage_client.post(
        PERSONS, {"customAttributes": {"Balance": "placeholder"}}, format="json"
    )  # refused (a string), shown below to have written nothing
    response = manage_client.generic(
        "POST",
        PERSONS,
        '{"externalId": "d-1", "customAttributes": {"Balance": 12345678901234.50}}',
        content_type="application/json",
    )
    assert response.status_code == 200
    assert b'"Balance":12345678901234.50' in response.content
    assert Person.objects.count() == 1


def test_a_created_person_without_type_is_a_customer_and_a_lead_can_be_asked_for(manage_client):
    lead = manage_client.post(PERSONS, {"type": "LEAD"}, format="json").json()
    customer = manage_client.post(PERSONS, {}, format="json").json()
    assert lead["type"] == PersonType.LEAD
    assert customer["type"] == PersonType.CUSTOMER


def test_the_create_is_recorded_with_the_api_key_as_actor_and_api_as_source(manage_client):
    body = manage_client.post(PERSONS, {"firstName": "Ann"}, format="json").json()
    event = Event.objects.get(person_id=body["id"])
    assert event.actor_label == "API key crm-sync"
    assert event.source == Source.API


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("type=EXTERNAL_ID&identifier=crm-1001", "crm-1001"),
        ("type=PHONE&identifier=%2B41 79 302 67 27", "crm-1001"),
        ("type=EMAIL&identifier=Jane.Smith@ACME.example", "crm-1001"),
        ("externalId=crm-1001", "crm-1001"),
        ("phone=41793026727", "crm-1001"),
        ("email=jane.smith@acme.example", "crm-1001"),
    ],
)
def test_it_finds_one_person_by_each_kind_of_identifier(
    manage_client, definitions, query, expected
):
    create_jane(manage_client)
    response = manage_client.get(f"{PERSONS}?{query}")
    body = assert_vendor_response(response, PERSONS, "get")
    assert body["externalId"] == expected


def test_it_finds_a_person_by_id(read_client, manage_client):
    created = manage_client.post(PERSONS, {"firstName": "Ida"}, format="json").json()
    response = read_client.get(PERSONS, {"type": "ID", "identifier": str(created["id"])})
    assert assert_vendor_response(response, PERSONS, "get")["firstName"] == "Ida"


def test_it_finds_a_person_by_push_registration_with_the_application_code(read_client, application):
    installation = InstallationFactory(application=application, is_primary=True)
    response = read_client.get(
        PERSONS,
        {
            "type": "PUSH",
            "identifier": installation.push_registration_id,
            "sender": application.code,
        },
    )
    body = assert_vendor_response(response, PERSONS, "get")
    assert body["id"] == installation.person_id
    assert body["type"] == "LEAD"
    (push,) = body["contactInformation"]["push"]
    assert push["registrationId"] == installation.push_registration_id
    assert push["applicationId"] == application.code
    assert push["isPrimary"] is True
    assert push["systemData"]["os"] == "Android"
    assert push["additionalData"] == {}
    legacy = read_client.get(PERSONS, {"pushRegistrationId": installation.push_registration_id})
    assert legacy.json()["id"] == installation.person_id


def test_a_push_registration_of_another_application_names_nobody(read_client, application):
    installation = InstallationFactory(application=application)
    response = read_client.get(
        PERSONS,
        {"type": "PUSH", "identifier": installation.push_registration_id, "sender": "other-app"},
    )
    assert_vendor_error(response, 404, "NOT_FOUND")


def test_an_unknown_person_is_a_404_in_the_vendor_body(read_client):
    response = read_client.get(PERSONS, {"type": "EXTERNAL_ID", "identifier": "nobody"})
    assert_vendor_error(response, 404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"type": "FACEBOOK", "identifier": "1"}, "type"),
        ({"type": "NOPE", "identifier": "1"}, "type"),
        ({"type": "PHONE"}, "identifier"),
        ({"identifier": "41793026727"}, "type"),
        ({"type": "PUSH", "identifier": "abc"}, "sender"),
        ({"type": "ID", "identifier": "twelve"}, "identifier"),
    ],
)
def test_a_malformed_identifier_query_is_a_400_naming_the_parameter(read_client, params, field):
    exception = assert_vendor_error(read_client.get(PERSONS, params), 400, "BAD_REQUEST")
    assert field in exception["validationErrors"]


def test_an_invalid_phone_identifier_is_phone_invalid(read_client):
    response = read_client.get(PERSONS, {"type": "PHONE", "identifier": "12"})
    assert_vendor_error(response, 400, "PHONE_INVALID")


def test_an_invalid_email_identifier_is_email_invalid(read_client):
    response = read_client.get(PERSONS, {"type": "EMAIL", "identifier": "not-an-email"})
    assert_vendor_error(response, 400, "EMAIL_INVALID")


def test_a_put_replaces_the_person_and_a_get_returns_what_was_put(manage_client, definitions):
    create_jane(manage_client)
    replacement = {
        "externalId": "crm-1001",
        "firstName": "Janet",
        "type": "LEAD",
        "tags": ["Returning"],
        "customAttributes": {"Age": 59, "Cart": [{"product": "Cap", "price": 11.33}]},
        "contactInformation": {"email": [{"address": "janet@acme.example"}]},
    }
    response = manage_client.put(
        f"{PERSONS}?type=EXTERNAL_ID&identifier=crm-1001", replacement, format="json"
    )
    put_body = assert_vendor_response(response, PERSONS, "put")
    got = manage_client.get(PERSONS, {"type": "EXTERNAL_ID", "identifier": "crm-1001"}).json()

    assert got == put_body
    for name, value in replacement.items():
        if name != "contactInformation":
            assert got[name] == value, name
    assert got["contactInformation"]["email"] == [{"address": "janet@acme.example"}]
    assert got["contactInformation"]["phone"] == []
    for cleared in ("lastName", "middleName", "gender", "birthDate", "address", "city"):
        assert cleared not in got


def test_a_put_of_a_get_body_changes_nothing(manage_client, definitions):
    body = create_jane(manage_client)
    response = manage_client.put(f"{PERSONS}?type=ID&identifier={body['id']}", body, format="json")
    after = response.json()
    assert {k: v for k, v in after.items() if k != "modifiedAt"} == {
        k: v for k, v in body.items() if k != "modifiedAt"
    }
    assert Person.objects.get(pk=body["id"]).version == 1


def test_a_patch_merges_and_never_drops_data_it_did_not_name(manage_client, definitions):
    before = create_jane(manage_client)
    patch = {
        "lastName": "Smith-Jones",
        "tags": ["Returning"],
        "customAttributes": {"Age": 59, "Vip": None},
        "contactInformation": {"phone": [{"number": "+385 1 6419 710"}]},
    }
    response = manage_client.patch(
        f"{PERSONS}?type=EMAIL&identifier=jane.smith@acme.example", patch, format="json"
    )
    after = assert_vendor_response(response, PERSONS, "patch")

    assert after["lastName"] == "Smith-Jones"
    assert after["firstName"] == before["firstName"]
    assert after["birthDate"] == before["birthDate"]
    assert after["tags"] == ["New Customers", "Returning", "VIP Customers"]
    expected_attributes = {**before["customAttributes"], "Age": 59}
    del expected_attributes["Vip"]
    assert after["customAttributes"] == expected_attributes
    assert after["contactInformation"]["phone"] == [
        {"number": "41793026727"},
        {"number": "38516419710"},
    ]
    assert after["contactInformation"]["email"] == before["contactInformation"]["email"]


def test_a_patch_with_an_empty_body_changes_nothing(manage_client, definitions):
    before = create_jane(manage_client)
    after = manage_client.patch(f"{PERSONS}?externalId=crm-1001", {}, format="json").json()
    assert after == before


def test_delete_removes_the_person_and_frees_its_installations(manage_client, application):
    installation = InstallationFactory(application=application)
    person_id = installation.person_id
    response = manage_client.delete(f"{PERSONS}?type=ID&identifier={person_id}")
    assert response.status_code == 200
    assert not Person.objects.filter(pk=person_id).exists()
    installation.refresh_from_db()
    assert installation.person_id != person_id
    assert_vendor_error(manage_client.delete(f"{PERSONS}?type=ID&identifier={person_id}"), 404)


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_writes_without_an_identifier_are_a_400(manage_client, method):
    response = getattr(manage_client, method)(PERSONS, {}, format="json")
    exception = assert_vendor_error(response, 400, "BAD_REQUEST")
    assert "identifier" in exception["validationErrors"]


@pytest.mark.parametrize(
    ("body", "message_id", "field"),
    [
        ({"firstName": 12}, "REQUEST_FORMAT_INVALID", "firstName"),
        ({"tags": "VIP"}, "REQUEST_FORMAT_INVALID", "tags"),
        ({"tags": [1]}, "REQUEST_FORMAT_INVALID", "tags.0"),
        ({"customAttributes": []}, "REQUEST_FORMAT_INVALID", "customAttributes"),
        (
            {"contactInformation": {"phone": "1"}},
            "REQUEST_FORMAT_INVALID",
            "contactInformation.phone",
        ),
        ({"gender": "OTHER"}, "BAD_REQUEST", "gender"),
        ({"type": "PARTNER"}, "BAD_REQUEST", "type"),
        ({"firstName": "x" * 256}, "BAD_REQUEST", "firstName"),
        ({"middleName": "x" * 51}, "BAD_REQUEST", "middleName"),
        ({"externalId": "x" * 257}, "BAD_REQUEST", "externalId"),
        ({"birthDate": "2999-01-01"}, "BAD_REQUEST", "birthDate"),
        ({"birthDate": "15.01.1966"}, "REQUEST_FORMAT_INVALID", "birthDate"),
        ({"preferredLanguage": "english"}, "BAD_REQUEST", "preferredLanguage"),
        ({"customAttributes": {"Undefined": 1}}, "BAD_REQUEST", "customAttributes.Undefined"),
        ({"customAttributes": {"Age": "old"}}, "REQUEST_FORMAT_INVALID", "customAttributes.Age"),
        ({"contactInformation": {"phone": [{"number": "123"}]}}, "PHONE_INVALID", None),
        ({"contactInformation": {"email": [{"address": "a@"}]}}, "EMAIL_INVALID", None),
    ],
)
def test_a_bad_body_is_a_400_naming_the_field_and_writes_nothing(
    manage_client, definitions, body, message_id, field
):
    exception = assert_vendor_error(
        manage_client.post(PERSONS, body, format="json"), 400, message_id
    )
    if field:
        assert field in exception["validationErrors"], exception
    assert Person.objects.count() == 0


def test_malformed_json_is_a_400(manage_client):
    response = manage_client.generic("POST", PERSONS, "{not json", content_type="application/json")
    assert_vendor_error(response, 400, "BAD_REQUEST")


def test_a_body_that_is_not_an_object_is_a_400(manage_client):
    response = manage_client.post(PERSONS, [1, 2], format="json")
    assert_vendor_error(response, 400, "REQUEST_FORMAT_INVALID")


def test_text_with_a_nul_character_is_a_400_not_a_database_error(manage_client):
    response = manage_client.post(PERSONS, {"firstName": "A\u0000B"}, format="json")
    assert_vendor_error(response, 400, "BAD_REQUEST")
    response = manage_client.get(PERSONS, {"type": "EXTERNAL_ID", "identifier": "a\x00b"})
    assert_vendor_error(response, 400, "BAD_REQUEST")


def test_an_identity_of_another_person_is_user_merge_interrupted(manage_client, definitions):
    jane = create_jane(manage_client)
    response = manage_client.post(
        PERSONS, {"contactInformation": {"phone": [{"number": "41793026727"}]}}, format="json"
    )
    exception = assert_vendor_error(response, 400, "USER_MERGE_INTERRUPTED")
    assert str(jane["id"]) in exception["text"]


def test_a_read_key_may_read_but_not_write(read_client, system_actor):
    person = person_create(actor=system_actor, fields={"externalId": "r-1"})
    assert read_client.get(PERSONS, {"externalId": "r-1"}).status_code == 200
    assert_vendor_error(read_client.post(PERSONS, {}, format="json"), 403, "FORBIDDEN")
    assert_vendor_error(
        read_client.delete(f"{PERSONS}?type=ID&identifier={person.pk}"), 403, "FORBIDDEN"
    )


def test_requests_without_credentials_are_a_401(client):
    assert_vendor_error(client.get(PERSONS), 401, "UNAUTHORIZED")


def test_a_revoked_key_is_a_401(db):
    from rest_framework.test import APIClient

    from core.models import ApiKey

    key, raw = ApiKey.issue(name="old", role="manage")
    key.revoke()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"App {raw}")
    assert_vendor_error(client.get(PERSONS), 401, "UNAUTHORIZED")


def test_a_signed_in_editor_may_write_with_the_session_and_a_csrf_token(editor):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(editor)
    refused = client.post(PERSONS, {"firstName": "Eve"}, format="json")
    assert_vendor_error(refused, 403, "FORBIDDEN")
    token = "k" * 32  # a CSRF secret, sent as the cookie and the header alike
    client.cookies["csrftoken"] = token
    response = client.post(PERSONS, {"firstName": "Eve"}, format="json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200
    event = Event.objects.get(person_id=response.json()["id"])
    assert event.actor_label == editor.username and event.source == Source.API


def test_a_signed_in_editor_may_not_delete_people(editor, system_actor):
    from rest_framework.test import APIClient

    person = person_create(actor=system_actor, fields={"externalId": "keep-me"})
    client = APIClient()
    client.force_login(editor)
    assert_vendor_error(client.delete(f"{PERSONS}?externalId=keep-me"), 403)
    assert Person.objects.filter(pk=person.pk).exists()


def test_the_list_is_paged_ordered_and_counted_when_asked(read_client, system_actor):
    for name in ["Cleo", "Abe", "Bea"]:
        person_create(actor=system_actor, fields={"firstName": name})
    response = read_client.get(
        PERSONS, {"limit": 2, "page": 1, "orderBy": "firstName:asc", "includeTotalCount": "true"}
    )
    body = assert_vendor_list(response, "persons", "IamPersonV2")
    assert [p["firstName"] for p in body["persons"]] == ["Abe", "Bea"]
    assert body["limit"] == 2 and body["page"] == 1 and body["totalCount"] == 3
    assert body["orderBy"] == "firstName:asc"
    second = read_client.get(PERSONS, {"limit": 2, "page": 2, "orderBy": "firstName:asc"}).json()
    assert [p["firstName"] for p in second["persons"]] == ["Cleo"]
    assert "totalCount" not in second


def test_the_list_defaults_to_twenty_newest_first(read_client, system_actor):
    people = [person_create(actor=system_actor, fields={"firstName": f"P{i}"}) for i in range(22)]
    body = read_client.get(PERSONS).json()
    assert body["limit"] == 20 and body["page"] == 1 and body["orderBy"] == "createdAt:desc"
    assert [p["id"] for p in body["persons"]] == [p.pk for p in reversed(people)][:20]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"page": 0}, "page"),
        ({"includeTotalCount": "perhaps"}, "includeTotalCount"),
        ({"orderBy": "email:asc"}, "orderBy"),
        ({"orderBy": "firstName:up"}, "orderBy"),
        ({"filter": "{oops"}, "filter"),
    ],
)
def test_bad_list_parameters_are_a_400_naming_the_parameter(read_client, params, field):
    exception = assert_vendor_error(read_client.get(PERSONS, params), 400, "BAD_REQUEST")
    assert field in exception["validationErrors"], exception


def test_a_page_of_people_takes_a_fixed_number_of_queries(
    read_client, system_actor, application, django_assert_max_num_queries
):
    AttributeDefinition.objects.create(name="Age", data_type=DataType.INTEGER)
    for index in range(15):
        person = person_create(
            actor=system_actor,
            fields={"firstName": f"P{index}"},
            tags=["A", f"T{index}"],
            phones=[f"4179302{index:04d}"],
            custom_attributes={"Age": index},
        )
        InstallationFactory(application=application, person=person)
    # key lookup + last use, the page's ids, then the people (on PostgreSQL with their
    # identities, tags, installations and values in the same statement; elsewhere four
    # prefetches), the count
    with django_assert_max_num_queries(5 if connection.vendor == "postgresql" else 9):
        body = read_client.get(PERSONS, {"includeTotalCount": "true"}).json()
    assert len(body["persons"]) == 15
    assert all(p["contactInformation"]["push"] for p in body["persons"])
