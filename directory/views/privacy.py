"""The console's privacy actions (privacy.services): the access-request bundle; erasure
requested for one person or everyone a search finds, and cancelled, by an Administrator; a
suppression lifted; one masked value revealed."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from core.access import delete_required, edit_required, operator_required
from core.errors import DomainError
from directory.forms import SearchForm
from directory.search import people_of
from people import masking
from people.models import Person, Source, SuppressedKind
from people.views import actor_of, person_url, render_section
from privacy import services
from privacy.models import Erasure


@edit_required
@require_POST
def person_export(request: HttpRequest, pk: int) -> HttpResponse:
    """Everything about this person as one JSON file (a POST: the export is recorded)."""
    try:
        bundle = services.access_bundle(person_id=pk, actor=actor_of(request), user=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("home")
    response = HttpResponse(
        json.dumps(bundle, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="person-{pk}.json"'
    return response


@delete_required
@require_POST
def erasure_request(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(Person, pk=pk)
    try:
        erasure = services.request_erasure(
            person_id=person.pk, reason=request.POST.get("reason"), user=request.user
        )
    except DomainError as error:
        messages.error(request, f"Erasure not requested: {error.message}")
        return redirect(person_url(person, "privacy"))
    messages.success(
        request,
        f"Erasure of {person.display_name} requested: it runs on "
        f"{timezone.localtime(erasure.due_at):%Y-%m-%d} unless cancelled before.",
    )
    return redirect(person_url(person, "privacy"))


@delete_required
@require_POST
def erasure_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    erasure = get_object_or_404(Erasure, pk=pk)
    try:
        services.cancel_erasure(erasure_id=erasure.pk, user=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The erasure is cancelled.")
    return redirect(person_url(erasure.person_id, "privacy"))


@delete_required
@require_http_methods(["GET", "POST"])
def suppression_lift(request: HttpRequest) -> HttpResponse:
    """An Administrator types an erased identifier to allow it again (recorded)."""
    context = {"kinds": SuppressedKind.choices, "values": request.POST, "error": None}
    if request.method == "POST":
        try:
            lifted = services.lift_suppression(
                kind=request.POST.get("kind", ""),
                value=request.POST.get("value", ""),
                reason=request.POST.get("reason"),
                user=request.user,
                source=Source.UI,
            )
        except DomainError as error:
            context["error"] = error
            return render(request, "privacy/suppression_lift.html", context, status=422)
        if lifted:
            messages.success(request, "The suppression is lifted: the identifier may be stored.")
            return redirect("people:suppression_lift")
        context["error"] = DomainError(
            "NOT_FOUND", "This identifier is not suppressed (nothing was changed).", "value"
        )
        return render(request, "privacy/suppression_lift.html", context, status=404)
    return render(request, "privacy/suppression_lift.html", context)


@operator_required
@require_POST
def reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """One masked value of this person, whole, for an operator who may reveal (a reason is
    asked and recorded; privacy.services.reveal). Answers the value in place (htmx)."""
    if not masking.may_reveal(request.user):
        raise PermissionDenied("Your role may not reveal personal data.")
    kind = request.POST.get("kind", "")
    identity = request.POST.get("identity", "")
    context: dict = {
        "person_id": pk,
        "kind": kind,
        "identity": identity,
        "masked": request.POST.get("masked", ""),
        "where": request.POST.get("where", ""),
        "can_reveal": True,
    }
    try:
        value = services.reveal(
            person_id=pk,
            kind=kind,
            identity_id=int(identity) if identity.isdigit() else None,
            reason=request.POST.get("reason"),
            user=request.user,
        )
    except DomainError as error:
        context["error"] = error
        context["reason"] = request.POST.get("reason", "")
        context["open"] = True
        return render_section(request, "privacy/masked_value.html", context, status=422)
    return render(request, "privacy/_revealed.html", {**context, "value": value})


@delete_required
@require_POST
def erase_population(request: HttpRequest) -> HttpResponse:
    """Request the erasure of everyone a search finds (Administrators): the search's own
    query string is posted back, read by the search form, and its population marked pending,
    each person as one erasure request would (BULK_ERASURE_MAX people at most)."""
    params = QueryDict(request.POST.get("query", ""))
    back = reverse("home") + (f"?{params.urlencode()}" if params else "")
    form = SearchForm(params)
    query = form.to_query() if form.is_valid() else None
    if query is None or not (query.q.strip() or query.has_filters):
        messages.error(request, "Erasure not requested: narrow the list with a search first.")
        return redirect(back)
    limit = settings.BULK_ERASURE_MAX
    ids = list(people_of(query).order_by("pk").values_list("pk", flat=True)[: limit + 1])
    if len(ids) > limit:
        messages.error(
            request,
            f"Erasure not requested: the search finds more than {limit:,} people; "
            "narrow it and request again.",
        )
        return redirect(back)
    try:
        made = services.request_erasures(
            person_ids=ids, reason=request.POST.get("reason"), user=request.user
        )
    except DomainError as error:
        messages.error(request, f"Erasure not requested: {error.message}")
        return redirect(back)
    already = len(ids) - made
    messages.success(
        request,
        f"Erasure requested for {made:,} {'person' if made == 1 else 'people'}"
        + (f" ({already:,} already pending)" if already else "")
        + f"; each runs after {settings.ERASURE_COOLING_OFF_DAYS} days unless cancelled on the "
        "person's page.",
    )
    return redirect(back)
