"""User data authorization with JWT: the personalize call as the vendor's SDKs send it.

Requests follow the SDK sources (infobip/mobile-messaging-sdk-android 15.0.0,
infobip/mobile-messaging-sdk-ios 15.5.2):

- Android: ``MobileApiUserData.personalize`` (POST .../{regId}/personalize with the three query
  booleans as ``false``/``true`` and ``@Header("Authorization")``), the header from
  ``util/AuthorizationUtils.getAuthorizationHeader`` (``Bearer <jwt>`` replaces ``App <code>``;
  no ``@ApiKey`` on ``MobileApiUserData``, so ``DefaultApiClient.executeHTTP`` adds no App
  header), body ``UserPersonalizeBody`` (``userIdentity``, ``userAttributes``).
- iOS: ``PostPersonalize`` and ``RequestData.headers`` in ``Core/HTTP/MMRequests.swift``
  (``Authorization: Bearer``, ``applicationcode`` = ``calculateAppCodeHash`` of MMUtils.swift,
  ``pushregistrationid``, ``foreground``, ``installationid``, JSON content type).
- The token: the example suppliers (Android ``JwtSupplierExampleImpl.java``, iOS
  ``JwtSupplierExampleImpl.swift``) and the structure both SDKs check before sending
  (``AuthorizationUtils.isValidJwt``, ``MMJwtValidator``): header alg HS256, typ JWT, kid;
  claims typ "Bearer", jti, sub (the external user id), iss and infobip-api-key (the
  application code), iat, exp; HS256 with the secret key given as hex.

Answers are read as the SDKs read them: a 2xx body is the user (``UserMapper.fromBackend`` /
``MMUser``: ``externalUserId``), an error is ``requestError.serviceException`` ``messageId`` and
``text`` (``DefaultApiClient`` reads it only when the answer has a length).
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from types import SimpleNamespace

import jwt
import pytest
from rest_framework.test import APIClient

from installations.api.authentication import DevicePrincipal
from installations.api.jwt_authentication import (
    JwtAuthenticationFailed,
    JwtDevicePrincipal,
    JwtSubjectMismatch,
    check_user_read,
    check_user_write,
)
from installations.applications import application_set_jwt
from installations.models import Installation
from tests.device.sdk import sdk_requests as sdk
from tests.factories import ApplicationFactory, InstallationFactory

SECRET = "6f0c5e9c1f7a4b2d8e3a9c0b5d7e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a"
OTHER_SECRET = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
KEY_ID = "key-7f3a"
QUERY = "?forceDepersonalize=false&keepAsLead=false&setDeviceAsPrimary=false"


@pytest.fixture
def app(db):
    application = ApplicationFactory(name="Shop", code="0a1b2c3d4e5f60718293a4b5c6d7e8f9")
    return application_set_jwt(
        application=application, key_id=KEY_ID, secret=SECRET, required=False
    )


@pytest.fixture
def android(app) -> Installation:
    return InstallationFactory(application=app, push_registration_id="android-reg-1", os="Android")


@pytest.fixture
def iphone(app) -> Installation:
    return InstallationFactory(application=app, push_registration_id="ios-reg-1", os="iOS")


def token(
    app,
    sub: str = "ana-1",
    *,
    secret: str = SECRET,
    kid: str = KEY_ID,
    issued: float | None = None,
    lifetime: int = 10,
    algorithm: str = "HS256",
    leave_out: str | None = None,
    **claims,
) -> str:
    """A token as the vendor's example suppliers make it (10 s of life, as Android's)."""
    now = int(time.time()) if issued is None else int(issued)
    payload = {
        "typ": "Bearer",
        "jti": str(uuid.uuid4()),
        "sub": sub,
        "iss": app.code,
        "iat": now,
        "exp": now + lifetime,
        "infobip-api-key": app.code,
        **claims,
    }
    if leave_out:
        payload.pop(leave_out)
    key = bytes.fromhex(secret) if algorithm != "none" else None
    return jwt.encode(payload, key, algorithm=algorithm, headers={"kid": kid, "typ": "JWT"})


def android_personalize(installation, bearer: str, identity: dict, attributes=None):
    """POST as DefaultApiClient.executeHTTP sends MobileApiUserData.personalize."""
    body = {"userIdentity": identity}
    if attributes:
        body["userAttributes"] = attributes
    return APIClient().generic(
        "POST",
        f"/mobile/1/appinstance/{installation.push_registration_id}/personalize{QUERY}",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {bearer}",
        HTTP_ACCEPT="application/json",
        HTTP_USER_AGENT="MobileMessaging/15.0.0 (Android 14; ...)",
    )


def ios_personalize(installation, bearer: str, identity: dict, app_code: str):
    """POST as PostPersonalize (MMRequests.swift) with RequestData.headers."""
    return APIClient().generic(
        "POST",
        f"/mobile/1/appinstance/{installation.push_registration_id}/personalize{QUERY}",
        data=json.dumps({"userIdentity": identity}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {bearer}",
        HTTP_APPLICATIONCODE=hashlib.sha256(app_code.encode()).hexdigest()[:10],
        HTTP_PUSHREGISTRATIONID=installation.push_registration_id,
        HTTP_FOREGROUND="true",
        HTTP_INSTALLATIONID="5E1C2A8F-0000-4000-8000-000000000001",
        HTTP_ACCEPT="application/json",
        HTTP_USER_AGENT="MobileMessaging/15.5.2 (iOS 18.1; ...)",
    )


def sdk_error(response) -> dict:
    """What DefaultApiClient / the iOS SDK read from an error answer."""
    assert response.content, "the SDK reads an error body only when the answer has a length"
    assert response["Content-Type"].startswith("application/json")
    exception = response.json()["requestError"]["serviceException"]
    assert isinstance(exception["messageId"], str) and isinstance(exception["text"], str)
    return exception


def still_anonymous(installation) -> bool:
    installation.refresh_from_db()
    return installation.person.external_id is None


# ---------------------------------------------------------------------------------------------
# Good tokens


def test_an_android_personalize_with_a_good_token_personalizes_the_installation(app, android):
    response = android_personalize(android, token(app), {"externalUserId": "ana-1"})
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["externalUserId"] == "ana-1"
    android.refresh_from_db()
    assert android.person.external_id == "ana-1"


def test_an_ios_personalize_with_a_good_token_and_its_app_code_hash_personalizes(app, iphone):
    response = ios_personalize(iphone, token(app), {"externalUserId": "ana-1"}, app.code)
    assert response.status_code == 200, response.content
    assert response.json()["externalUserId"] == "ana-1"
    assert not still_anonymous(iphone)


def test_a_good_token_may_carry_phones_and_emails_beside_its_external_id(app, android):
    identity = {"externalUserId": "ana-1", "emails": ["ana@example.com"]}
    response = android_personalize(android, token(app), identity)
    assert response.status_code == 200, response.content
    assert response.json()["externalUserId"] == "ana-1"


def test_the_same_token_is_taken_again_when_the_sdk_retries_the_call(app, android):
    # Android's MRetryableTask resends the header it computed once; iOS retries alike.
    bearer = token(app)
    first = android_personalize(android, bearer, {"externalUserId": "ana-1"})
    retry = android_personalize(android, bearer, {"externalUserId": "ana-1"})
    assert (first.status_code, retry.status_code) == (200, 200)


def test_the_application_code_still_works_when_jwt_is_not_required(app, android):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"App {app.code}")
    response = client.post(
        f"/mobile/1/appinstance/{android.push_registration_id}/personalize{QUERY}",
        {"userIdentity": {"externalUserId": "ana-1"}},
        format="json",
    )
    assert response.status_code == 200, response.content


# ---------------------------------------------------------------------------------------------
# Bad tokens: 401 in the SDK's error body, nothing written


def test_an_expired_token_is_refused_with_jwt_token_expired(app, android):
    expired = token(app, issued=time.time() - 600)
    response = android_personalize(android, expired, {"externalUserId": "ana-1"})
    assert response.status_code == 401
    assert sdk_error(response)["messageId"] == "JWT_TOKEN_EXPIRED"
    assert still_anonymous(android)


def test_a_token_signed_with_another_key_is_refused_as_a_forgery(app, android):
    forged = token(app, secret=OTHER_SECRET)
    response = android_personalize(android, forged, {"externalUserId": "ana-1"})
    assert response.status_code == 401
    assert sdk_error(response)["messageId"] == "JWT_TOKEN_SIGNATURE_INVALID"
    assert still_anonymous(android)


def test_a_token_whose_payload_was_changed_after_signing_is_refused(app, android):
    header, _, signature = token(app, sub="ana-1").split(".")
    good_other = token(app, sub="mallory").split(".")[1]
    tampered = f"{header}.{good_other}.{signature}"
    response = android_personalize(android, tampered, {"externalUserId": "mallory"})
    assert response.status_code == 401
    assert sdk_error(response)["messageId"] == "JWT_TOKEN_SIGNATURE_INVALID"
    assert still_anonymous(android)


def test_an_unsigned_token_is_refused(app, android):
    unsigned = token(app, algorithm="none")
    response = android_personalize(android, unsigned, {"externalUserId": "ana-1"})
    assert response.status_code == 401
    assert sdk_error(response)["messageId"] == "JWT_TOKEN_STRUCTURE_INVALID"
    assert still_anonymous(android)


def test_a_token_with_another_key_id_is_refused(app, android):
    response = android_personalize(android, token(app, kid="old-key"), {"externalUserId": "ana-1"})
    assert response.status_code == 401
    assert sdk_error(response)["messageId"] == "JWT_TOKEN_SIGNATURE_INVALID"


@pytest.mark.parametrize("claim", ["typ", "sub", "infobip-api-key", "iat", "exp", "jti"])
def test_a_token_without_a_claim_the_vendor_requires_is_refused(app, android, claim):
    response = android_personalize(
        android, token(app, leave_out=claim), {"externalUserId": "ana-1"}
    )
    assert response.status_code == 401
    assert sdk_error(response)["messageId"] in {
        "JWT_TOKEN_STRUCTURE_INVALID",
        "JWT_APPLICATION_INVALID",  # without infobip-api-key no application is named
    }
    assert still_anonymous(android)


def test_a_token_issued_in_the_future_is_refused(app, android):
    early = token(app, issued=time.time() + 3600)
    response = android_personalize(android, early, {"externalUserId": "ana-1"})
    assert response.status_code == 401
    assert sdk_error(response)["messageId"] == "JWT_TOKEN_NOT_YET_VALID"


def test_a_token_of_an_application_without_a_jwt_secret_is_refused(android):
    plain = ApplicationFactory(name="No JWT")
    response = android_personalize(android, token(plain), {"externalUserId": "ana-1"})
    assert response.status_code == 401
    assert sdk_error(response)["messageId"] == "JWT_APPLICATION_INVALID"


# ---------------------------------------------------------------------------------------------
# The application and the subject


def test_a_good_token_of_another_application_reaches_none_of_this_applications_installations(
    app, android
):
    other = application_set_jwt(
        application=ApplicationFactory(name="Other"),
        key_id="other-key",
        secret=OTHER_SECRET,
        required=False,
    )
    theirs = token(other, secret=OTHER_SECRET, kid="other-key")
    response = android_personalize(android, theirs, {"externalUserId": "ana-1"})
    assert response.status_code == 404
    assert sdk_error(response)["messageId"] == "NO_REGISTRATION"
    assert still_anonymous(android)


def test_an_ios_token_for_another_application_than_its_app_code_hash_is_refused(app, iphone):
    other = application_set_jwt(
        application=ApplicationFactory(name="Other"),
        key_id="other-key",
        secret=OTHER_SECRET,
        required=False,
    )
    theirs = token(other, secret=OTHER_SECRET, kid="other-key")
    response = ios_personalize(iphone, theirs, {"externalUserId": "ana-1"}, app.code)
    assert response.status_code == 401
    assert sdk_error(response)["messageId"] == "JWT_APPLICATION_INVALID"


def test_a_token_for_another_person_than_the_identity_is_refused(app, android):
    response = android_personalize(android, token(app, sub="bob-2"), {"externalUserId": "ana-1"})
    assert response.status_code == 403
    assert sdk_error(response)["messageId"] == "JWT_SUBJECT_MISMATCH"
    assert still_anonymous(android)


def test_a_token_does_not_authorize_a_personalize_by_email_alone(app, android):
    response = android_personalize(android, token(app), {"emails": ["ana@example.com"]})
    assert response.status_code == 403
    assert sdk_error(response)["messageId"] == "JWT_SUBJECT_MISMATCH"
    android.refresh_from_db()
    assert not android.person.identities.exists()


# ---------------------------------------------------------------------------------------------
# JWT required


@pytest.fixture
def strict_app(app):
    return application_set_jwt(application=app, key_id=KEY_ID, required=True)


def test_when_jwt_is_required_a_personalize_with_the_application_code_is_refused(
    strict_app, android
):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"App {strict_app.code}")
    response = client.post(
        f"/mobile/1/appinstance/{android.push_registration_id}/personalize{QUERY}",
        {"userIdentity": {"externalUserId": "ana-1"}},
        format="json",
    )
    assert response.status_code == 401
    assert sdk_error(response)["messageId"] == "JWT_TOKEN_REQUIRED"
    assert still_anonymous(android)


def test_when_jwt_is_required_a_good_token_personalizes(strict_app, android):
    response = android_personalize(android, token(strict_app), {"externalUserId": "ana-1"})
    assert response.status_code == 200, response.content


def test_when_jwt_is_required_the_other_device_calls_keep_the_application_code(strict_app, android):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"App {strict_app.code}")
    response = client.get(f"/mobile/1/appinstance/{android.push_registration_id}")
    assert response.status_code == 200


# ---------------------------------------------------------------------------------------------
# The helpers the /user views use (they read only request.user)


def as_request(app, subject: str | None):
    if subject is None:
        return SimpleNamespace(user=DevicePrincipal(application=app))
    return SimpleNamespace(
        user=JwtDevicePrincipal(application=app, subject=subject, token_id="t-1")
    )


def test_the_user_of_an_identified_person_is_read_only_with_a_token_for_that_person(
    strict_app, android
):
    person = android.person
    person.external_id = "ana-1"
    person.save(update_fields=["external_id"])
    check_user_read(as_request(strict_app, "ana-1"), person)
    with pytest.raises(JwtSubjectMismatch) as mismatch:
        check_user_read(as_request(strict_app, "bob-2"), person)
    assert mismatch.value.message_id == "JWT_SUBJECT_MISMATCH"
    with pytest.raises(JwtAuthenticationFailed) as required:
        check_user_read(as_request(strict_app, None), person)
    assert required.value.message_id == "JWT_TOKEN_REQUIRED"


def test_an_anonymous_user_is_saved_with_the_application_code_but_gets_no_external_id_so(
    strict_app, android
):
    anonymous = android.person
    check_user_write(as_request(strict_app, None), anonymous, {"firstName": "Ana"})
    with pytest.raises(JwtAuthenticationFailed):
        check_user_write(as_request(strict_app, None), anonymous, {"externalUserId": "ana-1"})


# ---------------------------------------------------------------------------------------------
# The user paths and repersonalize over HTTP, as the SDKs send them with a token


def identified(installation, external_id: str = "ana-1") -> Installation:
    person = installation.person
    person.external_id = external_id
    person.save(update_fields=["external_id"])
    return installation


def test_android_fetches_its_user_with_a_good_token_and_not_with_an_expired_one(app, android):
    """MobileApiUserData.getUser with AuthorizationUtils' Bearer header (UserDataReporter)."""
    identified(android)
    good = sdk.replay(
        APIClient(),
        sdk.android_get_user(app.code, "android-reg-1", authorization=f"Bearer {token(app)}"),
    )
    assert good.status_code == 200, good.content
    assert good.json()["externalUserId"] == "ana-1"
    expired = token(app, issued=time.time() - 3600)
    refused = sdk.replay(
        APIClient(),
        sdk.android_get_user(app.code, "android-reg-1", authorization=f"Bearer {expired}"),
    )
    assert refused.status_code == 401
    assert sdk_error(refused)["messageId"] == "JWT_TOKEN_EXPIRED"


def test_ios_saves_its_user_only_with_a_token_for_that_user(app, iphone):
    """PatchUser (MMRequests.swift) with an access token; a forged or another person's token
    writes nothing."""
    identified(iphone)
    forged = token(app, secret=OTHER_SECRET)
    refused = sdk.replay(
        APIClient(),
        sdk.ios_patch_user(app.code, "ios-reg-1", {"firstName": "Eve"}, access_token=forged),
    )
    assert refused.status_code == 401
    assert sdk_error(refused)["messageId"] == "JWT_TOKEN_SIGNATURE_INVALID"
    other = sdk.replay(
        APIClient(),
        sdk.ios_patch_user(
            app.code, "ios-reg-1", {"firstName": "Eve"}, access_token=token(app, sub="bob-2")
        ),
    )
    assert other.status_code == 403
    assert sdk_error(other)["messageId"] == "JWT_SUBJECT_MISMATCH"
    iphone.person.refresh_from_db()
    assert iphone.person.first_name != "Eve"
    saved = sdk.replay(
        APIClient(),
        sdk.ios_patch_user(app.code, "ios-reg-1", {"firstName": "Ana"}, access_token=token(app)),
    )
    assert saved.status_code == 200, saved.content
    assert saved.json()["firstName"] == "Ana"


def test_when_jwt_is_required_the_user_of_an_identified_person_needs_a_token(strict_app, android):
    identified(android)
    response = sdk.replay(APIClient(), sdk.android_get_user(strict_app.code, "android-reg-1"))
    assert response.status_code == 401
    assert sdk_error(response)["messageId"] == "JWT_TOKEN_REQUIRED"


def test_android_repersonalizes_with_a_token_for_the_identity_it_names(app, android):
    """MobileApiUserData.repersonalize after NO_REGISTRATION, with the Bearer header."""
    forged = sdk.replay(
        APIClient(),
        sdk.android_repersonalize(
            app.code,
            "android-reg-1",
            {"externalUserId": "ana-1"},
            authorization=f"Bearer {token(app, secret=OTHER_SECRET)}",
        ),
    )
    assert forged.status_code == 401
    assert still_anonymous(android)
    good = sdk.replay(
        APIClient(),
        sdk.android_repersonalize(
            app.code,
            "android-reg-1",
            {"externalUserId": "ana-1"},
            authorization=f"Bearer {token(app)}",
        ),
    )
    assert good.status_code == 200, good.content
    assert not still_anonymous(android)
