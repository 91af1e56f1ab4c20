"""The iOS SDK (infobip/mobile-messaging-sdk-ios 15.5.2) against the device API: each call
replayed as the SDK sends it (tests/device/sdk/sdk_requests.py), each answer read as the SDK
reads it (sdk_answers.py). Paths below are the SDK's, at that tag."""

from datetime import timedelta

import pytest
from django.test import Client

from installations.models import Installation
from people.models import Person
from tests.device.sdk import sdk_requests as sdk
from tests.device.sdk.sdk_answers import assert_app_instance, assert_user, sdk_error, sdk_json
from tests.factories import ApplicationFactory

CODE = "ios-app-code"
APNS_TOKEN = "A1B2C3D4" * 8  # 64 hex digits; the SDK sends it lowercased


@pytest.fixture
def app(db):
    return ApplicationFactory(name="Shop (iOS)", code=CODE)


@pytest.fixture
def client():
    return Client()


def first_launch(client, token: str = APNS_TOKEN, **fields) -> str:
    """PostInstance (Classes/MobileMessaging/Core/HTTP/MMRequests.swift)."""
    body = sdk.ios_post_instance_body(token, **fields)
    answer = sdk_json(sdk.replay(client, sdk.ios_post_instance(CODE, body)), 201)
    assert_app_instance(answer)
    return answer["pushRegId"]


def login(client, push_reg_id: str, **identity) -> dict:
    request = sdk.ios_personalize(CODE, push_reg_id, sdk.ios_identity(**identity))
    return sdk_json(sdk.replay(client, request))


# --- item 2: gender in the SDK's spelling ------------------------------------------------------


def test_ios_reads_the_gender_it_sent_in_its_own_spelling(app, client):
    """Classes/MobileMessaging/Core/User/UserStandardAttributeModels.swift (MMGender.make:
    "Female"/"Male" only; MMUser(json:))."""
    push_id = first_launch(client)
    request = sdk.ios_personalize(
        CODE, push_id, sdk.ios_identity("ana-1"), {"gender": "Male", "lastName": "Horvat"}
    )
    user = sdk_json(sdk.replay(client, request))
    assert_user(user)
    assert user["gender"] == "Male"
    assert Person.objects.get(external_id="ana-1").gender == "MALE"


# --- item 3: personalize by phones and emails as objects --------------------------------------


def test_ios_logs_in_by_phone_and_email_sent_as_objects(app, client):
    """Classes/MobileMessaging/Core/User/UserDataMapper.swift (personalizeRequestPayload:
    {"number"}, {"address"}); MMPhone(json:) and MMEmail(json:) read them back."""
    push_id = first_launch(client)
    request = sdk.ios_personalize(
        CODE, push_id, sdk.ios_identity(phones=["385981234567"], emails=["ana@example.com"])
    )
    user = sdk_json(sdk.replay(client, request))
    assert_user(user)
    assert user["phones"] == [{"number": "385981234567"}]
    assert user["emails"] == [{"address": "ana@example.com"}]


# --- item 4: the In-app chat and Inbox modules ------------------------------------------------


def test_an_ios_app_with_the_chat_and_inbox_modules_registers_and_keeps_them_as_system_data(
    app, client
):
    """Classes/Chat/ChatService.swift and Classes/Inbox/MMInboxService.swift (systemData
    {"inappchat": true} / {"inbox": true}), merged into the create body by
    Classes/MobileMessaging/Core/Installation/InstallationDataMapper.swift."""
    push_id = first_launch(client, modules={"inappchat": True, "inbox": True})
    installation = Installation.objects.get(push_registration_id=push_id)
    assert (installation.inapp_chat, installation.inbox) == (True, True)
    body = sdk_json(sdk.replay(client, sdk.ios_get_instance(CODE, push_id)))
    assert (body["inappchat"], body["inbox"]) == (True, True)


def test_a_module_flag_that_is_not_a_boolean_is_refused_naming_it(app, client):
    body = sdk.ios_post_instance_body(APNS_TOKEN, modules={"inbox": "yes"})
    error = sdk_error(sdk.replay(client, sdk.ios_post_instance(CODE, body)), 400)
    assert "inbox" in error["text"]


# --- item 5: applicationUserId ----------------------------------------------------------------


def test_ios_saves_its_application_user_id_and_reads_it_back(app, client):
    """Classes/MobileMessaging/Core/Installation/InstallationAttributeModels.swift
    (applicationUserId, MMInstallation(json:)); PatchInstance in MMRequests.swift."""
    push_id = first_launch(client)
    request = sdk.ios_patch_instance(CODE, push_id, push_id, {"applicationUserId": "crm-7"})
    assert request.method == "PATCH" and ("rt", "0") in request.query
    sdk_json(sdk.replay(client, request))
    body = sdk_json(sdk.replay(client, sdk.ios_get_instance(CODE, push_id)))
    assert body["applicationUserId"] == "crm-7"


# --- item 6: the push service token -----------------------------------------------------------


def test_ios_gets_its_push_service_token_back_when_it_asks_with_rt(app, client):
    """MMRequests.swift (PostInstance and GetInstance with rt), RemoteAPIProvider.swift
    (returnPushServiceToken: true); MMInstallation(json:) stores pushServiceToken."""
    body = sdk.ios_post_instance_body(APNS_TOKEN)
    request = sdk.ios_post_instance(CODE, body)
    assert request.query == [("rt", "1")]
    created = sdk_json(sdk.replay(client, request), 201)
    assert created["pushServiceToken"] == APNS_TOKEN.lower()
    push_id = created["pushRegId"]
    fetched = sdk_json(sdk.replay(client, sdk.ios_get_instance(CODE, push_id)))
    assert fetched["pushServiceToken"] == APNS_TOKEN.lower()
    # Not asked (rt=0): not answered.
    patched = sdk.ios_patch_instance(CODE, push_id, push_id, {"deviceName": "Ana's"})
    assert "pushServiceToken" not in sdk_json(sdk.replay(client, patched))


def test_a_device_never_gets_another_installations_push_service_token(app, client):
    mine = first_launch(client)
    other = first_launch(client, token="F0" * 32)
    login(client, mine, external_user_id="ana-6")
    login(client, other, external_user_id="ana-6")
    body = sdk_json(sdk.replay(client, sdk.ios_get_instance(CODE, other, own=mine)))
    assert body["pushRegId"] == other and "pushServiceToken" not in body


# --- item 7: remote actions name the caller ---------------------------------------------------


def test_ios_makes_another_device_of_its_person_primary_but_not_one_of_another_person(app, client):
    """MMRequests.swift PatchInstance (authPushRegistrationId in the pushregistrationid
    header, refPushRegistrationId in the path), RemoteAPIProvider.patchOtherInstance."""
    mine = first_launch(client)
    my_other = first_launch(client)
    stranger = first_launch(client)
    login(client, mine, external_user_id="ana-7")
    login(client, my_other, external_user_id="ana-7")
    request = sdk.ios_patch_instance(CODE, mine, stranger, {"isPrimary": True})
    sdk_error(sdk.replay(client, request), 403, "FORBIDDEN")
    assert Installation.objects.get(push_registration_id=stranger).is_primary is False
    request = sdk.ios_patch_instance(CODE, mine, my_other, {"isPrimary": True})
    assert sdk_json(sdk.replay(client, request))["isPrimary"] is True


def test_ios_logs_out_another_device_of_its_person_but_not_one_of_another_person(app, client):
    """MMRequests.swift PostDepersonalize (pushRegistrationIdToDepersonalize in the path)."""
    mine = first_launch(client)
    my_other = first_launch(client)
    stranger = first_launch(client)
    login(client, mine, external_user_id="ana-8")
    login(client, my_other, external_user_id="ana-8")
    login(client, stranger, external_user_id="bob-8")
    refused = sdk.replay(client, sdk.ios_depersonalize(CODE, mine, stranger))
    sdk_error(refused, 403, "FORBIDDEN")
    assert Installation.objects.get(push_registration_id=stranger).person.external_id == "bob-8"
    done = sdk.replay(client, sdk.ios_depersonalize(CODE, mine, my_other))
    assert done.status_code == 200
    assert Installation.objects.get(push_registration_id=my_other).person.external_id is None


def test_after_a_reinstall_ios_deletes_its_expired_registration_but_no_newer_one(app, client):
    """Classes/MobileMessaging/Core/Installation/InstallationDataService.swift
    (expireIfNeeded: DeleteInstance of the keychain's expired pushRegId, the header naming
    the new registration)."""
    expired = first_launch(client)
    login(client, expired, external_user_id="ana-9")
    current = first_launch(client)  # the reinstalled app: a new registration
    newer_stranger = first_launch(client)
    Installation.objects.filter(push_registration_id=newer_stranger).update(
        created_at=Installation.objects.get(push_registration_id=current).created_at
        + timedelta(seconds=1)
    )
    refused = sdk.replay(client, sdk.ios_delete_instance(CODE, current, newer_stranger))
    sdk_error(refused, 403, "FORBIDDEN")
    request = sdk.ios_delete_instance(CODE, current, expired)
    assert request.headers["Content-Type"] == "application/json" and request.body is None
    assert sdk.replay(client, request).status_code == 204
    assert not Installation.objects.filter(push_registration_id=expired).exists()


# --- transport --------------------------------------------------------------------------------


def test_ios_query_booleans_one_and_zero_are_read(app, client):
    """MMRequests.swift buildURLRequest (queryItems: Bool as "1"/"0")."""
    push_id = first_launch(client)
    login(client, push_id, external_user_id="ana-10")
    request = sdk.ios_personalize(
        CODE, push_id, sdk.ios_identity("bob-10"), force_depersonalize=True
    )
    assert ("forceDepersonalize", "1") in request.query
    assert sdk_json(sdk.replay(client, request))["externalUserId"] == "bob-10"
    refused = sdk.ios_personalize(CODE, push_id, sdk.ios_identity("cid-10"))
    assert ("forceDepersonalize", "0") in refused.query
    sdk_error(sdk.replay(client, refused), 400, "PERSONALIZATION_IMPOSSIBLE")


def test_ios_body_less_requests_with_a_json_content_type_are_served(app, client):
    """MMRequests.swift RequestData.headers: Content-Type application/json on every request."""
    push_id = first_launch(client)
    get = sdk.ios_get_instance(CODE, push_id)
    assert get.body is None and get.headers["Content-Type"] == "application/json"
    assert_app_instance(sdk_json(sdk.replay(client, get)))
    logout = sdk.ios_depersonalize(CODE, push_id, push_id)
    assert_app_instance(sdk_json(sdk.replay(client, logout)))


def test_an_unknown_registration_answers_the_sdks_error_body(app, client):
    """MMResponses.swift MMRequestError(json:): messageId and text as strings."""
    sdk_error(
        sdk.replay(client, sdk.ios_get_instance(CODE, "not-registered")), 404, "NO_REGISTRATION"
    )
