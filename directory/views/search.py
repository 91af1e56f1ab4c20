"""The search page: one box and filters, read into the one query (directory.forms.SearchForm),
searched (directory.search) and rendered from its rows; results update as you type (htmx)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from core.access import operator_required
from core.errors import DomainError
from core.roles import can_edit
from directory.forms import SearchForm
from directory.search import SearchQuery, search_people
from people import selectors
from people.forms import split_list

FILTERS = ("type", "app", "platform", "primary", "push")
# The hot partial: Django's Jinja2 backend (portal/templating.py).
RESULT_ROWS = "directory/result_rows.html"


def canonical_search_url(request: HttpRequest) -> str:
    """The search URL with only the parameters that mean something (what back/reload use)."""
    params = [
        (key, value)
        for key in request.GET
        if key != "go"
        for value in request.GET.getlist(key)
        if value.strip() and not (key == "op" and value == "eq")
    ]
    return reverse("home") + (f"?{urlencode(params)}" if params else "")


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
                return redirect(reverse("people:detail", args=[page.single_exact.pk]))
    context = {
        "form": form,
        "q": form.data.get("q", "") if form.is_bound else "",
        "filters": filter_controls(form),
        "attribute_current": _current(form, "attribute"),
        "page": page,
        "rows": page.people if page else [],
        "rows_html": result_rows(page.people) if page else "",
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
        response = render(request, "directory/_search_results.html", context)
        response["HX-Push-Url"] = context["search_url"]
        return response
    return render(request, "directory/search.html", context)


def result_rows(rows: list) -> SafeString:
    """The rows of the results table, rendered by the Jinja2 template (autoescaped)."""
    return mark_safe(render_to_string(RESULT_ROWS, {"rows": rows}, using="jinja2"))  # noqa: S308


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
    return reverse("home") + ("?" + urlencode(params) if params else "")


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
