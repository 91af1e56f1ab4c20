"""``{% path 'name' arg ... [as var] %}``: ``{% url %}`` for the portal's routes, filled in
from a pattern reversed once (``portal.paths``). A builtin of the project's templates."""

from django import template

from portal.paths import path as path_of

register = template.Library()


@register.simple_tag(name="path")
def path(name: str, *args: object) -> str:
    return path_of(name, *args)
