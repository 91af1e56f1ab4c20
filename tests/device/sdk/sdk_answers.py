"""Reading the server's answers the way the SDKs read them.

Android: DefaultApiClient.executeHTTP reads an error body only when Content-Length > 0, as
ApiResponse (requestError.serviceException messageId and text, strings), and parses a 2xx body
with Gson into the response type. iOS: MMRequestError(json:) needs text and messageId as
strings; MMInstallation(json:) needs pushRegId as a string; MMUser(json:) reads phones as
objects with "number", emails with "address", gender "Male"/"Female" (MMGender.make).
"""

from __future__ import annotations

import json
from typing import Any


def sdk_error(response, status: int, message_id: str | None = None) -> dict[str, Any]:
    """The serviceException the SDKs read from an error answer."""
    assert response.status_code == status, (response.status_code, response.content)
    length = int(response["Content-Length"])
    assert length == len(response.content) > 0
    assert response["Content-Type"].startswith("application/json")
    exception = json.loads(response.content)["requestError"]["serviceException"]
    assert isinstance(exception["messageId"], str) and isinstance(exception["text"], str)
    if message_id is not None:
        assert exception["messageId"] == message_id, exception
    return exception


def sdk_json(response, status: int = 200) -> Any:
    """A 2xx answer with a body: JSON, with a JSON content type."""
    assert response.status_code == status, (response.status_code, response.content)
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content)


def assert_app_instance(body: dict[str, Any]) -> None:
    """What Android's AppInstance (Gson) and iOS's MMInstallation(json:) parse."""
    assert isinstance(body["pushRegId"], str)
    for name in ("regEnabled", "notificationsEnabled", "deviceSecure", "isPrimary"):
        assert isinstance(body[name], bool), name
    for name in ("sdkVersion", "appVersion", "os", "osVersion", "deviceManufacturer",
                 "deviceModel", "language", "deviceTimezoneOffset", "deviceName",
                 "pushServiceType"):  # fmt: skip
        assert isinstance(body[name], str), name
    assert isinstance(body["customAttributes"], dict)
    for name in ("applicationUserId", "pushServiceToken"):
        assert name not in body or isinstance(body[name], str), name


def assert_user(body: dict[str, Any]) -> None:
    """What Android's UserBody (Gson) and iOS's MMUser(json:) parse."""
    for name in ("externalUserId", "firstName", "lastName", "middleName", "birthday", "type"):
        assert name not in body or isinstance(body[name], str), name
    assert body.get("gender") in (None, "Male", "Female")
    assert all(isinstance(p, dict) and isinstance(p["number"], str) for p in body["phones"])
    assert all(isinstance(e, dict) and isinstance(e["address"], str) for e in body["emails"])
    assert all(isinstance(tag, str) for tag in body["tags"])
    assert isinstance(body["customAttributes"], dict)
