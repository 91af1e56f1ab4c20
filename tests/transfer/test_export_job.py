"""A large export is a job (kind ``export``): each chunk writes its people's rows to a part
file, a chunk run again rewrites its part, no person changes, and the file (the header then
the parts in chunk order) is for the operator who started it or an Administrator."""

from __future__ import annotations

import logging

import pytest

from jobs import actions
from jobs.models import Job, JobChunk, JobState
from people.models import Event, Person
from tests.factories import PersonFactory
from tests.populations.conftest import start
from tests.transfer.export_support import csv_rows, xlsx_rows
from transfer import export_jobs, exports

pytestmark = pytest.mark.django_db

COLUMNS = ["id", "externalId", "firstName", "phones", "tags"]


@pytest.fixture
def many(settings, monkeypatch, system_actor):
    """Seven people: past a stream limit of three, in chunks of two."""
    monkeypatch.setattr(exports, "STREAM_LIMIT", 3)
    settings.JOB_CHUNK_SIZE = 2
    from people import services

    return [
        services.person_create(
            actor=system_actor,
            fields={"firstName": f"P{n}", "externalId": f"ext-{n}"},
            phones=[f"+38591{n:07d}"],
            tags=["vip"],
        )
        for n in range(7)
    ]


@pytest.fixture
def export_job(django_capture_on_commit_callbacks):
    def run(client, **data) -> tuple[object, Job]:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/export/", {"all": "1", "query": "", "columns": COLUMNS, **data}
            )
        job = Job.objects.latest("pk")
        job.refresh_from_db()
        return response, job

    return run


def test_a_large_export_starts_a_job_whose_parts_make_the_file(editor_client, many, export_job):
    versions = dict(Person.objects.values_list("pk", "version"))
    events = Event.objects.count()
    response, job = export_job(editor_client)
    assert response.status_code == 202
    assert f"Started job {job.pk}" in response.content.decode()
    assert (job.kind, job.state, job.total, job.done, job.changed) == ("export", "DONE", 7, 7, 0)
    assert job.params == {"format": "csv", "columns": COLUMNS, "masked": False}
    assert len(export_jobs.parts(job)) == 4
    # It changed no one.
    assert dict(Person.objects.values_list("pk", "version")) == versions
    assert Event.objects.count() == events

    download = editor_client.get(f"/exports/{job.pk}/download")
    assert download.status_code == 200
    rows = csv_rows(download)
    assert [row["id"] for row in rows] == [str(p.pk) for p in many]
    assert rows[0] == {
        "id": str(many[0].pk),
        "firstName": "P0",
        "externalId": "ext-0",
        "phones": "'+385910000000",
        "tags": "vip",
    }
    page = editor_client.get(f"/jobs/{job.pk}/").content.decode()
    assert f'href="/exports/{job.pk}/download"' in page


def test_the_job_file_in_xlsx(editor_client, many, export_job):
    _, job = export_job(editor_client, format="xlsx")
    response = editor_client.get(f"/exports/{job.pk}/download")
    rows = xlsx_rows(response)
    assert [row["firstName"] for row in rows] == [f"P{n}" for n in range(7)]
    # Made once, kept beside the parts.
    assert (export_jobs.job_folder(job.pk) / "export.xlsx").exists()
    assert xlsx_rows(editor_client.get(f"/exports/{job.pk}/download")) == rows


def test_a_viewers_export_job_is_masked(viewer_client, many, export_job):
    _, job = export_job(viewer_client)
    assert job.params["masked"] is True
    rows = csv_rows(viewer_client.get(f"/exports/{job.pk}/download"))
    assert rows[0]["externalId"] == "e•••-0"
    assert rows[0]["phones"].startswith("'+385 ") and "•" in rows[0]["phones"]


def test_a_chunk_run_again_rewrites_its_part(editor, many):
    action = actions.get("export")
    context = start("export", {"columns": COLUMNS}, editor)
    ids = [p.pk for p in many[:2]]
    action.apply(context, ids)
    [part] = export_jobs.parts(Job.objects.get(pk=context.id))
    first = part.read_bytes()
    Person.objects.filter(pk=ids[0]).update(first_name="Changed")
    outcomes = action.apply(context, ids)
    assert [o.person_id for o in outcomes] == ids and not any(o.changed for o in outcomes)
    assert export_jobs.parts(Job.objects.get(pk=context.id)) == [part]
    assert part.read_bytes() == first.replace(b"P0", b"Changed")


def test_a_person_deleted_since_the_planning_is_reported_not_written(editor, many):
    action = actions.get("export")
    context = start("export", {"columns": ["firstName"]}, editor)
    gone = many[1].pk
    Person.objects.filter(pk=gone).delete()
    outcomes = action.apply(context, [many[0].pk, gone])
    assert [(o.person_id, o.error_code) for o in outcomes] == [
        (many[0].pk, ""),
        (gone, "NOT_FOUND"),
    ]
    [part] = export_jobs.parts(Job.objects.get(pk=context.id))
    assert part.read_bytes() == b"P0\r\n"


def test_only_the_starter_or_an_administrator_downloads_it(
    client, editor, viewer, administrator, many, export_job, django_user_model
):
    client.force_login(viewer)
    _, job = export_job(client)
    url = f"/exports/{job.pk}/download"
    assert client.get(url).status_code == 200
    client.force_login(editor)
    assert client.get(url).status_code == 404
    assert f'href="{url}"' not in client.get(f"/jobs/{job.pk}/").content.decode()
    client.force_login(administrator)
    assert client.get(url).status_code == 200


def test_an_export_not_done_yet_is_a_409(editor_client, editor, many):
    job = Job.objects.create(
        kind="export",
        params={"columns": COLUMNS, "format": "csv", "masked": False},
        actor_kind="OPERATOR",
        actor_label=editor.username,
        actor_user=editor,
        source="UI",
        state=JobState.RUNNING,
    )
    response = editor_client.get(f"/exports/{job.pk}/download")
    assert response.status_code == 409
    assert "not ready" in response.content.decode()


def test_another_kind_of_job_has_no_file(editor_client, editor, many):
    job = Job.objects.create(
        kind="tags.add", actor_kind="OPERATOR", actor_label="x", actor_user=editor, source="UI"
    )
    assert editor_client.get(f"/exports/{job.pk}/download").status_code == 404


def test_the_download_is_audited(editor_client, many, export_job, caplog):
    _, job = export_job(editor_client)
    with caplog.at_level(logging.INFO, logger="portal.audit"):
        csv_rows(editor_client.get(f"/exports/{job.pk}/download"))
    [record] = [r for r in caplog.records if r.name == "portal.audit" and "downloaded" in r.msg]
    assert record.audit["action"] == "export downloaded"
    assert (record.audit["target"], record.audit["rows"]) == (f"job {job.pk}", 7)


def test_the_job_chunks_cover_everyone_once(editor_client, many, export_job):
    PersonFactory(first_name="Late")
    _, job = export_job(editor_client)
    chunks = list(JobChunk.objects.filter(job=job).values_list("person_ids", flat=True))
    assert sorted(pk for chunk in chunks for pk in chunk) == sorted(
        Person.objects.values_list("pk", flat=True)
    )


def test_an_xlsx_being_made_by_a_worker_is_a_202_until_it_is_there(
    editor_client, manage_client, many, export_job
):
    from transfer.export_tasks import make_xlsx

    _, job = export_job(editor_client, format="xlsx")
    folder = export_jobs.job_folder(job.pk)
    # A download asked a worker for it a moment ago; the worker is not done yet.
    (folder / ".xlsx-asked").touch()
    response = editor_client.get(f"/exports/{job.pk}/download")
    assert response.status_code == 202
    assert 'data-testid="export-preparing"' in response.content.decode()
    make_xlsx(job.pk)
    rows = xlsx_rows(editor_client.get(f"/exports/{job.pk}/download"))
    assert len(rows) == 7


def test_prune_exports_deletes_the_files_of_old_exports_only(editor_client, many, export_job):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    _, old = export_job(editor_client)
    _, recent = export_job(editor_client)
    Job.objects.filter(pk=old.pk).update(finished_at=timezone.now() - timedelta(days=8))
    export_jobs.job_folder(999999).mkdir(parents=True)  # a job deleted since
    call_command("prune_exports", "--days", "7")
    assert not export_jobs.job_folder(old.pk).exists()
    assert not export_jobs.job_folder(999999).exists()
    assert export_jobs.parts(recent)
    assert Job.objects.filter(pk=old.pk).exists()


def test_a_definition_deleted_since_the_start_leaves_its_column_empty(editor, many):
    from people import services

    definition = services.attribute_definition_create(name="Unused", data_type="STRING")
    context = start("export", {"columns": ["firstName", "customAttributes.Unused"]}, editor)
    services.attribute_definition_delete(definition=definition)
    outcomes = actions.get("export").apply(context, [many[0].pk])
    assert [o.error_code for o in outcomes] == [""]
    [part] = export_jobs.parts(Job.objects.get(pk=context.id))
    assert part.read_bytes() == b"P0,\r\n"
