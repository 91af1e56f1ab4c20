"""POST /people/2/exports: the file itself for a small export, 202 and the job for a large
one; GET /people/2/exports/{jobId}/file once it is done, for the key that started it."""

from __future__ import annotations

import pytest

from core.models import ApiKey
from populations.models import SavedView
from tests.factories import PersonFactory
from tests.transfer.export_support import csv_rows, xlsx_rows
from transfer import export_jobs, exports

pytestmark = pytest.mark.django_db


def test_a_small_export_answers_the_file(manage_client, profile):
    PersonFactory(first_name="Bob", last_name="Zec")
    response = manage_client.post(
        "/people/2/exports",
        {"query": {"q": "Horvat"}, "columns": ["firstName", "phones", "emails"]},
        format="json",
    )
    assert response.status_code == 200
    assert csv_rows(response) == [
        {"firstName": "Ana", "phones": "'+38516419710", "emails": "ana.horvat@example.com"}
    ]


def test_a_read_key_without_personal_data_exports_it_masked(read_client, profile):
    ApiKey.objects.filter(name="reporting").update(personal_data=False)
    response = read_client.post(
        "/people/2/exports",
        {"query": {"ids": [profile.person.pk]}, "columns": ["externalId"], "format": "xlsx"},
        format="json",
    )
    assert response.status_code == 200
    assert xlsx_rows(response) == [{"externalId": "c•••42"}]


def test_a_saved_view_by_its_id(manage_client, editor, profile):
    view = SavedView.objects.create(name="Ana", owner=editor, query={"q": "Ana"})
    view.shared_with_roles.set([])
    response = manage_client.post(
        "/people/2/exports", {"view": str(view.pk), "columns": ["lastName"]}, format="json"
    )
    # A key opens the views shared with a role only (populations.saved_views).
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"query": {}, "columns": ["nope"]}, "columns"),
        ({"columns": ["firstName"]}, "query"),
        ({"query": {}, "format": "pdf"}, None),
    ],
)
def test_what_it_refuses(manage_client, body, field):
    response = manage_client.post("/people/2/exports", body, format="json")
    assert response.status_code == 400, response.content


def test_a_large_export_is_a_job_whose_file_only_its_key_downloads(
    manage_client, read_client, monkeypatch, settings, django_capture_on_commit_callbacks, profile
):
    monkeypatch.setattr(exports, "STREAM_LIMIT", 1)
    PersonFactory(first_name="Bob", last_name="Zec")
    with django_capture_on_commit_callbacks(execute=True):
        response = manage_client.post(
            "/people/2/exports", {"query": {}, "columns": ["firstName"]}, format="json"
        )
    assert response.status_code == 202
    body = response.json()
    assert (body["kind"], body["state"]) == ("export", "PENDING")
    job_id = body["id"]
    assert manage_client.get(f"/people/2/jobs/{job_id}").json()["state"] == "DONE"

    answer = manage_client.get(f"/people/2/exports/{job_id}/file")
    assert answer.status_code == 200
    assert [row["firstName"] for row in csv_rows(answer)] == ["Ana", "Bob"]
    assert read_client.get(f"/people/2/exports/{job_id}/file").status_code == 404
    assert manage_client.get("/people/2/exports/999999/file").status_code == 404


def test_an_operator_with_the_api(client, viewer, profile):
    client.force_login(viewer)
    response = client.post(
        "/people/2/exports",
        {"query": {}, "columns": ["emails"]},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert csv_rows(response) == [{"emails": "a•••@example.com"}]


def test_an_xlsx_job_file_being_made_answers_202(
    manage_client, monkeypatch, django_capture_on_commit_callbacks, profile
):
    monkeypatch.setattr(exports, "STREAM_LIMIT", 0)
    with django_capture_on_commit_callbacks(execute=True):
        job_id = manage_client.post(
            "/people/2/exports",
            {"query": {}, "columns": ["lastName"], "format": "xlsx"},
            format="json",
        ).json()["id"]
    (export_jobs.job_folder(job_id) / ".xlsx-asked").touch()
    response = manage_client.get(f"/people/2/exports/{job_id}/file")
    assert (response.status_code, response.json()["state"]) == (202, "PREPARING")
    (export_jobs.job_folder(job_id) / ".xlsx-asked").unlink()
    response = manage_client.get(f"/people/2/exports/{job_id}/file")
    assert xlsx_rows(response) == [{"lastName": "Horvat"}]
