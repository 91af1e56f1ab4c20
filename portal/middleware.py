"""Request-wide safety nets: session lifetimes, a plain 503 while the database is down or too
slow, and answers no cache may keep."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers
from django.views.defaults import page_not_found

from core.api.errors import error_body
from core.api.paths import is_api_path

logger = logging.getLogger("portal.security")

SESSION_STARTED = "_portal_started"
SESSION_LAST_SEEN = "_portal_last_seen"
# Rewriting the session on every request would cost a write per page; a minute's precision
# is plenty for an inactivity timeout measured in minutes.
LAST_SEEN_RESOLUTION = 60


class SessionLifetimeMiddleware:
    """Ends an operator's session after SESSION_IDLE_TIMEOUT seconds without a request, and
    after SESSION_ABSOLUTE_LIFETIME seconds whatever the activity."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = int(time.time())
            started = request.session.get(SESSION_STARTED)
            last_seen = request.session.get(SESSION_LAST_SEEN, started)
            if started is None:
                request.session[SESSION_STARTED] = now
                request.session[SESSION_LAST_SEEN] = now
            elif (
                now - started > settings.SESSION_ABSOLUTE_LIFETIME
                or now - (last_seen or now) > settings.SESSION_IDLE_TIMEOUT
            ):
                logger.info("session of user id %s expired", user.pk)
                logout(request)
            elif now - (last_seen or 0) >= LAST_SEEN_RESOLUTION:
                request.session[SESSION_LAST_SEEN] = now
        return self.get_response(request)


class NoStoreMiddleware:
    """Every answer of the portal's views carries personal data or is about to (pages, htmx
    partials, API answers, the sign-in form with its token): no browser, proxy or shared
    cache may store it (``Cache-Control: no-store``, with Django's never_cache headers). An
    answer that sets its own Cache-Control keeps it; static files, answered by WhiteNoise
    above this middleware, keep their long caching."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response


def _is_api(request: HttpRequest) -> bool:
    return is_api_path(request.path)


# PostgreSQL's SQLSTATEs for a statement cancelled by statement_timeout and a lock wait
# ended by lock_timeout (the web process's timeouts, portal/settings.py).
QUERY_CANCELED = "57014"
LOCK_NOT_AVAILABLE = "55P03"


def is_database_timeout(exc: BaseException | None) -> bool:
    """Whether a database error is one of the web timeouts (not a lost connection)."""
    return getattr(getattr(exc, "__cause__", None), "sqlstate", None) in {
        QUERY_CANCELED,
        LOCK_NOT_AVAILABLE,
    }


def database_unavailable_response(
    request: HttpRequest, exc: BaseException | None = None
) -> HttpResponse:
    if is_database_timeout(exc):
        text = "The database did not answer in time; try again shortly."
        page = "The portal's database is busy. Try again in a moment."
    else:
        text = "The database is unavailable; try again shortly."
        page = "The portal cannot reach its database. Try again in a moment."
    if _is_api(request):
        return JsonResponse(
            error_body("SERVICE_UNAVAILABLE", text), status=503, headers={"Retry-After": "5"}
        )
    # A template without context processors: rendering it needs no database.
    return HttpResponse(
        render_to_string("portal/unavailable.html", {"message": page}),
        status=503,
        headers={"Retry-After": "5"},
    )


class DatabaseUnavailableMiddleware:
    """A lost database connection in a view answers 503 (never a traceback). Django opens a
    new connection for the next request, so the portal recovers by itself once it is back.
    A statement or lock wait cut short by the web timeouts (statement_timeout, lock_timeout)
    answers the same 503 with Retry-After, within seconds. Failures in other middleware
    (loading the session, the user) reach ``server_error``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if isinstance(exception, OperationalError | InterfaceError):
            return self._unavailable(request, exception)
        return None

    @staticmethod
    def _unavailable(request: HttpRequest, exc: DatabaseError) -> HttpResponse:
        log_database_unavailable(exc)
        return database_unavailable_response(request, exc)


def log_database_unavailable(exc: BaseException) -> None:
    if is_database_timeout(exc):
        logger.error("database timeout: %s", type(exc.__cause__).__name__)
    else:
        logger.error("database unavailable: %s", type(exc).__name__)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database outage is a 503; anything else a plain 500 page."""
    exc = sys.exc_info()[1]
    if isinstance(exc, OperationalError | InterfaceError):
        log_database_unavailable(exc)
        return database_unavailable_response(request, exc)
    if _is_api(request):
        return JsonResponse(
            {
                "requestError": {
                    "serviceException": {
                        "messageId": "GENERAL_ERROR",
                        "text": "Something went wrong on our side.",
                    }
                }
            },
            status=500,
        )
    return HttpResponse(
        "<!doctype html><title>Server error</title><h1>Something went wrong</h1>"
        "<p>The error was logged.</p>",
        status=500,
    )


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: under the API's paths, the vendor's error body (a push registration id
    with a "/" in it, say, matches no route); elsewhere Django's page."""
    if _is_api(request):
        return JsonResponse(
            {
                "requestError": {
                    "serviceException": {
                        "messageId": "NOT_FOUND",
                        "text": "No such resource.",
                    }
                }
            },
            status=404,
        )
    return page_not_found(request, exception)
