"""A real app's whole life against the device API, one SDK each, call after call in the order
the SDK makes them: first launch, save installation, login by externalUserId and by phones and
emails, fetch, another device made primary, remote logout, guest login, logout, reinstall,
recovery after NO_REGISTRATION, sessions, custom events, and personalize with a good, an
expired and a forged JWT.

Every request is built as the SDK builds it (sdk_requests.py: Android 15.0.0
``DefaultApiClient``, ``MobileApiAppInstance``, ``MobileApiUserData``; iOS 15.5.2
``MMRequests.swift``, ``RemoteAPIProvider.swift``) and every answer is read as the SDK reads it
(sdk_answers.py: ``AppInstance``/``UserBody`` with Gson, ``MMInstallation``/``MMUser(json:)``,
``requestError.serviceException``). The single calls are pinned, each with the SDK file it
follows, in test_android_transport.py, test_ios_transport.py, test_user_and_events.py and
test_jwt.py; here they must also work one after the other, as a user's phone makes them.
"""

from __future__ import annotations

import time

import pytest
from django.test import Client

from installations.applications import application_set_jwt
from installations.models import Installation
from people.models import EventKind, Person, PersonType
from tests.device.sdk import sdk_requests as sdk
from tests.device.sdk.sdk_answers import assert_app_instance, assert_user, sdk_error, sdk_json
from tests.device.sdk.test_jwt import KEY_ID, OTHER_SECRET, SECRET, token
from tests.device.sdk.test_user_and_events import (
    ANDROID_SYSTEM_DATA,
    IOS_SYSTEM_DATA,
    define_add_to_cart,
)
from tests.factories import ApplicationFactory

ANDROID_CODE = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
IOS_CODE = "f9e8d7c6b5a4039281706f5e4d3c2b1a"
ADD_TO_CART = {
    "definitionId": "addToCart",
    "date": "2024-05-17T10:01:02Z",
    "properties": {
        "transactionId": "t-1",
        "fromPromoCampaign": True,
        "totalCost": 100.5,
        "addedAt": "2024-05-17T10:00:00Z",
    },
}


@pytest.fixture
def client() -> Client:
    return Client()


def with_jwt(code: str, name: str):
    application = ApplicationFactory(name=name, code=code)
    return application_set_jwt(
        application=application, key_id=KEY_ID, secret=SECRET, required=False
    )


def person_of(push_reg_id: str) -> Person:
    return (
        Installation.objects.select_related("person").get(push_registration_id=push_reg_id).person
    )


def test_an_android_app_lives_its_whole_life_against_the_device_api(db, client):
    app = with_jwt(ANDROID_CODE, "Shop (Android)")
    send = lambda request: sdk.replay(client, request)  # noqa: E731

    # First launch: InstallationSynchronizer.createInstallation, ri=true.
    created = sdk_json(send(sdk.android_create_instance(app.code, sdk.android_app_instance())), 201)
    assert_app_instance(created)
    phone = created["pushRegId"]

    # Save installation: a PATCH tunnelled through POST.
    saved = send(
        sdk.android_patch_instance(app.code, phone, {"customAttributes": {"theme": "dark"}})
    )
    assert_app_instance(sdk_json(saved))

    # Login by externalUserId, with attributes in the SDK's spelling.
    user = sdk_json(
        send(
            sdk.android_personalize(
                app.code,
                phone,
                sdk.android_identity("ana-1"),
                {"firstName": "Ana", "gender": "Female"},
            )
        )
    )
    assert_user(user)
    assert (user["externalUserId"], user["gender"]) == ("ana-1", "Female")
    ana = person_of(phone)
    assert ana.type == PersonType.CUSTOMER

    # Fetch: the installation and the user with its instances.
    assert_app_instance(sdk_json(send(sdk.android_get_instance(app.code, phone))))
    fetched = sdk_json(send(sdk.android_get_user(app.code, phone)))
    assert_user(fetched)
    assert [i["pushRegId"] for i in fetched["instances"]] == [phone]

    # Save user: phones and emails as objects, into the app's own profile.
    saved_user = sdk_json(
        send(
            sdk.android_patch_user(
                app.code,
                phone,
                {
                    "phones": [{"number": "385981234567"}],
                    "emails": [{"address": "ana@example.com"}],
                },
            )
        )
    )
    assert saved_user["emails"] == [{"address": "ana@example.com"}]

    # A tablet of the same app logs in by phones and emails: it joins Ana.
    tablet = sdk_json(
        send(sdk.android_create_instance(app.code, sdk.android_app_instance(deviceModel="Tab"))),
        201,
    )["pushRegId"]
    joined = send(
        sdk.android_personalize(
            app.code,
            tablet,
            sdk.android_identity(phones=["385981234567"], emails=["ana@example.com"]),
        )
    )
    assert_user(sdk_json(joined))
    assert person_of(tablet).pk == ana.pk

    # The tablet makes the phone primary (InstallationSynchronizer.updatePrimaryStatus), then
    # logs it out remotely.
    send(sdk.android_patch_instance(app.code, phone, {"isPrimary": True}, own=tablet))
    assert Installation.objects.get(push_registration_id=phone).is_primary is True
    assert_app_instance(sdk_json(send(sdk.android_depersonalize(app.code, phone, own=tablet))))
    logged_out = person_of(phone)
    assert logged_out.pk != ana.pk and logged_out.external_id is None
    assert Installation.objects.get(push_registration_id=phone).is_primary is False

    # Guest login on the phone (kept a lead), then its own logout.
    guest = send(
        sdk.android_personalize(
            app.code, phone, sdk.android_identity(emails=["guest@example.com"]), keep_as_lead=True
        )
    )
    assert_user(sdk_json(guest))
    assert person_of(phone).type == PersonType.LEAD
    assert_app_instance(sdk_json(send(sdk.android_depersonalize(app.code, phone))))
    assert person_of(phone).external_id is None

    # Sessions and a custom event from the tablet.
    report = {"systemData": ANDROID_SYSTEM_DATA, "sessionStarts": ["2024-05-17T10:00:00Z"]}
    assert send(sdk.android_session_report(app.code, tablet, report)).status_code < 300
    assert ana.events.filter(kind=EventKind.APP_LAUNCH).count() == 1
    assert Installation.objects.get(push_registration_id=tablet).last_seen_at is not None
    define_add_to_cart()
    events = sdk.android_custom_events(app.code, tablet, {"events": [ADD_TO_CART]}, validate=True)
    assert send(events).status_code < 300
    assert ana.events.filter(kind=EventKind.CUSTOM_EVENT).count() == 1

    # The server loses the tablet's registration: NO_REGISTRATION, the SDK registers again and
    # repersonalizes the new registration with the user it had.
    Installation.objects.filter(push_registration_id=tablet).delete()
    sdk_error(send(sdk.android_get_user(app.code, tablet)), 404, "NO_REGISTRATION")
    again = sdk_json(
        send(sdk.android_create_instance(app.code, sdk.android_app_instance(deviceModel="Tab"))),
        201,
    )["pushRegId"]
    repersonalized = send(sdk.android_repersonalize(app.code, again, sdk.android_identity("ana-1")))
    assert repersonalized.status_code < 300, repersonalized.content
    assert person_of(again).pk == ana.pk

    # JWT: the phone logs in as Ana with a forged, an expired, then a good token.
    def login_with(bearer: str):
        return send(
            sdk.android_personalize(
                app.code, phone, sdk.android_identity("ana-1"), authorization=f"Bearer {bearer}"
            )
        )

    forged = login_with(token(app, secret=OTHER_SECRET))
    sdk_error(forged, 401, "JWT_TOKEN_SIGNATURE_INVALID")
    expired = login_with(token(app, issued=time.time() - 3600))
    sdk_error(expired, 401, "JWT_TOKEN_EXPIRED")
    assert person_of(phone).pk != ana.pk  # neither let the phone in
    assert_user(sdk_json(login_with(token(app))))
    assert person_of(phone).pk == ana.pk


def test_an_ios_app_lives_its_whole_life_against_the_device_api(db, client):
    app = with_jwt(IOS_CODE, "Shop (iOS)")
    send = lambda request: sdk.replay(client, request)  # noqa: E731
    apns_token = "a1b2c3d4" * 8

    # First launch with the In-app chat module (rt=1: the push service token comes back).
    body = sdk.ios_post_instance_body(apns_token, modules={"inappchat": True})
    created = sdk_json(send(sdk.ios_post_instance(app.code, body)), 201)
    assert_app_instance(created)
    assert created["pushServiceToken"] == apns_token
    phone = created["pushRegId"]

    # Save installation (PatchInstance, the caller in the header).
    changes = {"customAttributes": {"theme": "dark"}}
    assert send(sdk.ios_patch_instance(app.code, phone, phone, changes)).status_code < 300

    # Login by phones and emails, gender in the SDK's spelling.
    identity = sdk.ios_identity(phones=["385981234567"], emails=["ivo@example.com"])
    user = sdk_json(
        send(sdk.ios_personalize(app.code, phone, identity, {"firstName": "Ivo", "gender": "Male"}))
    )
    assert_user(user)
    assert user["gender"] == "Male"
    ivo = person_of(phone)

    # Fetch: the installation with its token, the user with its instances (ri=1).
    fetched = sdk_json(send(sdk.ios_get_instance(app.code, phone)))
    assert fetched["pushServiceToken"] == apns_token
    with_instances = sdk_json(send(sdk.ios_get_user(app.code, phone)))
    assert [i["pushRegId"] for i in with_instances["instances"]] == [phone]

    # A second iPhone logs in by externalUserId after the first saved it on the user.
    saved = send(sdk.ios_patch_user(app.code, phone, {"externalUserId": "ivo-1"}))
    assert sdk_json(saved)["externalUserId"] == "ivo-1"
    second_body = sdk.ios_post_instance_body("b2c3d4e5" * 8)
    second = sdk_json(send(sdk.ios_post_instance(app.code, second_body)), 201)["pushRegId"]
    joined = send(sdk.ios_personalize(app.code, second, sdk.ios_identity("ivo-1")))
    assert_user(sdk_json(joined))
    assert person_of(second).pk == ivo.pk

    # The second iPhone makes the first primary, then logs it out remotely.
    primary = sdk.ios_patch_instance(app.code, second, phone, {"isPrimary": True})
    assert send(primary).status_code < 300
    assert Installation.objects.get(push_registration_id=phone).is_primary is True
    assert send(sdk.ios_depersonalize(app.code, second, phone)).status_code < 300
    assert person_of(phone).pk != ivo.pk

    # Guest login (kept a lead), then the first iPhone's own logout.
    guest = sdk.ios_personalize(
        app.code, phone, sdk.ios_identity(emails=["guest@example.com"]), keep_as_lead=True
    )
    assert_user(sdk_json(send(guest)))
    assert person_of(phone).type == PersonType.LEAD
    assert send(sdk.ios_depersonalize(app.code, phone, phone)).status_code < 300

    # Reinstall: a new registration, which deletes the expired one it finds in the keychain.
    reinstalled_body = sdk.ios_post_instance_body("c3d4e5f6" * 8)
    reinstalled = sdk_json(send(sdk.ios_post_instance(app.code, reinstalled_body)), 201)
    new_phone = reinstalled["pushRegId"]
    deleted = send(sdk.ios_delete_instance(app.code, new_phone, phone))
    assert deleted.status_code < 300, deleted.content
    assert not Installation.objects.filter(push_registration_id=phone).exists()

    # The server loses the new registration: NO_REGISTRATION, then the SDK registers again.
    Installation.objects.filter(push_registration_id=new_phone).delete()
    sdk_error(send(sdk.ios_get_instance(app.code, new_phone)), 404, "NO_REGISTRATION")
    recovered_body = sdk.ios_post_instance_body("d4e5f6a7" * 8)
    recovered = sdk_json(send(sdk.ios_post_instance(app.code, recovered_body)), 201)["pushRegId"]

    # Sessions and a custom event from the second iPhone.
    report = {"sessionStarts": ["2024-06-01T08:30:00Z"], "systemData": IOS_SYSTEM_DATA}
    assert send(sdk.ios_session_report(app.code, second, report)).status_code < 300
    assert ivo.events.filter(kind=EventKind.APP_LAUNCH).count() == 1
    define_add_to_cart()
    event = sdk.ios_custom_event(app.code, second, {"events": [ADD_TO_CART]}, validate=True)
    assert send(event).status_code < 300
    assert ivo.events.filter(kind=EventKind.CUSTOM_EVENT).count() == 1

    # JWT on the recovered registration: forged and expired tokens are refused, a good one
    # logs in as Ivo.
    def login_with(access_token: str):
        return send(
            sdk.ios_personalize(
                app.code, recovered, sdk.ios_identity("ivo-1"), access_token=access_token
            )
        )

    sdk_error(login_with(token(app, sub="ivo-1", secret=OTHER_SECRET)), 401)
    sdk_error(login_with(token(app, sub="ivo-1", issued=time.time() - 3600)), 401)
    assert person_of(recovered).pk != ivo.pk
    assert_user(sdk_json(login_with(token(app, sub="ivo-1"))))
    assert person_of(recovered).pk == ivo.pk
