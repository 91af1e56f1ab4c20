"""The API's jobs: start, read, list, cancel, undo; who may."""

from __future__ import annotations

import pytest

from jobs.models import Job, JobState
from people.models import Person
from tests.jobs import touch

pytestmark = pytest.mark.django_db


@pytest.fixture
def start(manage_client, django_capture_on_commit_callbacks):
    def start(body, client=None):
        with django_capture_on_commit_callbacks(execute=True):
            return (client or manage_client).post("/people/2/jobs", body, format="json")

    return start


def body(people, **extra):
    return {
        "kind": touch.KIND,
        "query": {"ids": [p.pk for p in people]},
        "params": {"firstName": "Touched"},
        **extra,
    }


def test_a_manage_key_starts_a_job_and_follows_it(start, manage_client, people):
    response = start(body(people))
    assert response.status_code == 200, response.content
    job_id = response.json()["id"]
    job = manage_client.get(f"/people/2/jobs/{job_id}").json()
    assert job["state"] == JobState.DONE
    assert (job["total"], job["done"], job["changed"], job["failed"]) == (5, 5, 5, 0)
    assert job["kind"] == touch.KIND and job["dryRun"] is False
    assert job["actor"].startswith("API key ")
    assert job["finishedAt"] and job["createdAt"]
    assert Person.objects.filter(first_name="Touched").count() == 5


def test_a_dry_run_over_the_api_writes_nothing(start, people):
    response = start(body(people, dryRun=True))
    assert response.json()["dryRun"] is True
    assert not Person.objects.filter(first_name="Touched").exists()
    assert Job.objects.get().changed == 5


def test_a_search_query_is_stored_as_the_search_stores_it(start, people):
    response = start(body(people, query={"q": "Name2", "tags": ["a"]}))
    assert response.status_code == 200
    assert Job.objects.get().query["q"] == "Name2"


@pytest.mark.parametrize(
    "change, code",
    [
        ({"kind": "no.such"}, "JOB_KIND_UNKNOWN"),
        ({"params": {}}, "BAD_REQUEST"),
        ({"query": {"nonsense": 1}}, "BAD_REQUEST"),
        ({"query": "everyone"}, "REQUEST_FORMAT_INVALID"),
    ],
)
def test_a_bad_start_is_400_and_starts_nothing(start, people, change, code):
    response = start({**body(people), **change})
    assert response.status_code == 400
    assert response.json()["requestError"]["serviceException"]["messageId"] == code
    assert not Job.objects.exists()


def test_a_read_key_reads_but_may_not_start_cancel_or_undo(start, read_client, people):
    job_id = start(body(people)).json()["id"]
    assert read_client.get(f"/people/2/jobs/{job_id}").status_code == 200
    assert read_client.get("/people/2/jobs").status_code == 200
    assert read_client.post("/people/2/jobs", body(people), format="json").status_code == 403
    for action in ("cancel", "undo"):
        assert read_client.post(f"/people/2/jobs/{job_id}/{action}").status_code == 403
    assert Job.objects.count() == 1


def test_undo_over_the_api_answers_the_undo_job(
    start, manage_client, people, django_capture_on_commit_callbacks
):
    job_id = start(body(people)).json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        response = manage_client.post(f"/people/2/jobs/{job_id}/undo")
    assert response.status_code == 200
    undo = response.json()
    assert undo["undoes"] == job_id and undo["id"] != job_id
    assert not Person.objects.filter(first_name="Touched").exists()
    again = manage_client.post(f"/people/2/jobs/{job_id}/undo")
    assert again.status_code == 409
    assert again.json()["requestError"]["serviceException"]["messageId"] == "CONFLICT"


def test_cancel_over_the_api(manage_client, people):
    job_id = manage_client.post("/people/2/jobs", body(people), format="json").json()["id"]
    response = manage_client.post(f"/people/2/jobs/{job_id}/cancel")
    assert response.status_code == 200 and response.json()["state"] == JobState.CANCELLED
    assert manage_client.post(f"/people/2/jobs/{job_id}/cancel").status_code == 409


def test_an_editor_session_may_not_run_an_administrators_action(client, editor, people):
    client.force_login(editor)
    response = client.post(
        "/people/2/jobs", body(people, kind=touch.ADMIN_KIND), content_type="application/json"
    )
    assert response.status_code == 403
    assert not Job.objects.exists()


def test_the_list_pages_newest_first_and_filters(start, manage_client, people):
    ids = [start(body(people)).json()["id"] for _ in range(3)]
    page = manage_client.get("/people/2/jobs", {"limit": 2}).json()
    assert [j["id"] for j in page["jobs"]] == [ids[2], ids[1]]
    assert page["nextBefore"] == ids[1]
    rest = manage_client.get("/people/2/jobs", {"limit": 2, "before": ids[1]}).json()
    assert [j["id"] for j in rest["jobs"]] == [ids[0]] and rest["nextBefore"] is None
    assert manage_client.get("/people/2/jobs", {"state": "PENDING"}).json()["jobs"] == []
    assert manage_client.get("/people/2/jobs", {"limit": 0}).status_code == 400


def test_an_unknown_job_is_404(manage_client):
    assert manage_client.get("/people/2/jobs/99999").status_code == 404
    assert manage_client.post("/people/2/jobs/99999/cancel").status_code == 404


def test_the_list_takes_a_fixed_number_of_statements(
    start, manage_client, people, django_assert_num_queries
):
    for _ in range(3):
        start(body(people))
    manage_client.get("/people/2/jobs")
    # the key, its last use, the page of jobs
    with django_assert_num_queries(3):
        manage_client.get("/people/2/jobs")
    start(body(people))
    with django_assert_num_queries(3):
        manage_client.get("/people/2/jobs")
