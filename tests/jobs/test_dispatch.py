"""A job started while the broker is down waits for the queue, and is sent when it is back:
by retry_dispatch, the job page's polling, a starting worker and ``manage.py dispatch_jobs``."""

from __future__ import annotations

import time

import pytest
from django.core.management import call_command
from django.urls import reverse

from jobs import engine
from jobs.models import Job, JobState
from people.models import Person
from populations.population import selection
from tests.jobs import touch

pytestmark = pytest.mark.django_db
# A port where nothing listens: the broker is down.
NO_REDIS = "redis://127.0.0.1:9/0"


@pytest.fixture
def broker_down(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = NO_REDIS


def start(people, actor, django_capture_on_commit_callbacks) -> Job:
    with django_capture_on_commit_callbacks(execute=True):
        job = engine.start_job(
            kind=touch.KIND,
            query=selection([p.pk for p in people]),
            params={"firstName": "Touched"},
            actor=actor,
        )
    job.refresh_from_db()
    return job


def test_a_job_started_with_the_broker_down_waits_for_the_queue(
    broker_down, people, operator_actor, django_capture_on_commit_callbacks
):
    began = time.monotonic()
    job = start(people, operator_actor, django_capture_on_commit_callbacks)
    assert time.monotonic() - began < 5
    assert job.state == JobState.PENDING and job.dispatched_at is None
    assert job.get_state_display() == "Waiting for the queue"


def test_the_api_answers_while_the_broker_is_down(
    broker_down, manage_client, people, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = manage_client.post(
            "/people/2/jobs",
            {"kind": touch.KIND, "query": {"ids": [people[0].pk]}, "params": {"firstName": "x"}},
            format="json",
        )
    assert response.status_code == 200
    assert response.json()["state"] == JobState.PENDING


def test_retry_dispatch_sends_it_when_the_broker_is_back(
    broker_down, settings, people, operator_actor, django_capture_on_commit_callbacks
):
    job = start(people, operator_actor, django_capture_on_commit_callbacks)
    assert engine.retry_dispatch() == 0  # still down
    settings.CELERY_TASK_ALWAYS_EAGER = True  # back (and running here)
    with django_capture_on_commit_callbacks(execute=True):
        assert engine.retry_dispatch() == 1
    job.refresh_from_db()
    assert job.state == JobState.DONE and job.dispatched_at is not None
    assert Person.objects.filter(first_name="Touched").count() == 5
    assert engine.retry_dispatch() == 0  # nothing waits


def test_the_job_page_polling_sends_a_waiting_job(
    broker_down,
    settings,
    viewer_client,
    people,
    operator_actor,
    django_capture_on_commit_callbacks,
):
    job = start(people, operator_actor, django_capture_on_commit_callbacks)
    url = reverse("populations:job_progress", args=[job.pk])
    viewer_client.get(url)
    assert Job.objects.get(pk=job.pk).state == JobState.PENDING
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from django.core.cache import cache

    cache.delete(f"jobs:retry-dispatch:{job.pk}")  # the polling's pause between tries
    with django_capture_on_commit_callbacks(execute=True):
        text = viewer_client.get(url).content.decode()
    assert Job.objects.get(pk=job.pk).state == JobState.DONE
    assert 'data-state="PENDING"' in text  # this answer read it before; the next one shows it


def test_the_polling_tries_the_broker_once_in_a_while(
    broker_down,
    viewer_client,
    people,
    operator_actor,
    django_capture_on_commit_callbacks,
    django_assert_num_queries,
):
    job = start(people, operator_actor, django_capture_on_commit_callbacks)
    url = reverse("populations:job_progress", args=[job.pk])
    viewer_client.get(url)  # tries, and remembers it did
    # session, user, the job, its undo, permissions (two), its errors: no retry's reads
    with django_assert_num_queries(7):
        viewer_client.get(url)


def test_a_job_sent_long_ago_that_never_moved_is_sent_again(
    broker_down, settings, people, operator_actor, django_capture_on_commit_callbacks
):
    """Its messages were lost with the broker (a Redis restarted without its data)."""
    job = start(people, operator_actor, django_capture_on_commit_callbacks)
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.JOB_REDISPATCH_AFTER = 0
    Job.objects.filter(pk=job.pk).update(dispatched_at="2020-01-01T00:00:00Z")
    with django_capture_on_commit_callbacks(execute=True):
        assert engine.retry_dispatch() == 1
    assert Job.objects.get(pk=job.pk).state == JobState.DONE


def test_the_command_sends_what_waits(
    broker_down, settings, people, operator_actor, django_capture_on_commit_callbacks, capsys
):
    job = start(people, operator_actor, django_capture_on_commit_callbacks)
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with django_capture_on_commit_callbacks(execute=True):
        call_command("dispatch_jobs")
    assert "1 job(s) sent again." in capsys.readouterr().out
    assert Job.objects.get(pk=job.pk).state == JobState.DONE


def test_the_lost_chunks_of_a_running_job_are_sent_again(
    broker_down, settings, people, operator_actor, django_capture_on_commit_callbacks
):
    """Planned, its chunk messages lost (Redis restarted without its data), nothing moved
    since: the pending chunks are sent again, and only they."""
    settings.JOB_CHUNK_SIZE = 2
    job = start(people, operator_actor, django_capture_on_commit_callbacks)
    from jobs import tasks

    tasks.plan_job.apply(args=(job.pk,))
    first = job.chunks.get(number=0)
    tasks.run_chunk.apply(args=(first.pk,))
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert engine.retry_dispatch() == 0  # sent a moment ago: not lost yet
    settings.JOB_REDISPATCH_AFTER = 0
    Job.objects.filter(pk=job.pk).update(dispatched_at="2020-01-01T00:00:00Z")
    job.chunks.update(finished_at="2020-01-01T00:00:00Z")
    with django_capture_on_commit_callbacks(execute=True):
        assert engine.retry_dispatch() == 1
    job.refresh_from_db()
    assert (job.state, job.done, job.changed) == (JobState.DONE, 5, 5)


def test_the_job_page_answers_while_all_of_redis_is_down(
    broker_down,
    settings,
    viewer_client,
    people,
    operator_actor,
    django_capture_on_commit_callbacks,
):
    """The cache lives in the same Redis as the queue: the polling does not need it."""
    job = start(people, operator_actor, django_capture_on_commit_callbacks)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": NO_REDIS,
            "OPTIONS": {"socket_connect_timeout": 1},
        }
    }
    response = viewer_client.get(reverse("populations:job_progress", args=[job.pk]))
    assert response.status_code == 200
    assert 'data-state="PENDING"' in response.content.decode()


# A Redis restarted without its data: the stalled rule (JOB_STALLED_AFTER) ----------------------


def stalled_job(settings, people, actor, django_capture_on_commit_callbacks, seconds_ago=120):
    """A running job whose first chunk is done, its other chunks' messages lost, sent and last
    moved ``seconds_ago``."""
    from datetime import timedelta

    from django.utils import timezone

    from jobs import tasks

    settings.JOB_CHUNK_SIZE = 2
    job = start(people, actor, django_capture_on_commit_callbacks)
    tasks.plan_job.apply(args=(job.pk,))
    tasks.run_chunk.apply(args=(job.chunks.get(number=0).pk,))
    then = timezone.now() - timedelta(seconds=seconds_ago)
    Job.objects.filter(pk=job.pk).update(dispatched_at=then)
    job.chunks.exclude(finished_at=None).update(finished_at=then)
    job.refresh_from_db()
    return job


def test_a_job_that_has_not_moved_for_a_minute_is_sent_again(
    broker_down, settings, people, operator_actor, django_capture_on_commit_callbacks
):
    job = stalled_job(settings, people, operator_actor, django_capture_on_commit_callbacks)
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert settings.JOB_STALLED_AFTER == 60 and settings.JOB_REDISPATCH_AFTER == 3600
    assert engine.retry_dispatch() == 0  # the hour's rule: not yet
    with django_capture_on_commit_callbacks(execute=True):
        assert engine.retry_dispatch(stalled=True) == 1
    job.refresh_from_db()
    assert (job.state, job.done, job.changed) == (JobState.DONE, 5, 5)


def test_a_job_that_moved_within_the_minute_is_not_sent_again(
    broker_down, settings, people, operator_actor, django_capture_on_commit_callbacks
):
    stalled_job(settings, people, operator_actor, django_capture_on_commit_callbacks, 30)
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert engine.retry_dispatch(stalled=True) == 0


def test_busy_workers_are_not_a_lost_queue(
    broker_down, settings, people, operator_actor, django_capture_on_commit_callbacks
):
    """The job waits behind another job's chunks, which move: its messages are queued."""
    from django.utils import timezone

    job = stalled_job(settings, people, operator_actor, django_capture_on_commit_callbacks)
    other = start(people[:2], operator_actor, django_capture_on_commit_callbacks)
    Job.objects.filter(pk=other.pk).update(state=JobState.RUNNING)
    other.chunks.create(number=0, person_ids=[people[0].pk], finished_at=timezone.now())
    other.chunks.create(number=1, person_ids=[people[1].pk])
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert engine.retry_dispatch(stalled=True) == 0
    assert Job.objects.get(pk=job.pk).state == JobState.RUNNING


def test_a_planning_under_way_is_left_to_the_hour_s_rule(
    broker_down, settings, people, operator_actor, django_capture_on_commit_callbacks
):
    job = start(people, operator_actor, django_capture_on_commit_callbacks)
    Job.objects.filter(pk=job.pk).update(
        state=JobState.PLANNING, dispatched_at="2020-01-01T00:00:00Z"
    )
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert engine.retry_dispatch(stalled=True) == 0


def test_the_job_page_polling_sends_a_stalled_job_again(
    broker_down, settings, viewer_client, people, operator_actor, django_capture_on_commit_callbacks
):
    job = stalled_job(settings, people, operator_actor, django_capture_on_commit_callbacks)
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with django_capture_on_commit_callbacks(execute=True):
        viewer_client.get(reverse("populations:job_progress", args=[job.pk]))
    assert Job.objects.get(pk=job.pk).state == JobState.DONE


def test_the_job_page_polling_leaves_a_moving_job_alone(
    settings,
    viewer_client,
    people,
    operator_actor,
    django_capture_on_commit_callbacks,
    django_assert_num_queries,
):
    """Sent a moment ago: no cache, no retry's reads (eager mode: no broker to try)."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    job = stalled_job(settings, people, operator_actor, django_capture_on_commit_callbacks, 5)
    settings.CELERY_TASK_ALWAYS_EAGER = True
    url = reverse("populations:job_progress", args=[job.pk])
    viewer_client.get(url)  # the session's first request writes it
    # session, user, the job, its undo, permissions (two), its errors
    with django_assert_num_queries(7):
        viewer_client.get(url)
    assert Job.objects.get(pk=job.pk).state == JobState.RUNNING


@pytest.mark.parametrize("name", ["populations:job_detail", "populations:job_progress"])
def test_a_running_job_s_page_says_it_waits_for_the_queue_while_redis_is_down(
    name,
    broker_down,
    settings,
    viewer_client,
    people,
    operator_actor,
    django_capture_on_commit_callbacks,
):
    job = stalled_job(settings, people, operator_actor, django_capture_on_commit_callbacks)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": NO_REDIS,
            "OPTIONS": {"socket_connect_timeout": 1},
        }
    }
    began = time.monotonic()
    response = viewer_client.get(reverse(name, args=[job.pk]))
    assert time.monotonic() - began < 3
    assert response.status_code == 200
    text = response.content.decode()
    assert 'data-state="RUNNING"' in text
    assert 'data-testid="job-queue-down">Waiting for the queue' in text


def test_a_running_job_s_page_does_not_say_so_while_the_queue_answers(
    settings, viewer_client, people, operator_actor, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = NO_REDIS
    job = stalled_job(settings, people, operator_actor, django_capture_on_commit_callbacks, 5)
    settings.CELERY_TASK_ALWAYS_EAGER = True
    text = viewer_client.get(reverse("populations:job_detail", args=[job.pk])).content.decode()
    assert "Waiting for the queue" not in text
