"""Each device API call built the way the vendor's mobile SDKs send it, to replay in tests.

Read from the SDKs' public sources (never copied): Android at release 15.0.0
(infobip/mobile-messaging-sdk-android), iOS at 15.5.2 (infobip/mobile-messaging-sdk-ios).

Android (infobip-mobile-messaging-api-java/src/main/java/org/infobip/mobile/messaging/api/):
- ``support/http/client/DefaultApiClient.java``: a PATCH goes out as ``POST`` with
  ``X-HTTP-Method-Override: PATCH``; ``Authorization: App <code>`` (or the caller's own
  ``Authorization`` header: ``Bearer <JWT>`` on user-data calls), ``Accept:
  application/json``, a ``User-Agent``; ``Content-Type: application/json`` only with a body;
  query values are ``Boolean.toString`` (``true``/``false``); the body is Gson without nulls,
  with nulls for a PATCH.
- ``infobip-mobile-messaging-android-sdk/.../mobileapi/MobileApiResourceProvider.java``
  (BaseUrlManager.intercept): every request carries ``foreground``, ``sessionId`` (in the
  foreground), ``installationid``, ``pushregistrationid`` (the device's own, once it has one)
  and ``applicationcode`` (a hash of the code).
- ``appinstance/MobileApiAppInstance.java``, ``appinstance/MobileApiUserData.java``: the paths
  and query parameters; ``appinstance/AppInstance.java``, ``UserPersonalizeBody.java``,
  ``UserSessionEventBody.java``, ``UserCustomEventBody.java``: the bodies.

iOS (Classes/MobileMessaging/Core/HTTP/):
- ``MMRequests.swift``: the paths and query parameters of each request; RequestData.headers:
  ``Authorization: App <code>`` (``Bearer <JWT>`` with an access token), ``applicationcode``,
  ``User-Agent``, ``foreground``, ``pushregistrationid`` (the device's own: for a remote
  action the path names the other installation), ``sessionId``, ``Accept`` and
  ``Content-Type: application/json`` on every request, body or not, ``installationid``;
  buildURLRequest: query keys sorted, booleans as ``1``/``0``, the body with sorted keys.
- ``RemoteAPIProvider.swift``: which flags each call sets (``rt=1`` on create and on get
  instance; ``ri=1`` on get user).
- ``../Installation/InstallationDataMapper.swift``, ``../User/UserDataMapper.swift``,
  ``../Utils/MMUserAgent.swift``: the bodies (SDK system data, plus ``"inappchat": true`` /
  ``"inbox": true`` from the In-app chat and Inbox modules).

A builder returns an :class:`SdkRequest`; :func:`replay` sends it through a Django test
client exactly as built (method, path, query, headers, raw JSON body).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

BASE = "/mobile/1/appinstance"
ANDROID_USER_AGENT = "MobileMessaging/15.0.0(Android;14;Google;Pixel 8;app 2.3.0)"
IOS_USER_AGENT = "MobileMessaging/15.5.2(iOS;17.4;Apple;iPhone15,2;app 2.3.0)"


@dataclass
class SdkRequest:
    method: str
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None

    @property
    def url(self) -> str:
        return self.path + ("?" + urlencode(self.query) if self.query else "")

    def json(self) -> Any:
        return None if self.body is None else json.loads(self.body)


def replay(client, request: SdkRequest):
    """Send ``request`` through a Django test client, as built."""
    extra: dict[str, Any] = {"headers": dict(request.headers)}
    extra["headers"].pop("Content-Length", None)  # the test client sets it from the body
    content_type = extra["headers"].pop("Content-Type", None)
    if content_type is not None:
        extra["content_type"] = content_type
    return client.generic(request.method, request.url, data=request.body or b"", **extra)


def _code_hash(code: str) -> str:
    # The SDKs send the first 10 hex digits of the code's SHA-256 in "applicationcode"
    # (Android MobileMessagingCore.java, iOS Core/Utils/MMUtils.swift calculateAppCodeHash);
    # with a Bearer JWT, which names no application code, the server checks it.
    return hashlib.sha256(code.encode()).hexdigest()[:10]


def _path(push_reg_id: str = "", action: str = "") -> str:
    path = BASE + (f"/{quote(push_reg_id, safe='')}" if push_reg_id else "")
    return path + (f"/{action}" if action else "")


# --- Android ----------------------------------------------------------------------------------


def _android_bool(value: bool) -> str:
    return "true" if value else "false"  # Java's Boolean.toString


def _android_json(body: Any, *, with_nulls: bool) -> bytes:
    """Gson: no nulls, except for a PATCH (DefaultApiClient.jsonSerializer)."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if v is not None}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return json.dumps(body if with_nulls else strip(body), separators=(",", ":")).encode()


def android(
    method: str,
    path: str,
    *,
    code: str,
    own_push_reg_id: str | None = None,
    query: list[tuple[str, Any]] = (),
    body: Any = None,
    authorization: str | None = None,
    foreground: bool = True,
) -> SdkRequest:
    """One Android request (DefaultApiClient.executeHTTP after BaseUrlManager.intercept)."""
    headers = {"foreground": _android_bool(foreground)}
    if foreground:
        headers["sessionId"] = "android-session-1"
    headers["installationid"] = "android-installation-1"
    if own_push_reg_id:
        headers["pushregistrationid"] = own_push_reg_id
    headers["applicationcode"] = _code_hash(code)
    headers["Authorization"] = authorization or f"App {code}"
    headers["Accept"] = "application/json"
    headers["User-Agent"] = ANDROID_USER_AGENT
    raw = None
    if method == "PATCH":
        headers["X-HTTP-Method-Override"] = "PATCH"
    if body is not None:
        raw = _android_json(body, with_nulls=method == "PATCH")
        headers["Content-Length"] = str(len(raw))
        headers["Content-Type"] = "application/json"
    wire_method = "POST" if method == "PATCH" else method
    wire_query = [(k, _android_bool(v) if isinstance(v, bool) else str(v)) for k, v in query]
    return SdkRequest(wire_method, path, wire_query, headers, raw)


def android_app_instance(**fields: Any) -> dict[str, Any]:
    """An AppInstance as InstallationMapper.toBackend fills it on first launch."""
    instance = {
        "pushRegId": None,
        "regEnabled": True,
        "notificationsEnabled": True,
        "sdkVersion": "15.0.0",
        "appVersion": "2.3.0",
        "os": "Android",
        "osVersion": "14",
        "deviceManufacturer": "Google",
        "deviceModel": "Pixel 8",
        "deviceSecure": True,
        "language": "en",
        "deviceTimezoneOffset": "GMT+01:00",
        "applicationUserId": None,
        "deviceName": "Pixel 8",
        "customAttributes": None,
        "isPrimary": None,
        "pushServiceType": "Firebase",
        "pushServiceToken": "fcm:APA91bH-" + "x" * 140,
    }
    instance.update(fields)
    return instance


def android_create_instance(code: str, instance: dict[str, Any]) -> SdkRequest:
    """MobileApiAppInstance.createInstance: POST /appinstance?ri=true."""
    return android("POST", _path(), code=code, query=[("ri", True)], body=instance)


def android_patch_instance(
    code: str, push_reg_id: str, changes: dict[str, Any], *, own: str | None = None
) -> SdkRequest:
    """MobileApiAppInstance.patchInstance (save installation, set primary, push on/off, system
    data sync): a POST tunnelled as PATCH; ``own``: the device's own pushRegId when it
    patches another installation (InstallationSynchronizer.updatePrimaryStatus)."""
    return android(
        "PATCH", _path(push_reg_id), code=code, own_push_reg_id=own or push_reg_id, body=changes
    )


def android_get_instance(code: str, push_reg_id: str) -> SdkRequest:
    """MobileApiAppInstance.getInstance."""
    return android("GET", _path(push_reg_id), code=code, own_push_reg_id=push_reg_id)


def android_depersonalize(code: str, push_reg_id: str, *, own: str | None = None) -> SdkRequest:
    """MobileApiAppInstance.depersonalize: no body; ``own`` for a remote logout."""
    return android(
        "POST", _path(push_reg_id, "depersonalize"), code=code, own_push_reg_id=own or push_reg_id
    )


def android_identity(
    external_user_id: str | None = None,
    phones: list[str] | None = None,
    emails: list[str] | None = None,
) -> dict[str, Any]:
    """UserIdentity as PersonalizeSynchronizer sends it (UserMapper.mapPhonesToBackend)."""
    identity: dict[str, Any] = {}
    if phones:
        identity["phones"] = [{"number": phone} for phone in phones]
    if emails:
        identity["emails"] = [{"address": email} for email in emails]
    if external_user_id is not None:
        identity["externalUserId"] = external_user_id
    return identity


def android_personalize(
    code: str,
    push_reg_id: str,
    identity: dict[str, Any],
    attributes: dict[str, Any] | None = None,
    *,
    force_depersonalize: bool = False,
    keep_as_lead: bool = False,
    set_device_as_primary: bool = False,
    authorization: str | None = None,
) -> SdkRequest:
    """MobileApiUserData.personalize."""
    body: dict[str, Any] = {"userIdentity": identity}
    if attributes is not None:
        body["userAttributes"] = attributes
    return android(
        "POST",
        _path(push_reg_id, "personalize"),
        code=code,
        own_push_reg_id=push_reg_id,
        query=[
            ("forceDepersonalize", force_depersonalize),
            ("keepAsLead", keep_as_lead),
            ("setDeviceAsPrimary", set_device_as_primary),
        ],
        body=body,
        authorization=authorization,
    )


def android_repersonalize(
    code: str,
    push_reg_id: str,
    identity: dict[str, Any],
    attributes: dict[str, Any] | None = None,
    *,
    authorization: str | None = None,
) -> SdkRequest:
    """MobileApiUserData.repersonalize (after NO_REGISTRATION)."""
    body: dict[str, Any] = {"userIdentity": identity}
    if attributes is not None:
        body["userAttributes"] = attributes
    return android(
        "POST",
        _path(push_reg_id, "repersonalize"),
        code=code,
        own_push_reg_id=push_reg_id,
        body=body,
        authorization=authorization,
    )


def android_get_user(code: str, push_reg_id: str, *, authorization: str | None = None):
    """MobileApiUserData.getUser: GET .../user?ri=true."""
    return android(
        "GET",
        _path(push_reg_id, "user"),
        code=code,
        own_push_reg_id=push_reg_id,
        query=[("ri", True)],
        authorization=authorization,
    )


def android_patch_user(
    code: str, push_reg_id: str, changes: dict[str, Any], *, authorization: str | None = None
) -> SdkRequest:
    """MobileApiUserData.patchUser: tunnelled PATCH, nulls kept."""
    return android(
        "PATCH",
        _path(push_reg_id, "user"),
        code=code,
        own_push_reg_id=push_reg_id,
        body=changes,
        authorization=authorization,
    )


def android_session_report(code: str, push_reg_id: str, body: dict[str, Any]) -> SdkRequest:
    """MobileApiAppInstance.sendUserSessionReport (UserSessionEventBody)."""
    return android(
        "POST", _path(push_reg_id, "user/events/session"), code=code,
        own_push_reg_id=push_reg_id, body=body,
    )  # fmt: skip


def android_custom_events(
    code: str, push_reg_id: str, body: dict[str, Any], *, validate: bool = False
) -> SdkRequest:
    """MobileApiAppInstance.sendUserCustomEvents (UserCustomEventBody)."""
    return android(
        "POST",
        _path(push_reg_id, "user/events/custom"),
        code=code,
        own_push_reg_id=push_reg_id,
        query=[("validate", validate)],
        body=body,
    )


# --- iOS --------------------------------------------------------------------------------------


def _ios_json(body: Any) -> bytes:
    """JSONSerialization with .sortedKeys and .withoutEscapingSlashes."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def ios(
    method: str,
    path: str,
    *,
    code: str,
    own_push_reg_id: str | None = None,
    params: dict[str, Any] | None = None,
    body: Any = None,
    access_token: str | None = None,
    foreground: bool = True,
) -> SdkRequest:
    """One iOS request (RequestData.headers and buildURLRequest)."""
    headers = {
        "Authorization": f"Bearer {access_token}" if access_token else f"App {code}",
        "applicationcode": _code_hash(code),
        "User-Agent": IOS_USER_AGENT,
        "foreground": "true" if foreground else "false",
    }
    if own_push_reg_id:
        headers["pushregistrationid"] = own_push_reg_id
    headers["sessionId"] = "ios-session-1"
    headers["Accept"] = "application/json"
    headers["Content-Type"] = "application/json"  # on every request, with a body or not
    headers["installationid"] = "ios-installation-1"
    query = []
    for key in sorted(params or {}):
        value = params[key]
        query.append((key, ("1" if value else "0") if isinstance(value, bool) else str(value)))
    raw = _ios_json(body) if body is not None else None
    return SdkRequest(method, path, query, headers, raw)


def ios_system_data(**fields: Any) -> dict[str, Any]:
    """MMUserAgent SystemData.requestPayload (with the modules' system data merged in)."""
    data = {
        "sdkVersion": "15.5.2",
        "pushServiceType": "APNS",
        "os": "iOS",
        "osVersion": "17.4",
        "deviceManufacturer": "Apple",
        "notificationsEnabled": True,
        "deviceModel": "iPhone15,2",
        "appVersion": "2.3.0",
        "deviceSecure": True,
        "language": "en",
        "deviceName": "Ana's iPhone",
        "deviceTimezoneOffset": "GMT+01:00",
    }
    data.update(fields)
    return data


def ios_post_instance_body(
    push_service_token: str, *, modules: dict[str, bool] | None = None, **fields: Any
) -> dict[str, Any]:
    """InstallationDataMapper.postRequestPayload of a fresh install: the installation's
    dictionaryRepresentation (nil values absent) with the system data merged in, field names
    adjusted (pushRegId, regEnabled, isPrimary), notificationsEnabled forced true."""
    body = {
        "customAttributes": {},
        "isPrimary": False,
        "regEnabled": True,
        "pushServiceToken": push_service_token.lower(),
        **ios_system_data(),
        **(modules or {}),
        "notificationsEnabled": True,
    }
    body.update(fields)
    return body


def ios_post_instance(code: str, body: dict[str, Any]) -> SdkRequest:
    """PostInstance: POST /appinstance?rt=1 (RemoteAPIProvider.postInstance)."""
    return ios("POST", _path(), code=code, params={"rt": True}, body=body)


def ios_patch_instance(
    code: str, auth_push_reg_id: str, ref_push_reg_id: str, body: dict[str, Any]
) -> SdkRequest:
    """PatchInstance: PATCH /appinstance/{ref}?rt=0; the header names the caller (auth)."""
    return ios(
        "PATCH",
        _path(ref_push_reg_id),
        code=code,
        own_push_reg_id=auth_push_reg_id,
        params={"rt": False},
        body=body,
    )


def ios_get_instance(code: str, push_reg_id: str, *, own: str | None = None) -> SdkRequest:
    """GetInstance: GET /appinstance/{id}?rt=1."""
    return ios(
        "GET", _path(push_reg_id), code=code, own_push_reg_id=own or push_reg_id,
        params={"rt": True},
    )  # fmt: skip


def ios_delete_instance(code: str, push_reg_id: str, expired_push_reg_id: str) -> SdkRequest:
    """DeleteInstance: the expired registration in the path, the current one in the header
    (InstallationDataService.expireIfNeeded after a reinstall)."""
    return ios("DELETE", _path(expired_push_reg_id), code=code, own_push_reg_id=push_reg_id)


def ios_depersonalize(code: str, push_reg_id: str, target_push_reg_id: str) -> SdkRequest:
    """PostDepersonalize: the installation to log out in the path, the caller in the header."""
    return ios(
        "POST", _path(target_push_reg_id, "depersonalize"), code=code,
        own_push_reg_id=push_reg_id,
    )  # fmt: skip


def ios_identity(
    external_user_id: str | None = None,
    phones: list[str] | None = None,
    emails: list[str] | None = None,
) -> dict[str, Any]:
    """UserDataMapper.personalizeRequestPayload(userIdentity:)."""
    return android_identity(external_user_id, phones, emails)


def ios_personalize(
    code: str,
    push_reg_id: str,
    identity: dict[str, Any],
    attributes: dict[str, Any] | None = None,
    *,
    force_depersonalize: bool = False,
    keep_as_lead: bool = False,
    set_device_as_primary: bool = False,
    access_token: str | None = None,
) -> SdkRequest:
    """PostPersonalize: flags as 1/0."""
    body: dict[str, Any] = {"userIdentity": identity}
    if attributes is not None:
        body["userAttributes"] = {k: v for k, v in attributes.items() if v is not None}
    return ios(
        "POST",
        _path(push_reg_id, "personalize"),
        code=code,
        own_push_reg_id=push_reg_id,
        params={
            "forceDepersonalize": force_depersonalize,
            "keepAsLead": keep_as_lead,
            "setDeviceAsPrimary": set_device_as_primary,
        },
        body=body,
        access_token=access_token,
    )


def ios_get_user(code: str, push_reg_id: str, *, access_token: str | None = None):
    """GetUser: GET .../user?ri=1&rt=0."""
    return ios(
        "GET",
        _path(push_reg_id, "user"),
        code=code,
        own_push_reg_id=push_reg_id,
        params={"rt": False, "ri": True},
        access_token=access_token,
    )


def ios_patch_user(
    code: str, push_reg_id: str, body: dict[str, Any], *, access_token: str | None = None
) -> SdkRequest:
    """PatchUser: PATCH .../user?ri=0&rt=0 (UserDataMapper.requestPayload)."""
    return ios(
        "PATCH",
        _path(push_reg_id, "user"),
        code=code,
        own_push_reg_id=push_reg_id,
        params={"rt": False, "ri": False},
        body=body,
        access_token=access_token,
    )


def ios_session_report(code: str, push_reg_id: str, body: dict[str, Any]) -> SdkRequest:
    """PostUserSession (UserSessionMapper.requestPayload)."""
    return ios(
        "POST", _path(push_reg_id, "user/events/session"), code=code,
        own_push_reg_id=push_reg_id, body=body,
    )  # fmt: skip


def ios_custom_event(
    code: str, push_reg_id: str, body: dict[str, Any], *, validate: bool = False
) -> SdkRequest:
    """PostCustomEvent: validate as 1/0."""
    return ios(
        "POST",
        _path(push_reg_id, "user/events/custom"),
        code=code,
        own_push_reg_id=push_reg_id,
        params={"validate": validate},
        body=body,
    )
