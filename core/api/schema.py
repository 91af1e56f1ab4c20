"""OpenAPI pieces shared by the API views: the vendor's error body and the error responses."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

ErrorDetailsSerializer = inline_serializer(
    "ApiRequestErrorDetails",
    {
        "messageId": serializers.CharField(),
        "text": serializers.CharField(),
        "validationErrors": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()), required=False
        ),
    },
)
ErrorBodySerializer = inline_serializer(
    "ApiException",
    {
        "requestError": inline_serializer(
            "ApiRequestError", {"serviceException": ErrorDetailsSerializer}
        )
    },
)

ERROR_DESCRIPTIONS = {
    400: "Bad request: malformed JSON, a wrong type, a broken rule (messageId names it)",
    401: "No valid credentials (Authorization: App <key>)",
    403: "The key or operator may not do this",
    404: "No such person, tag, custom attribute or push registration",
    412: "The profile changed since the version the edit started from",
    429: "Too many requests for this key",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """The vendor's error body for each status (401, 403 and 429 are always added)."""
    wanted = sorted({*statuses, 401, 403, 429})
    return {
        code: OpenApiResponse(ErrorBodySerializer, description=ERROR_DESCRIPTIONS[code])
        for code in wanted
    }


class VendorAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, also documenting the request body of a DELETE that takes
    one (the vendor's batch deletes and contact removals send what to delete in the body)."""

    def _get_serializer(self):
        # A DELETE has a body only where extend_schema(request=...) declares one: never guess
        # (for a plain APIView the guess fails with a warning).
        if self.method == "DELETE":
            return None
        return super()._get_serializer()

    def _get_request_body(self, direction="request"):
        if self.method == "DELETE" and self.get_request_serializer() is not None:
            self.method = "POST"
            try:
                return super()._get_request_body(direction)
            finally:
                self.method = "DELETE"
        return super()._get_request_body(direction)
