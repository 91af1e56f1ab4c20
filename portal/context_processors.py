from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from core.roles import can_use_admin


def roles(request: HttpRequest) -> dict:
    """``can_use_admin`` for the header, worked out only when a template asks."""
    return {"can_use_admin": SimpleLazyObject(lambda: can_use_admin(request.user))}
