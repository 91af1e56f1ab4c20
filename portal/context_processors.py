from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from core.roles import can_use_admin


def roles(request: HttpRequest) -> dict:
    """``can_use_admin`` for the header, worked out only when a template asks."""
    return {"can_use_admin": SimpleLazyObject(lambda: can_use_admin(request.user))}


def time_zones(request: HttpRequest) -> dict:
    """The zone times are shown in, and the operator's own choice ("" for the browser's)
    that base.html hands to static/js/times.js (portal.time_zones)."""
    return {
        "time_zone": getattr(request, "time_zone", "UTC"),
        "chosen_time_zone": getattr(request, "chosen_time_zone", ""),
    }
