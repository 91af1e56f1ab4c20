"""Template filters and tags of the operator UI."""

from __future__ import annotations

import functools
import json
from html import escape
from typing import Any

import phonenumbers
from django import template
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
