"""User data authorization with JWT, as the vendor's mobile SDKs send it.

When an app gives the SDK a JWT supplier, the SDK sends ``Authorization: Bearer <JWT>`` instead
of ``App <applicationCode>`` on personalize, repersonalize and user fetch/save (Android:
``AuthorizationUtils.getAuthorizationHeader``, used by ``PersonalizeSynchronizer`` and
``UserDataReporter``; the Bearer header replaces the App one since ``MobileApiUserData`` has no
``@ApiKey``. iOS: ``RequestData.headers`` in ``MMRequests.swift`` for ``PostPersonalize``,
``GetUser`` and ``PatchUser``, which also send ``applicationcode``, the first 10 hex digits of
the SHA-256 of the code). The token is the vendor's (SDK ``AuthorizationUtils.isValidJwt`` and
``MMJwtValidator``, and the vendor's page "JsonWebToken (JWT) structure and generation
example"):

- header: ``alg`` HS256, ``typ``, ``kid`` (the id of the application's secret key);
- claims: ``typ`` "Bearer", ``sub`` (the person's external id), ``infobip-api-key`` (the
  application code: it names the application, since no App header comes with the token),
  ``iat``, ``exp``, ``jti``;
- signed HS256 with the application's secret (hex).

Everything here answers 401 in the SDK's error body (``requestError.serviceException``), with
the SDK's own codes where it has one (``JWT_TOKEN_STRUCTURE_INVALID``, ``JWT_TOKEN_EXPIRED``);
a token for another person than the call's is 403 ``JWT_SUBJECT_MISMATCH``.

``jti`` must be present (as the vendor's) but a token may be used more than once until it
expires: both SDKs read the token once per call and resend it unchanged when they retry that
call (Android's ``MRetryableTask`` runs with the header computed before it), so refusing a
second use would fail retries after a lost answer. Tokens are short-lived (the vendor's examples
give them seconds), which bounds a replay.

How a view uses it: ``authentication_classes = [JwtOrApplicationCodeAuthentication]`` and, for
the subject, the permission ``JwtSubjectIsPersonalizeIdentity`` (personalize) or the helpers
``check_user_read`` / ``check_user_write`` (the /user views).
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from dataclasses import dataclass
from typing import Any

import jwt
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from installations.api.authentication import ApplicationCodeAuthentication, DevicePrincipal
from installations.models import Application

ALGORITHM = "HS256"
MANDATORY_HEADERS = ("alg", "typ", "kid")  # AuthorizationUtils.mandatoryHeaders
MANDATORY_CLAIMS = ("typ", "sub", "infobip-api-key", "iat", "exp", "jti")
# Phone and server clocks disagree a little; the SDK itself checks exp with the phone's clock.
CLOCK_LEEWAY_SECONDS = 30


class JwtCode:
    STRUCTURE_INVALID = "JWT_TOKEN_STRUCTURE_INVALID"  # the SDK's InternalSdkError code
    EXPIRED = "JWT_TOKEN_EXPIRED"  # the SDK's InternalSdkError code
    NOT_YET_VALID = "JWT_TOKEN_NOT_YET_VALID"
    SIGNATURE_INVALID = "JWT_TOKEN_SIGNATURE_INVALID"
    APPLICATION_INVALID = "JWT_APPLICATION_INVALID"
    REQUIRED = "JWT_TOKEN_REQUIRED"
    SUBJECT_MISMATCH = "JWT_SUBJECT_MISMATCH"


class JwtAuthenticationFailed(exceptions.AuthenticationFailed):
    """401 with ``messageId`` (core.api.errors reads ``message_id``)."""

    def __init__(self, message_id: str, text: str) -> None:
        super().__init__(text)
        self.message_id = message_id


class JwtSubjectMismatch(exceptions.PermissionDenied):
    message_id = JwtCode.SUBJECT_MISMATCH


@dataclass(frozen=True, kw_only=True)
class JwtDevicePrincipal(DevicePrincipal):
    """A device whose call carries a valid token: its application, and the person it names."""

    subject: str  # the external id the token was issued for (NFC)
    token_id: str


def application_code_hash(code: str) -> str:
    """What iOS sends as ``applicationcode`` (``calculateAppCodeHash`` in MMUtils.swift)."""
    return hashlib.sha256(code.encode()).hexdigest()[:10]


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def verify_token(token: str, *, app_code_hash: str | None = None) -> JwtDevicePrincipal:
    """The principal a token proves, or JwtAuthenticationFailed saying what is wrong with it."""
    fail = JwtAuthenticationFailed
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        raise fail(JwtCode.STRUCTURE_INVALID, "The token is not a JWT.") from None
    for name in MANDATORY_HEADERS:
        if name not in header:
            raise fail(JwtCode.STRUCTURE_INVALID, f"The token header has no {name!r}.")
    if header["alg"] != ALGORITHM:
        raise fail(JwtCode.STRUCTURE_INVALID, f"The token must be signed {ALGORITHM}.")
    for name in MANDATORY_CLAIMS:
        if name not in unverified:
            raise fail(JwtCode.STRUCTURE_INVALID, f"The token has no {name!r} claim.")

    # The unverified claim only chooses the key: the token must then be signed with it.
    code = unverified["infobip-api-key"]
    application = None
    if isinstance(code, str) and code:
        application = Application.objects.filter(code=code).first()
    if application is None or not application.jwt_secret:
        raise fail(
            JwtCode.APPLICATION_INVALID,
            "infobip-api-key names no application that takes JWT.",
        )
    if app_code_hash is not None and not hmac.compare_digest(
        app_code_hash.strip().lower(), application_code_hash(application.code)
    ):
        raise fail(
            JwtCode.APPLICATION_INVALID, "infobip-api-key is not the application of the request."
        )
    if not isinstance(header["kid"], str) or not hmac.compare_digest(
        header["kid"].encode(), application.jwt_key_id.encode()
    ):
        raise fail(JwtCode.SIGNATURE_INVALID, "kid is not the application's JWT key id.")

    try:
        claims = jwt.decode(
            token,
            bytes.fromhex(application.jwt_secret),
            algorithms=[ALGORITHM],
            leeway=CLOCK_LEEWAY_SECONDS,
            options={"require": list(MANDATORY_CLAIMS), "verify_aud": False},
        )
    except jwt.ExpiredSignatureError:
        raise fail(JwtCode.EXPIRED, "The token has expired (exp).") from None
    except jwt.ImmatureSignatureError:
        raise fail(JwtCode.NOT_YET_VALID, "The token is issued in the future (iat).") from None
    except jwt.InvalidSignatureError:
        raise fail(JwtCode.SIGNATURE_INVALID, "The token's signature is not valid.") from None
    except jwt.InvalidTokenError as error:
        raise fail(JwtCode.STRUCTURE_INVALID, f"The token is not valid: {error}.") from None
    if claims["typ"] != "Bearer":
        raise fail(JwtCode.STRUCTURE_INVALID, "The token's typ claim must be 'Bearer'.")
    subject, token_id = claims["sub"], claims["jti"]
    if not isinstance(subject, str) or not subject.strip():
        raise fail(JwtCode.STRUCTURE_INVALID, "The token's sub claim must be an external id.")
    if not isinstance(token_id, str | int) or not str(token_id).strip():
        raise fail(JwtCode.STRUCTURE_INVALID, "The token's jti claim must not be empty.")
    return JwtDevicePrincipal(application=application, subject=nfc(subject), token_id=str(token_id))


class JwtOrApplicationCodeAuthentication(ApplicationCodeAuthentication):
    """``Bearer <JWT>`` (user data authorization) or ``App <applicationCode>`` as before."""

    def authenticate(self, request: Request):
        header = authentication.get_authorization_header(request).decode("latin-1").strip()
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer":
            return super().authenticate(request)
        raw = raw.strip()
        if not raw:
            raise JwtAuthenticationFailed(
                JwtCode.STRUCTURE_INVALID, "Missing token after 'Bearer'."
            )
        principal = verify_token(raw, app_code_hash=request.headers.get("applicationcode"))
        return principal, principal.application


# ---------------------------------------------------------------------------------------------
# Who the token may act for


def _token_subject(request: Request) -> str | None:
    user = request.user
    return user.subject if isinstance(user, JwtDevicePrincipal) else None


def _required(request: Request) -> bool:
    application = getattr(request.user, "application", None)
    return bool(application and application.jwt_required)


def _require_token() -> JwtAuthenticationFailed:
    return JwtAuthenticationFailed(
        JwtCode.REQUIRED,
        "This application requires a JWT (Authorization: Bearer) for this call.",
    )


def _mismatch(what: str) -> JwtSubjectMismatch:
    return JwtSubjectMismatch(f"The token's sub is not {what}.")


def check_personalize_identity(request: Request, identity: Any) -> None:
    """Personalize (and repersonalize) by a device: with a token, ``userIdentity`` must carry
    ``externalUserId`` equal to its ``sub``; without one, refused when the application requires
    JWT (the vendor: personalization then needs the external id and a token for it)."""
    subject = _token_subject(request)
    if subject is None:
        if _required(request):
            raise _require_token()
        return
    external_id = identity.get("externalUserId") if isinstance(identity, dict) else None
    if not isinstance(external_id, str) or nfc(external_id) != subject:
        raise _mismatch("userIdentity.externalUserId")


def check_user_read(request: Request, person) -> None:
    """GET .../user: a token must name the installation's person (its externalId); without one,
    an application that requires JWT answers only for an anonymous person (no externalId)."""
    subject = _token_subject(request)
    if subject is None:
        if _required(request) and person.external_id:
            raise _require_token()
        return
    if person.external_id is None or nfc(person.external_id) != subject:
        raise _mismatch("the externalId of the installation's person")


def check_user_write(request: Request, person, body: Any) -> None:
    """PATCH .../user: as check_user_read, and ``externalUserId`` may be changed only to the
    token's ``sub``; when JWT is required, only personalize sets it (as the vendor's)."""
    check_user_read(request, person)
    if not isinstance(body, dict) or "externalUserId" not in body:
        return
    subject = _token_subject(request)
    value = body["externalUserId"]
    if subject is None:
        if _required(request):
            raise _require_token()
        return
    if not isinstance(value, str) or nfc(value) != subject:
        raise _mismatch("externalUserId")


class JwtSubjectIsPersonalizeIdentity(permissions.BasePermission):
    """check_personalize_identity as a permission, for the personalize views (the body is read
    before the view runs; a malformed body with a token is a mismatch, and nothing is written)."""

    def has_permission(self, request: Request, view) -> bool:
        if not isinstance(request.user, DevicePrincipal):
            return False
        data = request.data
        identity = data.get("userIdentity") if isinstance(data, dict) else None
        check_personalize_identity(request, identity)
        return True


__all__ = [
    "JwtAuthenticationFailed",
    "JwtCode",
    "JwtDevicePrincipal",
    "JwtOrApplicationCodeAuthentication",
    "JwtSubjectIsPersonalizeIdentity",
    "application_code_hash",
    "check_personalize_identity",
    "check_user_read",
    "check_user_write",
    "verify_token",
]
