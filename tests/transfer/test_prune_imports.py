"""manage.py prune_imports: files uploaded longer ago than --days go with their rows, unless a
job not finished yet still reads them; an import whose file is gone can still be undone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from jobs.models import JobState
from people.models import Person
from transfer.models import ImportFile, ImportRow

pytestmark = pytest.mark.django_db


def aged(file: ImportFile, days: int) -> ImportFile:
    ImportFile.objects.filter(pk=file.pk).update(created_at=timezone.now() - timedelta(days=days))
    return file


def test_old_files_go_unless_a_running_job_reads_them(csv_file, upload, run_import, capsys):
    header = ["externalId", "firstName"]
    old = aged(upload(csv_file([header, ["c1", "Ana"]])), 8)
    recent = aged(upload(csv_file([header, ["c2", "Bo"]])), 2)
    busy = aged(upload(csv_file([header, ["c3", "Cy"]])), 30)
    done = run_import(old)
    running = run_import(busy)
    type(running).objects.filter(pk=running.pk).update(state=JobState.RUNNING)

    call_command("prune_imports", "--days", "7")

    assert "1 import file(s) deleted." in capsys.readouterr().out
    assert set(ImportFile.objects.values_list("pk", flat=True)) == {recent.pk, busy.pk}
    assert not ImportRow.objects.filter(file_id=old.pk).exists()
    assert done.state == JobState.DONE


def test_an_import_is_undone_after_its_file_is_pruned(csv_file, upload, run_import, run_undo):
    file = aged(upload(csv_file([["externalId", "firstName"], ["c1", "Ana"]])), 8)
    job = run_import(file)
    call_command("prune_imports")
    assert not ImportFile.objects.exists()
    undo = run_undo(job)
    assert (undo.state, undo.changed) == (JobState.DONE, 1)
    assert not Person.objects.exists()
