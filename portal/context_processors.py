from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from core.roles import can_use_admin
from people import masking


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


def personal_data(request: HttpRequest) -> dict:
    """``masked``: phones, emails and externalIds are shown masked to this operator;
    ``can_reveal``: they may reveal one (people.masking). Worked out only when a template
    asks (the permissions are read once per request)."""
    user = getattr(request, "user", None)
    return {
        "masked": SimpleLazyObject(lambda: not masking.sees_personal_data(user)),
        "can_reveal": SimpleLazyObject(lambda: masking.may_reveal(user)),
    }
