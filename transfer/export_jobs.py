"""A large export as a job (kind ``export``): each chunk of people writes its rows to a part
file under TRANSFER_ROOT/exports/<job id>/ (a chunk run again rewrites its part), and once the
job is done its file is the header then the parts in chunk order, streamed; an XLSX is made
from the parts by a worker the first time a download asks for it. Who may download it, and
the audit of each download. The rows themselves are transfer.exports'.
"""

from __future__ import annotations

import csv
import os
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from django.conf import settings

from core import roles
from core.errors import DomainError, ErrorCode
from jobs import engine
from jobs.actions import JobContext, PreviewRow, RowOutcome
from jobs.models import Job, JobState
from populations import population
from populations.actions.base import missing
from transfer.exports import (
    CSV,
    KIND,
    READ_BLOCK,
    XLSX_RETRY_SECONDS,
    Echo,
    Export,
    Rows,
    audit_log,
    choose_columns,
    clean_format,
    csv_line,
    job_columns,
    write_xlsx,
)


def job_folder(job_id: int) -> Path:
    return Path(settings.TRANSFER_ROOT) / "exports" / str(int(job_id))


def part_path(job_id: int, first_id: int) -> Path:
    """A chunk's part, named by its first person id: chunks are ascending runs of ids
    (jobs.tasks plans them from an ascending walk), so the names sort in chunk order, and a
    chunk run again rewrites its own part."""
    return job_folder(job_id) / f"part-{first_id:012d}.csv"


def write_part(path: Path, rows: list[list[str]]) -> None:
    _write_whole(path, lambda handle: csv.writer(handle).writerows(rows), text=True)


def _write_whole(path: Path, write, *, text: bool) -> None:
    """Write a file whole or not at all: into a temporary file beside it, then renamed over
    it (a reader never sees half a part; a chunk run again replaces its part)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode: dict[str, Any] = {"mode": "w", "newline": "", "encoding": "utf-8"} if text else {}
    with tempfile.NamedTemporaryFile(
        dir=path.parent, prefix=".", suffix=".tmp", delete=False, **mode
    ) as handle:
        try:
            write(handle)
        except BaseException:
            handle.close()
            Path(handle.name).unlink(missing_ok=True)
            raise
    os.replace(handle.name, path)


class ExportAction:
    """The job of a large export. It changes no person: each chunk writes its people's rows
    to its part file, and reports each person as done (or NOT_FOUND when deleted since)."""

    kind = KIND
    label = "Export"
    # Anyone who reads people may export them (masked as they see them).
    role = roles.VIEWER
    undoable = False
    # Started from the export form, not from the search page's bulk Actions menu.
    menu = False

    def clean_params(self, params: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(params, dict):
            raise DomainError(
                ErrorCode.REQUEST_FORMAT_INVALID, "The parameters must be an object.", "params"
            )
        columns = choose_columns(params.get("columns"))
        # Masked unless the starter said otherwise: whoever starts it through the jobs API
        # writes (an Editor, a manage key), and sees personal data.
        masked = params.get("masked", True)
        if not isinstance(masked, bool):
            raise DomainError(ErrorCode.BAD_REQUEST, "masked must be true or false.", "masked")
        return {
            "format": clean_format(params.get("format")),
            "columns": [column.header for column in columns],
            "masked": masked,
        }

    def targets(self, query: dict[str, Any]) -> Iterable[int]:
        return population.person_ids(query)

    def apply(self, job: JobContext, person_ids: Sequence[int]) -> list[RowOutcome]:
        ids = sorted({int(pk) for pk in person_ids})
        rows = Rows(job_columns(job.params["columns"]), masked=job.params["masked"])
        people = rows.people(ids)
        if not job.dry_run:
            write_part(part_path(job.id, ids[0]), rows.of_people(people))
        found = {person["pk"] for person in people}
        return [RowOutcome(pk) if pk in found else missing(pk) for pk in ids]

    def undo(self, job: JobContext, rows: Sequence[tuple[int, Any]]) -> list[RowOutcome]:
        raise DomainError(ErrorCode.CONFLICT, "An export cannot be undone.")

    def preview(self, params: dict[str, Any], person_ids: Sequence[int]) -> list[PreviewRow]:
        return []


def start_job(*, export: Export, actor) -> Job:
    """The job of a large export (jobs.engine.start_job audits its start)."""
    return engine.start_job(kind=KIND, query=export.query, params=export.params(), actor=actor)


def may_download(user, job: Job) -> bool:
    """Only who started an export, or an Administrator, downloads its file: an operator by
    their account, an API key by its name (the job's actor)."""
    if job.kind != KIND or not getattr(user, "is_authenticated", False):
        return False
    if hasattr(user, "key"):
        return job.actor_user_id is None and job.actor_label == f"API key {user.key.name}"
    if not roles.can_view(user):
        return False
    return job.actor_user_id == user.pk or roles.role_of(user) == roles.ADMINISTRATOR


def check_ready(job: Job) -> None:
    if job.state != JobState.DONE:
        raise DomainError(
            ErrorCode.CONFLICT,
            f"Export {job.pk} is not ready: the job is {job.get_state_display().lower()}.",
        )


def parts(job: Job) -> list[Path]:
    return sorted(job_folder(job.pk).glob("part-*.csv"))


def job_lines(job: Job) -> Iterator[str]:
    """A finished export job's CSV: the header, then its parts in chunk order, a block at a
    time (the parts' rows are CSV lines already)."""
    yield "\ufeff" + csv_line(csv.writer(Echo()), job.params["columns"])
    for path in parts(job):
        with path.open(encoding="utf-8", newline="") as part:
            while block := part.read(READ_BLOCK):
                yield block


def xlsx_path(job: Job) -> Path:
    return job_folder(job.pk) / "export.xlsx"


def make_job_xlsx(job: Job) -> Path:
    """A finished export job's XLSX, made from its parts (on a worker: a million rows take
    minutes, longer than a request may) and kept beside them, written whole then renamed."""
    path = xlsx_path(job)
    if not path.exists():
        _write_whole(
            path,
            lambda handle: write_xlsx(handle, job.params["columns"], _part_rows(job)),
            text=False,
        )
    return path


def job_xlsx(job: Job) -> Path | None:
    """The job's XLSX when it is made; else it is asked of a worker (once in
    XLSX_RETRY_SECONDS: a download asked again meanwhile waits for that one) and None. In
    eager mode (no broker) it is made here and now."""
    path = xlsx_path(job)
    if path.exists():
        return path
    asked = job_folder(job.pk) / ".xlsx-asked"
    if asked.exists() and time.time() - asked.stat().st_mtime < XLSX_RETRY_SECONDS:
        return None
    asked.touch()
    from transfer.export_tasks import make_xlsx

    engine.send(make_xlsx, [(job.pk,)])
    return path if path.exists() else None


def _part_rows(job: Job) -> Iterator[Iterator[list[str]]]:
    for path in parts(job):
        with path.open(encoding="utf-8", newline="") as part:
            yield csv.reader(part)


def download_audit(job: Job, *, actor_label: str, source: str) -> None:
    audit_log.info(
        "export downloaded: job %s (%s rows, %s) by %s (source %s)",
        job.pk,
        job.done - job.failed,
        job.params.get("format", CSV),
        actor_label,
        source,
        extra={
            "audit": {
                "action": "export downloaded",
                "target": f"job {job.pk}",
                "actor": actor_label,
                "source": source,
                "query": job.query,
                "rows": job.done - job.failed,
            }
        },
    )
