"""The person page: the profile with its installations, tags, attributes and history, and the
save of its basic information (which, refused for an outdated version, shows the whole page
again without htmx).

The page reads ``directory.person_page`` (people and installations together); the in-place
actions of its sections are people's (people.views) and installations' (installations.views),
each answering with what it changed, out of band included.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.access import delete_required, edit_required, operator_required
from core.errors import DomainError, ErrorCode
from core.roles import can_delete_people, can_edit
from directory.person_page import PersonPage, person_page
from directory.revert import Revert, revert_event
from installations import depersonalize
from people import masking, selectors, services
from people.attribute_editor import editor_state
from people.forms import PersonForm
from people.history_lines import label, value_text
from people.models import Event, EventKind, Person
from people.operator_messages import for_operator
from people.views import (
    OVERVIEW,
    actor_of,
    describe_changes,
    describe_history,
    own_version,
    person_url,
    render_section,
    section_response,
)


def _int_or_none(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


def page_context(request: HttpRequest, page: PersonPage, **extra: Any) -> dict[str, Any]:
    person = page.person
    # A role that may not see personal data reads phones, emails and externalIds masked
    # (people.masking); the templates ask ``masked`` too (portal.context_processors).
    masked = not masking.sees_personal_data(request.user)
    history_filter = selectors.HistoryFilter.from_query(request.GET)
    return {
        "person": person,
        "phones": page.phones,
        "emails": page.emails,
        "installations": page.installations,
        "tags": page.tags,
        "attribute_rows": [editor_state(row, person.pk) for row in page.attribute_rows()],
        "history": describe_history(page.history, history_filter, masked=masked),
        "history_before": request.GET.get("before") or "",
        "overview_form": PersonForm(initial=PersonForm.initial_for(person)),
        "can_edit": can_edit(request.user),
        "can_delete": can_delete_people(request.user),
        "cooling_off_days": settings.ERASURE_COOLING_OFF_DAYS,
        # The sections whose editors are open (?edit=overview, ?edit=attributes, both): the
        # page reads as a profile, and this is how a browser without JavaScript opens a form.
        "editing": request.GET.getlist("edit"),
        **extra,
    }


@operator_required
@require_GET
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    history_filter = selectors.HistoryFilter.from_query(request.GET)
    page = person_page(pk, before=request.GET.get("before"), history_filter=history_filter)
    return render(request, "people/person_detail.html", page_context(request, page))


@operator_required
@require_GET
def person_header(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(Person, pk=pk)
    context = {"person": person, "can_delete": can_delete_people(request.user)}
    return render_section(request, "people/person_header.html", context)


@operator_required
@require_GET
def person_history(request: HttpRequest, pk: int) -> HttpResponse:
    """A page of history, filtered by ``?kind=…&actor=…`` and older than ``?before=…``."""
    person = get_object_or_404(Person, pk=pk)
    before = request.GET.get("before") or ""
    history_filter = selectors.HistoryFilter.from_query(request.GET)
    if not request.htmx:
        return redirect(history_url(person, history_filter, before))
    history = selectors.history_page(person, before=before or None, history_filter=history_filter)
    masked = not masking.sees_personal_data(request.user)
    context = {
        "person": person,
        "history": describe_history(history, history_filter, masked=masked),
        "history_before": before,
        "can_edit": can_edit(request.user),
    }
    response = render_section(request, "people/history.html", context)
    # The person URL of this page (filter and cursor): a reload or a shared link shows it.
    response["HX-Push-Url"] = history_url(person, history_filter, before).removesuffix("#history")
    return response


def history_url(person: Person, history_filter: selectors.HistoryFilter, before: str) -> str:
    """The person page at this page of history."""
    query = "&".join(
        part
        for part in (history_filter.query_string(), before and urlencode({"before": before}))
        if part
    )
    return person_url(person) + (f"?{query}" if query else "") + "#history"


@edit_required
@require_POST
def person_overview(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the basic information.

    A save over a version someone else has changed since is a three-way merge: the form
    carries the values it was loaded with, so only the fields the operator changed from
    them are theirs, and the others take the latest values. Only a field both changed, to
    different values, is a conflict: the save is refused, naming who changed the profile
    and when, keeping what the operator typed, and offering to reload the latest version or
    to save the typed values over it (issue 8). Without one, the save goes through over the
    latest version.
    """
    person = get_object_or_404(Person, pk=pk)
    form = PersonForm(request.POST)
    if form.is_valid():
        saved = save_basic_information(request, person, form)
    else:
        error = DomainError(ErrorCode.BAD_REQUEST, "Check the highlighted fields.")
        saved = OverviewSave(person, form, error)
    if saved.conflict is not None and not request.htmx:
        # Without htmx, show the whole page with the typed values rather than losing them.
        context = page_context(
            request,
            saved.page,
            overview_form=saved.form,
            conflict=saved.conflict,
            editing=["overview"],
        )
        return render(request, "people/person_detail.html", context, status=409)
    return section_response(
        request,
        saved.person,
        OVERVIEW,
        {
            "overview_form": saved.form,
            "saved": saved.error is None,
            "conflict": saved.conflict,
            # Saved: back to the read view; refused: the form stays open with what was typed.
            "editing": ["overview"] if saved.error else [],
        },
        error=saved.error,
        anchor="overview",
    )


@dataclass
class OverviewSave:
    """What a save of the basic information came to: the person as it is now, the form to
    show, and the refusal (with, for a conflict, the page read and what the panel shows)."""

    person: Person
    form: PersonForm
    error: DomainError | None = None
    page: PersonPage | None = None
    conflict: dict[str, Any] | None = None


def save_basic_information(request: HttpRequest, person: Person, form: PersonForm) -> OverviewSave:
    """Save the valid ``form``; over a newer version, save what ``three_way`` keeps unless a
    field both sides changed clashes."""
    started = started_from(request, form)
    try:
        person = _save_fields(request, person, form.standard_values(), started)
        return OverviewSave(person, PersonForm(initial=PersonForm.initial_for(person)))
    except DomainError as exc:
        if exc.code != ErrorCode.VERSION_CONFLICT:
            form.add_domain_error(exc)
            return OverviewSave(person, form, exc)
        error = exc
    page = person_page(person.pk, before=request.GET.get("before"))
    latest = page.person
    fields, clashes = three_way(
        form.loaded_values(), form.standard_values(), PersonForm.initial_for(latest)
    )
    if not clashes:
        try:
            person = _save_fields(request, latest, fields, latest.version)
            return OverviewSave(person, PersonForm(initial=PersonForm.initial_for(person)))
        except DomainError as again:  # changed once more meanwhile, or refused
            error = again
    shown = _showing(form, fields)
    shown.add_domain_error(error)
    conflict = None
    if error.code == ErrorCode.VERSION_CONFLICT:
        conflict = edit_conflict(latest, shown, started, request.user, clashes)
    return OverviewSave(latest, shown, error, page, conflict)


def _save_fields(
    request: HttpRequest, person: Person, fields: dict[str, Any], version: int | None
) -> Person:
    return services.person_set_fields(
        person=person, actor=actor_of(request), fields=fields, expected_version=version
    )


def three_way(
    loaded: dict[str, str] | None, typed: dict[str, Any], latest: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """The fields to save over the latest version, and the fields both sides changed.

    Each field the operator changed from what the form loaded (``loaded``) is theirs; every
    other field takes its latest value. A field is a clash when the operator and someone
    else both changed it, to different values. Without ``loaded`` (a client that does not
    send it) every typed field is the operator's.
    """

    def text(value: Any) -> str:
        return str(value or "")

    fields: dict[str, Any] = {}
    clashes: list[str] = []
    for name, value in typed.items():
        mine = loaded is None or text(value) != loaded[name]
        theirs = loaded is None or text(latest[name]) != loaded[name]
        fields[name] = value if mine else latest[name]
        if mine and theirs and text(value) != text(latest[name]):
            clashes.append(name)
    return fields, clashes


def _showing(form: PersonForm, fields: dict[str, Any]) -> PersonForm:
    """The refused form again, showing ``fields`` (the operator's values and, where they
    changed nothing, the latest ones), with the version and the values it was loaded with."""
    data = form.data.copy()
    for name, value in fields.items():
        data[name] = value or ""
    shown = PersonForm(data)
    shown.is_valid()
    return shown


# Events of the edits that bump Person.version: the ones an outdated edit collides with.
VERSION_EVENTS = [
    EventKind.PERSON_CREATED,
    EventKind.PERSONALIZE,
    EventKind.ATTRIBUTES_CHANGED,
    EventKind.TAGS_CHANGED,
    EventKind.CUSTOM_ATTRIBUTES_CHANGED,
    EventKind.CONTACTS_CHANGED,
    EventKind.PERSON_UPDATED,
]


def started_from(request: HttpRequest, form: PersonForm) -> int | None:
    """The version the edit expects: the page's, or the newer one a conflict offered."""
    reapply = _int_or_none(request.POST.get("reapply_version"))
    return reapply if reapply is not None else form.cleaned_data.get("version")


# At most this many of the edits since the form's version are read to name one.
CONFLICT_EVENTS = 20


def edit_conflict(
    person: Person, form: PersonForm, started: int | None, operator: Any, clashes: list[str]
) -> dict[str, Any]:
    """Who changed the profile since the version the edit started from, and how; and the
    fields both changed (``clashes``), with the latest value beside the operator's.

    Each version after ``started`` was made by one edit with one event of VERSION_EVENTS, so
    the newest ``person.version - started`` of them are the edits in between. Named is the
    newest of them by someone else: the operator's own tag or contact change on this page is
    not what the save collides with. When they are all the operator's (another tab), the
    newest.
    """
    since = person.version - started if started is not None else 1
    newer = list(
        person.events.filter(kind__in=VERSION_EVENTS)[: max(1, min(since, CONFLICT_EVENTS))]
    )
    latest = next(
        (event for event in newer if event.actor_user_id != operator.pk),
        newer[0] if newer else None,
    )
    saved = PersonForm.initial_for(person)
    typed = form.standard_values()
    differences = [
        {
            "label": form.fields[name].label,
            "saved": _shown_value(form, name, saved[name]),
            "typed": _shown_value(form, name, typed.get(name)),
        }
        for name in clashes
    ]
    return {
        "version": person.version,
        "event": latest,
        "lines": describe_changes(latest.changes) if latest else [],
        "differences": differences,
    }


def _shown_value(form: PersonForm, name: str, value: Any) -> str:
    """A value as the form's field shows it: a choice by its label ("Customer")."""
    choices = dict(getattr(form.fields[name], "choices", None) or [])
    return str(choices.get(value, value) or "")


@delete_required
def person_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """A confirmation that names the person (GET), then the deletion (POST): its installations
    move to fresh anonymous profiles (installations.depersonalize.person_delete)."""
    person = get_object_or_404(Person, pk=pk)
    if request.method == "POST":
        name = person.display_name
        try:
            depersonalize.person_delete(person=person, actor=actor_of(request))
        except DomainError as error:
            messages.error(request, error.message)
            return redirect(person_url(person))
        messages.success(request, f"Deleted {name} (person {pk}).")
        return redirect("home")
    return render(request, "people/person_delete.html", {"person": person})


# ---------------------------------------------------------------------------------------------
# Revert one history event's change (directory.revert)

REVERT_ANSWER = "people/revert_answer.html"


@edit_required
@require_POST
def event_revert(request: HttpRequest, pk: int, event_pk: int) -> HttpResponse:
    """Revert event ``event_pk`` of person ``pk`` from its history row. The answer is the
    history with what the revert did (or, refused, the conflict: nothing changed) and, out of
    band, the header and the sections the revert changed; a revert of basic information
    answers with the overview, the rest out of band. Without htmx, back to the page."""
    event = get_object_or_404(Event.objects.only("pk", "person_id"), pk=event_pk, person_id=pk)
    try:
        result = revert_event(event_id=event.pk, actor=actor_of(request))
    except DomainError as error:
        outcome, sections, made = refused_revert(error), frozenset(), None
    else:
        outcome, sections, made = {"result": revert_result(result)}, result.sections, result.person
    if not request.htmx:
        report = messages.success if "result" in outcome else messages.error
        report(request, outcome.get("result") or outcome.get("message") or outcome["error"])
        return redirect(person_url(pk, "history"))
    page = person_page(pk)
    main = "overview" if "overview" in sections else "history"
    context = page_context(
        request,
        page,
        revert_outcome=outcome,
        sections=sections,
        main=main,
        version_person=made if main != "overview" and made and own_version(request, made) else None,
    )
    response = render_section(request, REVERT_ANSWER, context, status=200 if made else 422)
    if main == "overview":
        response["HX-Retarget"] = "#overview"
        response["HX-Reswap"] = "outerHTML"
    return response


def revert_result(result: Revert) -> str:
    if result.recorded is None:
        return "Nothing to revert: the values are already as they were before this change."
    return "Reverted: " + "; ".join(describe_changes(result.recorded.changes)) + "."


def refused_revert(error: DomainError) -> dict[str, Any]:
    """What the history shows of a refused revert: each conflict (field, now, would restore),
    or the refusal's message."""
    if error.code != ErrorCode.REVERT_CONFLICT:
        return {"error": for_operator(error).message}
    rows = [
        {
            "field": conflict_label(c["field"]),
            "now": conflict_now(c),
            "restore": value_text(c["restore"], phone=c["field"] == "phones")
            if c["restore"] not in (None, "")
            else "not set",
        }
        for c in error.details["conflicts"]
    ]
    return {
        "message": "Not reverted: changed again since. Nothing was changed.",
        "conflicts": rows,
    }


def conflict_label(field: str) -> str:
    if field.startswith("customAttributes."):
        return field.removeprefix("customAttributes.")
    return {"phones": "Phone", "emails": "Email"}.get(field, label(field))


def conflict_now(conflict: dict[str, Any]) -> str:
    if conflict["field"] == "installation":
        if "ownerId" in conflict:
            return f"Moved to person {conflict['ownerId']}"
        return "No longer exists"
    if "ownerId" in conflict:
        return f"Belongs to person {conflict['ownerId']}"
    now = conflict["now"]
    return "not set" if now in (None, "") else value_text(now)
