"""The device-facing API (/mobile/1/appinstance): what the vendor's mobile SDK calls."""

import pytest
from rest_framework.test import APIClient

from core.models import ApiKeyRole
from installations.models import Installation
from people.models import ActorKind, EventKind, Person, PersonType, Source
from tests.factories import ApplicationFactory, InstallationFactory
from tests.installations.push_support import api_client, device_client, device_url, send

SDK_INSTANCE = {
    "regEnabled": True,
    "notificationsEnabled": True,
    "geoEnabled": False,
    "sdkVersion": "12.6.1",
    "appVersion": "1.16.0",
    "os": "Android",
    "osVersion": "14",
    "deviceManufacturer": "HUAWEI",
    "deviceModel": "ANE-LX1",
    "deviceSecure": True,
    "language": "en",
    "deviceTimezoneOffset": "GMT+03:00",
    "deviceName": "Ana's phone",
    "pushServiceType": "Firebase",
    "pushServiceToken": "fcm-token",
    "customAttributes": {"receiveOTP": True},
}


@pytest.fixture
def app(db):
    return ApplicationFactory(name="Shop", code="shop-app-code")


@pytest.fixture
def device(app):
    return device_client(app)


def register(device, **fields):
    response = send(device, "post", device_url(), {**SDK_INSTANCE, **fields})
    assert response.status_code in (200, 201), response.json()
    return response


def error(response) -> dict:
    return response.json()["requestError"]["serviceException"]


def test_registering_creates_an_installation_on_a_fresh_anonymous_lead(app, device):
    response = register(device)
    assert response.status_code == 201
    body = response.json()
    assert body["pushRegId"]  # generated
    assert body["applicationCode"] == app.code
    assert body["language"] == "en"
    assert body["customAttributes"] == {"receiveOTP": True}
    installation = Installation.objects.get(push_registration_id=body["pushRegId"])
    assert installation.os_language == "en"
    assert installation.cloud_type == "Firebase"
    assert installation.device_name == "Ana's phone"
    person = installation.person
    assert person.type == PersonType.LEAD
    assert not person.external_id and not person.identities.exists()
    event = person.events.get()
    assert event.kind == EventKind.INSTALL
    assert (event.actor_kind, event.source) == (ActorKind.DEVICE, Source.DEVICE)
    assert event.actor_label == f"Device of app {app.code}"


def test_registering_the_same_push_registration_again_updates_it(device):
    first = register(device, pushRegId="device-1")
    again = register(device, pushRegId="device-1", appVersion="1.17.0")
    assert (first.status_code, again.status_code) == (201, 200)
    assert Installation.objects.filter(push_registration_id="device-1").count() == 1
    installation = Installation.objects.get(push_registration_id="device-1")
    assert installation.app_version == "1.17.0"
    assert Person.objects.count() == 1


def test_a_registration_of_another_application_cannot_be_taken_over(device):
    register(device, pushRegId="device-1")
    other = device_client(ApplicationFactory())
    response = send(other, "post", device_url(), {"pushRegId": "device-1"})
    assert response.status_code == 400
    assert error(response)["validationErrors"] == {"pushRegId": [error(response)["text"]]}


def test_get_and_patch_with_sdk_names(device):
    push_id = register(device).json()["pushRegId"]
    response = device.get(device_url(push_id))
    assert response.status_code == 200
    assert response.json()["deviceModel"] == "ANE-LX1"
    body = {"language": "de", "regEnabled": False, "customAttributes": {"receiveOTP": None}}
    response = send(device, "patch", device_url(push_id), body)
    assert response.status_code == 200, response.json()
    assert response.json()["language"] == "de"
    assert response.json()["regEnabled"] is False
    assert response.json()["customAttributes"] == {}
    installation = Installation.objects.get(push_registration_id=push_id)
    assert (installation.os_language, installation.registration_enabled) == ("de", False)
    event = installation.person.events.order_by("-id").first()
    assert event.changes["osLanguage"] == {"before": "en", "after": "de"}
    assert event.source == Source.DEVICE


def test_is_primary_from_a_device_keeps_one_primary_per_person(app, device):
    person = Person.objects.create(type=PersonType.CUSTOMER, external_id="jdoe")
    first = InstallationFactory(application=app, person=person, is_primary=True)
    second = InstallationFactory(application=app, person=person)
    response = send(device, "patch", device_url(second.push_registration_id), {"isPrimary": True})
    assert response.status_code == 200, response.json()
    primaries = person.installations.filter(is_primary=True)
    assert list(primaries.values_list("pk", flat=True)) == [second.pk]
    first.refresh_from_db()
    assert first.is_primary is False


def test_personalize_and_depersonalize_from_the_device(device):
    push_id = register(device).json()["pushRegId"]
    body = {
        "userIdentity": {"externalUserId": "jdoe", "phones": ["+7 981 000-00-00"]},
        "userAttributes": {"firstName": "John", "gender": "Male", "birthday": "1985-07-12"},
    }
    url = device_url(push_id, "personalize") + "?returnPush=true"
    response = send(device, "post", url, body)
    assert response.status_code == 200, response.json()
    user = response.json()
    assert user["externalUserId"] == "jdoe"
    assert user["phones"] == [{"number": "79810000000"}]
    assert (user["gender"], user["birthday"], user["type"]) == ("Male", "1985-07-12", "CUSTOMER")
    assert [i["pushRegId"] for i in user["instances"]] == [push_id]
    person = Person.objects.get(external_id="jdoe")
    assert person.events.filter(kind=EventKind.PERSONALIZE, source=Source.DEVICE).exists()

    response = send(device, "post", device_url(push_id, "depersonalize"))
    assert response.status_code == 200
    assert response.json()["pushRegId"] == push_id
    installation = Installation.objects.get(push_registration_id=push_id)
    assert installation.person.type == PersonType.LEAD
    assert installation.person_id != person.pk
    assert person.events.filter(kind=EventKind.DEPERSONALIZE).exists()


def test_personalizing_a_personalized_device_with_another_identity_needs_force(device):
    push_id = register(device).json()["pushRegId"]
    url = device_url(push_id, "personalize")
    send(device, "post", url, {"userIdentity": {"externalUserId": "jdoe"}})
    other = {"userIdentity": {"emails": ["ana@example.com"]}}
    response = send(device, "post", url, other)
    assert response.status_code == 400
    assert error(response)["messageId"] == "PERSONALIZATION_IMPOSSIBLE"
    response = send(device, "post", url + "?forceDepersonalize=true", other)
    assert response.status_code == 200
    assert response.json()["emails"] == [{"address": "ana@example.com"}]


def test_uninstall_removes_the_installation_and_leaves_an_uninstall_event(device):
    push_id = register(device).json()["pushRegId"]
    person = Installation.objects.get(push_registration_id=push_id).person
    response = device.delete(device_url(push_id))
    assert response.status_code == 204
    assert not Installation.objects.filter(push_registration_id=push_id).exists()
    event = person.events.order_by("-id").first()
    assert (event.kind, event.push_registration_id) == (EventKind.UNINSTALL, push_id)
    assert device.get(device_url(push_id)).status_code == 404


@pytest.mark.parametrize(
    "authorization", [None, "App unknown-app", "App ", "Bearer shop-app-code", "App"]
)
def test_a_device_without_a_known_application_code_is_401(app, authorization):
    client = APIClient()
    if authorization is not None:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    response = send(client, "post", device_url(), {})
    assert response.status_code == 401
    assert error(response)["messageId"] == "UNAUTHORIZED"
    assert not Installation.objects.exists()


def test_an_api_key_is_not_an_application_code(app):
    response = send(api_client(role=ApiKeyRole.MANAGE), "post", device_url(), {})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("method", "action"),
    [
        ("get", ""),
        ("patch", ""),
        ("delete", ""),
        ("post", "personalize"),
        ("post", "depersonalize"),
    ],
)
def test_an_installation_of_another_application_is_not_found(app, device, method, action):
    foreign = InstallationFactory(application=ApplicationFactory())
    response = send(device, method, device_url(foreign.push_registration_id, action), {})
    assert response.status_code == 404
    assert error(response)["messageId"] == "NO_REGISTRATION"
    assert Installation.objects.filter(pk=foreign.pk).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"regEnabled": "yes"}, "regEnabled"),
        ({"language": 5}, "language"),
        ({"pushServiceType": False}, "pushServiceType"),
        ({"deviceModel": "x" * 129}, "deviceModel"),
        ({"customAttributes": ["a"]}, "customAttributes"),
        ({"customAttributes": {"deep": {"a": 1}}}, "customAttributes.deep"),
        ({"isPrimary": "yes"}, "isPrimary"),
        ({"pushRegId": 12}, "pushRegId"),
        ({"pushRegId": "x" * 256}, "pushRegId"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_registration_refuses_a_wrong_value_naming_the_sdk_field(device, body, field):
    response = send(device, "post", device_url(), body)
    assert response.status_code == 400
    assert field in error(response)["validationErrors"]
    assert field.split(".")[-1] in error(response)["text"]
    assert not Installation.objects.exists()


def test_patch_cannot_change_the_push_registration_id(device):
    push_id = register(device).json()["pushRegId"]
    response = send(device, "patch", device_url(push_id), {"pushRegId": "another"})
    assert response.status_code == 400
    assert "pushRegId" in error(response)["validationErrors"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"userIdentity": {"phones": ["12"]}}, "userIdentity.phoneNumber"),
        ({"userIdentity": {"emails": ["nope"]}}, "userIdentity.email"),
        ({"userIdentity": {}}, "userIdentity"),
        ({"identity": {"externalUserId": "jdoe"}}, "identity"),
        ({"userIdentity": {"externalUserId": "jdoe"}, "userAttributes": []}, "userAttributes"),
    ],
)
def test_personalize_errors_name_the_sdk_field(device, body, field):
    push_id = register(device).json()["pushRegId"]
    response = send(device, "post", device_url(push_id, "personalize"), body)
    assert response.status_code == 400
    assert field in error(response)["validationErrors"]


def test_malformed_json_from_a_device_is_a_400(device):
    response = send(device, "post", device_url(), '{"os": "Android",')
    assert response.status_code == 400
    assert error(response)["messageId"] == "BAD_REQUEST"
    assert not Installation.objects.exists()
