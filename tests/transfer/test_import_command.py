"""manage.py import_people: a file on the server imported as the upload page does."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from jobs.models import Job
from people.models import Person
from transfer.management.commands.import_people import summary

pytestmark = pytest.mark.django_db


def test_it_imports_a_file_and_prints_the_summary(
    csv_file, capsys, django_capture_on_commit_callbacks
):
    path = csv_file([["externalId", "Given"], ["c1", "Ana"], ["c2", "Bo"]], delimiter=";")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_people", str(path), "--map", "Given=firstName")
    assert ": 2 rows. Job" in capsys.readouterr().out
    job = Job.objects.get()
    assert summary(job) == f"Job {job.pk} done: create 2, update 0, unchanged 0, failed 0."
    assert Person.objects.get(external_id="c2").first_name == "Bo"


def test_a_bad_file_is_a_command_error_naming_the_rule(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes("externalId\n\xe9\n".encode("latin-1"))
    with pytest.raises(CommandError, match="not UTF-8"):
        call_command("import_people", str(path))
