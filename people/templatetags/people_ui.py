"""Template filters and tags of the operator UI."""

from __future__ import annotations

import functools
import json
from typing import Any

import phonenumbers
from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from people import masking
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
def mask_phone(number: str) -> str:
    """Stored phone digits as a role without "see personal data" reads them."""
    return masking.mask_phone(number)


@register.filter
def mask_email(address: str) -> str:
    return masking.mask_email(address)


@register.filter
def mask_text(text: str) -> str:
    """An externalId as a role without "see personal data" reads it."""
    return masking.mask_text(text)


@register.filter
def phone_of(identity: Any) -> str:
    """A phone identity for reading, as ``phone`` shows its digits."""
    return phone_for_reading(identity.value, identity.national_number)


@register.filter
def field_groups(form: Any) -> SafeString:
    """The visible fields of ``form``, each in its ``div.field``, with the markup of Django's
    field groups (``field.as_field_group()``), from the Jinja2 partial
    people/field_groups.html: the person page has a dozen of them."""
    html = render_to_string("people/field_groups.html", {"form": form}, using="jinja2")
    return mark_safe(html)  # noqa: S308 - a template's output, every value escaped by it


@register.filter
def shown_value(field: Any) -> str:
    """A bound field's value as the operator reads it: a choice by its label ("Customer",
    not "CUSTOMER"), as the editor's select shows it."""
    value = field.value()
    choices = getattr(field.field, "choices", None)
    if choices:
        return str(dict(choices).get(value, value) or "")
    return "" if value is None else str(value)
