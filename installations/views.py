"""Operator UI for installation cards on the person page (htmx endpoints).

Each action calls one service and answers with the card re-rendered in place and, out of
band, the person header and the first page of history (people.views.changed_fragments): one
response holds everything the action changed. Making a card primary also re-renders, out of
band, the card that lost the flag, so the page never needs a reload. Remote logout answers
with nothing in the card's place (the card leaves the page), a status line naming the new
anonymous profile and the person's new count of installations.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_POST

from core.access import edit_required, operator_required
from core.api.json import JSONInputError, parse_json
from core.errors import DomainError, ErrorCode
from core.roles import can_edit
from installations import services
from installations.depersonalize import installation_depersonalize
from installations.models import Installation
from people.models import Person
from people.operator_messages import for_operator
from people.views import actor_of, changed_fragments, person_url

# The card and the cards that changed with it: Jinja2 partials (portal/templating.py), as the
# person page shows them (installations.templatetags.installation_cards).
CARD = "installations/card_response.html"
ERROR = "people/_domain_error.html"


def _installation(pk: int) -> Installation:
    return get_object_or_404(Installation.objects.select_related("application"), pk=pk)


def _flag(request: HttpRequest, name: str) -> bool | None:
    value = request.POST.get(name, "").lower()
    return {"true": True, "false": False}.get(value)


def _card_response(
    request: HttpRequest,
    installation: Installation,
    *,
    error: DomainError | None = None,
    others: list[Installation] = (),  # type: ignore[assignment]
    extra: dict[str, Any] | None = None,
    add_changes: bool = True,
) -> HttpResponse:
    """The card (and, out of band, ``others``, the cards that changed with it); after a change
    (``add_changes``) also the header and the history as the change left them."""
    if not request.htmx:
        return redirect(person_url(installation.person_id, f"installation-{installation.pk}"))
    context = {
        "installation": installation,
        "others": others,
        "error": error,
        "error_html": _error_html(installation, error),
        "oob": False,
        "additional_data_text": None,
        # What the action did, read out and focused (static/js/portal.js, data-announce).
        "result": None,
        "can_edit": can_edit(request.user),
        **(extra or {}),
    }
    response = render(request, CARD, context, status=422 if error else 200, using="jinja2")
    if error is None and add_changes:
        # The service locked and returned the person: the header shows it as it is now.
        response.content += changed_fragments(request, installation.person).encode()
    return response


def _error_html(installation: Installation, error: DomainError | None) -> SafeString:
    """The refused write's message, for the card (the page's own error template)."""
    if error is None:
        return SafeString()
    error_id = f"installation-{installation.pk}-error"
    context = {"error": for_operator(error), "error_id": error_id}
    return SafeString(render_to_string(ERROR, context))


def _stored(stored: Installation, read: Installation) -> Installation:
    """The installation as the service stored it, with the application read before (an
    installation keeps its application: nothing is read back)."""
    if stored.application_id == read.application_id:
        stored.application = read.application
    return stored


@operator_required
@require_GET
def card(request: HttpRequest, pk: int) -> HttpResponse:
    installation = _installation(pk)
    if not request.htmx:
        return redirect(person_url(installation.person_id, f"installation-{pk}"))
    return _card_response(request, installation, add_changes=False)


@edit_required
@require_POST
def set_primary(request: HttpRequest, pk: int) -> HttpResponse:
    """Make this the primary device (or unset it); the previous primary card updates too.

    The answer is the cards that changed (this one, and out of band the one that lost the
    flag), as the service locked and stored them: nothing is read before or after it.
    """
    is_primary = _flag(request, "is_primary")
    if is_primary is None:
        error = DomainError(
            ErrorCode.REQUEST_FORMAT_INVALID, "is_primary must be true or false.", "isPrimary"
        )
        return _card_response(request, _installation(pk), error=error)
    try:
        change = services.installation_set_primary_by_id(
            pk=pk, is_primary=is_primary, actor=actor_of(request)
        )
    except DomainError as exc:
        if exc.code == ErrorCode.NOT_FOUND:
            raise Http404("No such installation.") from None
        return _card_response(request, _installation(pk), error=exc)
    result = (
        "This installation is now the primary device."
        if change.installation.is_primary
        else "This installation is no longer the primary device."
    )
    return _card_response(
        request, change.installation, others=change.unset, extra={"result": result}
    )


@edit_required
@require_POST
def set_push(request: HttpRequest, pk: int) -> HttpResponse:
    installation = _installation(pk)
    enabled = _flag(request, "enabled")
    try:
        if enabled is None:
            raise DomainError(
                ErrorCode.REQUEST_FORMAT_INVALID,
                "enabled must be true or false.",
                "registrationEnabled",
            )
        stored = services.installation_set_push_enabled(
            installation=installation, actor=actor_of(request), enabled=enabled
        )
    except DomainError as exc:
        return _card_response(request, installation, error=exc)
    result = f"Push is {'on' if stored.registration_enabled else 'off'} for this installation."
    return _card_response(request, _stored(stored, installation), extra={"result": result})


@edit_required
@require_POST
def set_additional_data(request: HttpRequest, pk: int) -> HttpResponse:
    """Replace additionalData with the JSON object typed in the card's editor.

    The editor also sends the value it showed (``additional_data_shown``): only what the
    operator changed from it is written, over what is stored now (a name the device set
    meanwhile stays), and a name changed on both sides is refused with the values now stored.
    """
    installation = _installation(pk)
    text = request.POST.get("additional_data", "").strip() or "{}"
    shown = _json_object(request.POST.get("additional_data_shown"))
    try:
        try:
            data = parse_json(text)
        except JSONInputError as exc:
            raise DomainError(
                ErrorCode.REQUEST_FORMAT_INVALID,
                f"additionalData.{exc.field}: {exc.message}."
                if exc.field
                else f"additionalData must be a JSON object: {exc}.",
                _join("additionalData", exc.field),
            ) from None
        stored = services.installation_set_additional_data(
            installation=installation,
            actor=actor_of(request),
            data=data,
            shown=shown,
        )
    except DomainError as exc:
        if exc.code == ErrorCode.VERSION_CONFLICT:
            installation = _installation(pk)  # the values now stored, shown beside the text
        return _card_response(
            request, installation, error=exc, extra={"additional_data_text": text}
        )
    return _card_response(
        request, _stored(stored, installation), extra={"result": "Additional data saved."}
    )


def _join(field: str, inner: str | None) -> str:
    return f"{field}.{inner}" if inner else field


def _json_object(text: str | None) -> dict[str, Any] | None:
    """A JSON object sent by the page, or None when absent or not one."""
    try:
        value = parse_json(text) if text else None
    except JSONInputError:
        return None
    return value if isinstance(value, dict) else None


@edit_required
@require_POST
def depersonalize(request: HttpRequest, pk: int) -> HttpResponse:
    """Remote logout: the installation leaves the person for a fresh anonymous profile."""
    installation = _installation(pk)
    person_id = installation.person_id
    try:
        anonymous = installation_depersonalize(installation=installation, actor=actor_of(request))
    except DomainError as exc:
        return _card_response(request, installation, error=exc)
    if not request.htmx:
        return redirect(person_url(person_id, "contacts"))
    person = Person.objects.annotate(installation_count=Count("installations")).get(pk=person_id)
    context = {
        "installation": installation,
        "anonymous": anonymous,
        "installation_count": person.installation_count,
    }
    response = render(request, "installations/_logged_out.html", context)
    response.content += changed_fragments(request, person).encode()
    return response
