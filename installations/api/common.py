"""Request parsing shared by the push API and the device API."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request

from installations.api.serializers import PersonalizeFlagsSerializer
from people.errors import DomainError, ErrorCode


class RequestFieldError(DomainError):
    """A DomainError about a field as the client named it (no renaming needed)."""


def is_storable_text(text: str) -> bool:
    """False for text no database column can hold: NUL characters (PostgreSQL refuses them)
    and lone surrogates (not encodable as UTF-8)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_storable(value: Any, field: str) -> None:
    """Refuse, naming the field, any string in ``value`` that cannot be stored (a 400, where
    the database would otherwise fail with a 500)."""
    if isinstance(value, str):
        if not is_storable_text(value):
            raise RequestFieldError(
                ErrorCode.REQUEST_FORMAT_INVALID,
                f"{field} contains a NUL character or an invalid Unicode code point.",
                field,
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{field}.{key}" if field else str(key)
            check_storable(str(key), name)
            check_storable(item, name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_storable(item, f"{field}[{index}]")


def request_object(data: Any, *, allowed: set[str], what: str) -> dict[str, Any]:
    """The JSON object body of a request: only the ``allowed`` names, only storable text."""
    if not isinstance(data, dict):
        raise RequestFieldError(
            ErrorCode.REQUEST_FORMAT_INVALID, "The request body must be a JSON object.", "body"
        )
    for key in data:
        if key not in allowed:
            raise RequestFieldError(
                ErrorCode.BAD_REQUEST,
                f"{key} is not a field of {what}; expected {', '.join(sorted(allowed))}.",
                key,
            )
    check_storable(data, "")
    return data


def personalize_flags(request: Request) -> dict[str, bool]:
    """forceDepersonalize, keepAsLead, returnPush, setDeviceAsPrimary (false by default)."""
    flags = PersonalizeFlagsSerializer(data=request.query_params)
    flags.is_valid(raise_exception=True)
    return flags.validated_data
