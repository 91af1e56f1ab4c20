"""The import pages: upload, mapping with a preview, dry run shown under the form, run to the
job page; errors.csv of an import names row, column and value; a Viewer cannot import."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from jobs.models import Job
from people.models import Person
from transfer.models import ImportFile

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def upload(client, path, **data):
    with open(path, "rb") as handle:
        return client.post(reverse("transfer:import_upload"), {"file": handle, **data})


def test_upload_map_dry_run_and_run(editor_client, csv_file, django_capture_on_commit_callbacks):
    home = editor_client.get(reverse("home"))
    assert reverse("transfer:import_upload").encode() in home.content
    path = csv_file(
        [["externalId", "Given", "phones"], ["p1", "Ana", "+38516419710"], ["p2", "Bo", "nope"]]
    )
    response = upload(editor_client, path, skip_unknown="on")
    file = ImportFile.objects.get()
    mapping_url = reverse("transfer:import_mapping", args=[file.pk])
    assert response.status_code == 302 and response["Location"] == mapping_url
    page = editor_client.get(mapping_url)
    assert page.status_code == 200
    assert b"Ana" in page.content and b'data-testid="import-column"' in page.content
    form = {
        "column-0": "externalId",
        "column-1": "firstName",
        "column-2": "phones",
        "match": "externalId",
        "mode": "upsert",
        "tags": "add",
        "empty": "keep",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(mapping_url, {**form, "run": "dry_run"})
    dry = Job.objects.get(dry_run=True)
    assert response["Location"] == f"{mapping_url}?dry_run={dry.pk}"
    page = editor_client.get(response["Location"])
    content = page.content.decode()
    assert 'data-testid="import-dry-run-result"' in content
    assert 'data-testid="job-created">1<' in content
    assert "PHONE_INVALID" in content and "nope" in content
    assert not Person.objects.exists()
    errors = editor_client.get(reverse("populations:job_errors", args=[dry.pk]))
    lines = list(csv.reader(io.StringIO(b"".join(errors.streaming_content).decode())))
    assert lines[0] == ["row", "column", "value", "code", "message", "person_id"]
    assert lines[1][:4] == ["3", "phones", "nope", "PHONE_INVALID"]
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(mapping_url, {**form, "run": "import"})
    job = Job.objects.get(dry_run=False)
    assert response["Location"] == reverse("populations:job_detail", args=[job.pk])
    detail = editor_client.get(response["Location"]).content.decode()
    assert 'data-testid="job-created">1<' in detail and 'data-testid="job-failed">1<' in detail
    assert Person.objects.get().first_name == "Ana"


def test_a_bad_file_shows_its_rule(editor_client, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"externalId,externalid\n1,2\n")
    response = upload(editor_client, path)
    assert response.status_code == 400
    assert "repeats externalid" in response.content.decode()


def test_a_viewer_cannot_import(client, viewer):
    client.force_login(viewer)
    assert client.get(reverse("transfer:import_upload")).status_code == 403
    assert reverse("transfer:import_upload").encode() not in client.get(reverse("home")).content
