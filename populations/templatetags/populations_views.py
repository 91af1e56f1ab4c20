"""Template filters of the views pages."""

from django import template

register = template.Library()


@register.filter
def get_item(mapping: dict, key: object) -> object:
    """``mapping[key]``, or None (templates cannot index a dict by a variable)."""
    return mapping.get(key)
