"""Serializer fields of the HTTP API that check JSON types only.

The domain (people.fields, people.identities, people.custom_attributes) owns every rule about
values: lengths, enums, formats. These fields refuse a value of the wrong JSON type (a number
where a string belongs) and describe the domain's limits in the OpenAPI document, without
enforcing them a second time.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers


class StrictStringField(serializers.Field):
    """A JSON string, passed on untouched (no trimming, no coercion of numbers).

    ``max_length``, ``enum`` and ``format`` are documentation for the schema: the domain
    service that receives the value enforces them.
    """

    default_error_messages = {"invalid": "Must be a string, not {kind}."}

    def __init__(
        self,
        *,
        max_length: int | None = None,
        enum: list[str] | None = None,
        format: str | None = None,  # noqa: A002 - the OpenAPI keyword
        pattern: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.schema_max_length = max_length
        self.schema_enum = enum
        self.schema_format = format
        self.schema_pattern = pattern
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid", kind=json_kind(data))
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class StrictBooleanField(serializers.Field):
    default_error_messages = {"invalid": "Must be true or false, not {kind}."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", kind=json_kind(data))
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class AnyJSONField(serializers.Field):
    """Any JSON value (a custom attribute value, additional data)."""

    def to_internal_value(self, data: Any) -> Any:
        return data

    def to_representation(self, value: Any) -> Any:
        return value


def json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float) or type(value).__name__ == "Decimal":
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class StrictStringFieldExtension(OpenApiSerializerFieldExtension):
    target_class = StrictStringField

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        schema: dict[str, Any] = {"type": "string"}
        if field.schema_max_length is not None:
            schema["maxLength"] = field.schema_max_length
        if field.schema_enum is not None:
            schema["enum"] = list(field.schema_enum) + ([None] if field.allow_null else [])
        if field.schema_format is not None:
            schema["format"] = field.schema_format
        if field.schema_pattern is not None:
            schema["pattern"] = field.schema_pattern
        if field.allow_null:
            schema["nullable"] = True
        return schema


class StrictBooleanFieldExtension(OpenApiSerializerFieldExtension):
    target_class = StrictBooleanField

    def map_serializer_field(self, auto_schema, direction):
        schema: dict[str, Any] = {"type": "boolean"}
        if self.target.allow_null:
            schema["nullable"] = True
        return schema


class AnyJSONFieldExtension(OpenApiSerializerFieldExtension):
    target_class = AnyJSONField

    def map_serializer_field(self, auto_schema, direction):
        return {}
