"""Jobs on a real Celery worker (tests.jobs.worker_harness) with the tests' action: a job runs
to its end; a worker killed mid-job (SIGKILL) leaves its chunk's message unacknowledged, a new
worker gets it again, and every person is done exactly once; a job started while Redis is
down is sent when it is back.
"""

from __future__ import annotations

import time

import pytest

from jobs import engine
from jobs.models import ChunkState, Job, JobState
from people.models import Event, Person
from populations.population import selection
from tests.factories import PersonFactory
from tests.jobs import touch
from tests.jobs.worker_harness import unacknowledged, wait_for

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def start(people, actor, **params) -> Job:
    return engine.start_job(
        kind=touch.KIND,
        query=selection([p.pk for p in people]),
        params={"firstName": "Touched", **params},
        actor=actor,
    )


def assert_each_done_once(job: Job, people) -> None:
    per_person = {}
    for person_id in Event.objects.filter(job=job).values_list("person_id", flat=True):
        per_person[person_id] = per_person.get(person_id, 0) + 1
    assert per_person == {p.pk: 1 for p in people}
    assert set(
        Person.objects.filter(pk__in=[p.pk for p in people]).values_list("first_name", flat=True)
    ) == {"Touched"}
    assert (job.total, job.done, job.changed, job.failed) == (len(people),) * 3 + (0,)


def test_a_real_worker_runs_a_job_to_its_end(workers, operator_actor, tmp_path):
    people = PersonFactory.create_batch(5)
    workers(chunk_size=2)
    job = start(people, operator_actor)
    job = wait_for(job, {JobState.DONE, JobState.FAILED}, log=tmp_path / "worker.log")
    assert job.state == JobState.DONE
    assert job.chunks.count() == 3
    assert_each_done_once(job, people)


def test_a_killed_worker_s_chunk_is_done_once_by_the_next(workers, queue, operator_actor, tmp_path):
    people = PersonFactory.create_batch(6)
    first = workers(chunk_size=1)
    job = start(people, operator_actor, sleep=1.0)
    deadline = time.monotonic() + 60
    # Two chunks done and the worker holding the next one's message (taken, not acknowledged:
    # right after a chunk it may still be fetching it, and a busy machine stretches that).
    while (
        Job.objects.get(pk=job.pk).done < 2 or unacknowledged(queue) != 1
    ) and time.monotonic() < deadline:
        time.sleep(0.05)
    first.kill()  # mid-chunk: each takes a second
    job.refresh_from_db()
    assert job.state == JobState.RUNNING and 2 <= job.done < 6
    assert unacknowledged(queue) == 1  # the chunk it was doing
    workers(chunk_size=1)
    job = wait_for(job, {JobState.DONE, JobState.FAILED}, log=tmp_path / "worker.log")
    assert job.state == JobState.DONE
    assert set(job.chunks.values_list("state", flat=True)) == {ChunkState.DONE}
    assert_each_done_once(job, people)


def test_a_job_started_while_redis_is_down_runs_when_it_is_back(
    workers, settings, operator_actor, tmp_path
):
    people = PersonFactory.create_batch(3)
    real_broker = settings.CELERY_BROKER_URL
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"  # nothing listens there
    job = start(people, operator_actor)
    job.refresh_from_db()
    assert job.state == JobState.PENDING and job.dispatched_at is None
    settings.CELERY_BROKER_URL = real_broker
    workers(chunk_size=2)  # a starting worker sends what waits
    job = wait_for(job, {JobState.DONE, JobState.FAILED}, log=tmp_path / "worker.log")
    assert job.state == JobState.DONE
    assert_each_done_once(job, people)
