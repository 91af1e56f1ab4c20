"""The job pages: the audit list, a job's page and its polled status, Cancel and Undo by role,
the CSV error report, and their statements."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from core.errors import ErrorCode
from jobs import engine
from jobs.models import Job, JobRowError, JobState
from people.history import Actor
from people.models import Person
from populations.population import selection
from tests.jobs import touch

pytestmark = pytest.mark.django_db


def detail(job: Job) -> str:
    return reverse("populations:job_detail", args=[job.pk])


def waiting_job(people, actor, kind=touch.KIND) -> Job:
    """A job started but never sent (its start's transaction is the test's)."""
    return engine.start_job(
        kind=kind, query=selection([p.pk for p in people]), params={"firstName": "x"}, actor=actor
    )


def test_the_list_shows_who_did_what_to_whom(viewer_client, run_job, people, editor):
    job = run_job(people)
    run_job(query={"q": "Name1", "tags": ["vip"]})
    response = viewer_client.get(reverse("populations:jobs"))
    assert response.status_code == 200
    text = response.content.decode()
    assert f"Job {job.pk}" in text
    assert "5 selected people" in text
    assert "q: Name1, tag: vip" in text
    assert editor.username in text
    assert "Touch first names" in text
    assert text.count('data-testid="job-row"') == 2


def test_the_list_filters_by_state_and_kind(viewer_client, run_job, people, operator_actor):
    done = run_job(people)
    waiting = waiting_job(people, operator_actor)
    url = reverse("populations:jobs")
    text = viewer_client.get(url, {"state": "PENDING"}).content.decode()
    assert f"Job {waiting.pk}<" in text and f"Job {done.pk}<" not in text
    text = viewer_client.get(url, {"kind": "test.touch_admin"}).content.decode()
    assert 'data-testid="no-jobs"' in text


def test_the_list_pages_by_keyset(viewer_client, run_job, people, monkeypatch):
    from populations.views import jobs as views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    made = [run_job(people[:1]) for _ in range(3)]
    first = viewer_client.get(reverse("populations:jobs")).content.decode()
    assert f"before={made[1].pk}" in first and f"Job {made[0].pk}<" not in first
    second = viewer_client.get(reverse("populations:jobs"), {"before": made[1].pk})
    assert f"Job {made[0].pk}<" in second.content.decode()


def test_the_list_takes_a_fixed_number_of_statements(
    viewer_client, run_job, people, django_assert_num_queries
):
    for _ in range(3):
        run_job(people)
    viewer_client.get(reverse("populations:jobs"))  # the session's first reads
    # session, user, the page of jobs, the user's and its groups' permissions (the menu)
    with django_assert_num_queries(5):
        viewer_client.get(reverse("populations:jobs"))
    for _ in range(3):
        run_job(people)
    with django_assert_num_queries(5):
        viewer_client.get(reverse("populations:jobs"))


def test_a_waiting_job_says_so_and_polls(viewer_client, people, operator_actor):
    job = waiting_job(people, operator_actor)
    text = viewer_client.get(detail(job)).content.decode()
    assert "Waiting for the queue" in text
    assert 'hx-trigger="every 1s"' in text
    assert reverse("populations:job_progress", args=[job.pk]) in text


def test_a_finished_job_stops_the_polling(viewer_client, run_job, people):
    job = run_job(people)
    response = viewer_client.get(
        reverse("populations:job_progress", args=[job.pk]), HTTP_HX_REQUEST="true"
    )
    text = response.content.decode()
    assert 'data-state="DONE"' in text
    assert "hx-trigger" not in text
    assert 'data-testid="job-done">5<' in text
    assert 'value="100"' in text


def test_the_progress_takes_a_fixed_number_of_statements(
    viewer_client, run_job, people, django_assert_num_queries
):
    job = run_job(people)
    url = reverse("populations:job_progress", args=[job.pk])
    viewer_client.get(url)
    # session, user, the job, its undo, permissions (two: may it manage), its errors
    with django_assert_num_queries(7):
        viewer_client.get(url)


def test_a_viewer_sees_no_buttons_and_may_not_cancel_or_undo(viewer_client, run_job, people):
    job = run_job(people)
    text = viewer_client.get(detail(job)).content.decode()
    assert "job-undo" not in text and "job-cancel" not in text
    for name in ("populations:job_cancel", "populations:job_undo"):
        assert viewer_client.post(reverse(name, args=[job.pk])).status_code == 403
    assert not Job.objects.filter(undoes=job).exists()


def test_an_editor_cancels_a_job(editor_client, people, operator_actor):
    job = waiting_job(people, operator_actor)
    assert 'data-testid="job-cancel"' in editor_client.get(detail(job)).content.decode()
    response = editor_client.post(reverse("populations:job_cancel", args=[job.pk]))
    assert response.status_code == 302 and response["Location"] == detail(job)
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED


def test_an_editor_undoes_a_job_and_lands_on_the_undo(editor_client, run_job, people, settings):
    job = run_job(people)
    assert 'data-testid="job-undo"' in editor_client.get(detail(job)).content.decode()
    response = editor_client.post(reverse("populations:job_undo", args=[job.pk]))
    undo = Job.objects.get(undoes=job)
    assert response.status_code == 302 and response["Location"] == detail(undo)
    text = editor_client.get(detail(undo)).content.decode()
    assert 'data-testid="job-undoes" href' in text or f"Job {job.pk}</a>" in text
    text = editor_client.get(detail(job)).content.decode()
    assert 'data-testid="job-undone-by"' in text and 'job-undo"' not in text


def test_an_undo_lists_its_conflicts(editor_client, run_job, run_undo, people):
    job = run_job(people)
    Person.objects.filter(pk=people[2].pk).update(first_name="Edited")
    undo = run_undo(job)
    text = editor_client.get(detail(undo)).content.decode()
    assert "Changed since the job" in text
    assert ErrorCode.CHANGED_SINCE in text
    assert f"Person {people[2].pk}" in text


def test_an_administrators_action_needs_an_administrator(editor_client, people, administrator):
    admin_client_ = Client()
    admin_client_.force_login(administrator)
    job = waiting_job(people, Actor.operator(administrator), kind=touch.ADMIN_KIND)
    assert "job-cancel" not in editor_client.get(detail(job)).content.decode()
    assert editor_client.post(reverse("populations:job_cancel", args=[job.pk])).status_code == 403
    assert admin_client_.post(reverse("populations:job_cancel", args=[job.pk])).status_code == 302


def test_cancel_by_htmx_answers_the_status(editor_client, people, operator_actor):
    job = waiting_job(people, operator_actor)
    response = editor_client.post(
        reverse("populations:job_cancel", args=[job.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert 'data-state="CANCELLED"' in response.content.decode()


def test_the_error_report_is_a_csv_of_every_row(viewer_client, run_job, people):
    Person.objects.filter(pk__in=[people[0].pk, people[3].pk]).update(last_name="Refuse")
    job = run_job(people)
    JobRowError.objects.create(job=job, person_id=10**12, code="X", message="=HYPERLINK(1)")
    response = viewer_client.get(reverse("populations:job_errors", args=[job.pk]))
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert f"job-{job.pk}-errors.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [
        ["person_id", "code", "message"],
        [str(people[0].pk), "BAD_REQUEST", "Refused."],
        [str(people[3].pk), "BAD_REQUEST", "Refused."],
        [str(10**12), "X", "'=HYPERLINK(1)"],
    ]


def test_the_pages_need_a_signed_in_operator(client, run_job, people):
    job = run_job(people)
    for url in (
        reverse("populations:jobs"),
        detail(job),
        reverse("populations:job_errors", args=[job.pk]),
    ):
        assert client.get(url).status_code == 302
    assert client.post(reverse("populations:job_cancel", args=[job.pk])).status_code == 302


def test_an_unknown_job_is_404(viewer_client):
    assert viewer_client.get(reverse("populations:job_detail", args=[999999])).status_code == 404
