"""Jobs on a real Celery worker (a subprocess, as `make worker` runs it) over the run's Redis
and the test database: a job runs to its end; a worker killed mid-job (SIGKILL) leaves its
chunk's message unacknowledged, a new worker gets it again, and every person is done exactly
once; a job started while Redis is down is sent when it is back.

The worker reads what this test writes: the tests here commit (transactional database) and
the worker connects to the same test database. Its broker is a Redis database of its own, on a
queue named for this run.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

from jobs import engine
from jobs.models import ChunkState, Job, JobState
from people.models import Event, Person
from populations.population import selection
from tests.factories import PersonFactory
from tests.jobs import touch

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]
# The broker's database: not the tests' cache (15) nor a deployment's default (0).
BROKER_DATABASE = 14
VISIBILITY_TIMEOUT = 2
STARTUP_SECONDS = 90


def broker_url() -> str:
    parts = urlsplit(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15")
    return urlunsplit(parts._replace(path=f"/{BROKER_DATABASE}"))


def database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{db['USER']}{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """`celery -A portal worker` with the tests' action, in a process group of its own."""

    def __init__(
        self,
        queue: str,
        log: Path,
        chunk_size: int,
        redis_url: str | None = None,
        extra: dict[str, str] | None = None,
    ):
        self.queue = queue
        self.log = log
        self.chunk_size = chunk_size
        self.redis_url = redis_url or broker_url()
        self.extra = extra or {}
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "LANG": "C.UTF-8",
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "SECRET_KEY": "worker-test-" + secrets.token_hex(16),
            "DATABASE_URL": database_url(),
            "REDIS_URL": self.redis_url,
            "CACHE_KEY_PREFIX": self.queue,
            "JOB_QUEUE": self.queue,
            "JOB_CHUNK_SIZE": str(self.chunk_size),
            "JOB_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            **self.extra,
        }
        self.output = self.log.open("a")
        self.output.write("\n=== worker starts\n")
        self.output.flush()
        offset = self.log.stat().st_size
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                "--pool=prefork",
                "-c",
                "1",
                "-I",
                "tests.jobs.worker_actions",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"{self.queue}-{secrets.token_hex(3)}@%h",
            ],
            cwd=ROOT,
            env=environment,
            stdout=self.output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            with self.log.open() as log:
                log.seek(offset)
                if " ready." in log.read():
                    return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        pytest.fail(f"The worker did not start:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL to the worker and its pool's processes: nothing is acknowledged or
        cleaned up."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.output.close()


@pytest.fixture
def queue(settings):
    """This test's queue on the broker's database; the test process sends there."""
    name = f"jobs-test-{os.getpid()}-{secrets.token_hex(4)}"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = broker_url()
    settings.CELERY_TASK_DEFAULT_QUEUE = name
    yield name
    import redis

    client = redis.Redis.from_url(broker_url())
    client.delete(name, f"_kombu.binding.{name}")


@pytest.fixture
def workers(queue, tmp_path):
    """Start workers with ``workers(chunk_size=...)``; all are stopped after the test."""
    started: list[Worker] = []

    def start(chunk_size: int = 1000) -> Worker:
        worker = Worker(queue, tmp_path / "worker.log", chunk_size)
        worker.start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def wait_for(job: Job, states, seconds: float = 60, log: Path | None = None) -> Job:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.state in states:
            return job
        time.sleep(0.2)
    output = log.read_text()[-3000:] if log else ""
    pytest.fail(f"Job {job.pk} is {job.state} ({job.done} done) after {seconds} s\n{output}")


def unacknowledged(queue: str) -> int:
    """Messages of the queue that a worker took and never acknowledged (kombu keeps them in
    the "unacked" hash until the visibility timeout gives them back)."""
    import json

    import redis

    client = redis.Redis.from_url(broker_url())
    entries = [json.loads(raw) for raw in client.hvals("unacked")]
    return sum(1 for _, _, routing_key in entries if routing_key == queue)


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
