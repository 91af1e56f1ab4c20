"""The search page's bulk selection bar (templates/populations/_bulk_bar.html): the actions an
operator may start, and the search's parameters that travel to the bulk page."""

from __future__ import annotations

from django import template
from django.http import QueryDict

from populations.forms import search_params
from populations.views.bulk import actions_for

register = template.Library()


@register.simple_tag
def bulk_actions_for(user) -> list:
    return actions_for(user)


@register.filter
def search_pairs(query_string: str) -> list[tuple[str, str]]:
    """The search's own (name, value) pairs of a query string, without the page's position."""
    params = search_params(QueryDict(query_string or ""))
    return [(name, value) for name, values in params.lists() for value in values]
