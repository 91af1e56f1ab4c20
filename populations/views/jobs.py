"""The job pages: the audit list of every job, one job's progress (polled by htmx until it
ends), Cancel and Undo, and its error report as CSV.

Every operator sees jobs; cancelling and undoing need the job's action's role
(jobs.engine.may_manage): an Editor, an Administrator for actions that need one.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from core.access import operator_required
from core.errors import DomainError
from core.roles import can_edit
from directory.search import SearchQuery
from jobs import actions, engine
from jobs.models import FINISHED_STATES, Job, JobRowError, JobState
from people.history import Actor
from populations.population import SELECTION

PAGE_SIZE = 50
# A job on the rows of a file (transfer's import) names its file in its query.
FILE_ROWS = "import"
# Rows of the error report shown on the page; the CSV has them all.
ERRORS_SHOWN = 20


@dataclass(frozen=True)
class JobRow:
    """One job as the pages show it."""

    job: Job
    label: str
    query_text: str
    search_url: str


def describe(job: Job) -> JobRow:
    """The job's action by its label, and its population in words (with the search that finds
    it now, for a query)."""
    try:
        label = actions.get(job.kind).label
    except DomainError:
        label = job.kind
    query: dict[str, Any] = job.query or {}
    if FILE_ROWS in query:
        return JobRow(job, label, f"The rows of import file {query[FILE_ROWS]}", "")
    if SELECTION in query:
        count = len(query[SELECTION])
        return JobRow(job, label, f"{count} selected {'person' if count == 1 else 'people'}", "")
    try:
        search = SearchQuery.from_dict(query)
    except (TypeError, ValueError):
        return JobRow(job, label, "A query", "")
    text = ", ".join(f"{name}: {value}" for name, value in search.to_params()) or "Everyone"
    return JobRow(job, label, text, f"{reverse('home')}?{search.to_query_string()}")


def on_rows(job: Job) -> bool:
    """Whether the job's chunks hold a file's rows (an import) rather than people: its pages
    show rows created and updated, and each error's row, column and value. Its undo works
    on people."""
    if job.undoes_id is not None:
        return False
    try:
        return bool(getattr(actions.get(job.kind), "targets_rows", False))
    except DomainError:
        return False


def _job(pk: int) -> Job:
    return get_object_or_404(Job.objects.select_related("undoes"), pk=pk)


def _int_or_none(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


@operator_required
@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    """Every job, newest first, a page at a time (a keyset on the id), filtered by state or
    kind: who started what on which people, and how it went."""
    state = request.GET.get("state", "")
    kind = request.GET.get("kind", "")
    before = _int_or_none(request.GET.get("before"))
    jobs = Job.objects.order_by("-pk")
    if state in JobState.values:
        jobs = jobs.filter(state=state)
    if kind:
        jobs = jobs.filter(kind=kind)
    if before:
        jobs = jobs.filter(pk__lt=before)
    page = list(jobs[: PAGE_SIZE + 1])
    filters = {"state": state if state in JobState.values else "", "kind": kind}
    context = {
        "rows": [describe(job) for job in page[:PAGE_SIZE]],
        "next_before": page[PAGE_SIZE - 1].pk if len(page) > PAGE_SIZE else None,
        "before": before,
        "filters": filters,
        "filter_query": "&".join(f"{k}={v}" for k, v in filters.items() if v),
        "states": JobState.choices,
        "kinds": sorted((a.kind, a.label) for a in actions.all_actions()),
    }
    return render(request, "populations/jobs.html", context)


def _status_context(
    request: HttpRequest, job: Job, queue_reachable: bool | None = None
) -> dict[str, Any]:
    undone_by = Job.objects.filter(undoes=job).only("pk").order_by().first()
    finished = job.state in FINISHED_STATES
    if queue_reachable is None:
        queue_reachable = finished or engine.queue_reachable()
    may_manage = engine.may_manage(request.user, job)
    errors = list(
        JobRowError.objects.filter(job=job).order_by("row", "person_id")[: ERRORS_SHOWN + 1]
    )
    return {
        "rows": on_rows(job),
        "updated": job.changed - job.created,
        "unchanged": max(job.done - job.changed - job.failed, 0),
        "row": describe(job),
        "job": job,
        "progress": engine.progress(job),
        "finished": finished,
        "undone_by": undone_by,
        "can_cancel": may_manage and not finished,
        "can_undo": may_manage and _undoable(job) and undone_by is None,
        "errors": errors[:ERRORS_SHOWN],
        "more_errors": len(errors) > ERRORS_SHOWN,
        # An undo's errors are the people changed since the job: its conflicts.
        "conflicts": job.undoes_id is not None,
        # Redis is down: the job goes on when it is back (its messages sent again).
        "queue_down": not finished and not queue_reachable,
    }


def _undoable(job: Job) -> bool:
    try:
        undoable = actions.get(job.kind).undoable
    except DomainError:
        return False
    return (
        undoable
        and not job.dry_run
        and job.undoes_id is None
        and job.state in (JobState.DONE, JobState.CANCELLED)
    )


@operator_required
@require_GET
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(pk)
    return render(request, "populations/job_detail.html", _status_context(request, job))


@operator_required
@require_GET
def job_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The job's status, polled every second by its page until the job ends. A job that waits
    for the queue (the broker was down when it started, or lost its messages) is sent again
    from here; while the broker cannot be reached, the page says so and nothing is tried."""
    job = _job(pk)
    reachable = job.state in FINISHED_STATES or engine.queue_reachable()
    if reachable:
        engine.retry_dispatch_for_page(job)
    context = _status_context(request, job, queue_reachable=reachable)
    return render(request, "populations/_job_status.html", context)


def _managed(request: HttpRequest, pk: int) -> Job:
    """The job, for an operator who may cancel or undo it. A role that may cancel no job is
    refused before the job is looked up: a write a role cannot make is a 403, whatever it
    names."""
    if not can_edit(request.user):
        raise PermissionDenied("Your role can only read jobs.")
    job = _job(pk)
    if not engine.may_manage(request.user, job):
        raise PermissionDenied("Your role cannot cancel or undo this job.")
    return job


def _answer(request: HttpRequest, job: Job) -> HttpResponse:
    if request.htmx:
        return render(request, "populations/_job_status.html", _status_context(request, job))
    return redirect(reverse("populations:job_detail", args=[job.pk]))


@operator_required
@require_POST
def job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = _managed(request, pk)
    try:
        job = engine.cancel_job(job=job, actor=Actor.operator(request.user))
    except DomainError as error:
        messages.error(request, error.message)
    return _answer(request, job)


@operator_required
@require_POST
def job_undo(request: HttpRequest, pk: int) -> HttpResponse:
    """Start the job's undo and show it (its page follows it like any job)."""
    job = _managed(request, pk)
    try:
        undo = engine.undo_job(job=job, actor=Actor.operator(request.user))
    except DomainError as error:
        messages.error(request, error.message)
        return _answer(request, job)
    messages.success(request, f"Undoing job {job.pk}.")
    url = reverse("populations:job_detail", args=[undo.pk])
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


class _Echo:
    """A file that hands back what is written to it: csv.writer's rows, streamed."""

    def write(self, value: str) -> str:
        return value


# A cell that starts with one of these is read as a formula by spreadsheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _error_lines(job: Job) -> Iterator[str]:
    writer = csv.writer(_Echo())
    if on_rows(job):
        yield writer.writerow(["row", "column", "value", "code", "message", "person_id"])
        rows = (
            JobRowError.objects.filter(job=job)
            .order_by("row", "pk")
            .values_list("row", "column", "value", "code", "message", "person_id")
        )
        for row, column, value, code, message, person_id in rows.iterator(chunk_size=2000):
            yield writer.writerow(
                [row, _cell(column), _cell(value), _cell(code), _cell(message), person_id or ""]
            )
        return
    yield writer.writerow(["person_id", "code", "message"])
    rows = (
        JobRowError.objects.filter(job=job)
        .order_by("person_id", "pk")
        .values_list("person_id", "code", "message")
    )
    for person_id, code, message in rows.iterator(chunk_size=2000):
        yield writer.writerow([person_id, _cell(code), _cell(message)])


@operator_required
@require_GET
def job_errors_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """The people the job could not change, and why: every row, streamed."""
    job = get_object_or_404(Job.objects.only("pk"), pk=pk)
    response = StreamingHttpResponse(_error_lines(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="job-{job.pk}-errors.csv"'
    return response
