"""The operator shell: sign in and out, the start page (search), the dashboard, health."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.db import Error, connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from core.access import operator_required
from directory.views import search as search_views
from people.models import Person
from portal.dashboard import read_dashboard
from portal.forms import PreferencesForm
from portal.middleware import is_database_timeout
from portal.models import OperatorPreference
from portal.time_zones import browser_time_zone, chosen_time_zone, remember_time_zone

logger = logging.getLogger("portal.health")


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


def home(request: HttpRequest) -> HttpResponse:
    """The start page is the search (directory.views.search.search); the URL name stays "home"."""
    return search_views.search(request)


@operator_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Counts and charts of people and installations, each a link to the matching search."""
    return render(request, "portal/dashboard.html", {"dashboard": read_dashboard(reverse("home"))})


@operator_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    """The operator's own settings: the time zone times are shown in (any operator, a viewer
    too: it changes nobody's data but their own view)."""
    browser_zone = browser_time_zone(request)
    if request.method == "POST":
        form = PreferencesForm(request.POST, browser_zone=browser_zone)
        if form.is_valid():
            zone = form.cleaned_data["time_zone"]
            OperatorPreference.objects.update_or_create(
                user=request.user, defaults={"time_zone": zone}
            )
            remember_time_zone(request, zone)
            messages.success(
                request,
                f"Saved: times are shown in {zone}."
                if zone
                else "Saved: times are shown in your browser’s time zone.",
            )
            return redirect("preferences")
        status = 422
    else:
        form = PreferencesForm(
            initial={"time_zone": chosen_time_zone(request)}, browser_zone=browser_zone
        )
        status = 200
    return render(request, "portal/preferences.html", {"form": form}, status=status)


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
