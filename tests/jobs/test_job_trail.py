"""What a job leaves for an operator to follow: a person selected by row and deleted before the
job runs is a failed row of the job, not a person quietly left out; a person's history names
the job that changed it and links to its page, with no statement more."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.errors import ErrorCode
from jobs.models import JobState
from people.history import Actor, diff, record_event
from people.models import EventKind, Person


def test_a_selected_person_deleted_before_the_job_is_a_failed_row(run_job, people):
    gone = people[2]
    Person.objects.filter(pk=gone.pk).delete()

    job = run_job(people)

    assert (job.state, job.total, job.changed, job.failed) == (JobState.DONE, 5, 4, 1)
    assert list(job.row_errors.values_list("person_id", "code")) == [(gone.pk, ErrorCode.NOT_FOUND)]


def history_of(client, person) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("people:history", args=[person.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode(), len(queries.captured_queries)


def test_a_person_s_history_links_the_job_that_changed_it(editor_client, run_job, people):
    job = run_job(people[:1])
    record_event(
        person=people[1],
        kind=EventKind.ATTRIBUTES_CHANGED,
        actor=Actor.system("tests"),
        changes={"firstName": diff("Name1", "Touched")},
    )

    history_of(editor_client, people[1])  # the session's first request reads more
    html, statements = history_of(editor_client, people[0])
    by_hand, by_hand_statements = history_of(editor_client, people[1])

    link = reverse("populations:job_detail", args=[job.pk])
    assert f'href="{link}" data-testid="history-job">Job {job.pk}</a>' in html
    assert "Bulk job" in html
    assert 'data-testid="history-job"' not in by_hand
    assert statements == by_hand_statements
