"""The device API's user paths, replayed exactly as the vendor's mobile SDKs send them.

Android is infobip/mobile-messaging-sdk-android at 15.0.0, iOS infobip/mobile-messaging-sdk-ios
at 15.5.2. Each test names the SDK source it follows (paths at those tags); the answers are read
the way the SDK reads them: Android's DefaultApiClient reads an error's
requestError.serviceException (messageId, text) and, for the calls declared ``void``, only the
status; iOS's MMUser(json:) and MMInstallation(json:) read the user and its ``instances``.

Paths cited in short: ANDROID_API is
infobip-mobile-messaging-api-java/src/main/java/org/infobip/mobile/messaging/api, ANDROID_SDK is
infobip-mobile-messaging-android-sdk/src/main/java/org/infobip/mobile/messaging, IOS is
Classes/MobileMessaging/Core.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client

from core.models import ApiKeyRole
from installations.models import Installation
from people.models import (
    ActorKind,
    CustomEventDefinition,
    DataType,
    EventKind,
    IdentityKind,
    Origin,
    Person,
    Source,
)
from tests.factories import ApplicationFactory, DefinitionFactory, InstallationFactory
from tests.installations.push_support import api_client

ANDROID_SYSTEM_DATA = {
    # InstallationMapper.toBackend: what UserEventsSynchronizer sends as a session's systemData
    # (Gson without nulls).
    "regEnabled": True,
    "notificationsEnabled": True,
    "sdkVersion": "15.0.0",
    "appVersion": "2.4.0",
    "os": "Android",
    "osVersion": "14",
    "deviceManufacturer": "Google",
    "deviceModel": "Pixel 8",
    "deviceSecure": True,
    "language": "en",
    "deviceTimezoneOffset": "GMT+02:00",
    "deviceName": "Pixel 8",
    "isPrimary": False,
    "pushServiceType": "Firebase",
    "pushServiceToken": "fcm-token-1",
}
IOS_SYSTEM_DATA = {
    # MMUserAgent.swift SystemData.requestPayload, with the In-app chat module's flag
    # (mm_applySubservicesSystemData).
    "sdkVersion": "15.5.2",
    "pushServiceType": "APNS",
    "os": "iOS",
    "osVersion": "18.1",
    "deviceManufacturer": "Apple",
    "notificationsEnabled": True,
    "deviceModel": "iPhone15,2",
    "appVersion": "3.0.1",
    "deviceSecure": True,
    "language": "en-GB",
    "deviceName": "Ana's iPhone",
    "deviceTimezoneOffset": "+01:00",
    "inappchat": True,
}


class Android:
    """DefaultApiClient.executeHTTP: Authorization (the App code, or the accessToken header
    MobileApiUserData passes), Accept and User-Agent on every request; a body as JSON with a
    Content-Type; PATCH sent as POST with X-HTTP-Method-Override: PATCH and serialized with
    its nulls; query values as written by appendValue (true/false)."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.client = Client()

    def send(self, method: str, path: str, body: Any = None):
        headers = {
            "Authorization": f"App {self.code}",
            "Accept": "application/json",
            "User-Agent": "MobileMessaging/15.0.0 (Android; 14; Google; Pixel 8)",
        }
        if method == "PATCH":
            method = "POST"
            headers["X-HTTP-Method-Override"] = "PATCH"
        data = b"" if body is None else json.dumps(body).encode()
        content_type = "application/json" if body is not None else ""
        return self.client.generic(method, path, data, content_type=content_type, headers=headers)


class IOS:
    """MMRequests.swift RequestData.headers and buildURLRequest: Authorization App, the
    applicationcode hash, pushregistrationid, sessionId, installationid, foreground,
    Content-Type application/json on every request (body or not); query items sorted by name,
    booleans as 1/0; bodies JSON with sorted keys."""

    def __init__(self, code: str, push_registration_id: str) -> None:
        self.code = code
        self.push_registration_id = push_registration_id
        self.client = Client()

    def send(self, method: str, path: str, body: Any = None, query: dict | None = None):
        if query:
            items = sorted(query.items())
            path += "?" + "&".join(
                f"{k}={(1 if v else 0) if isinstance(v, bool) else v}" for k, v in items
            )
        headers = {
            "Authorization": f"App {self.code}",
            "applicationcode": "0f1e2d3c4b5a",
            "User-Agent": "MobileMessaging/15.5.2 (iOS; 18.1; Apple; iPhone15,2)",
            "foreground": "true",
            "pushregistrationid": self.push_registration_id,
            "sessionId": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
            "Accept": "application/json",
            "installationid": "5c2a1e4f-ios-install",
        }
        data = b"" if body is None else json.dumps(body, sort_keys=True).encode()
        return self.client.generic(
            method, path, data, content_type="application/json", headers=headers
        )


def user_path(push_registration_id: str, tail: str = "user") -> str:
    return f"/mobile/1/appinstance/{push_registration_id}/{tail}"


def service_exception(response) -> dict:
    """What DefaultApiClient (safeGetErrorInfo) and MMRequestError(json:) read."""
    assert int(response["Content-Length"]) > 0  # Android reads an error body only then
    exception = response.json()["requestError"]["serviceException"]
    assert isinstance(exception["messageId"], str) and isinstance(exception["text"], str)
    return exception


def assert_sdk_user(body: dict) -> None:
    """Android UserMapper.fromBackend (UserBody) and iOS MMUser(json:): the fields they parse,
    with the types they parse them as."""
    for name in ("externalUserId", "firstName", "lastName", "middleName", "gender", "birthday"):
        assert name not in body or isinstance(body[name], str), name
    assert body["type"] in ("LEAD", "CUSTOMER")
    assert all(isinstance(p["number"], str) for p in body["phones"])
    assert all(isinstance(e["address"], str) for e in body["emails"])
    assert all(isinstance(t, str) for t in body["tags"])
    assert isinstance(body["customAttributes"], dict)


def assert_sdk_instance(instance: dict) -> None:
    """iOS MMInstallation(json:) needs pushRegId (else the instance is dropped); Android
    InstallationMapper.fromBackend reads AppInstance's fields."""
    assert isinstance(instance["pushRegId"], str)
    assert isinstance(instance["isPrimary"], bool)
    assert isinstance(instance["regEnabled"], bool)
    assert isinstance(instance["customAttributes"], dict)


@pytest.fixture
def app(db):
    return ApplicationFactory(name="Shop", code="shop-app-code")


def device_label(app) -> str:
    return f"Device of app {app.code}"


def register(app, push_registration_id: str) -> Installation:
    """First launch, as the other SDK tests replay it (POST /mobile/1/appinstance)."""
    response = Android(app.code).send(
        "POST",
        "/mobile/1/appinstance?ri=true",
        {"pushRegId": push_registration_id, "os": "Android"},
    )
    assert response.status_code in (200, 201), response.content
    return Installation.objects.get(push_registration_id=push_registration_id)


# ---------------------------------------------------------------------------------------------
# Repersonalize (item 8)


def test_android_repersonalize_after_no_registration_joins_the_user_it_had(app):
    """PersonalizeSynchronizer.repersonalize (ANDROID_SDK/mobileapi/user/), through
    MobileApiUserData.repersonalize (ANDROID_API/appinstance/): POST {regId}/repersonalize with
    the stored user's UserPersonalizeBody, no query; the answer is void (only its status)."""
    android = Android(app.code)
    register(app, "android-old")
    response = android.send(
        "POST",
        "/mobile/1/appinstance/android-old/personalize"
        "?forceDepersonalize=false&keepAsLead=false&setDeviceAsPrimary=false",
        {"userIdentity": {"externalUserId": "ana-1"}, "userAttributes": {"firstName": "Ana"}},
    )
    assert response.status_code == 200, response.content
    ana = Person.objects.get(external_id="ana-1")
    Installation.objects.filter(push_registration_id="android-old").delete()  # the server lost it

    # The next call answers NO_REGISTRATION, which makes the SDK register again and repersonalize.
    lost = android.send("GET", user_path("android-old") + "?ri=true")
    assert lost.status_code == 404
    assert service_exception(lost)["messageId"] == "NO_REGISTRATION"
    register(app, "android-new")
    response = android.send(
        "POST",
        user_path("android-new", "repersonalize"),
        {
            "userIdentity": {"externalUserId": "ana-1"},
            "userAttributes": {"firstName": "Ana", "gender": "Female", "tags": ["vip"]},
        },
    )

    assert 200 <= response.status_code < 300, response.content
    installation = Installation.objects.get(push_registration_id="android-new")
    assert installation.person_id == ana.pk
    event = ana.events.filter(kind=EventKind.PERSONALIZE).first()
    assert event.push_registration_id == "android-new"
    assert (event.actor_label, event.actor_kind, event.source) == (
        device_label(app),
        ActorKind.DEVICE,
        Source.DEVICE,
    )
    # The fresh anonymous profile of the new registration is gone (DOMAIN.md, Personalize).
    assert Person.objects.count() == 1


def test_repersonalize_of_an_unknown_registration_answers_no_registration(app):
    """PersonalizeSynchronizer.repersonalize's error(): a BackendInvalidParameterException with
    NO_REGISTRATION makes the SDK register again (MobileMessagingCore.handleNoRegistrationError)."""
    response = Android(app.code).send(
        "POST", user_path("nobody", "repersonalize"), {"userIdentity": {"externalUserId": "x"}}
    )
    assert response.status_code == 404
    assert service_exception(response)["messageId"] == "NO_REGISTRATION"


# ---------------------------------------------------------------------------------------------
# The user (item 9)


def personalized(app, push_registration_id: str) -> Person:
    register(app, push_registration_id)
    response = Android(app.code).send(
        "POST",
        f"/mobile/1/appinstance/{push_registration_id}/personalize"
        "?forceDepersonalize=false&keepAsLead=false&setDeviceAsPrimary=false",
        {"userIdentity": {"externalUserId": "ana-1"}, "userAttributes": {"firstName": "Ana"}},
    )
    assert response.status_code == 200, response.content
    return Person.objects.get(external_id="ana-1")


def test_android_fetches_the_user_with_its_instances(app):
    """UserDataReporter.fetch (ANDROID_SDK/mobileapi/user/) through MobileApiUserData.getUser:
    GET {regId}/user?ri=true; UserMapper.fromBackend reads UserBody, its installations from
    ``instances`` (UserMapper.installationsFromBackend)."""
    person = personalized(app, "android-1")
    other = InstallationFactory(push_registration_id="other-app", person=person)

    response = Android(app.code).send("GET", user_path("android-1") + "?ri=true")

    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert_sdk_user(body)
    assert (body["externalUserId"], body["firstName"], body["type"]) == ("ana-1", "Ana", "CUSTOMER")
    assert [i["pushRegId"] for i in body["instances"]] == ["android-1"]
    for instance in body["instances"]:
        assert_sdk_instance(instance)
    assert other.application.code not in response.content.decode()


def test_ios_fetches_the_user_with_ri_and_rt_as_1_and_0(app):
    """MMRequests.swift GetUser (IOS/HTTP/): GET {pushRegistrationId}/user with parameters
    rt and ri as 1/0 and a Content-Type on the body-less request; MMUser(json:)
    (IOS/User/UserStandardAttributeModels.swift) reads the installations from ``instances``."""
    personalized(app, "ios-1")
    ios = IOS(app.code, "ios-1")

    with_instances = ios.send("GET", user_path("ios-1"), query={"ri": True, "rt": False})
    without = ios.send("GET", user_path("ios-1"), query={"ri": False, "rt": False})

    assert with_instances.status_code == 200, with_instances.content
    assert_sdk_user(with_instances.json())
    assert [i["pushRegId"] for i in with_instances.json()["instances"]] == ["ios-1"]
    assert without.status_code == 200
    assert "instances" not in without.json()


def test_android_saves_the_user_tunnelled_as_a_post_with_method_override(app):
    """UserDataReporter.patch (ANDROID_SDK/mobileapi/user/) through MobileApiUserData.patchUser:
    PATCH {regId}/user, sent by DefaultApiClient as POST with X-HTTP-Method-Override: PATCH and
    the User map serialized with its nulls (User.setPhones/setEmails map to {number} and
    {address}, UserAttributes.setGender sends Gender.name(): "Female"). The answer is void."""
    person = personalized(app, "android-1")
    DefinitionFactory(name="loyaltyPoints", data_type=DataType.INTEGER)

    response = Android(app.code).send(
        "PATCH",
        user_path("android-1"),
        {
            "firstName": "Ana",
            "lastName": "Horvat",
            "middleName": None,
            "gender": "Female",
            "birthday": "1990-05-01",
            "phones": [{"number": "385981234567"}],
            "emails": [{"address": "ana@example.com"}],
            "tags": ["vip", "newsletter"],
            "customAttributes": {"loyaltyPoints": 120},
        },
    )

    assert 200 <= response.status_code < 300, response.content
    person.refresh_from_db()
    assert (person.last_name, person.gender, str(person.birth_date)) == (
        "Horvat",
        "FEMALE",
        "1990-05-01",
    )
    identities = {(i.kind, i.value) for i in person.identities.all()}
    assert identities == {
        (IdentityKind.PHONE, "385981234567"),
        (IdentityKind.EMAIL, "ana@example.com"),
    }
    assert sorted(t.name for t in person.tags.all()) == ["newsletter", "vip"]
    assert person.attribute_values.get().value_number == 120
    event = person.events.order_by("-id").first()
    assert event.kind == EventKind.PERSON_UPDATED
    assert event.actor_label == device_label(app)
    assert event.changes["phones"]["added"] == ["385981234567"]


def test_ios_saves_the_user_with_a_patch_of_what_changed(app):
    """MMRequests.swift PatchUser (IOS/HTTP/): PATCH {pushRegistrationId}/user?ri=0&rt=0 with
    UserDataMapper.requestPayload (IOS/User/UserDataMapper.swift): the delta of the user,
    phones and emails as objects, a removed value as null."""
    person = personalized(app, "ios-1")
    ios = IOS(app.code, "ios-1")

    response = ios.send(
        "PATCH",
        user_path("ios-1"),
        {"firstName": None, "lastName": "Horvat", "emails": [{"address": "Ana@Example.com"}]},
        query={"ri": False, "rt": False},
    )

    assert 200 <= response.status_code < 300, response.content
    person.refresh_from_db()
    assert (person.first_name, person.last_name) == ("", "Horvat")
    assert [i.value for i in person.identities.all()] == ["ana@example.com"]
    again = ios.send("GET", user_path("ios-1"), query={"ri": False, "rt": False}).json()
    assert again["emails"] == [{"address": "ana@example.com"}]
    assert "firstName" not in again


def test_saving_the_user_of_a_profile_the_app_does_not_own_is_refused_with_the_sdk_error_body(app):
    """The rule of personalize's userAttributes (README, What a device may see and change)
    holds for save user: a profile made by an operator, the API or admin is not the app's to
    rewrite. Android's patch error() reads the body's messageId and text."""
    customer = Person.objects.create(first_name="Ana", origin=Origin.API, type="CUSTOMER")
    InstallationFactory(push_registration_id="android-1", application=app, person=customer)

    response = Android(app.code).send("PATCH", user_path("android-1"), {"firstName": "Mallory"})

    assert response.status_code == 403
    assert service_exception(response)["messageId"] == "FORBIDDEN"
    customer.refresh_from_db()
    assert customer.first_name == "Ana"
    assert not customer.events.exists()


def test_saving_the_user_with_another_persons_email_never_merges(app):
    """DOMAIN.md: an identifier of another person is USER_MERGE_INTERRUPTED, nothing written."""
    personalized(app, "android-1")
    Person.objects.create(external_id="bob").identities.create(
        kind=IdentityKind.EMAIL, value="bob@example.com"
    )

    response = Android(app.code).send(
        "PATCH",
        user_path("android-1"),
        {"firstName": "Changed", "emails": [{"address": "bob@example.com"}]},
    )

    assert response.status_code == 400
    assert service_exception(response)["messageId"] == "USER_MERGE_INTERRUPTED"
    assert Person.objects.get(external_id="ana-1").first_name == "Ana"


# ---------------------------------------------------------------------------------------------
# Sessions (item 10)


def test_android_session_report_records_app_launches_and_last_seen(app):
    """UserEventsSynchronizer.reportSessions (ANDROID_SDK/mobileapi/events/) through
    MobileApiAppInstance.sendUserSessionReport (ANDROID_API/appinstance/): POST
    {regId}/user/events/session with UserSessionEventBody built by UserEventsRequestMapper
    (dates as DateTimeUtil.dateToISO8601UTCString, yyyy-MM-dd'T'HH:mm:ss'Z'). Void answer."""
    installation = register(app, "android-1")
    android = Android(app.code)

    response = android.send(
        "POST",
        user_path("android-1", "user/events/session"),
        {
            "systemData": ANDROID_SYSTEM_DATA,
            "sessionStarts": ["2024-05-17T10:00:00Z"],
            "sessionBounds": {"2024-05-16T09:00:00Z": "2024-05-16T09:05:00Z"},
        },
    )

    assert 200 <= response.status_code < 300, response.content
    installation.refresh_from_db()
    assert installation.last_seen_at == dt.datetime(2024, 5, 17, 10, tzinfo=dt.UTC)
    assert installation.app_version == "2.4.0"
    launches = list(installation.person.events.filter(kind=EventKind.APP_LAUNCH).order_by("id"))
    assert [e.changes for e in launches] == [
        {"sessionStart": "2024-05-16T09:00:00Z", "sessionEnd": "2024-05-16T09:05:00Z"},
        {"sessionStart": "2024-05-17T10:00:00Z"},
    ]
    assert {(e.actor_label, e.push_registration_id) for e in launches} == {
        (device_label(app), "android-1")
    }

    # The next report carries the ended session in its bounds: no second App Launch.
    response = android.send(
        "POST",
        user_path("android-1", "user/events/session"),
        {
            "systemData": ANDROID_SYSTEM_DATA,
            "sessionStarts": [],
            "sessionBounds": {"2024-05-17T10:00:00Z": "2024-05-17T10:20:00Z"},
        },
    )
    assert 200 <= response.status_code < 300, response.content
    launches = installation.person.events.filter(kind=EventKind.APP_LAUNCH)
    assert launches.count() == 2
    assert launches.get(changes__sessionStart="2024-05-17T10:00:00Z").changes["sessionEnd"] == (
        "2024-05-17T10:20:00Z"
    )
    installation.refresh_from_db()
    assert installation.last_seen_at == dt.datetime(2024, 5, 17, 10, 20, tzinfo=dt.UTC)


def test_ios_session_report_with_a_module_flag_in_its_system_data(app):
    """MMRequests.swift PostUserSession (IOS/HTTP/) with UserSessionMapper.requestPayload
    (Classes/MobileMessaging/UserSession/UserSessionMapper.swift): ISO8601SecondsFormatter
    dates, systemData from MMUserAgent with the In-app chat module's "inappchat"."""
    installation = register(app, "ios-1")

    response = IOS(app.code, "ios-1").send(
        "POST",
        user_path("ios-1", "user/events/session"),
        {"sessionStarts": ["2024-06-01T08:30:00Z"], "systemData": IOS_SYSTEM_DATA},
    )

    assert 200 <= response.status_code < 300, response.content
    installation.refresh_from_db()
    assert installation.last_seen_at == dt.datetime(2024, 6, 1, 8, 30, tzinfo=dt.UTC)
    assert installation.person.events.filter(kind=EventKind.APP_LAUNCH).count() == 1


def test_a_session_time_in_the_future_is_seen_as_now(app):
    installation = register(app, "android-1")
    before = dt.datetime.now(dt.UTC)

    response = Android(app.code).send(
        "POST",
        user_path("android-1", "user/events/session"),
        {"systemData": ANDROID_SYSTEM_DATA, "sessionStarts": ["2999-01-01T00:00:00Z"]},
    )

    assert 200 <= response.status_code < 300, response.content
    installation.refresh_from_db()
    assert before <= installation.last_seen_at <= dt.datetime.now(dt.UTC)


def test_a_session_report_with_a_bad_date_names_the_field(app):
    register(app, "android-1")
    response = Android(app.code).send(
        "POST",
        user_path("android-1", "user/events/session"),
        {"systemData": ANDROID_SYSTEM_DATA, "sessionStarts": ["yesterday"]},
    )
    assert response.status_code == 400
    assert "sessionStarts" in service_exception(response)["text"]


# ---------------------------------------------------------------------------------------------
# Custom events and their definitions (item 10)

ADD_TO_CART = {
    "definitionId": "addToCart",
    "title": "Item added to cart",
    "description": "Carries the items added",
    "fields": [
        {"name": "transactionId", "type": "String"},
        {"name": "fromPromoCampaign", "type": "Boolean"},
        {"name": "totalCost", "type": "Decimal"},
        {"name": "addedAt", "type": "DateTime"},
    ],
}


def define_add_to_cart() -> None:
    """The vendor's create-event-definition (reference OpenAPI, /peopleevents/2/definitions)."""
    response = api_client(role=ApiKeyRole.MANAGE).post(
        "/peopleevents/2/definitions", ADD_TO_CART, format="json"
    )
    assert response.status_code == 201, response.content


def test_android_custom_event_with_validate_is_recorded_with_its_properties(app):
    """UserEventsSynchronizer.reportCustomEvent (ANDROID_SDK/mobileapi/events/) through
    MobileApiAppInstance.sendUserCustomEvents: POST {regId}/user/events/custom?validate=true
    with UserCustomEventBody (events of definitionId, date, properties;
    UserEventsRequestMapper.createCustomEventRequest, EventPropertiesMapper). Void answer."""
    define_add_to_cart()
    installation = register(app, "android-1")

    response = Android(app.code).send(
        "POST",
        user_path("android-1", "user/events/custom") + "?validate=true",
        {
            "events": [
                {
                    "definitionId": "addToCart",
                    "date": "2024-05-17T10:01:02Z",
                    "properties": {
                        "transactionId": "t-1",
                        "fromPromoCampaign": True,
                        "totalCost": 100.5,
                        "addedAt": "2024-05-17T10:00:00Z",
                    },
                }
            ]
        },
    )

    assert 200 <= response.status_code < 300, response.content
    event = installation.person.events.get(kind=EventKind.CUSTOM_EVENT)
    assert event.changes == {
        "definitionId": "addToCart",
        "date": "2024-05-17T10:01:02Z",
        "properties": {
            "transactionId": "t-1",
            "fromPromoCampaign": True,
            "totalCost": 100.5,
            "addedAt": "2024-05-17T10:00:00Z",
        },
    }
    assert (event.actor_label, event.push_registration_id) == (device_label(app), "android-1")


def test_a_custom_event_that_does_not_fit_is_refused_with_validate_and_left_out_without(app):
    """validate=true (reportCustomEvent) answers the error; the queued events
    (reportCustomEvents, validate=false; iOS MMRequests.swift PostCustomEvent with
    CustomEventMapper.requestBody sends validate as 1/0) keep what fits."""
    define_add_to_cart()
    installation = register(app, "ios-1")
    bad = {"definitionId": "addToCart", "properties": {"totalCost": "a lot"}}
    good = {"definitionId": "addToCart", "date": "2024-05-17T10:01:02Z", "properties": {}}
    undefined = {"definitionId": "checkout", "properties": {}}

    refused = Android(app.code).send(
        "POST", user_path("ios-1", "user/events/custom") + "?validate=true", {"events": [bad]}
    )
    assert refused.status_code == 400
    assert "totalCost" in service_exception(refused)["text"]
    assert not installation.person.events.filter(kind=EventKind.CUSTOM_EVENT).exists()

    kept = IOS(app.code, "ios-1").send(
        "POST",
        user_path("ios-1", "user/events/custom"),
        {"events": [bad, good, undefined]},
        query={"validate": False},
    )
    assert 200 <= kept.status_code < 300, kept.content
    recorded = installation.person.events.filter(kind=EventKind.CUSTOM_EVENT)
    assert [e.changes["date"] for e in recorded] == ["2024-05-17T10:01:02Z"]


def test_event_definitions_are_managed_as_the_vendor_documents_them(db):
    """/peopleevents/2/definitions (reference OpenAPI): create (201; the id again is 409),
    get, list, add a field (never remove or retype one); a read key only reads."""
    manage = api_client(role=ApiKeyRole.MANAGE)
    define_add_to_cart()
    again = manage.post("/peopleevents/2/definitions", ADD_TO_CART, format="json")
    assert again.status_code == 409
    got = manage.get("/peopleevents/2/definitions/addToCart").json()
    assert got["definitionId"] == "addToCart" and got["fields"] == ADD_TO_CART["fields"]
    assert [d["definitionId"] for d in manage.get("/peopleevents/2/definitions").json()] == [
        "addToCart"
    ]

    fields = [*ADD_TO_CART["fields"], {"name": "coupon", "type": "String"}]
    added = manage.post(
        "/peopleevents/2/definitions/addToCart",
        {"title": "Added to cart", "fields": fields},
        format="json",
    )
    assert added.status_code == 200, added.content
    assert CustomEventDefinition.objects.get().fields[-1] == {"name": "coupon", "type": "String"}
    removed = manage.post(
        "/peopleevents/2/definitions/addToCart",
        {"title": "Added to cart", "fields": fields[1:]},
        format="json",
    )
    assert removed.status_code == 400

    reader = api_client(role=ApiKeyRole.READ)
    assert reader.get("/peopleevents/2/definitions/addToCart").status_code == 200
    denied = reader.post("/peopleevents/2/definitions", {**ADD_TO_CART, "definitionId": "x1"})
    assert denied.status_code == 403
