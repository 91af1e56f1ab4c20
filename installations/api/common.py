"""Request parsing shared by the push API and the device API."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request

from core.errors import DomainError, ErrorCode
from installations.api.serializers import PersonalizeFlagsSerializer


class RequestFieldError(DomainError):
    """A DomainError about a field as the client named it (no renaming needed)."""


def request_object(data: Any, *, allowed: set[str], what: str) -> dict[str, Any]:
    """The JSON object body of a request, with only the ``allowed`` names."""
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
    # Strings no database column can hold were refused by the JSON parser already
    # (core.api.json.ExactJSONParser).
    return data


def personalize_flags(request: Request) -> dict[str, bool]:
    """forceDepersonalize, keepAsLead, returnPush, setDeviceAsPrimary (false by default)."""
    flags = PersonalizeFlagsSerializer(data=request.query_params)
    flags.is_valid(raise_exception=True)
    return flags.validated_data
