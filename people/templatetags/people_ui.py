"""Template filters and tags of the operator UI."""

from __future__ import annotations

import functools
import json
from html import escape
from typing import Any

import phonenumbers
from django import forms, template
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from people.identities import format_phone

register = template.Library()


@register.filter
def to_json(value: Any) -> str:
    """A value as indented JSON, for an editor textarea."""
    if not value:
        return "{}"
    if isinstance(value, dict) and not any(isinstance(v, dict | list) for v in value.values()):
        # A flat object (as additionalData is): the same text, from the C encoder (with an
        # indent json.dumps falls back to its pure-Python encoder).
        lines = (
            f"  {json.dumps(key, ensure_ascii=False)}: "
            f"{json.dumps(value[key], ensure_ascii=False, default=str)}"
            for key in sorted(value)
        )
        return "{\n" + ",\n".join(lines) + "\n}"
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


@register.filter
def phone(number: str) -> str:
    """Stored phone digits for reading: "+385 1 6419 710"."""
    return format_phone(number)


@functools.lru_cache(maxsize=10_000)
def phone_for_reading(number: str, national_number: str) -> str:
    """``format_phone``, without parsing the number again when the stored national number
    says where the country code ends (a national number with a leading zero, as Italy's,
    is parsed)."""
    if national_number and not national_number.startswith("0") and number.endswith(national_number):
        parsed = phonenumbers.PhoneNumber(
            country_code=int(number[: -len(national_number)]),
            national_number=int(national_number),
        )
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return format_phone(number)


@register.filter
def phone_of(identity: Any) -> str:
    """A phone identity for reading, as ``phone`` shows its digits."""
    return phone_for_reading(identity.value, identity.national_number)


@register.simple_tag
def field_group(field: forms.BoundField) -> SafeString:
    """``field.as_field_group`` for a text input or a select, written out directly.

    The same markup as Django's field and widget templates (label, help text, errors, the
    control with aria-describedby and aria-invalid), without rendering four templates per
    field: the person page has a dozen of them. Other widgets go through Django's templates.
    Every value is escaped; the help text is HTML, as Django's template takes it.
    """
    widget = field.field.widget
    if type(widget) not in (forms.TextInput, forms.Select):
        return field.as_field_group()
    field_id = escape(field.auto_id)
    parts = [f'<label for="{field_id}">{escape(str(field.label))}</label>']
    described = []
    if field.help_text:
        parts.append(f'<div class="helptext" id="{field_id}_helptext">{field.help_text}</div>')
        described.append(f"{field_id}_helptext")
    errors = field.errors
    if errors:
        items = "".join(f"<li>{escape(str(error))}</li>" for error in errors)
        parts.append(f'<ul class="errorlist" id="{field_id}_error">{items}</ul>')
        described.append(f"{field_id}_error")
    attrs = {key: str(value) for key, value in widget.attrs.items()}
    if errors:
        attrs["aria-invalid"] = "true"
    if described:
        attrs["aria-describedby"] = " ".join(described)
    attrs["id"] = field.auto_id
    attributes = "".join(f' {escape(key)}="{escape(value)}"' for key, value in attrs.items())
    value = field.value()
    name = escape(field.html_name)
    if isinstance(widget, forms.Select):
        chosen = "" if value is None else str(value)
        options = "".join(
            f'<option value="{escape(str(option))}"'
            f"{' selected' if str(option) == chosen else ''}>{escape(str(label))}</option>"
            for option, label in field.field.choices
        )
        parts.append(f'<select name="{name}"{attributes}>{options}</select>')
    else:
        shown = widget.format_value(value)
        value_attribute = f' value="{escape(str(shown))}"' if shown is not None else ""
        parts.append(
            f'<input type="{widget.input_type}" name="{name}"{value_attribute}{attributes}>'
        )
    return mark_safe("".join(parts))  # noqa: S308 - every value is escaped above


def _time(moment: Any, shown: str) -> str:
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    return f'<time datetime="{escape(local.isoformat())}">{escape(local.strftime(shown))}</time>'


@register.simple_tag
def device_facts(installation: Any) -> SafeString:
    """The facts list of an installation card, written out (a person page has several
    cards, and a dozen filtered variables each add up). Every value is escaped."""
    dash = "—"
    facts = [
        ("OS version", escape(installation.os_version or dash)),
        ("SDK version", escape(installation.sdk_version or dash)),
        ("App version", escape(installation.app_version or dash)),
        ("Language", escape(installation.os_language or dash)),
        ("Time zone", escape(installation.device_timezone_offset or dash)),
        ("Push token", escape(installation.push_service_token_masked or dash)),
        ("Notifications", "enabled" if installation.notifications_enabled else "disabled"),
        ("Push", "enabled" if installation.registration_enabled else "disabled"),
        ("Primary", "yes" if installation.is_primary else "no"),
        ("Created", _time(installation.created_at, "%Y-%m-%d %H:%M")),
        ("Last updated", _time(installation.modified_at, "%Y-%m-%d %H:%M:%S")),
    ]
    items = "".join(f"<div><dt>{label}</dt><dd>{value}</dd></div>" for label, value in facts)
    return mark_safe(  # noqa: S308 - every value is escaped above
        '<dl class="device-facts"><div class="wide"><dt>Push registration id</dt>'
        f'<dd class="mono">{escape(installation.push_registration_id)}</dd></div>{items}</dl>'
    )
