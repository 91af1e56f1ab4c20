"""Operator UI for people: search, the person page and its in-place (htmx) actions.

Each view authorizes, parses, calls one service or selector, and renders: a section partial
for an htmx request, a redirect back to the person page otherwise. A DomainError is shown at
the field it names. Every write response sends the ``personChanged`` event, on which the
person header and the history refresh themselves.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from core.access import edit_required, operator_required
from core.errors import DomainError, ErrorCode
from core.roles import can_delete_people, can_edit
from people import custom_attributes as attribute_types
from people import selectors, services
from people.forms import (
    INPUT_TYPES,
    PersonCreateForm,
    PersonForm,
    SearchForm,
    attribute_value,
    split_list,
)
from people.history import Actor
from people.models import AttributeDefinition, DataType, EventKind, Person, PersonType
from people.search import SearchQuery, prefetched, search_people
from people.templatetags.people_ui import phone_for_reading
from portal.paths import path

PERSON_CHANGED = "personChanged"


def actor_of(request: HttpRequest) -> Actor:
    return Actor.operator(request.user)


def person_url(person: Person | int, anchor: str = "") -> str:
    pk = person.pk if isinstance(person, Person) else person
    return path("people:detail", pk) + (f"#{anchor}" if anchor else "")


OVERVIEW = "people/_overview.html"
VERSION_OOB = "people/_version_oob.html"


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
        return redirect(person_url(person, anchor))
    context = {"person": person, "can_edit": can_edit(request.user), **context}
    response = render(request, template, context, status=422 if error else 200)
    if error is None:
        if made is not None and own_version(request, made):
            response.content += render_to_string(VERSION_OOB, {"person": made}).encode()
        trigger_client_event(response, PERSON_CHANGED)
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


# ---------------------------------------------------------------------------------------------
# Search


def canonical_search_url(request: HttpRequest) -> str:
    """The search URL with only the parameters that mean something (what back/reload use)."""
    params = [
        (key, value)
        for key in request.GET
        if key != "go"
        for value in request.GET.getlist(key)
        if value.strip() and not (key == "op" and value == "eq")
    ]
    return path("home") + (f"?{urlencode(params)}" if params else "")


@operator_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """The start page: one box and filters; results update as you type (htmx).

    A plain submit (Enter, or no JavaScript) carries ``go``: one exact identifier match then
    opens that profile directly. The URLs pushed while typing leave ``go`` out, so back,
    reload and shared links show the list.
    """
    # The search box's answer is the results alone: the filter selects are not shown.
    results_only = bool(request.htmx) and not request.htmx.history_restore_request
    form = SearchForm(request.GET or None, given_choices_only=results_only)
    page = None
    if not form.is_bound:
        page = search_people(SearchQuery())
    elif form.is_valid():
        try:
            page = search_people(form.to_query(), after=_int_or_none(request.GET.get("after")))
        except DomainError as error:
            form.add_domain_error(error)
        else:
            if "go" in request.GET and not request.htmx and page.single_exact is not None:
                return redirect(person_url(page.single_exact))
    context = {
        "form": form,
        "q": form.data.get("q", "") if form.is_bound else "",
        "filters": filter_controls(form),
        "attribute_options": options_of(form, "attribute"),
        "page": page,
        "rows": result_rows(page.people) if page else [],
        "can_edit": can_edit(request.user),
        "search_url": canonical_search_url(request),
        "next_url": _page_url(request, page.next_cursor) if page and page.next_cursor else None,
        "first_url": _page_url(request, None) if request.GET.get("after") else None,
        "corrected_url": _page_url(request, None, q=page.corrected)
        if page and page.corrected
        else None,
        "other_spellings": [
            (spelling, _page_url(request, None, q=spelling)) for spelling in page.other_spellings
        ]
        if page
        else [],
    }
    if results_only:
        response = render(request, "people/_search_results.html", context)
        response["HX-Push-Url"] = context["search_url"]
        return response
    return render(request, "people/search.html", context)


def _int_or_none(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


def _page_url(request: HttpRequest, cursor: int | None, q: str | None = None) -> str:
    """This search with another page: after ``cursor``, or the first page for None; with
    ``q`` instead of the text typed when given."""
    params = [
        (key, q if q is not None and key == "q" else value)
        for key in request.GET
        if key not in ("go", "after")
        for value in request.GET.getlist(key)
        if value.strip()
    ]
    if cursor is not None:
        params.append(("after", str(cursor)))
    return path("home") + ("?" + urlencode(params) if params else "")


FILTERS = ("type", "app", "platform", "primary", "push")


def options_of(form: SearchForm, name: str) -> SafeString:
    """The ``<option>`` elements of a select, the one given selected: written out here, which
    is several times cheaper than the widget's templates, or a template loop, per option."""
    current = form.data.get(name, "") if form.is_bound else ""
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        (
            (value, mark_safe(" selected") if value == current else "", label)
            for value, label in form.fields[name].choices
        ),
    )


def filter_controls(form: SearchForm) -> list[dict[str, Any]]:
    return [
        {"name": name, "label": form.fields[name].label, "options": options_of(form, name)}
        for name in FILTERS
    ]


def result_rows(people: list[Person]) -> list[dict[str, Any]]:
    """What each result row shows, as text, from the prefetched relations (no query per
    row, no template logic per cell)."""
    types = dict(PersonType.choices)
    rows = []
    for person in people:
        identities = prefetched(person, "identities")
        phones = [i for i in identities if i.kind == "PHONE"]
        emails = [i.value for i in identities if i.kind == "EMAIL"]
        devices = prefetched(person, "installations")
        modified = timezone.localtime(person.modified_at)
        rows.append(
            {
                "url": path("people:detail", person.pk),
                "name": person.display_name,
                "external_id": person.external_id,
                "type": person.type.lower(),
                "type_label": types.get(person.type, person.type),
                "phone": (
                    phone_for_reading(phones[0].value, phones[0].national_number) if phones else ""
                ),
                "more_phones": max(len(phones) - 1, 0),
                "email": emails[0] if emails else "",
                "more_emails": max(len(emails) - 1, 0),
                "devices": len(devices),
                "platforms": ", ".join(sorted({d.os or "unknown" for d in devices})),
                "has_primary": any(d.is_primary for d in devices),
                "tags": [tag.name for tag in prefetched(person, "tags")],
                "modified_iso": modified.isoformat(),
                "modified": modified.strftime("%Y-%m-%d %H:%M"),
            }
        )
    return rows


@operator_required
@require_GET
def search_value_field(request: HttpRequest) -> HttpResponse:
    """The attribute-value input of the search filters, typed by the chosen definition."""
    form = SearchForm(request.GET)
    return render(request, "people/_search_value_field.html", {"form": form})


@operator_required
@require_GET
def tag_suggestions(request: HttpRequest) -> HttpResponse:
    """<option>s of existing tags starting with what was typed (for a <datalist>)."""
    text = request.GET.get("name") or request.GET.get("tags") or ""
    # The search filter takes a comma-separated list: suggest for the last name typed.
    prefix = text.split(",")[-1].strip()
    names = selectors.tag_suggestions(prefix, exclude=split_list(text)[:-1])
    head = ", ".join(split_list(text)[:-1])
    options = [f"{head}, {name}" if head else name for name in names]
    return render(request, "people/_tag_options.html", {"options": options})


# ---------------------------------------------------------------------------------------------
# The person page


def page_context(request: HttpRequest, person: Person, **extra: Any) -> dict[str, Any]:
    history = selectors.history_page(person, before=request.GET.get("before"))
    return {
        "person": person,
        "phones": selectors.phones_of(person),
        "emails": selectors.emails_of(person),
        "installations": list(person.installations.all()),
        "tags": list(person.tags.all()),
        "attribute_rows": [
            editor_state(row, person.pk) for row in selectors.attribute_rows(person)
        ],
        "history": describe_history(history),
        "history_before": request.GET.get("before") or "",
        "overview_form": PersonForm(initial=PersonForm.initial_for(person)),
        "can_edit": can_edit(request.user),
        "can_delete": can_delete_people(request.user),
        **extra,
    }


@operator_required
@require_GET
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = selectors.person_for_page(pk)
    return render(request, "people/person_detail.html", page_context(request, person))


@operator_required
@require_GET
def person_header(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(Person, pk=pk)
    context = {"person": person, "can_delete": can_delete_people(request.user)}
    return render(request, "people/_person_header.html", context)


@operator_required
@require_GET
def person_history(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(Person, pk=pk)
    before = request.GET.get("before") or ""
    history = selectors.history_page(person, before=before or None)
    context = {"person": person, "history": describe_history(history), "history_before": before}
    if not request.htmx:
        return redirect(person_url(person) + (f"?before={before}" if before else "") + "#history")
    # The pager links push the person URL with ``before``: a reload shows the same page.
    return render(request, "people/_history.html", context)


@edit_required
@require_POST
def person_overview(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the basic information; an edit of an outdated version is refused.

    The refusal names who changed the profile and when, keeps what the operator typed, and
    offers to reload the latest version or to save the typed values over it (issue 8).
    """
    person = get_object_or_404(Person, pk=pk)
    form = PersonForm(request.POST)
    error = None
    conflict = None
    if form.is_valid():
        try:
            person = services.person_set_fields(
                person=person,
                actor=actor_of(request),
                fields=form.standard_values(),
                expected_version=started_from(request, form),
            )
        except DomainError as exc:
            error = exc
            form.add_domain_error(exc)
            if exc.code == ErrorCode.VERSION_CONFLICT:
                person = selectors.person_for_page(pk)
                conflict = edit_conflict(person, form, started_from(request, form), request.user)
        else:
            form = PersonForm(initial=PersonForm.initial_for(person))
    else:
        error = DomainError(ErrorCode.BAD_REQUEST, "Check the highlighted fields.")
    if conflict is not None and not request.htmx:
        # Without htmx, show the whole page with the typed values rather than losing them.
        context = page_context(request, person, overview_form=form, conflict=conflict)
        return render(request, "people/person_detail.html", context, status=409)
    return section_response(
        request,
        person,
        OVERVIEW,
        {"overview_form": form, "saved": error is None, "conflict": conflict},
        error=error,
        anchor="overview",
    )


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
    person: Person, form: PersonForm, started: int | None, operator: Any
) -> dict[str, Any]:
    """Who changed the profile since the version the edit started from, and how; and where
    the typed values differ from the latest ones.

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
        {"label": form.fields[name].label, "saved": saved[name], "typed": typed[name]}
        for name in typed
        if str(saved[name] or "") != str(typed[name] or "")
    ]
    return {
        "version": person.version,
        "event": latest,
        "lines": describe_changes(latest.changes) if latest else [],
        "differences": differences,
    }


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
        error = exc
    return _identities_response(request, pk, kind, value, error, made)


@edit_required
@require_POST
def identity_remove(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(Person, pk=pk)
    kind = _identity_kind(request)
    _, remove, argument = IDENTITY_SERVICES[kind]
    error = made = None
    try:
        made = remove(
            person=person, actor=actor_of(request), **{argument: request.POST.get("value", "")}
        )
    except DomainError as exc:
        error = exc
    return _identities_response(request, pk, kind, "", error, made)


def _identities_response(
    request: HttpRequest,
    pk: int,
    kind: str,
    value: str,
    error: DomainError | None,
    made: Person | None,
) -> HttpResponse:
    person = selectors.person_for_page(pk)
    context = {
        "phones": selectors.phones_of(person),
        "emails": selectors.emails_of(person),
        f"{kind}_error": error,
        f"{kind}_value": value if error else "",
    }
    return section_response(
        request,
        person,
        "people/_identities.html",
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
    error = made = None
    try:
        made = services.person_add_tags(
            person=person, actor=actor_of(request), names=split_list(text)
        )
    except DomainError as exc:
        error = exc
    return _tags_response(request, pk, error, text if error else "", made)


@edit_required
@require_POST
def tags_remove(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(Person, pk=pk)
    error = made = None
    try:
        made = services.person_remove_tags(
            person=person, actor=actor_of(request), names=[request.POST.get("name", "")]
        )
    except DomainError as exc:
        error = exc
    return _tags_response(request, pk, error, "", made)


def _tags_response(
    request: HttpRequest, pk: int, error: DomainError | None, value: str, made: Person | None
) -> HttpResponse:
    person = selectors.person_for_page(pk)
    context = {"tags": list(person.tags.all()), "tag_error": error, "tag_value": value}
    return section_response(
        request, person, "people/_tags.html", context, error=error, anchor="attributes", made=made
    )


@edit_required
@require_POST
def attribute_set(request: HttpRequest, pk: int, definition_pk: int) -> HttpResponse:
    """Set one custom attribute from its typed editor; empty means remove."""
    person = get_object_or_404(Person, pk=pk)
    definition = get_object_or_404(AttributeDefinition, pk=definition_pk)
    raw = submitted_value(definition, request.POST)
    error = None
    try:
        # The person as the change left it (see own_version).
        person = services.person_set_custom_attributes(
            person=person,
            actor=actor_of(request),
            values={definition.name: attribute_value(definition, raw)},
            shown=_shown(request, definition),
        )
    except DomainError as exc:
        error = exc
    return _attribute_response(request, person, definition, error, raw)


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
        error = exc
    return _attribute_response(request, person, definition, error, None)


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
) -> HttpResponse:
    row = editor_state(selectors.attribute_row(person, definition), person.pk)
    if error is not None:
        # Show what was typed, so that nothing is lost while the error is fixed.
        row.update(submitted_state(definition, raw), error=error)
    return section_response(
        request,
        person,
        "people/_attribute_row.html",
        {"row": row},
        error=error,
        anchor=f"attribute-{definition.pk}",
        made=person,
    )


# ---------------------------------------------------------------------------------------------
# Custom attribute editor: values to input text and back


def value_text(data_type: str, value: Any) -> str:
    """A stored value as an input of its type shows it."""
    if value is None:
        return ""
    if data_type == DataType.DECIMAL:
        return attribute_types.format_decimal(value)
    if data_type == DataType.DATE:
        return value.isoformat()
    if data_type == DataType.DATE_TIME:
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if data_type == DataType.BOOLEAN:
        return "true" if value else "false"
    return str(value)


def editor_state(row: selectors.AttributeRow, person_pk: int) -> dict[str, Any]:
    definition = row.definition
    state: dict[str, Any] = {
        "definition": definition,
        "is_set": row.is_set,
        "input_type": INPUT_TYPES.get(definition.data_type, "text"),
        "error": None,
        "error_id": f"attribute-{definition.pk}-error",
        # Text, not a number: the template uses it a dozen times and localizes numbers.
        "pk": str(definition.pk),
        "type_label": definition.get_data_type_display(),
        "set_url": path("people:attribute_set", person_pk, definition.pk),
        "remove_url": path("people:attribute_remove", person_pk, definition.pk),
        # What the editor shows, sent back with a save (see _shown).
        "shown": attribute_types.fingerprint(definition, row.value),
    }
    if definition.data_type == DataType.LIST_OF_OBJECTS:
        schema = definition.object_schema or {}
        items = [
            {key: value_text(schema[key], item.get(key)) for key in schema}
            for item in (row.value or [])
        ]
        state["items"] = _item_rows(definition, items)
    else:
        state["text"] = value_text(definition.data_type, row.value)
        state["checked"] = row.value is True
    return state


def _item_rows(definition: AttributeDefinition, items: list[dict[str, str]]) -> list:
    """Rows of fields for a list of objects, plus one empty row to add an item.

    Each cell's id, name, label and input attributes are written here rather than put
    together in the template: a list of a few items has dozens of cells, and each template
    variable resolved per cell cost more than the string.
    """
    schema = definition.object_schema or {}
    rows = []
    for index, item in enumerate([*items, dict.fromkeys(schema, "")]):
        is_new = index == len(items)
        of = "a new item" if is_new else f"item {index + 1}"
        fields = []
        for number, (key, data_type) in enumerate(schema.items(), start=1):
            input_type = INPUT_TYPES.get(data_type, "text")
            fields.append(
                {
                    "name": key,
                    "data_type": data_type,
                    "input_type": input_type,
                    "text": item.get(key, ""),
                    "id": f"attr-{definition.pk}-{index}-{number}",
                    "input_name": f"row-{index}-{key}",
                    "label": f"{key} of {of}",
                    # Numbers in a text input with inputmode="decimal", as the editor had them.
                    "html_type": "text" if input_type == "number" else input_type,
                    "decimal": data_type in (DataType.INTEGER, DataType.DECIMAL),
                    "step": input_type == "datetime-local",
                }
            )
        rows.append(
            {
                "number": index + 1,
                "is_new": is_new,
                "delete_name": f"row-{index}-delete",
                "fields": fields,
            }
        )
    return rows


def submitted_value(definition: AttributeDefinition, post: Any) -> Any:
    """What the editor sent, as text (None removes the value): forms.attribute_value reads it."""
    if definition.data_type == DataType.BOOLEAN:
        return "true" if post.get("value") else "false"
    if definition.data_type != DataType.LIST_OF_OBJECTS:
        text = post.get("value", "")
        return text if text.strip() else None
    schema = definition.object_schema or {}
    items = []
    for index in range(min(_int_or_none(post.get("rows")) or 0, attribute_types.MAX_LIST_ITEMS)):
        if post.get(f"row-{index}-delete"):
            continue
        item = {
            key: post.get(f"row-{index}-{key}", "")
            for key in schema
            if post.get(f"row-{index}-{key}", "").strip()
        }
        if item:
            items.append(item)
    return items or None


def submitted_state(definition: AttributeDefinition, raw: Any) -> dict[str, Any]:
    if definition.data_type == DataType.LIST_OF_OBJECTS:
        return {"items": _item_rows(definition, list(raw or []))}
    if definition.data_type == DataType.BOOLEAN:
        return {"checked": raw == "true"}
    return {"text": raw or ""}


# ---------------------------------------------------------------------------------------------
# History


def describe_changes(changes: dict[str, Any]) -> list[str]:
    """Short lines that say what an event changed ("firstName: Ana → Anna")."""
    lines = []
    for key, change in (changes or {}).items():
        if isinstance(change, dict) and ("before" in change or "after" in change):
            lines.append(f"{key}: {_show(change.get('before'))} → {_show(change.get('after'))}")
        elif isinstance(change, dict) and ("added" in change or "removed" in change):
            parts = []
            if change.get("added"):
                parts.append("added " + ", ".join(map(str, change["added"])))
            if change.get("removed"):
                parts.append("removed " + ", ".join(map(str, change["removed"])))
            lines.append(f"{key}: {'; '.join(parts)}")
        elif isinstance(change, dict):
            lines.extend(f"{key}.{line}" for line in describe_changes(change))
        else:
            lines.append(f"{key}: {_show(change)}")
    return lines


def _show(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | dict):
        import json

        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def describe_history(page: selectors.HistoryPage) -> dict[str, Any]:
    """Each event with its lines, labels and time as text (a page has twenty rows)."""
    events = []
    for event in page.events:
        created = timezone.localtime(event.created_at)
        events.append(
            {
                "event": event,
                "lines": describe_changes(event.changes),
                "kind_label": event.get_kind_display(),
                "actor_kind_label": event.get_actor_kind_display(),
                "source_label": event.get_source_display(),
                "created_iso": created.isoformat(),
                "created": created.strftime("%Y-%m-%d %H:%M:%S"),
            }
        )
    return {"events": events, "next_cursor": page.next_cursor}


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
        {"form": form, "merge_error": getattr(form, "domain_error", None)},
        status=status,
    )
