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


@register.simple_tag
def result_row(row: dict[str, Any]) -> SafeString:
    """One row of the search results (people.views.result_rows gives its values).

    Written out here rather than as a dozen template variables per row: a page has 25
    rows and this is its costliest part to render. Every value is escaped.
    """
    external_id = (
        f'<div class="sub mono">{escape(row["external_id"])}</div>' if row["external_id"] else ""
    )
    more_phones = (
        f' <span class="muted">+{row["more_phones"]:d}</span>' if row["more_phones"] else ""
    )
    more_emails = (
        f' <span class="muted">+{row["more_emails"]:d}</span>' if row["more_emails"] else ""
    )
    if row["devices"]:
        star = (
            ' <span class="star" title="has a primary device"'
            ' aria-label="has a primary device">★</span>'
            if row["has_primary"]
            else ""
        )
        devices = f"{row['devices']:d} · {escape(row['platforms'])}{star}"
    else:
        devices = '<span class="muted">—</span>'
    tags = "".join(f'<span class="chip chip-small">{escape(tag)}</span>' for tag in row["tags"])
    return mark_safe(  # noqa: S308 - every value above and below is escaped
        "<tr>"
        f'<td><a href="{escape(row["url"])}" class="row-link">{escape(row["name"])}</a>'
        f"{external_id}</td>"
        f'<td><span class="badge badge-{escape(row["type"])}">'
        f"{escape(row['type_label'])}</span></td>"
        f'<td class="nowrap">{escape(row["phone"] or "—")}{more_phones}</td>'
        f"<td>{escape(row['email'] or '—')}{more_emails}</td>"
        f"<td>{devices}</td>"
        f"<td>{tags}</td>"
        f'<td class="nowrap"><time datetime="{escape(row["modified_iso"])}">'
        f"{escape(row['modified'])}</time></td>"
        "</tr>"
    )


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
