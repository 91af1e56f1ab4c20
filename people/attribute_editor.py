"""The custom attribute editor's state on the person page: stored values as the inputs of
their types show them, a list of objects as rows of fields, and what an operator submitted read
back into a value (people.views' attribute actions, directory.views.person's page)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse

from people import custom_attributes as attribute_types
from people import selectors
from people.forms import INPUT_TYPES
from people.models import AttributeDefinition, DataType


def _int_or_none(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


def value_text(data_type: str, value: Any) -> str:
    """A stored value as an input of its type shows it."""
    if value is None:
        return ""
    if data_type == DataType.DECIMAL:
        return attribute_types.format_decimal(value)
    if data_type == DataType.DATE:
        return value.isoformat()
    if data_type == DataType.DATE_TIME:
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if data_type == DataType.BOOLEAN:
        return "true" if value else "false"
    return str(value)


def editor_state(row: selectors.AttributeRow, person_pk: int) -> dict[str, Any]:
    definition = row.definition
    state: dict[str, Any] = {
        "definition": definition,
        "is_set": row.is_set,
        "input_type": INPUT_TYPES.get(definition.data_type, "text"),
        "error": None,
        "error_id": f"attribute-{definition.pk}-error",
        # Text, not a number: the template uses it a dozen times and localizes numbers.
        "pk": str(definition.pk),
        "type_label": definition.get_data_type_display(),
        "set_url": reverse("people:attribute_set", args=[person_pk, definition.pk]),
        # Only a value that is set can be removed (the Remove button's target).
        "remove_url": reverse("people:attribute_remove", args=[person_pk, definition.pk])
        if row.is_set
        else None,
        # What the editor shows, sent back with a save (see _shown).
        "shown": attribute_types.fingerprint(definition, row.value),
    }
    if definition.data_type == DataType.LIST_OF_OBJECTS:
        schema = definition.object_schema or {}
        items = [
            {key: value_text(schema[key], item.get(key)) for key in schema}
            for item in (row.value or [])
        ]
        state["items"] = _item_rows(definition, items)
    else:
        state["text"] = value_text(definition.data_type, row.value)
        state["checked"] = row.value is True
    return state


def _item_rows(definition: AttributeDefinition, items: list[dict[str, str]]) -> list:
    """Rows of fields for a list of objects, plus one empty row to add an item.

    Each cell's id, name, label and input attributes are written here rather than put
    together in the template: a list of a few items has dozens of cells, and each template
    variable resolved per cell cost more than the string.
    """
    schema = definition.object_schema or {}
    rows = []
    for index, item in enumerate([*items, dict.fromkeys(schema, "")]):
        is_new = index == len(items)
        of = "a new item" if is_new else f"item {index + 1}"
        fields = []
        for number, (key, data_type) in enumerate(schema.items(), start=1):
            input_type = INPUT_TYPES.get(data_type, "text")
            fields.append(
                {
                    "name": key,
                    "data_type": data_type,
                    "input_type": input_type,
                    "text": item.get(key, ""),
                    "id": f"attr-{definition.pk}-{index}-{number}",
                    "input_name": f"row-{index}-{key}",
                    "label": f"{key} of {of}",
                    # Numbers in a text input with inputmode="decimal", as the editor had them.
                    "html_type": "text" if input_type == "number" else input_type,
                    "decimal": data_type in (DataType.INTEGER, DataType.DECIMAL),
                    "step": input_type == "datetime-local",
                }
            )
        rows.append(
            {
                "number": index + 1,
                "is_new": is_new,
                "delete_name": f"row-{index}-delete",
                "fields": fields,
            }
        )
    return rows


def submitted_value(definition: AttributeDefinition, post: Any) -> Any:
    """What the editor sent, as text (None removes the value): forms.attribute_value reads it."""
    if definition.data_type == DataType.BOOLEAN:
        return "true" if post.get("value") else "false"
    if definition.data_type != DataType.LIST_OF_OBJECTS:
        text = post.get("value", "")
        return text if text.strip() else None
    schema = definition.object_schema or {}
    items = []
    for index in range(min(_int_or_none(post.get("rows")) or 0, attribute_types.MAX_LIST_ITEMS)):
        if post.get(f"row-{index}-delete"):
            continue
        item = {
            key: post.get(f"row-{index}-{key}", "")
            for key in schema
            if post.get(f"row-{index}-{key}", "").strip()
        }
        if item:
            items.append(item)
    return items or None


def submitted_state(definition: AttributeDefinition, raw: Any) -> dict[str, Any]:
    if definition.data_type == DataType.LIST_OF_OBJECTS:
        return {"items": _item_rows(definition, list(raw or []))}
    if definition.data_type == DataType.BOOLEAN:
        return {"checked": raw == "true"}
    return {"text": raw or ""}
