"""The operator shell: sign in and out, the start page (search), the dashboard, health."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.db import Error, connection, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from core.access import operator_required
from directory.views import search as search_views
from installations.models import Installation, Platform
from people.models import Person, PersonType
from portal.middleware import is_database_timeout

logger = logging.getLogger("portal.health")

# Dashboard counts stop at this many rows: an exact COUNT(*) over millions of rows is a
# full scan (DESIGN.md, "no exact COUNT(*) over large tables"); past it the tile says "N+".
COUNT_CAP = 100_000


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


def home(request: HttpRequest) -> HttpResponse:
    """The start page is the search (directory.views.search.search); the URL name stays "home"."""
    return search_views.search(request)


def capped_count(queryset: QuerySet) -> dict:
    """How many rows, counted up to COUNT_CAP: {"value": n, "more": bool}."""
    count = queryset[: COUNT_CAP + 1].count()
    return {"value": min(count, COUNT_CAP), "more": count > COUNT_CAP}


@operator_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Counts of people and installations, each a link to the matching search."""
    search = reverse("home")
    tiles = [
        ("People", capped_count(Person.objects.all()), search),
        (
            "Customers",
            capped_count(Person.objects.filter(type=PersonType.CUSTOMER)),
            f"{search}?type={PersonType.CUSTOMER}",
        ),
        (
            "Leads",
            capped_count(Person.objects.filter(type=PersonType.LEAD)),
            f"{search}?type={PersonType.LEAD}",
        ),
        (
            "Installations with push enabled",
            capped_count(Installation.objects.filter(registration_enabled=True)),
            f"{search}?push=yes",
        ),
        (
            # At most one primary installation per person: one primary row is one person.
            "People with a primary device",
            capped_count(Installation.objects.filter(is_primary=True)),
            f"{search}?primary=yes",
        ),
    ]
    platforms = [
        (
            platform,
            capped_count(Installation.objects.filter(os=platform)),
            f"{search}?platform={platform}",
        )
        for platform in Platform.values
    ]
    context = {
        "tiles": [{"label": label, "count": count, "url": url} for label, count, url in tiles],
        "platforms": [
            {"label": label, "count": count, "url": url} for label, count, url in platforms
        ],
        "installations": capped_count(Installation.objects.all()),
        "cap": COUNT_CAP,
    }
    return render(request, "portal/dashboard.html", context)


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Reports whether the database answers a read of the people table within
    HEALTH_DB_TIMEOUT_MS; 503 when it does not (unreachable, or too slow: a locked table, a
    stuck server), so that a load balancer stops sending requests the portal cannot serve."""
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # For this transaction only: the web timeouts stay as they are afterwards.
                with connection.cursor() as cursor:
                    timeout = str(settings.HEALTH_DB_TIMEOUT_MS)
                    cursor.execute(
                        "SELECT set_config('statement_timeout', %s, true),"
                        " set_config('lock_timeout', %s, true)",
                        [timeout, timeout],
                    )
            Person.objects.exists()
    except Error as error:  # unreachable, closed, timed out: not healthy
        state = "timeout" if is_database_timeout(error) else "unreachable"
        logger.warning("health: database %s (%s: %s)", state, type(error).__name__, error)
        return JsonResponse(
            {"status": "unavailable", "database": state},
            status=503,
            headers={"Retry-After": "5"},
        )
    return JsonResponse({"status": "ok", "database": "ok"})
