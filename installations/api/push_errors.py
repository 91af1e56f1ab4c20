"""The push API's error body: every 400 of /people/2/contactInformation/push/... is the
vendor's ``PushApiErrorResponse``, ``{"errorCode": <int>, "errorMessage": "..."}``.

The vendor's OpenAPI document gives that body as the only 400 of its four push operations,
with three codes: 48001, 48012 and 48013. The other refusals (a wrong field, a broken rule of
DOMAIN.md) carry the portal's own numbers, 48100 and up, one per error code of the shared
vocabulary (core/errors.py): the table below, also in the README. A number, once given, is
never reused for another meaning. ``errorMessage`` names the field and the rule broken.

Other statuses keep the vendor's ``ApiException`` body, as the document gives them (401, 403,
404, 429, 500).
"""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.response import Response

from core.api.errors import exception_handler
from core.errors import DomainError, ErrorCode

PUSH_PATH_PREFIX = "/people/2/contactInformation/push/"

# The vendor's (its OpenAPI document, the 400 examples of the push operations).
APPLICATION_CODE_MISSING = (48001, "Application code missing")
APPLICATION_NOT_FOUND = (48012, "Push application not found")
REGISTRATION_NOT_FOUND = (48013, "Push registration not found")

# The portal's, by the code the people API answers as messageId for the same refusal.
PUSH_ERROR_CODES: dict[str, int] = {
    ErrorCode.BAD_REQUEST: 48100,
    ErrorCode.REQUEST_FORMAT_INVALID: 48101,
    ErrorCode.USER_IDENTITY_INVALID: 48102,
    ErrorCode.PHONE_INVALID: 48103,
    ErrorCode.EMAIL_INVALID: 48104,
    ErrorCode.USER_MERGE_INTERRUPTED: 48105,
    ErrorCode.PERSONALIZATION_IMPOSSIBLE: 48106,
    ErrorCode.AMBIGUOUS_PERSONALIZE_CANDIDATES: 48107,
    ErrorCode.ATTRIBUTE_IN_USE: 48108,
    ErrorCode.IDENTIFIER_SUPPRESSED: 48109,
    ErrorCode.JOB_KIND_UNKNOWN: 48110,
    ErrorCode.NO_REGISTRATION: REGISTRATION_NOT_FOUND[0],
}

VENDOR_ERRORS = (APPLICATION_CODE_MISSING, APPLICATION_NOT_FOUND, REGISTRATION_NOT_FOUND)
# The codes, for the OpenAPI document.
PUSH_ERROR_CODES_TEXT = ", ".join(
    [f"{code} {text}" for code, text in VENDOR_ERRORS]
    + [
        f"{number} {message_id}"
        for message_id, number in PUSH_ERROR_CODES.items()
        if message_id != ErrorCode.NO_REGISTRATION
    ]
)


class PushApiError(Exception):
    """One of the vendor's own push errors (48001, 48012, 48013)."""

    def __init__(self, error: tuple[int, str]) -> None:
        super().__init__(error[1])
        self.error_code, self.error_message = error


def is_push_path(path: str) -> bool:
    return path.startswith(PUSH_PATH_PREFIX)


def push_error_code(message_id: str) -> int:
    """The number of a messageId; one this table does not know is a plain bad request."""
    return PUSH_ERROR_CODES.get(message_id, PUSH_ERROR_CODES[ErrorCode.BAD_REQUEST])


def push_error_message(text: str, validation_errors: dict[str, list[str]] | None) -> str:
    """Each field with its rule (``field: rule``), or the text when no field is named."""
    if not validation_errors:
        return text
    parts = []
    for field, messages in validation_errors.items():
        for message in messages:
            # A domain message usually starts with its field already ("systemData.os is
            # read-only..."): do not say it twice.
            parts.append(message if field in message else f"{field}: {message}")
    return "; ".join(parts)


def push_error_body(
    message_id: str, text: str, validation_errors: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    """The PushApiErrorResponse of a refusal described as the people API describes it (the
    arguments of core.api.errors.error_body)."""
    return {
        "errorCode": push_error_code(message_id),
        "errorMessage": push_error_message(text, validation_errors),
    }


def push_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """The push views' EXCEPTION_HANDLER: the API's own handler, whose 400s are then said in
    the PushApiErrorResponse body."""
    if isinstance(exc, DomainError) and exc.code == ErrorCode.NO_REGISTRATION:
        # Uninstalled between the view's lookup and the service's lock.
        exc = PushApiError(REGISTRATION_NOT_FOUND)
    if isinstance(exc, PushApiError):
        body = {"errorCode": exc.error_code, "errorMessage": exc.error_message}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    response = exception_handler(exc, context)
    if response is not None and response.status_code == status.HTTP_400_BAD_REQUEST:
        error = response.data["requestError"]["serviceException"]
        response.data = push_error_body(
            error["messageId"], error["text"], error.get("validationErrors")
        )
    return response
