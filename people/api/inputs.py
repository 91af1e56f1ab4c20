"""Request bodies of the People API -> service arguments."""

from __future__ import annotations

from typing import Any

from core.api.errors import RequestFormatInvalid
from people import services
from people.fields import STANDARD_FIELDS


def validated(serializer_class, data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise RequestFormatInvalid(serializer.errors)
    return serializer.validated_data


def contacts(data: dict[str, Any]) -> tuple[list[str] | None, list[str] | None]:
    contact = data.get("contactInformation") or {}
    phones = contact.get("phone")
    emails = contact.get("email")
    return (
        [item["number"] for item in phones] if phones is not None else None,
        [item["address"] for item in emails] if emails is not None else None,
    )


def create_arguments(data: dict[str, Any]) -> dict[str, Any]:
    phones, emails = contacts(data)
    return {
        "fields": {name: data[name] for name in STANDARD_FIELDS if name in data},
        "tags": data.get("tags"),
        "custom_attributes": data.get("customAttributes"),
        "phones": phones,
        "emails": emails,
    }


def replace_changes(data: dict[str, Any]) -> services.PersonChanges:
    """PUT: what is omitted is cleared (attributes, tags, custom attributes, phones, emails).

    The type cannot be empty: an omitted type keeps the current one.
    """
    fields = {name: data.get(name) for name in STANDARD_FIELDS if name != "type"}
    if data.get("type") is not None:
        fields["type"] = data["type"]
    phones, emails = contacts(data)
    return services.replace_changes(
        fields=fields,
        tags=data.get("tags") or [],
        custom_attributes=data.get("customAttributes") or {},
        phones=phones or [],
        emails=emails or [],
    )


def merge_arguments(data: dict[str, Any]) -> dict[str, Any]:
    """PATCH: named attributes change, tags and contacts are added, the rest stays."""
    phones, emails = contacts(data)
    return {
        "fields": {name: data[name] for name in STANDARD_FIELDS if name in data},
        "tags": data.get("tags"),
        "custom_attributes": data.get("customAttributes"),
        "phones": phones,
        "emails": emails,
    }


def merge_changes(data: dict[str, Any]) -> services.PersonChanges:
    return services.merge_changes(**merge_arguments(data))
