"""The search page: one box and filters, read into the one query (directory.forms.SearchForm),
searched (directory.search) and rendered from its rows; results update as you type (htmx)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from core.access import operator_required
from core.errors import DomainError
from core.roles import can_delete_people, can_edit
from directory.forms import SearchForm
from directory.search import (
    DEFAULT_PAGE_SIZE,
    SearchPage,
    SearchQuery,
    count_people,
    search_people,
)
from people import masking, selectors
from people.forms import split_list

FILTERS = ("type", "app", "platform", "primary", "push")
# The hot partial: Django's Jinja2 backend (portal/templating.py).
RESULT_ROWS = "directory/result_rows.html"


# Parameters at their default value mean nothing: the canonical URL leaves them out.
DEFAULTS = {"op": "eq", "size": str(DEFAULT_PAGE_SIZE)}


def _meaningful(request: HttpRequest, leave_out: tuple[str, ...]) -> list[tuple[str, str]]:
    return [
        (key, value)
        for key in request.GET
        if key not in leave_out
        for value in request.GET.getlist(key)
        if value.strip() and DEFAULTS.get(key) != value
    ]


def canonical_search_url(request: HttpRequest, base: str) -> str:
    """The search URL (``base``: the search page's) with only the parameters that mean
    something (what back/reload use)."""
    params = _meaningful(request, ("go",))
    return base + (f"?{urlencode(params)}" if params else "")


def _total_url(request: HttpRequest) -> str:
    """Where the results ask how many people the search finds (search_total): the search's
    meaningful parameters without the page's position."""
    params = _meaningful(request, ("go", "after", "start", "size", "sort"))
    return reverse("people:search_total") + (f"?{urlencode(params)}" if params else "")


# The sortable columns: (sort name, header, the first click sorts descending).
SORTABLE = (("name", "Name", False), ("updated", "Updated", True), ("created", "Created", True))


@operator_required
@require_GET
def search(request: HttpRequest, view: Any = None) -> HttpResponse:
    """The start page: one box and filters; results update as you type (htmx).

    ``view``: the saved or built-in view the page opens (populations.views.saved, which
    gives its query as the request's parameters): its name titles the page.

    A plain submit (Enter, or no JavaScript) carries ``go``: one exact identifier match then
    opens that profile directly; any other answer is at the canonical URL (a redirect), as
    the URLs pushed while typing, so back, reload and shared links show the list.
    """
    # The search box's answer is the results alone: the filter selects are not shown.
    results_only = bool(request.htmx) and not request.htmx.history_restore_request
    form = SearchForm(request.GET or None, given_choices_only=results_only)
    page = None
    query = form.to_query() if form.is_valid() else None
    if not form.is_bound:
        page = search_people(SearchQuery(), total=True)
    elif query is not None:
        try:
            page = search_people(query, after=_int_or_none(request.GET.get("after")), total=True)
        except DomainError as error:
            form.add_domain_error(error)
    # The search page's URL, reversed once for the many links to it (pager, sort headers).
    base = reverse("home")
    search_url = canonical_search_url(request, base)
    # A role that may not see personal data reads it masked; the box still finds by the
    # whole identifier typed (people.masking).
    masked = not masking.sees_personal_data(request.user)
    if "go" in request.GET and not request.htmx:
        if page is not None and page.single_exact is not None:
            return redirect(reverse("people:detail", args=[page.single_exact.pk]))
        return redirect(search_url)
    context = {
        "form": form,
        "q": form.data.get("q", "") if form.is_bound else "",
        "filters": filter_controls(form),
        "created_fields": [
            form["created_from"],
            form["created_to"],
            form["installed_from"],
            form["installed_to"],
        ],
        "attribute_current": _current(form, "attribute"),
        "size_current": _current(form, "size") or str(DEFAULT_PAGE_SIZE),
        "sort": query.sort if query else None,
        "has_filters": query.has_filters if query else False,
        "page": page,
        "rows": page.people if page else [],
        "rows_html": result_rows(page.people, masked=masked, selectable=can_edit(request.user))
        if page
        else "",
        "masked": masked,
        "can_edit": can_edit(request.user),
        "can_erase": can_delete_people(request.user),
        # What "request erasure of everyone this search finds" posts back (views.privacy).
        "erase_query": search_url.partition("?")[2],
        "bulk_erasure_max": settings.BULK_ERASURE_MAX,
        "search_url": search_url,
        "total_url": _total_url(request) if page is not None and page.count_later else "",
        "results_only": results_only,
        "view": view,
        **_paging(request, base, page),
        **_hints(request, base, page, masked=masked),
    }
    if page is not None and (not context["q"].strip() or page.exact):
        context["headers"] = sort_headers(request, base, context["sort"])
    if results_only:
        response = render(request, "directory/_search_results.html", context)
        response["HX-Push-Url"] = search_url
        return response
    return render(request, "directory/search.html", context)


def _paging(request: HttpRequest, base: str, page: SearchPage | None) -> dict[str, Any]:
    """The pager's links and which rows of the list this page shows ("rows 26–50"): keyset
    pages, so the first row's number travels in the link (``start``), never an OFFSET."""
    if page is None:
        return {}
    start = max(_int_or_none(request.GET.get("start")) or 1, 1) if request.GET.get("after") else 1
    rows = len(page.people)
    return {
        "first_row": start,
        "last_row": start + rows - 1,
        "next_url": _page_url(request, base, page.next_cursor, start=start + rows)
        if page.next_cursor
        else None,
        "first_url": _page_url(request, base, None) if request.GET.get("after") else None,
    }


def _hints(
    request: HttpRequest, base: str, page: SearchPage | None, *, masked: bool
) -> dict[str, Any]:
    """Links to the other spellings of a name, or of an externalId, that find people (not
    the externalIds for a role that sees them masked: the link would spell them out)."""
    if page is None:
        return {"other_spellings": [], "other_cases": []}
    return {
        "corrected_url": _page_url(request, base, None, q=page.corrected)
        if page.corrected
        else None,
        "other_spellings": [
            (spelling, _page_url(request, base, None, q=spelling))
            for spelling in page.other_spellings
        ],
        "other_cases": [
            (external_id, _page_url(request, base, None, q=external_id))
            for external_id in ([] if masked else page.other_case_external_ids)
        ],
    }


def sort_headers(
    request: HttpRequest, base: str, sort: str | None
) -> dict[str, dict[str, str | None]]:
    """Per sortable column: the link that sorts by it (again: the other way), and its
    aria-sort ("ascending", "descending" or None)."""
    headers = {}
    for name, label, descending_first in SORTABLE:
        if sort == name:
            state, then = "ascending", f"-{name}"
        elif sort == f"-{name}":
            state, then = "descending", name
        else:
            state, then = None, f"-{name}" if descending_first else name
        headers[name] = {
            "label": label,
            "aria_sort": state,
            "url": _page_url(request, base, None, sort=then),
        }
    return headers


def result_rows(rows: list, *, masked: bool = False, selectable: bool = False) -> SafeString:
    """The rows of the results table, rendered by the Jinja2 template (autoescaped);
    ``masked``: phones, emails and externalIds as people.masking shows them; ``selectable``:
    a checkbox per row, for a role that may start bulk actions (populations.views.bulk)."""
    context = {"rows": rows, "masked": masked, "selectable": selectable}
    return mark_safe(render_to_string(RESULT_ROWS, context, using="jinja2"))  # noqa: S308


def _int_or_none(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


def _page_url(request: HttpRequest, base: str, cursor: int | None, **replace: str | int) -> str:
    """This search (``base``: the search page's URL) with another page: after ``cursor``, or
    the first page for None; with the parameters in ``replace`` instead of those given (``q``
    for another spelling, ``sort``, ``start``: the number of the page's first row)."""
    params = _meaningful(request, ("go", "after", "start", *replace))
    params += [(key, str(value)) for key, value in replace.items() if key != "start"]
    if cursor is not None:
        params.append(("after", str(cursor)))
        if "start" in replace:
            params.append(("start", str(replace["start"])))
    return base + ("?" + urlencode(params) if params else "")


def _current(form: SearchForm, name: str) -> str:
    return form.data.get(name, "") if form.is_bound else ""


def filter_controls(form: SearchForm) -> list[dict[str, Any]]:
    """The filter selects: name, label, choices and the one chosen (templates render them)."""
    return [
        {
            "name": name,
            "label": form.fields[name].label,
            "choices": form.fields[name].choices,
            "current": _current(form, name),
        }
        for name in FILTERS
    ]


@operator_required
@require_GET
def search_total(request: HttpRequest) -> HttpResponse:
    """How many people a search finds, asked by its results after they are shown (a count can
    take longer than the page: directory.search.totals)."""
    form = SearchForm(request.GET, given_choices_only=True)
    total = None
    if form.is_valid():
        try:
            total = count_people(form.to_query())
        except DomainError:
            total = None
    return render(request, "directory/_search_total.html", {"total": total})


@operator_required
@require_GET
def search_value_field(request: HttpRequest) -> HttpResponse:
    """The attribute-value input of the search filters, typed by the chosen definition."""
    form = SearchForm(request.GET)
    return render(request, "directory/_search_value_field.html", {"form": form})


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
    return render(request, "directory/_tag_options.html", {"options": options})
