"""Template filters and tags of the operator UI."""

from __future__ import annotations

import functools
import json
from typing import Any

import phonenumbers
from django import template
from django.template.loader import render_to_string
from django.utils.functional import SimpleLazyObject
from django.utils.html import format_html
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


def phone_of(identity: Any) -> str:
    """A phone identity for reading (the admin's identity lists)."""
    return phone_for_reading(identity.value, identity.national_number)


def one_csrf_input(token: Any) -> SimpleLazyObject:
    """The CSRF field of every form a render writes, with ``token`` (the request's masked
    token, as Django's ``{% csrf_token %}`` writes it). The Jinja2 backend's own
    ``csrf_input`` masks a new token for each form, forty times on the person page: most of
    what its sections took to render."""

    def field() -> str:
        # As ``{% csrf_token %}``: nothing without a token (a render without a request).
        if token is None or str(token) == "NOTPROVIDED":
            return ""
        return format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token)

    return SimpleLazyObject(field)


@register.simple_tag(takes_context=True)
def partial(context: template.Context, name: str) -> SafeString:
    """The person page's section ``name`` from its Jinja2 template (templates/jinja2/), with
    the page's context: the same template its in-place actions answer with (people.views),
    at a fraction of the time the Django template language takes for it."""
    shown = {**context.flatten(), "csrf_input": one_csrf_input(context.get("csrf_token"))}
    html = render_to_string(name, shown, using="jinja2")
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
