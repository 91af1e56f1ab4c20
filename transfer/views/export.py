"""The export page: the people of a search, a selection or a saved view, the format and the
columns; then the file itself (a small export, transfer.exports.STREAM_LIMIT) or the job that
writes it, and the download of that job's file once it is done.

Every role that reads people may export them, masked as that role sees them; only who started
an export job, or an Administrator, downloads its file (anyone else: 404, as for anything a
role may not see).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods
from rest_framework.exceptions import NotFound

from core.access import operator_required
from core.errors import DomainError, ErrorCode
from core.roles import can_view
from jobs.models import Job
from people.history import Actor
from populations.api.views_api import view_query
from populations.forms import PopulationForm
from populations.views.bulk import describe, population_label
from transfer import columns as vocabulary
from transfer import export_jobs, exports

GROUPS = (
    ("person", "Person"),
    (vocabulary.STANDARD, "Standard attributes"),
    (vocabulary.IDENTIFIER, "Identifiers"),
    (vocabulary.TAGS, "Tags"),
    (vocabulary.CUSTOM, "Custom attributes"),
    ("devices", "Devices"),
)


def _group(column: vocabulary.Column) -> str:
    if column.header in vocabulary.DEVICE_COLUMNS:
        return "devices"
    return "person" if column.group == vocabulary.READ_ONLY else column.group


class ExportForm(forms.Form):
    # CSV unless chosen.
    format = forms.ChoiceField(
        choices=list(exports.FORMATS.items()),
        initial=exports.CSV,
        required=False,
        widget=forms.RadioSelect,
    )
    columns = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one column."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.available = exports.available_columns()
        self.fields["columns"].choices = [(c.header, c.label) for c in self.available]

    def column_groups(self) -> list[tuple[str, list[tuple[vocabulary.Column, bool]]]]:
        """The checkboxes by group: every column checked unless the form was sent."""
        chosen = (
            set(self.data.getlist("columns"))
            if self.is_bound
            else set(exports.default_headers(self.available))
        )
        groups = []
        for key, label in GROUPS:
            members = [(c, c.header in chosen) for c in self.available if _group(c) == key]
            if members:
                groups.append((label, members))
        return groups


def _source(request: HttpRequest, data: QueryDict) -> tuple[dict[str, Any], str, QueryDict]:
    """The people to export (a stored population), in words, and the hidden fields that
    carry them: a saved view (``view``), or the search page's selection (``ids``) or whole
    search (``all`` and ``query``, its query string). A 404 for a view this operator may not
    open; a 400 for no people at all or a search that does not hold."""
    hidden = QueryDict(mutable=True)
    view_id = data.get("view", "")
    if view_id:
        try:
            query = view_query(request.user, view_id)
        except NotFound:
            raise Http404("No such view.") from None
        hidden["view"] = view_id
        return query.to_dict(), f"Everyone the view finds: {describe(query) or 'everyone'}", hidden
    if request.method == "GET":
        form = PopulationForm.from_search_page(data)
        if not data.getlist("ids"):
            form.data["all"] = "1"
    else:
        form = PopulationForm(data)
    if not form.is_valid():
        errors = " ".join(e for errors in form.errors.values() for e in errors)
        raise DomainError(ErrorCode.BAD_REQUEST, errors)
    chosen = form.population
    hidden["query"] = form.cleaned_data.get("query") or ""
    hidden.setlist("ids", [str(pk) for pk in chosen.ids])
    hidden["all"] = "1" if not chosen.is_selection else ""
    return chosen.stored(), population_label(chosen, None), hidden


@operator_required
@require_http_methods(["GET", "POST"])
def export(request: HttpRequest) -> HttpResponse:
    """GET: the form for the people the search page (or a saved view) chose. POST: the file
    of a small export, or the job of a large one."""
    if not can_view(request.user):
        raise PermissionDenied("Your role cannot read people.")
    data = request.POST if request.method == "POST" else request.GET
    form = ExportForm(request.POST if request.method == "POST" else None)
    try:
        query, label, hidden = _source(request, data)
    except DomainError as error:
        return render(
            request, "transfer/export.html", {"form": form, "error": error.message}, status=400
        )
    context = {
        "form": form,
        "label": label,
        "hidden": hidden,
        "stream_limit": f"{exports.STREAM_LIMIT:,}",
    }
    if request.method == "GET" or not form.is_valid():
        return render(
            request, "transfer/export.html", context, status=200 if not form.is_bound else 422
        )
    export = exports.export_of(
        query=query,
        headers=form.cleaned_data["columns"],
        file_format=form.cleaned_data["format"],
        user=request.user,
    )
    actor = Actor.operator(request.user)
    if exports.is_small(export.query):
        return file_response(export, actor_label=actor.label, source=actor.source)
    job = export_jobs.start_job(export=export, actor=actor)
    return render(request, "transfer/export_started.html", {"job": job, "label": label}, status=202)


def file_response(export: exports.Export, *, actor_label: str, source: str) -> HttpResponse:
    """A small export's file as the response: CSV streamed as it is read, XLSX from its
    temporary file."""
    name = f"people-{timezone.now():%Y%m%d-%H%M%S}.{export.file_format}"
    if export.file_format == exports.XLSX:
        handle = exports.xlsx_file(export, actor_label=actor_label, source=source)
        return FileResponse(handle, as_attachment=True, filename=name, content_type=XLSX_TYPE)
    lines = exports.stream_lines(export, actor_label=actor_label, source=source)
    return _csv_response(lines, name)


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _csv_response(lines, name: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def job_file_response(job: Job, *, actor_label: str, source: str) -> HttpResponse | None:
    """A finished export job's file (its parts, streamed), audited; None while its XLSX is
    being made from the parts (on a worker)."""
    export_jobs.check_ready(job)
    file_format = job.params.get("format", exports.CSV)
    name = f"export-{job.pk}.{file_format}"
    if file_format == exports.XLSX:
        path = export_jobs.job_xlsx(job)
        if path is None:
            return None
        export_jobs.download_audit(job, actor_label=actor_label, source=source)
        return FileResponse(
            path.open("rb"), as_attachment=True, filename=name, content_type=XLSX_TYPE
        )
    export_jobs.download_audit(job, actor_label=actor_label, source=source)
    return _csv_response(export_jobs.job_lines(job), name)


def export_job(user, pk: int) -> Job:
    """The export job ``pk`` if ``user`` may download it; a 404 otherwise."""
    job = Job.objects.filter(pk=pk, kind=exports.KIND).first()
    if job is None or not export_jobs.may_download(user, job):
        raise Http404("No such export.")
    return job


@operator_required
@require_GET
def export_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The file of export job ``pk``; 409 while the job has not finished."""
    job = export_job(request.user, pk)
    actor = Actor.operator(request.user)
    try:
        response = job_file_response(job, actor_label=actor.label, source=actor.source)
    except DomainError as error:
        return render(
            request,
            "transfer/export_started.html",
            {"job": job, "error": error.message},
            status=409,
        )
    if response is None:
        context = {"job": job, "preparing": True}
        return render(request, "transfer/export_started.html", context, status=202)
    return response
