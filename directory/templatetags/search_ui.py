"""``{% options choices current %}``: the <option>s of a search filter select, from the Jinja2
partial templates/jinja2/directory/options.html (the search page has seven selects, and their
options in Django's template language were an eighth of the page's time)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def options(choices: Iterable[tuple[Any, Any]], current: Any) -> SafeString:
    """The options of ``choices`` ((value, label) pairs), ``current`` selected."""
    html = render_to_string(
        "directory/options.html", {"choices": choices, "current": current}, using="jinja2"
    )
    return mark_safe(html)  # noqa: S308 - a template's output, every value escaped by it
