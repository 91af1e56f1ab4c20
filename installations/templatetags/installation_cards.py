"""The person page's installation cards: ``{% installation_cards installations %}`` renders the
Jinja2 partial templates/jinja2/installations/cards.html, one card per device (the cards are
the costliest part of the page to render in Django's template language)."""

from __future__ import annotations

from collections.abc import Sequence

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from installations.models import Installation

register = template.Library()


@register.simple_tag(takes_context=True)
def installation_cards(
    context: template.Context, installations: Sequence[Installation]
) -> SafeString:
    cards = {"installations": installations, "can_edit": context.get("can_edit", False)}
    html = render_to_string(
        "installations/cards.html", cards, request=context.get("request"), using="jinja2"
    )
    return mark_safe(html)  # noqa: S308 - a template's output, every value escaped by it
