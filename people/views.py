"""Operator UI for people: the in-place (htmx) actions of the person page (the page itself is
directory.views.person; the search, directory.views.search).

Each view authorizes, parses, calls one service or selector, and renders: a section partial
for an htmx request, a redirect back to the person page otherwise. A DomainError is shown at
the field it names. A change answers with everything it changed in one response: the
section, and out of band the person header and the first page of history
(``changed_fragments``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_POST

from core.access import edit_required
from core.errors import DomainError, ErrorCode
from core.roles import can_delete_people, can_edit
from people import masking, selectors, services
from people.attribute_editor import editor_state, submitted_state, submitted_value
from people.forms import (
    PersonCreateForm,
    attribute_value,
    split_list,
)
from people.history import Actor
from people.history_lines import change_lines
from people.identities import format_phone, normalize_email, parse_phone
from people.models import (
    AttributeDefinition,
    DataType,
    EventKind,
    IdentityKind,
    Person,
)
from people.name_keys import name_key
from people.operator_messages import for_operator
from people.reverts import revert_lines
from people.templatetags.people_ui import one_csrf_input


def actor_of(request: HttpRequest) -> Actor:
    return Actor.operator(request.user)


def person_url(person: Person | int, anchor: str = "") -> str:
    pk = person.pk if isinstance(person, Person) else person
    return reverse("people:detail", args=[pk]) + (f"#{anchor}" if anchor else "")


# The sections and what a change also changed are Jinja2 templates (portal.templating), the
# same ones the person page renders them with (people_ui.partial).
OVERVIEW = "people/overview.html"
CHANGED = "people/changed.html"


def viewer_context(request: HttpRequest) -> dict[str, Any]:
    """What the sections ask of the request besides their own context: ``masked``,
    ``can_reveal`` and ``time_zone``, as portal.context_processors gives them to the Django
    templates (the Jinja2 backend runs no context processor), worked out only when asked;
    and one CSRF field for all the forms of the answer (people_ui.one_csrf_input)."""
    user = request.user
    return {
        "request": request,
        "csrf_input": one_csrf_input(SimpleLazyObject(lambda: get_token(request))),
        "masked": SimpleLazyObject(lambda: not masking.sees_personal_data(user)),
        "can_reveal": SimpleLazyObject(lambda: masking.may_reveal(user)),
        "time_zone": getattr(request, "time_zone", "UTC"),
    }


def render_section(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """The Jinja2 ``template`` of a section of the person page, with ``viewer_context``."""
    html = render_to_string(template, {**viewer_context(request), **context}, using="jinja2")
    return HttpResponse(html, status=status)


def changed_fragments(
    request: HttpRequest, person: Person, *, version_person: Person | None = None
) -> str:
    """The header and the first page of history of ``person`` as a change left it, as htmx
    out-of-band swaps (and the form's new version, when ``version_person`` is given): what
    the page shows of a change besides the section it was made in."""
    history_filter = shown_history_filter(request, person)
    history = selectors.history_page(person, history_filter=history_filter)
    context = {
        "person": person,
        "history": describe_history(history, history_filter),
        "can_delete": can_delete_people(request.user),
        "can_edit": can_edit(request.user),
        "version_person": version_person,
        **viewer_context(request),
    }
    return render_to_string(CHANGED, context, using="jinja2")


def shown_history_filter(request: HttpRequest, person: Person) -> selectors.HistoryFilter:
    """The history filter of the person page the request came from, so that the history an
    in-place change answers with keeps the filter the operator chose.

    The filter is in the page's URL (the history's own requests push it: directory.views.
    person.person_history): for htmx the page's URL (HX-Current-URL), for a plain form post
    the Referer; either only when it is this person's page on this site (else no filter).
    """
    if request.htmx:
        url = request.htmx.current_url_abs_path or ""
    else:
        referer = urlsplit(request.META.get("HTTP_REFERER", ""))
        url = referer.geturl() if referer.netloc == request.get_host() else ""
    page = urlsplit(url)
    if not url or page.path != person_url(person):
        return selectors.HistoryFilter()
    return selectors.HistoryFilter.from_query(QueryDict(page.query))


def section_response(
    request: HttpRequest,
    person: Person,
    template: str,
    context: dict[str, Any],
    *,
    error: DomainError | None = None,
    anchor: str = "",
    made: Person | None = None,
) -> HttpResponse:
    """The re-rendered section for htmx; for a plain form post, back to the page.

    ``made`` is the person as a tag, contact or attribute change left it (what the service
    returned): see ``own_version``.
    """
    if not request.htmx:
        if error is not None:
            messages.error(request, error.message)
        # Back to the page with the history filter it had.
        shown = shown_history_filter(request, person).query_string()
        return redirect(
            person_url(person) + (f"?{shown}" if shown else "") + (f"#{anchor}" if anchor else "")
        )
    context = {"person": person, "can_edit": can_edit(request.user), **context}
    response = render_section(request, template, context, status=422 if error else 200)
    if error is None:
        moved_on = made is not None and own_version(request, made)
        response.content += changed_fragments(
            request, made or person, version_person=made if moved_on else None
        ).encode()
    return response


def own_version(request: HttpRequest, made: Person) -> bool:
    """Whether the basic-information form moves on to the version a section change made.

    The page's tag, contact and attribute forms send the version that form edits
    (``hx-include``). When the change started from exactly that version, the new one holds
    nothing the operator has not seen, and the form moves on to it: a save right after is
    not refused as an edit of the version before. When the form is older, someone else
    changed the profile in between; the form keeps its version, and its next save is refused
    with the conflict and the latest values instead of writing over that change.
    """
    held = request.POST.get("version", "")
    return (
        made.previous_version is not None
        and made.version != made.previous_version
        and held == str(made.previous_version)
    )


IDENTITY_SERVICES = {
    "phone": (services.person_add_phone, services.person_remove_phone, "number"),
    "email": (services.person_add_email, services.person_remove_email, "address"),
}


def _identity_kind(request: HttpRequest) -> str:
    kind = request.POST.get("kind", "")
    if kind not in IDENTITY_SERVICES:
        raise PermissionDenied("kind must be phone or email.")
    return kind


@edit_required
@require_POST
def identity_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a phone or an email; one that belongs to someone else is refused with a link."""
    person = get_object_or_404(Person, pk=pk)
    kind = _identity_kind(request)
    add, _, argument = IDENTITY_SERVICES[kind]
    value = request.POST.get("value", "")
    error = made = None
    try:
        made = add(person=person, actor=actor_of(request), **{argument: value})
    except DomainError as exc:
        error = for_operator(exc, typed=value)
    result = ""
    if made is not None:
        shown = _identity_text(kind, value)
        result = f"{shown} is already there." if _unchanged(made) else f"{shown} added."
    return _identities_response(request, person, kind, value, error, made, result, added=True)


@edit_required
@require_POST
def identity_remove(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(Person, pk=pk)
    kind = _identity_kind(request)
    _, remove, argument = IDENTITY_SERVICES[kind]
    value = request.POST.get("value", "")
    error = made = None
    try:
        made = remove(person=person, actor=actor_of(request), **{argument: value})
    except DomainError as exc:
        error = for_operator(exc)
    result = ""
    if made is not None:
        shown = _identity_text(kind, value)
        result = f"{shown} was not there." if _unchanged(made) else f"{shown} removed."
    return _identities_response(request, person, kind, "", error, made, result)


def _unchanged(made: Person) -> bool:
    """The change found nothing to do (the phone was there already): no new version."""
    return made.previous_version is not None and made.version == made.previous_version


def _identity_text(kind: str, value: str) -> str:
    """A phone or email the service accepted, as the page shows it: "Phone +385 1 6419 710"."""
    if kind == "phone":
        return f"Phone {format_phone(parse_phone(value).number)}"
    return f"Email {normalize_email(value)}"


def _identities_response(
    request: HttpRequest,
    person: Person,
    kind: str,
    value: str,
    error: DomainError | None,
    made: Person | None,
    result: str = "",
    *,
    added: bool = False,
) -> HttpResponse:
    person = made or person  # as the change left it
    identities = list(person.identities.order_by("kind", "id"))
    context = {
        "phones": [i for i in identities if i.kind == IdentityKind.PHONE],
        "emails": [i for i in identities if i.kind == IdentityKind.EMAIL],
        f"{kind}_error": error,
        f"{kind}_value": value if error else "",
        f"{kind}_result": result,
        # After an add the field takes the focus again, for the next one.
        f"{kind}_refocus": added or error is not None,
        # The summary panel's phones and emails follow, out of band (a refused action changed
        # nothing: its answer is the section alone).
        "summary_oob": error is None,
    }
    return section_response(
        request,
        person,
        "people/identities.html",
        context,
        error=error,
        anchor="contacts",
        made=made,
    )


@edit_required
@require_POST
def tags_add(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(Person, pk=pk)
    text = request.POST.get("name", "")
    names = split_list(text)
    had = {tag.name_key for tag in person.tags.all()}
    error = made = None
    try:
        made = services.person_add_tags(person=person, actor=actor_of(request), names=names)
    except DomainError as exc:
        error = for_operator(exc)
    result = ""
    if made is not None:
        added = [name for name in names if name_key(name) not in had]
        there = [name for name in names if name_key(name) in had]
        result = " ".join(
            part
            for part in (
                _tags_sentence(added, "added"),
                _tags_sentence(there, "already there"),
            )
            if part
        )
    return _tags_response(request, person, error, text if error else "", made, result)


def _tags_sentence(names: list[str], what: str) -> str:
    if not names:
        return ""
    noun = "Tag" if len(names) == 1 else "Tags"
    verb = "is" if len(names) == 1 else "are"
    if what == "already there":
        return f"{noun} {', '.join(names)} {verb} already there."
    return f"{noun} {', '.join(names)} {what}."


@edit_required
@require_POST
def tags_remove(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(Person, pk=pk)
    name = request.POST.get("name", "")
    error = made = None
    try:
        made = services.person_remove_tags(person=person, actor=actor_of(request), names=[name])
    except DomainError as exc:
        error = for_operator(exc)
    result = f"Tag {name.strip()} removed." if made is not None and not _unchanged(made) else ""
    return _tags_response(request, person, error, "", made, result)


def _tags_response(
    request: HttpRequest,
    person: Person,
    error: DomainError | None,
    value: str,
    made: Person | None,
    result: str = "",
) -> HttpResponse:
    person = made or person  # as the change left it
    tags = list(person.tags.order_by("name_key", "id"))
    context = {
        "tags": tags,
        "tag_error": error,
        "tag_value": value,
        "tag_result": result,
        # The summary panel's tags follow, out of band (not after a refusal).
        "summary_oob": error is None,
    }
    return section_response(
        request, person, "people/tags.html", context, error=error, anchor="attributes", made=made
    )


@edit_required
@require_POST
def attribute_set(request: HttpRequest, pk: int, definition_pk: int) -> HttpResponse:
    """Set one custom attribute from its typed editor.

    An empty scalar editor saves nothing: a number input is empty too when what was typed
    is not a number, and a value is removed only with its explicit Remove button.
    """
    person = get_object_or_404(Person, pk=pk)
    definition = get_object_or_404(AttributeDefinition, pk=definition_pk)
    raw = submitted_value(definition, request.POST)
    error = None
    if raw is None and definition.data_type not in (DataType.BOOLEAN, DataType.LIST_OF_OBJECTS):
        error = DomainError(
            ErrorCode.BAD_REQUEST,
            f"{definition.name} is empty, so nothing was saved. "
            "To remove its value, use “Remove value”.",
            f"customAttributes.{definition.name}",
        )
        return _attribute_response(request, person, definition, error, raw)
    try:
        # The person as the change left it (see own_version).
        person = services.person_set_custom_attributes(
            person=person,
            actor=actor_of(request),
            values={definition.name: attribute_value(definition, raw)},
            shown=_shown(request, definition),
        )
    except DomainError as exc:
        error = for_operator(exc)
    result = "" if error else f"{definition.name} saved."
    return _attribute_response(request, person, definition, error, raw, result)


@edit_required
@require_POST
def attribute_remove(request: HttpRequest, pk: int, definition_pk: int) -> HttpResponse:
    person = get_object_or_404(Person, pk=pk)
    definition = get_object_or_404(AttributeDefinition, pk=definition_pk)
    error = None
    try:
        person = services.person_remove_custom_attribute(
            person=person,
            actor=actor_of(request),
            name=definition.name,
            shown=request.POST.get("shown"),
        )
    except DomainError as exc:
        error = for_operator(exc)
    result = "" if error else f"{definition.name} removed."
    return _attribute_response(request, person, definition, error, None, result)


def _shown(request: HttpRequest, definition: AttributeDefinition) -> dict[str, str] | None:
    """The value the attribute's editor showed (its ``shown`` field): a value someone else
    changed since is then refused instead of overwritten. None from a plain client."""
    shown = request.POST.get("shown")
    return {definition.name: shown} if shown is not None else None


def _attribute_response(
    request: HttpRequest,
    person: Person,
    definition: AttributeDefinition,
    error: DomainError | None,
    raw: Any,
    result: str = "",
) -> HttpResponse:
    row = editor_state(selectors.attribute_row(person, definition), person.pk)
    row["result"] = result
    if error is not None:
        # Show what was typed, so that nothing is lost while the error is fixed.
        row.update(submitted_state(definition, raw), error=error)
    return section_response(
        request,
        person,
        "people/attribute_row.html",
        {"row": row},
        error=error,
        anchor=f"attribute-{definition.pk}",
        made=person,
    )


# ---------------------------------------------------------------------------------------------
# History


def describe_changes(changes: dict[str, Any]) -> list[str]:
    """Short lines that say what an event changed ("City: Zagreb → Split", "Added tag VIP")."""
    return change_lines(changes)


def describe_history(
    page: selectors.HistoryPage,
    history_filter: selectors.HistoryFilter | None = None,
    *,
    masked: bool = False,
) -> dict[str, Any]:
    """Each event with its lines, labels and time (in the current time zone, the operator's:
    portal.time_zones; static/js/times.js shows it relative), and the filter the page was
    read with (a page has twenty rows)."""
    history_filter = history_filter or selectors.HistoryFilter()
    zone = timezone.get_current_timezone_name()
    events = []
    for event in page.events:
        created = event.created_at.astimezone(dt.UTC)
        local = timezone.localtime(event.created_at)
        events.append(
            {
                "event": event,
                # A role that may not see personal data reads its values masked.
                "lines": change_lines(
                    masking.masked_changes(event.changes) if masked else event.changes
                ),
                # What a Revert button would restore (none: the row has no button).
                "revert_lines": revert_lines(event),
                "kind_label": event.get_kind_display(),
                "actor_kind_label": event.get_actor_kind_display(),
                "source_label": event.get_source_display(),
                "created_iso": created.isoformat(),
                "created": f"{local:%Y-%m-%d %H:%M:%S} {zone}",
            }
        )
    newest = history_filter.query_string()
    older = urlencode({"before": page.next_cursor}) if page.next_cursor else ""
    return {
        "events": events,
        "next_cursor": page.next_cursor,
        "filter": history_filter,
        "kinds": EventKind.choices,
        # The actors of this page, offered by the actor box (no query of its own).
        "actors": sorted({event.actor_label for event in page.events}),
        # The pager's query strings: a page of the same filter (the newest, the older one).
        "newest_query": newest,
        "older_query": f"{newest}&{older}" if newest and older else newest or older,
    }


# ---------------------------------------------------------------------------------------------
# Create


@edit_required
def person_create(request: HttpRequest) -> HttpResponse:
    form = PersonCreateForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                person = services.person_create(actor=actor_of(request), **form.service_arguments())
            except DomainError as error:
                form.add_domain_error(error)
            else:
                messages.success(request, f"Created {person.display_name}.")
                return redirect(person_url(person))
    return render(
        request,
        "people/person_create.html",
        {"form": form},
        status=status,
    )
