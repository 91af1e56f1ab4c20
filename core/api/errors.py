"""Errors in the vendor's body:
``{"requestError": {"serviceException": {"messageId", "text", "validationErrors"}}}``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import DataError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import DomainError, ErrorCode

DOMAIN_STATUS = {
    ErrorCode.NOT_FOUND: status.HTTP_404_NOT_FOUND,
    ErrorCode.NO_REGISTRATION: status.HTTP_404_NOT_FOUND,
    ErrorCode.VERSION_CONFLICT: status.HTTP_412_PRECONDITION_FAILED,
    ErrorCode.FORBIDDEN: status.HTTP_403_FORBIDDEN,
    ErrorCode.CONFLICT: status.HTTP_409_CONFLICT,
    ErrorCode.RATE_LIMITED: status.HTTP_429_TOO_MANY_REQUESTS,
    ErrorCode.REVERT_CONFLICT: status.HTTP_409_CONFLICT,
    ErrorCode.NOT_REVERTIBLE: status.HTTP_409_CONFLICT,
    # A bulk job's undo left a person changed since the job as it is.
    ErrorCode.CHANGED_SINCE: status.HTTP_409_CONFLICT,
}


def error_body(
    message_id: str, text: str, validation_errors: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    exception: dict[str, Any] = {"messageId": message_id, "text": text}
    if validation_errors:
        exception["validationErrors"] = validation_errors
    return {"requestError": {"serviceException": exception}}


def error_response(
    message_id: str,
    text: str,
    http_status: int = status.HTTP_400_BAD_REQUEST,
    validation_errors: dict[str, list[str]] | None = None,
) -> Response:
    return Response(error_body(message_id, text, validation_errors), status=http_status)


def domain_error_response(error: DomainError) -> Response:
    validation = {error.field: [error.message]} if error.field else None
    return error_response(
        error.code,
        error.message,
        DOMAIN_STATUS.get(error.code, status.HTTP_400_BAD_REQUEST),
        validation,
    )


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as ``{"field.sub": ["message"]}``."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "non_field_errors":
                name = prefix or "request"
            for k, v in _flatten(value, name).items():
                out.setdefault(k, []).extend(v)
        return out
    if isinstance(detail, list):
        if all(not isinstance(d, dict | list) for d in detail):
            return {prefix or "request": [str(d) for d in detail]}
        out = {}
        for index, value in enumerate(detail):
            for k, v in _flatten(value, f"{prefix}[{index}]").items():
                out.setdefault(k, []).extend(v)
        return out
    return {prefix or "request": [str(detail)]}


class RequestFormatInvalid(exceptions.ValidationError):
    """A request body field of the wrong JSON type: messageId REQUEST_FORMAT_INVALID."""

    message_id = ErrorCode.REQUEST_FORMAT_INVALID


MESSAGE_IDS = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "BAD_REQUEST",
    406: "BAD_REQUEST",
    412: "PRECONDITION_FAILED",
    415: "BAD_REQUEST",
    429: "TOO_MANY_REQUESTS",
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every API error in the vendor's body."""
    if isinstance(exc, DomainError):
        return domain_error_response(exc)
    if isinstance(exc, DataError):
        # A value the database refused (out of range, bad encoding): the client's input.
        return error_response("BAD_REQUEST", "A value in the request cannot be stored.")
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    message_id = getattr(exc, "message_id", None) or MESSAGE_IDS.get(
        response.status_code, "GENERAL_ERROR"
    )
    validation = None
    if isinstance(exc, exceptions.ValidationError):
        validation = _flatten(exc.detail)
        text = "Request validation failed: " + "; ".join(
            f"{k}: {' '.join(v)}" for k, v in validation.items()
        )
    elif isinstance(exc, exceptions.APIException):
        text = str(exc.detail) if not isinstance(exc.detail, dict | list) else exc.default_detail
    else:
        text = str(exc)
    response.data = error_body(message_id, text, validation)
    return response


def flatten_detail(detail: Any) -> dict[str, list[str]]:
    """A DRF error detail as ``{"field.sub": ["message"]}`` (the validationErrors shape)."""
    return _flatten(detail)
