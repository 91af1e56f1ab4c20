"""Template filters and tags of the operator UI."""

from __future__ import annotations

import json
from typing import Any

from django import forms, template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from people.identities import format_phone

register = template.Library()


@register.filter
def to_json(value: Any) -> str:
    """A value as indented JSON, for an editor textarea."""
    if not value:
        return "{}"
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


@register.filter
def phone(number: str) -> str:
    """Stored phone digits for reading: "+385 1 6419 710"."""
    return format_phone(number)


@register.simple_tag
def field_group(field: forms.BoundField) -> SafeString:
    """``field.as_field_group`` for a text input or a select, written out directly.

    The same markup as Django's field and widget templates (label, help text, errors, the
    control with aria-describedby and aria-invalid), without rendering four templates per
    field: the person page has a dozen of them. Other widgets go through Django's templates.
    """
    widget = field.field.widget
    if type(widget) not in (forms.TextInput, forms.Select):
        return field.as_field_group()
    field_id = field.auto_id
    parts = [format_html('<label for="{}">{}</label>', field_id, field.label)]
    described = []
    if field.help_text:
        parts.append(
            format_html(
                '<div class="helptext" id="{}_helptext">{}</div>', field_id, field.help_text
            )
        )
        described.append(f"{field_id}_helptext")
    errors = field.errors
    if errors:
        items = format_html_join("", "<li>{}</li>", ((error,) for error in errors))
        parts.append(format_html('<ul class="errorlist" id="{}_error">{}</ul>', field_id, items))
        described.append(f"{field_id}_error")
    attrs = dict(widget.attrs)
    if errors:
        attrs["aria-invalid"] = "true"
    if described:
        attrs["aria-describedby"] = " ".join(described)
    attrs["id"] = field_id
    attributes = format_html_join("", ' {}="{}"', attrs.items())
    value = field.value()
    if isinstance(widget, forms.Select):
        chosen = "" if value is None else str(value)
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (option, mark_safe(" selected") if str(option) == chosen else "", label)
                for option, label in field.field.choices
            ),
        )
        parts.append(
            format_html('<select name="{}"{}>{}</select>', field.html_name, attributes, options)
        )
    else:
        shown = widget.format_value(value)
        value_attribute = format_html(' value="{}"', shown) if shown is not None else ""
        parts.append(
            format_html(
                '<input type="{}" name="{}"{}{}>',
                widget.input_type,
                field.html_name,
                value_attribute,
                attributes,
            )
        )
    return mark_safe("".join(parts))
