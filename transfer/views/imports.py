"""The import pages: upload a file, map its columns and choose the options (with a preview of
its first rows), dry run (the job's summary and failing rows shown under the form), run (the
job page follows it). Editors and Administrators (core.roles: may edit people)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from core.access import edit_required
from core.errors import DomainError
from jobs.models import Job
from people.history import Actor
from populations.views.jobs import _status_context
from transfer.imports import mapping, services
from transfer.imports.action import KIND
from transfer.models import ImportFile

PREVIEW_ROWS = 5
CHOICES = [
    ("match", "Match rows to people by", mapping.MATCH_KEYS.items()),
    ("mode", "Rows", mapping.MODES.items()),
    ("tags", "Tags", mapping.TAGS_MODES.items()),
    ("empty", "Empty cells", mapping.EMPTY_MODES.items()),
]


@edit_required
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    error = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = "Choose a CSV file to upload."
        else:
            try:
                file = services.import_file_upload(
                    stream=upload,
                    name=upload.name,
                    actor=Actor.operator(request.user),
                    size=upload.size,
                    skip_unknown=request.POST.get("skip_unknown") == "on",
                )
            except DomainError as refused:
                error = refused.message
            else:
                return redirect(reverse("transfer:import_mapping", args=[file.pk]))
    context = {
        "error": error,
        "max_bytes": services.reading.max_bytes(),
        "max_rows": services.reading.max_rows(),
    }
    return render(request, "transfer/import_upload.html", context, status=400 if error else 200)


def _options(request: HttpRequest, file: ImportFile) -> dict[str, Any]:
    return {
        "mapping": {
            header: request.POST.get(f"column-{index}", "")
            for index, header in enumerate(file.headers)
        },
        **{name: request.POST.get(name, mapping.DEFAULTS[name]) for name in mapping.DEFAULTS},
    }


@edit_required
@require_http_methods(["GET", "POST"])
def import_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    """The mapping form; its buttons start a dry run (shown here) or the import (its job
    page)."""
    file = get_object_or_404(ImportFile, pk=pk)
    error = None
    if request.method == "POST":
        options = _options(request, file)
        dry_run = request.POST.get("run") != "import"
        try:
            job = services.import_start(
                file=file, options=options, actor=Actor.operator(request.user), dry_run=dry_run
            )
        except DomainError as refused:
            error = refused.message
            chosen = options
        else:
            if dry_run:
                url = reverse("transfer:import_mapping", args=[file.pk])
                return redirect(f"{url}?dry_run={job.pk}")
            messages.success(request, f"Importing {file.name}.")
            return redirect(reverse("populations:job_detail", args=[job.pk]))
    else:
        suggested, _ = mapping.suggest(file.headers)
        chosen = {"mapping": suggested, **mapping.DEFAULTS}
    context = {
        "file": file,
        "columns": [
            (index, header, chosen["mapping"].get(header, ""))
            for index, header in enumerate(file.headers)
        ],
        "targets": mapping.targets(),
        "chosen": chosen,
        "choices": [
            (name, legend, [(value, label, chosen.get(name) == value) for value, label in options])
            for name, legend, options in CHOICES
        ],
        "preview": services.preview_rows(file, PREVIEW_ROWS),
        "error": error,
    }
    shown = request.GET.get("dry_run", "")
    dry_run = None
    if shown.isdigit():
        dry_run = Job.objects.filter(
            pk=int(shown), kind=KIND, dry_run=True, params__file=file.pk
        ).first()
    if dry_run is not None:
        context["dry_run"] = _status_context(request, dry_run)
    return render(request, "transfer/import_mapping.html", context, status=400 if error else 200)
