"""The Android SDK (infobip/mobile-messaging-sdk-android 15.0.0) against the device API: each
call replayed as the SDK sends it (tests/device/sdk/sdk_requests.py), each answer read as the
SDK reads it (sdk_answers.py). Paths below are the SDK's, at that tag."""

import pytest
from django.test import Client
from django.urls import reverse

from installations.models import Installation
from people.models import EventKind, Person
from tests.device.sdk import sdk_requests as sdk
from tests.device.sdk.sdk_answers import assert_app_instance, assert_user, sdk_error, sdk_json
from tests.factories import ApplicationFactory

CODE = "android-app-code"


@pytest.fixture
def app(db):
    return ApplicationFactory(name="Shop (Android)", code=CODE)


@pytest.fixture
def client():
    return Client()


def first_launch(client, **fields) -> str:
    """MobileApiAppInstance.createInstance, as InstallationSynchronizer.createInstallation."""
    body = sdk_json(
        sdk.replay(client, sdk.android_create_instance(CODE, sdk.android_app_instance(**fields))),
        201,
    )
    assert_app_instance(body)
    return body["pushRegId"]


def login(client, push_reg_id: str, **identity) -> dict:
    request = sdk.android_personalize(CODE, push_reg_id, sdk.android_identity(**identity))
    return sdk_json(sdk.replay(client, request))


# --- item 1: the PATCH Android tunnels through POST ---------------------------------------


def test_android_saves_its_installation_with_a_post_that_overrides_the_method_to_patch(app, client):
    """infobip-mobile-messaging-api-java/.../support/http/client/DefaultApiClient.java
    (executeHTTP: PATCH as POST + X-HTTP-Method-Override), InstallationSynchronizer.patch."""
    push_id = first_launch(client)
    changes = {"customAttributes": {"favouriteColour": "green", "gone": None}, "regEnabled": False}
    request = sdk.android_patch_instance(CODE, push_id, changes)
    assert (request.method, request.headers["X-HTTP-Method-Override"]) == ("POST", "PATCH")
    assert b'"gone":null' in request.body  # a PATCH keeps its nulls
    body = sdk_json(sdk.replay(client, request))
    assert_app_instance(body)
    installation = Installation.objects.get(push_registration_id=push_id)
    assert installation.additional_data == {"favouriteColour": "green"}
    assert installation.registration_enabled is False


def test_the_method_override_is_honoured_only_as_patch_on_a_post(app, client):
    """DefaultApiClient.java sends the override only as PATCH on POST; nothing else is one."""
    push_id = first_launch(client)
    get = sdk.android_get_instance(CODE, push_id)
    get.headers["X-HTTP-Method-Override"] = "PATCH"
    assert "X-HTTP-Method-Override" in sdk_error(sdk.replay(client, get), 400)["text"]
    delete = sdk.android_depersonalize(CODE, push_id)
    delete.path = delete.path.removesuffix("/depersonalize")
    delete.headers["X-HTTP-Method-Override"] = "DELETE"
    sdk_error(sdk.replay(client, delete), 400, "BAD_REQUEST")
    assert Installation.objects.filter(push_registration_id=push_id).exists()


def test_the_method_override_is_not_honoured_by_the_automation_push_api(app, client):
    """Only the device API speaks the SDK's tunnel (DefaultApiClient.java)."""
    push_id = first_launch(client)
    response = client.post(
        f"/people/2/contactInformation/push/{push_id}",
        data=b'{"isPrimary": true}',
        content_type="application/json",
        headers={"X-HTTP-Method-Override": "PATCH", "Authorization": f"App {CODE}"},
    )
    assert response.status_code in (400, 401, 405)
    assert Installation.objects.get(push_registration_id=push_id).is_primary is False


# --- item 2: gender in the SDK's spelling ------------------------------------------------------


def test_android_reads_the_gender_it_sent_in_its_own_spelling(app, client):
    """infobip-mobile-messaging-android-sdk/.../UserMapper.java (genderFromBackend:
    User.Gender.valueOf, "Male"/"Female"), MobileApiUserData.java personalize."""
    push_id = first_launch(client)
    request = sdk.android_personalize(
        CODE, push_id, sdk.android_identity("ana-1"), {"gender": "Female", "firstName": "Ana"}
    )
    user = sdk_json(sdk.replay(client, request))
    assert_user(user)
    assert user["gender"] == "Female"
    assert Person.objects.get(external_id="ana-1").gender == "FEMALE"


# --- item 3: personalize by phones and emails as objects --------------------------------------


def test_android_logs_in_by_phone_and_email_sent_as_objects(app, client):
    """UserMapper.java (mapPhonesToBackend {"number"}, mapEmailsToBackend {"address"}),
    UserBody.java (Phone.number, Email.address read back)."""
    push_id = first_launch(client)
    request = sdk.android_personalize(
        CODE, push_id, sdk.android_identity(phones=["385981234567"], emails=["Ana@Example.com"])
    )
    assert request.json()["userIdentity"]["phones"] == [{"number": "385981234567"}]
    user = sdk_json(sdk.replay(client, request))
    assert_user(user)
    assert user["phones"] == [{"number": "385981234567"}]
    assert user["emails"] == [{"address": "ana@example.com"}]


def test_a_phone_object_without_a_number_is_refused_naming_the_field(app, client):
    push_id = first_launch(client)
    request = sdk.android_personalize(CODE, push_id, {"phones": [{"msisdn": "385981234567"}]})
    error = sdk_error(sdk.replay(client, request), 400, "PHONE_INVALID")
    assert "number" in error["text"]


# --- item 5: applicationUserId ----------------------------------------------------------------


def test_android_registers_with_an_application_user_id_and_reads_it_back(app, client):
    """infobip-mobile-messaging-api-java/.../appinstance/AppInstance.java (applicationUserId),
    MobileApiAppInstance.java createInstance / getInstance."""
    push_id = first_launch(client, applicationUserId="crm-42")
    assert Installation.objects.get(push_registration_id=push_id).application_user_id == "crm-42"
    body = sdk_json(sdk.replay(client, sdk.android_get_instance(CODE, push_id)))
    assert_app_instance(body)
    assert body["applicationUserId"] == "crm-42"


# --- item 6: the push service token -----------------------------------------------------------


def test_android_push_token_is_stored_not_answered_unasked_and_masked_for_operators(
    app, client, administrator
):
    """AppInstance.java (pushServiceToken), InstallationSynchronizer.java (token refresh is a
    tunnelled PATCH)."""
    token = "fcm:APA91bH-" + "y" * 140
    push_id = first_launch(client, pushServiceToken=token)
    installation = Installation.objects.get(push_registration_id=push_id)
    assert installation.push_service_token == token
    body = sdk_json(sdk.replay(client, sdk.android_get_instance(CODE, push_id)))
    assert "pushServiceToken" not in body  # Android never asks for it (no rt)
    new_token = "fcm:APA91bH-" + "z" * 140
    request = sdk.android_patch_instance(CODE, push_id, {"pushServiceToken": new_token})
    sdk_json(sdk.replay(client, request))
    installation.refresh_from_db()
    assert installation.push_service_token == new_token
    event = installation.person.events.get(kind=EventKind.INSTALLATION_CHANGED)
    assert new_token not in str(event.changes) and token not in str(event.changes)
    assert event.changes["pushServiceToken"]["after"].startswith("…zzzz")

    operator = Client()
    operator.force_login(administrator)
    page = operator.get(reverse("people:detail", args=[installation.person_id]))
    assert page.status_code == 200
    assert new_token not in page.content.decode() and "…zzzz" in page.content.decode()
    admin_page = operator.get(
        reverse("admin:installations_installation_change", args=[installation.pk])
    )
    assert admin_page.status_code == 200
    assert new_token not in admin_page.content.decode()
    assert "…zzzz" in admin_page.content.decode()


# --- item 7: remote actions name the caller ---------------------------------------------------


def test_android_logs_out_another_device_of_its_person_but_not_one_of_another_person(app, client):
    """MobileApiResourceProvider.java (BaseUrlManager.intercept: pushregistrationid header on
    every request), MobileApiAppInstance.java depersonalize."""
    mine = first_launch(client)
    my_other = first_launch(client, deviceName="Tablet")
    stranger = first_launch(client, deviceName="Someone else's")
    login(client, mine, external_user_id="ana-7")
    login(client, my_other, external_user_id="ana-7")
    login(client, stranger, external_user_id="bob-7")

    refused = sdk.replay(client, sdk.android_depersonalize(CODE, stranger, own=mine))
    error = sdk_error(refused, 403)
    assert mine in error["text"] and stranger in error["text"]
    assert Installation.objects.get(push_registration_id=stranger).person.external_id == "bob-7"

    done = sdk.replay(client, sdk.android_depersonalize(CODE, my_other, own=mine))
    assert done.status_code == 200, done.content
    assert Installation.objects.get(push_registration_id=my_other).person.external_id is None


def test_android_makes_another_device_of_its_person_primary_but_not_one_of_another_person(
    app, client
):
    """InstallationSynchronizer.java updatePrimaryStatus (patch of another installation)."""
    mine = first_launch(client)
    my_other = first_launch(client)
    stranger = first_launch(client)
    login(client, mine, external_user_id="ana-8")
    login(client, my_other, external_user_id="ana-8")
    request = sdk.android_patch_instance(CODE, stranger, {"isPrimary": True}, own=mine)
    sdk_error(sdk.replay(client, request), 403, "FORBIDDEN")
    assert Installation.objects.get(push_registration_id=stranger).is_primary is False
    request = sdk.android_patch_instance(CODE, my_other, {"isPrimary": True}, own=mine)
    assert sdk_json(sdk.replay(client, request))["isPrimary"] is True


def test_a_caller_that_is_not_registered_is_no_registration(app, client):
    target = first_launch(client)
    request = sdk.android_depersonalize(CODE, target, own="unknown-device")
    sdk_error(sdk.replay(client, request), 404, "NO_REGISTRATION")


# --- transport --------------------------------------------------------------------------------


def test_android_query_booleans_true_and_false_are_read(app, client):
    """DefaultApiClient.java appendValue (Boolean.toString): forceDepersonalize=true moves a
    personalized installation."""
    push_id = first_launch(client)
    login(client, push_id, external_user_id="ana-9")
    request = sdk.android_personalize(
        CODE, push_id, sdk.android_identity("bob-9"), force_depersonalize=True
    )
    assert ("forceDepersonalize", "true") in request.query
    assert sdk_json(sdk.replay(client, request))["externalUserId"] == "bob-9"
