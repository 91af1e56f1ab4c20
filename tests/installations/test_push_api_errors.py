"""Every documented error of the push API through HTTP: every 400 in the vendor's
PushApiErrorResponse body {"errorCode", "errorMessage"} (its 48001/48012/48013 and the portal's
48100 and up, installations/api/push_errors.py), naming the field and the rule; the other
statuses in the requestError body; a 4xx, never a 500."""

import pytest

from core.models import ApiKeyRole
from installations.api.push_errors import PUSH_ERROR_CODES
from installations.models import Installation
from people.models import PersonType
from tests.factories import ApplicationFactory, InstallationFactory, PersonFactory
from tests.installations.push_support import api_client, assert_vendor_shape, push_url, send

OPERATIONS = [
    ("get", ""),
    ("patch", ""),
    ("post", "personalize"),
    ("post", "depersonalize"),
]


@pytest.fixture
def app(db):
    return ApplicationFactory(name="Shop", code="shop-app-code")


@pytest.fixture
def installation(app):
    return InstallationFactory(
        application=app,
        push_registration_id="8621824C-86B2-41F7-BF6F-20D3B1426005",
        os="Android",
        cloud_type="FCM",
        device_timezone_offset="GMT+03:00",
        additional_data={"receiveOTP": True, "theme": "dark", "launches": 3},
    )


@pytest.fixture
def automation(app):
    return api_client(app=app)


def service_exception(response) -> dict:
    assert_vendor_shape(response.json(), "ApiException")
    return response.json()["requestError"]["serviceException"]


def push_error(response, message_id: str | None = None) -> str:
    """The errorMessage of a 400 in the vendor's PushApiErrorResponse body (with the number of
    ``message_id`` when given)."""
    assert response.status_code == 400, (response.status_code, response.content[:500])
    body = response.json()
    assert_vendor_shape(body, "PushApiErrorResponse")
    assert set(body) == {"errorCode", "errorMessage"}, body
    assert body["errorMessage"]
    if message_id is not None:
        assert body["errorCode"] == PUSH_ERROR_CODES[message_id], body
    return body["errorMessage"]


@pytest.mark.parametrize(("method", "action"), OPERATIONS)
def test_a_request_without_the_appcode_header_is_48001(installation, method, action):
    client = api_client()
    response = send(client, method, push_url(installation.push_registration_id, action), {})
    assert response.status_code == 400
    assert response.json() == {"errorCode": 48001, "errorMessage": "Application code missing"}
    assert_vendor_shape(response.json(), "PushApiErrorResponse")


@pytest.mark.parametrize(("method", "action"), OPERATIONS)
def test_an_unknown_application_code_is_48012(installation, method, action):
    client = api_client()
    url = push_url(installation.push_registration_id, action)
    response = send(client, method, url, {}, HTTP_APPCODE="no-such-app")
    assert response.status_code == 400
    assert response.json() == {"errorCode": 48012, "errorMessage": "Push application not found"}


@pytest.mark.parametrize(("method", "action"), OPERATIONS)
def test_an_unknown_registration_is_48013(automation, method, action):
    response = send(automation, method, push_url("no-such-registration", action), {})
    assert response.status_code == 400
    assert response.json() == {"errorCode": 48013, "errorMessage": "Push registration not found"}


def test_a_registration_of_another_application_is_48013(installation):
    other = ApplicationFactory()
    response = api_client(app=other).get(push_url(installation.push_registration_id))
    assert response.status_code == 400
    assert response.json()["errorCode"] == 48013


def test_a_registration_id_with_a_nul_character_is_48013_not_a_server_error(automation):
    response = automation.get(push_url("abc%00def"))
    assert response.status_code == 400
    assert response.json()["errorCode"] == 48013


@pytest.mark.parametrize("authorization", [None, "App not-a-key", "App ", "Basic dXNlcjpwYXNz"])
def test_missing_or_wrong_credentials_are_401(installation, app, authorization):
    extra = {"HTTP_APPCODE": app.code}
    if authorization is not None:
        extra["HTTP_AUTHORIZATION"] = authorization
    from rest_framework.test import APIClient

    response = APIClient().get(push_url(installation.push_registration_id), **extra)
    assert response.status_code == 401
    assert service_exception(response)["messageId"] == "UNAUTHORIZED"


def test_credentials_are_checked_before_the_application_code(installation):
    from rest_framework.test import APIClient

    response = APIClient().get(push_url(installation.push_registration_id))
    assert response.status_code == 401


@pytest.mark.parametrize(("method", "action"), OPERATIONS[1:])
def test_a_read_key_reads_but_cannot_write(installation, app, method, action):
    reader = api_client(role=ApiKeyRole.READ, app=app)
    assert reader.get(push_url(installation.push_registration_id)).status_code == 200
    response = send(reader, method, push_url(installation.push_registration_id, action), {})
    assert response.status_code == 403
    assert service_exception(response)["messageId"] == "FORBIDDEN"


def test_the_registration_and_its_application_are_read_in_one_statement(installation, automation):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert automation.get(push_url(installation.push_registration_id)).status_code == 200
    reads = [q["sql"] for q in queries.captured_queries if "installations_application" in q["sql"]]
    assert len(reads) == 1, reads
    assert '"installations_installation"' in reads[0]  # the registration, joined


def test_get_returns_the_vendor_push_instance(installation, automation):
    response = automation.get(push_url(installation.push_registration_id))
    assert response.status_code == 200
    body = response.json()
    assert_vendor_shape(body, "PushApiInstance")
    assert body["registrationId"] == installation.push_registration_id
    assert body["applicationId"] == "shop-app-code"
    assert body["additionalData"] == {"receiveOTP": True, "theme": "dark", "launches": 3}
    assert body["systemData"]["os"] == "Android"
    assert body["systemData"]["cloudType"] == "GCM"  # stored FCM: the vendor's name is GCM
    assert body["systemData"]["deviceTimezoneOffset"] == "GMT+03:00"


def test_patch_changes_push_and_merges_additional_data(installation, automation):
    body = {
        "systemData": {"registrationEnabled": False},
        "additionalData": {"discountApplied": False, "theme": None, "score": 12.50},
    }
    response = send(automation, "patch", push_url(installation.push_registration_id), body)
    assert response.status_code == 200, response.json()
    assert_vendor_shape(response.json(), "PushApiInstance")
    assert response.json()["systemData"]["registrationEnabled"] is False
    assert response.json()["additionalData"] == {
        "receiveOTP": True,
        "launches": 3,
        "discountApplied": False,
        "score": 12.5,
    }
    installation.refresh_from_db()
    assert installation.registration_enabled is False
    event = installation.person.events.get()
    assert event.changes["registrationEnabled"] == {"before": True, "after": False}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"registrationId": "other"}, "registrationId"),
        ({"applicationId": "other"}, "applicationId"),
        ({"systemData": {"os": "iOS"}}, "systemData.os"),
        ({"systemData": {"deviceModel": "X"}}, "systemData.deviceModel"),
        ({"isPrmary": True}, "isPrmary"),  # the typo in reference 003's own example
        ({"systemData": {"colour": "red"}}, "systemData.colour"),
    ],
)
def test_patch_refuses_a_read_only_or_unknown_field_by_name(installation, automation, body, field):
    response = send(automation, "patch", push_url(installation.push_registration_id), body)
    message = push_error(response, "BAD_REQUEST")
    assert message.startswith(field)
    assert "read-only" in message or "not a" in message
    installation.refresh_from_db()
    assert installation.os == "Android"


@pytest.mark.parametrize(
    ("body", "field", "message_id"),
    [
        ({"isPrimary": "yes"}, "isPrimary", "REQUEST_FORMAT_INVALID"),
        ({"systemData": {"registrationEnabled": 1}}, "systemData.registrationEnabled", None),
        ({"systemData": []}, "systemData", "REQUEST_FORMAT_INVALID"),
        ({"additionalData": ["a"]}, "additionalData", "REQUEST_FORMAT_INVALID"),
        ({"additionalData": {"nested": {"a": 1}}}, "additionalData.nested", None),
        ({"additionalData": {"long": "x" * 4097}}, "additionalData.long", "BAD_REQUEST"),
        ({"additionalData": {"big": 9223372036854775808}}, "additionalData.big", "BAD_REQUEST"),
    ],
)
def test_patch_refuses_values_of_the_wrong_type(installation, automation, body, field, message_id):
    response = send(automation, "patch", push_url(installation.push_registration_id), body)
    assert field in push_error(response, message_id)


@pytest.mark.parametrize("text", ["a\u0000b", "\ud800"])
def test_text_no_database_can_store_is_a_400(installation, automation, text):
    body = {"additionalData": {"text": text}}
    response = send(automation, "patch", push_url(installation.push_registration_id), body)
    push_error(response)
    assert response.json()["errorCode"] in {
        PUSH_ERROR_CODES["BAD_REQUEST"],
        PUSH_ERROR_CODES["REQUEST_FORMAT_INVALID"],
    }
    installation.refresh_from_db()
    assert "text" not in installation.additional_data


@pytest.mark.parametrize("raw", ['{"isPrimary": tru', "[1, 2", "NaN", "\u00ff\u00fe"])
def test_malformed_json_is_a_400(installation, automation, raw):
    response = send(automation, "patch", push_url(installation.push_registration_id), raw)
    assert "JSON" in push_error(response, "BAD_REQUEST")


@pytest.mark.parametrize("body", [[], "text", 12, None])
def test_a_body_that_is_not_an_object_is_a_400(installation, automation, body):
    import json

    url = push_url(installation.push_registration_id, "personalize")
    response = send(automation, "post", url, json.dumps(body))
    push_error(response)
    assert response.json()["errorCode"] in {
        PUSH_ERROR_CODES["REQUEST_FORMAT_INVALID"],
        PUSH_ERROR_CODES["USER_IDENTITY_INVALID"],
    }


def test_a_body_that_is_not_json_is_a_415(installation, automation):
    response = automation.patch(
        push_url(installation.push_registration_id),
        data="isPrimary=true",
        content_type="text/plain",
    )
    assert response.status_code == 415
    assert service_exception(response)["messageId"] == "BAD_REQUEST"


@pytest.mark.parametrize(
    ("identity", "message_id"),
    [
        ({"phoneNumber": "12"}, "PHONE_INVALID"),
        ({"phoneNumber": 79810000000.5}, "PHONE_INVALID"),
        ({"email": "not-an-email"}, "EMAIL_INVALID"),
        ({}, "USER_IDENTITY_INVALID"),
        ({"externalId": "NULL"}, "USER_IDENTITY_INVALID"),
        ({"nickname": "jd"}, "USER_IDENTITY_INVALID"),
        ("jdoe", "USER_IDENTITY_INVALID"),
        (None, "USER_IDENTITY_INVALID"),
    ],
)
def test_personalize_refuses_an_invalid_identity(installation, automation, identity, message_id):
    url = push_url(installation.push_registration_id, "personalize")
    response = send(automation, "post", url, {"identity": identity})
    assert "identity" in push_error(response, message_id)


def test_personalize_with_identities_of_two_people_is_ambiguous(installation, automation):
    from people.history import Actor
    from people.services import person_add_email, person_add_phone

    phone_owner, email_owner = PersonFactory(), PersonFactory()
    person_add_phone(person=phone_owner, actor=Actor.system(), number="+385 1 6419 710")
    person_add_email(person=email_owner, actor=Actor.system(), address="jane@example.com")
    body = {"identity": {"phoneNumber": "38516419710", "email": "jane@example.com"}}
    url = push_url(installation.push_registration_id, "personalize")
    response = send(automation, "post", url, body)
    push_error(response, "AMBIGUOUS_PERSONALIZE_CANDIDATES")
    installation.refresh_from_db()
    assert installation.person.type == PersonType.LEAD


@pytest.mark.parametrize(
    ("attributes", "field"),
    [
        ({"tags": "Pizza"}, "attributes.tags"),
        ({"tags": [1]}, "attributes.tags"),
        ({"gender": "X"}, "gender"),
        ({"birthday": "12/07/1985"}, "birthDate"),
        ({"customAttributes": {"Undefined": 1}}, "customAttributes.Undefined"),
        ({"externalId": "jdoe"}, "attributes.externalId"),
        ({"firstName": 12}, "firstName"),
    ],
)
def test_personalize_refuses_invalid_attributes_by_name(
    installation, automation, attributes, field
):
    url = push_url(installation.push_registration_id, "personalize")
    body = {"identity": {"externalId": "jdoe"}, "attributes": attributes}
    response = send(automation, "post", url, body)
    assert field in push_error(response)
    assert not Installation.objects.filter(person__external_id="jdoe").exists()


@pytest.mark.parametrize("flag", ["forceDepersonalize", "keepAsLead", "returnPush"])
def test_a_query_flag_that_is_not_a_boolean_is_a_400(installation, automation, flag):
    url = push_url(installation.push_registration_id, "personalize") + f"?{flag}=maybe"
    response = send(automation, "post", url, {"identity": {"externalId": "jdoe"}})
    message = push_error(response, "BAD_REQUEST")
    assert message.startswith(f"{flag}: ")
    assert "boolean" in message


def test_personalize_refuses_an_unknown_top_level_field(installation, automation):
    url = push_url(installation.push_registration_id, "personalize")
    body = {"identity": {"externalId": "jdoe"}, "attribute": {"firstName": "J"}}
    response = send(automation, "post", url, body)
    message = push_error(response, "BAD_REQUEST")
    assert message.startswith("attribute is not a field of a personalize request")


def test_an_unsupported_method_is_a_405_before_the_application_code_is_read(installation):
    response = api_client().put(push_url(installation.push_registration_id))
    assert response.status_code == 405
    assert service_exception(response)["messageId"] == "BAD_REQUEST"


def test_a_nul_character_in_a_query_parameter_is_a_push_error_naming_it(installation, automation):
    url = push_url(installation.push_registration_id, "personalize") + "?keepAsLead=%00"
    response = send(automation, "post", url, {"identity": {"externalId": "jdoe"}})
    message = push_error(response, "BAD_REQUEST")
    assert "keepAsLead" in message and "NUL" in message


def test_too_many_query_parameters_are_a_push_error_naming_the_limit(installation, automation):
    from django.conf import settings

    count = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1
    query = "&".join(f"f{n}=x" for n in range(count))
    response = automation.get(push_url(installation.push_registration_id) + "?" + query)
    assert "DATA_UPLOAD_MAX_NUMBER_FIELDS" in push_error(response, "BAD_REQUEST")


def test_the_people_api_keeps_its_own_error_body_for_the_same_refusals(manage_client):
    response = manage_client.get("/people/2/persons?externalId=%00")
    assert response.status_code == 400
    assert "requestError" in response.json()


def test_every_error_code_that_answers_400_has_its_own_push_number():
    from core.api.errors import DOMAIN_STATUS
    from core.errors import ErrorCode

    codes = {value for name, value in vars(ErrorCode).items() if name.isupper()}
    answered_as_400 = {code for code in codes if code not in DOMAIN_STATUS}
    assert answered_as_400 <= set(PUSH_ERROR_CODES)
    numbers = [n for code, n in PUSH_ERROR_CODES.items() if code != ErrorCode.NO_REGISTRATION]
    assert len(set(numbers)) == len(numbers)
    assert not {48001, 48012, 48013} & set(numbers)  # the vendor's keep their meaning
    assert PUSH_ERROR_CODES[ErrorCode.NO_REGISTRATION] == 48013


def test_a_registration_removed_while_a_service_ran_is_48013():
    """The service's NO_REGISTRATION (the installation was uninstalled between the view's
    lookup and the service's lock) is the vendor's 48013, not a 404."""
    from core.errors import DomainError, ErrorCode
    from installations.api.push_errors import push_exception_handler

    error = DomainError(ErrorCode.NO_REGISTRATION, "The installation was removed.")
    response = push_exception_handler(error, {})
    assert response.status_code == 400
    assert response.data == {"errorCode": 48013, "errorMessage": "Push registration not found"}


def test_the_openapi_document_gives_the_push_error_body_as_every_400(client):
    document = client.get("/api/schema/", {"format": "json"}).json()
    schemas = document["components"]["schemas"]
    assert schemas["PushApiErrorResponse"]["required"] == ["errorCode", "errorMessage"]
    operations = [
        operation
        for path, item in document["paths"].items()
        if path.startswith("/people/2/contactInformation/push/")
        for operation in item.values()
    ]
    assert len(operations) == 4
    for operation in operations:
        content = operation["responses"]["400"]["content"]["application/json"]
        assert content["schema"] == {"$ref": "#/components/schemas/PushApiErrorResponse"}
