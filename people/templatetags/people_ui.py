"""Template filters of the operator UI."""

from __future__ import annotations

import json
from typing import Any

from django import template

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
