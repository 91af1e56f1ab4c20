"""Import files written to a temporary folder and imported as the UI, the API and the command
do: uploaded (checked, stored), then run as a job in eager mode."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from jobs import engine
from jobs.models import Job
from transfer.imports import services


def write_csv(path: Path, rows: list[list[str]], *, delimiter: str = ",", bom: bool = False):
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    return path


@pytest.fixture
def csv_file(tmp_path):
    counter = iter(range(1000))

    def make(rows: list[list[str]], **kwargs) -> Path:
        return write_csv(tmp_path / f"people-{next(counter)}.csv", rows, **kwargs)

    return make


@pytest.fixture
def upload(operator_actor):
    def run(path: Path, **kwargs):
        with open(path, "rb") as stream:
            return services.import_file_upload(
                stream=stream, name=path.name, actor=operator_actor, **kwargs
            )

    return run


@pytest.fixture
def run_import(django_capture_on_commit_callbacks, operator_actor):
    """Start an import of a stored file and run it to its end here."""

    def run(file, dry_run: bool = False, actor=None, **options) -> Job:
        with django_capture_on_commit_callbacks(execute=True):
            job = services.import_start(
                file=file, options=options, actor=actor or operator_actor, dry_run=dry_run
            )
        job.refresh_from_db()
        return job

    return run


@pytest.fixture
def run_undo(django_capture_on_commit_callbacks, operator_actor):
    def run(job: Job) -> Job:
        with django_capture_on_commit_callbacks(execute=True):
            undo = engine.undo_job(job=job, actor=operator_actor)
        undo.refresh_from_db()
        return undo

    return run


@pytest.fixture(autouse=True)
def _transfer_root(settings, tmp_path):
    """Each test's import and export files in a folder of its own."""
    settings.TRANSFER_ROOT = tmp_path / "transfer"
    return settings.TRANSFER_ROOT
