"""Bulk actions started from the search page: the population chosen there (the rows selected,
or everyone its search finds), the action's parameters, a preview (how many people and
installations, before and after for a sample) and the start of its job, a dry run or the run.

The role an action asks for (jobs.actions, ``role``) is checked on every request, so a
refused action is a 403 whatever the page offered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from core.access import edit_required
from core.errors import DomainError
from core.roles import ADMINISTRATOR, EDITOR, VIEWER, can_delete_people, can_edit, can_view
from directory.forms import ATTRIBUTE_OPERATORS
from directory.search import SearchQuery
from directory.search.totals import Total, rounded, total_of
from installations.models import Installation
from jobs import actions, engine
from jobs.actions import BulkAction, PreviewRow
from people.history import Actor
from people.models import PersonType
from populations import population as stored_population
from populations.forms import AttributeSetForm, ParamsForm, Population, PopulationForm, params_form

# The sample a preview shows: the population's first people (by id).
SAMPLE_SIZE = 10
# What a role may start: the least role an action asks for, checked as core.roles checks it
# (permissions the request has read already, so no statement of its own).
ROLE_CHECKS = {VIEWER: can_view, EDITOR: can_edit, ADMINISTRATOR: can_delete_people}


def may_start(user: AbstractBaseUser | AnonymousUser, action: BulkAction) -> bool:
    check = ROLE_CHECKS.get(action.role)
    return check is not None and check(user)


def actions_for(user: AbstractBaseUser | AnonymousUser) -> list[BulkAction]:
    """The actions this operator may start, in the order they were registered; not those
    started from a page of their own (``menu`` False: an export)."""
    return [
        action
        for action in actions.all_actions()
        if getattr(action, "menu", True) and may_start(user, action)
    ]


def _start(
    *, kind: str, query: dict[str, Any], params: dict[str, Any], actor: Actor, dry_run: bool
):
    """The job engine's start (jobs.engine.start_job): the one door to it from these pages."""
    return engine.start_job(kind=kind, query=query, params=params, actor=actor, dry_run=dry_run)


# ---------------------------------------------------------------------------------------------
# Describing a population


def describe(query: SearchQuery) -> str:
    """The conditions of a search in words: "tag VIP, platform Android"."""
    parts = []
    if query.q.strip():
        parts.append(f"“{query.q.strip()}”")
    if query.type:
        parts.append(f"type {dict(PersonType.choices).get(query.type, query.type)}")
    if query.tags:
        parts.append(("tag " if len(query.tags) == 1 else "tags ") + ", ".join(query.tags))
    if query.application:
        parts.append(f"application {query.application}")
    if query.platform:
        parts.append(f"platform {query.platform}")
    if query.has_primary is not None:
        parts.append("with a primary device" if query.has_primary else "without a primary device")
    if query.push_enabled is not None:
        parts.append("push enabled" if query.push_enabled else "push disabled")
    if query.attribute:
        if query.attribute_value:
            op = dict(ATTRIBUTE_OPERATORS).get(query.attribute_op, query.attribute_op)
            parts.append(f"{query.attribute} {op} {query.attribute_value}")
        else:
            parts.append(f"{query.attribute} set")
    if query.created_from or query.created_to:
        first, last = query.created_from, query.created_to
        if first and last:
            parts.append(f"created {first} to {last}")
        else:
            parts.append(f"created from {first}" if first else f"created until {last}")
    return ", ".join(parts)


def amount(total: Total) -> str:
    """ "1,234", "≈1.2 million", "more than 100,000"."""
    if total.exact:
        return f"{total.count:,}"
    if total.at_least:
        return f"more than {total.count:,}"
    return f"≈{rounded(total.count)}"


def population_label(population: Population, total: Total | None) -> str:
    """ "3 selected people", "All ≈1.2 million people matching: tag VIP, platform Android"."""
    if population.is_selection:
        count = len(population.ids)
        return f"{count:,} selected {'person' if count == 1 else 'people'}"
    assert population.query is not None
    many = f"All {amount(total)} people" if total is not None else "All people"
    if total is not None and total.exact and total.count == 1:
        many = "The 1 person"
    if population.is_everyone:
        return f"{many} (no search: everyone)"
    return f"{many} matching: {describe(population.query)}"


# ---------------------------------------------------------------------------------------------
# The preview


@dataclass(frozen=True)
class Preview:
    """How many people and installations a job would act on, and a sample's before/after."""

    people: Total
    installations: Total
    rows: list[PreviewRow] = field(default_factory=list)
    # Counted exactly because the operator asked ("Count exactly").
    counted: bool = False

    @property
    def people_amount(self) -> str:
        return amount(self.people)

    @property
    def installations_amount(self) -> str:
        return amount(self.installations)


def _people(population: Population) -> QuerySet:
    return stored_population.people(population.stored())


def people_total(population: Population, people: QuerySet | None = None) -> Total:
    """How many people: a bounded count, else the planner's estimate (totals.total_of)."""
    people = _people(population) if people is None else people
    return total_of(people, whole_table=population.is_everyone)


def preview_of(
    population: Population, action: BulkAction, params: dict[str, Any], *, exact: bool = False
) -> Preview:
    """The counts (people and their installations) and the sample's before and after (the
    action's own preview of the first SAMPLE_SIZE people by id), written nowhere. ``exact``:
    the operator asked for exact counts, whatever they cost."""
    people = _people(population)
    installations = (
        Installation.objects.all()
        if population.is_everyone
        else Installation.objects.filter(person__in=people.values("pk"))
    )
    if exact:
        people_count, installations_count = Total(people.count()), Total(installations.count())
    else:
        people_count = people_total(population, people)
        installations_count = total_of(installations, whole_table=population.is_everyone)
    sample = list(people.order_by("pk").values_list("pk", flat=True)[:SAMPLE_SIZE])
    return Preview(
        people=people_count,
        installations=installations_count,
        rows=action.preview(params, sample) if sample else [],
        counted=exact,
    )


# ---------------------------------------------------------------------------------------------
# Reading a request


@dataclass
class BulkForm:
    """A bulk page's input: the population, the action and its parameters."""

    population: PopulationForm
    kind: str
    action: BulkAction | None
    params: ParamsForm
    # The parameters as the action's clean_params returned them (when valid).
    cleaned: dict[str, Any] = field(default_factory=dict)

    def is_valid(self) -> bool:
        valid = self.population.is_valid()
        valid = self.params.is_valid() and valid
        if self.action is None or not valid:
            return False
        try:
            self.cleaned = self.action.clean_params(self.params.to_params())
        except DomainError as error:
            self.params.add_domain_error(error)
            return False
        return True

    @property
    def action_error(self) -> str:
        if self.action is not None:
            return ""
        return f"There is no action {self.kind!r}." if self.kind else "Choose an action."


def _action(request: HttpRequest, kind: str) -> BulkAction | None:
    """The action of ``kind`` (None: there is none); a 403 for a role that may not start it."""
    try:
        action = actions.get(kind)
    except DomainError:
        return None
    if not may_start(request.user, action):
        raise PermissionDenied(f"Your role may not start “{action.label}”.")
    return action


def _read(request: HttpRequest, population: PopulationForm, data: QueryDict | None) -> BulkForm:
    source = data if data is not None else request.GET
    kind = source.get("action", "")
    return BulkForm(population, kind, _action(request, kind), params_form(kind, data))


def _search_pairs(query_string: str) -> list[tuple[str, str]]:
    return [
        (name, value)
        for name, values in QueryDict(query_string).lists()
        for value in values
        if value.strip()
    ]


def _context(request: HttpRequest, bulk: BulkForm, preview: Preview | None) -> dict[str, Any]:
    population = bulk.population.population if bulk.population.is_valid() else None
    query_string = bulk.population.data.get("query", "")
    total = None
    if population is not None and not population.is_selection:
        total = preview.people if preview else people_total(population)
    posted = [
        (name, value)
        for name, values in (request.POST.lists() if request.method == "POST" else [])
        if name not in ("csrfmiddlewaretoken", "count", "dry_run")
        for value in values
    ]
    return {
        "bulk": bulk,
        # No action chosen is an error once the form is sent; on the page it is a question.
        "action_error": bulk.action_error if bulk.kind or request.method == "POST" else "",
        "action": bulk.action,
        "form": bulk.params,
        "population_form": bulk.population,
        "population": population,
        "population_label": population_label(population, total) if population else "",
        "actions": actions_for(request.user),
        "search_pairs": _search_pairs(query_string),
        "ids": bulk.population.data.getlist("ids"),
        "all": bulk.population.data.get("all", ""),
        "back_url": reverse("home") + (f"?{query_string}" if query_string else ""),
        "preview": preview,
        "posted": posted,
    }


def _render(
    request: HttpRequest, bulk: BulkForm, preview: Preview | None = None, status: int = 200
) -> HttpResponse:
    template = "populations/_bulk_editor.html" if request.htmx else "populations/bulk.html"
    return render(request, template, _context(request, bulk, preview), status=status)


# ---------------------------------------------------------------------------------------------
# The pages


@edit_required
@require_GET
def bulk(request: HttpRequest) -> HttpResponse:
    """The action's parameter form for the population the search page chose
    (``/bulk/?<the search's query string>&ids=…&all=1&action=<kind>``)."""
    population = PopulationForm.from_search_page(request.GET)
    bulk = _read(request, population, None)
    valid = population.is_valid()
    status = 200 if valid and (bulk.action is not None or not bulk.kind) else 422
    return _render(request, bulk, status=status)


@edit_required
@require_POST
def bulk_preview(request: HttpRequest) -> HttpResponse:
    """How many people and installations the job would act on, and a sample's before and
    after; the form again with its errors at the fields (422) when it does not hold."""
    bulk = _read(request, PopulationForm(request.POST), request.POST)
    if not bulk.is_valid():
        return _render(request, bulk, status=422)
    assert bulk.action is not None
    exact = request.POST.get("count") == "exact"
    preview = preview_of(bulk.population.population, bulk.action, bulk.cleaned, exact=exact)
    return _render(request, bulk, preview)


@edit_required
@require_POST
def bulk_start(request: HttpRequest) -> HttpResponse:
    """Start the job (``dry_run``: validate every row, write nothing) and go to its page."""
    bulk = _read(request, PopulationForm(request.POST), request.POST)
    if bulk.is_valid():
        try:
            job = _start(
                kind=bulk.kind,
                query=bulk.population.population.stored(),
                params=bulk.cleaned,
                actor=Actor.operator(request.user),
                dry_run=request.POST.get("dry_run") == "1",
            )
        except DomainError as error:
            bulk.params.add_domain_error(error)
        else:
            url = reverse("populations:job_detail", kwargs={"pk": job.pk})
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    return _render(request, bulk, status=422)


@edit_required
@require_GET
def bulk_value_field(request: HttpRequest) -> HttpResponse:
    """The value input of "Set a custom attribute", typed by the definition chosen."""
    form = AttributeSetForm(request.GET)
    return render(
        request,
        "populations/_bulk_value_field.html",
        {"definition": form.selected_definition, "value": ""},
    )
