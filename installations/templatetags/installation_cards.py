"""The person page's installation cards: ``{% installation_cards installations %}`` renders the
Jinja2 partial templates/jinja2/installations/cards.html, one card per device (the cards are
the costliest part of the page to render in Django's template language)."""

from __future__ import annotations

from collections.abc import Sequence

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from installations.models import Installation
from people.templatetags.people_ui import one_csrf_input

register = template.Library()


@register.simple_tag(takes_context=True)
def installation_cards(
    context: template.Context, installations: Sequence[Installation]
) -> SafeString:
    cards = {
        "installations": installations,
        "can_edit": context.get("can_edit", False),
        # The page's token in every card's forms (not a new one for each form).
        "csrf_input": one_csrf_input(context.get("csrf_token")),
    }
    html = render_to_string("installations/cards.html", cards, using="jinja2")
    return mark_safe(html)  # noqa: S308 - a template's output, every value escaped by it
