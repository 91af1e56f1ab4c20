"""The time zone times are shown in: the operator's preference (portal.models.OperatorPreference)
or, without one, the zone the operator's browser reported (the ``portal_tz`` cookie that
static/js/times.js sets); UTC when neither is known.

``OperatorTimeZoneMiddleware`` activates it for the request (django.utils.timezone.activate),
so every server-rendered time (the history, the dashboard's days, the search's dates and its
created filter, admin) reads in it; base.html hands the preference to times.js (the hover
text). The preference is read once, at sign-in, into the session: a page costs no statement
for it. A value from the browser is used only if it is one of zoneinfo's zone names.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Callable

from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ValidationError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from core.api.paths import is_api_path

# The session's copy of the operator's preference ("" for none).
SESSION_TIME_ZONE = "_portal_time_zone"
# The zone the browser reports, set by static/js/times.js.
BROWSER_COOKIE = "portal_tz"


@functools.cache
def time_zone_names() -> tuple[str, ...]:
    """zoneinfo's IANA zone names, sorted (reading them scans the zone files: once)."""
    return tuple(sorted(zoneinfo.available_timezones()))


@functools.cache
def _known() -> frozenset[str]:
    return frozenset(time_zone_names())


def is_time_zone(name: object) -> bool:
    return isinstance(name, str) and name in _known()


def validate_time_zone(name: str) -> None:
    if name and not is_time_zone(name):
        raise ValidationError(
            "“%(name)s” is not a time zone: choose an IANA name such as Europe/Zagreb.",
            code="invalid_time_zone",
            params={"name": name[:80]},
        )


def chosen_time_zone(request: HttpRequest) -> str:
    """The operator's preference as the session holds it ("" for none)."""
    session = getattr(request, "session", None)
    name = session.get(SESSION_TIME_ZONE, "") if session is not None else ""
    return name if is_time_zone(name) else ""


def browser_time_zone(request: HttpRequest) -> str:
    """The zone the browser reported ("" when none, or not a zone name)."""
    name = request.COOKIES.get(BROWSER_COOKIE, "")
    return name if is_time_zone(name) else ""


def remember_time_zone(request: HttpRequest, name: str) -> None:
    """Keep the operator's preference in the session (at sign-in, and after a save)."""
    request.session[SESSION_TIME_ZONE] = name


@receiver(user_logged_in)
def _read_preference_at_sign_in(sender, request, user, **kwargs) -> None:
    from portal.models import OperatorPreference

    if request is None or not hasattr(request, "session"):
        return
    name = OperatorPreference.objects.filter(user=user).values_list("time_zone", flat=True).first()
    remember_time_zone(request, name or "")


class OperatorTimeZoneMiddleware:
    """Activates the operator's time zone for the request (not for the API: its times are
    UTC whoever asks), and sets ``request.time_zone`` (the active zone's name) and
    ``request.chosen_time_zone`` (the preference, "" for none) for the templates."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = name = ""
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not is_api_path(request.path):
            chosen = chosen_time_zone(request)
            name = chosen or browser_time_zone(request)
        request.chosen_time_zone = chosen
        request.time_zone = name or "UTC"
        if not name:
            return self.get_response(request)
        timezone.activate(zoneinfo.ZoneInfo(name))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
