"""Redis stops in the middle of a job and comes back empty (it keeps nothing on disk): the job
page answers meanwhile and says "Waiting for the queue", and the job resumes once Redis is back
(a worker's watch sends its lost chunks again), every person done exactly once.

A Redis of this test's own, on a free port, is killed and started again; a real worker (the
harness of test_worker.py) and this test's sends and cache use it.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from django.urls import reverse

from jobs.models import ChunkState, Job, JobState
from tests.factories import PersonFactory
from tests.jobs.test_worker import assert_each_done_once, start
from tests.jobs.worker_harness import Worker, wait_for

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]
REDIS_SERVER = "/usr/bin/redis-server"
# Seconds without a finished chunk after which the worker's watch sends a job again.
STALLED_AFTER = 2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateRedis:
    """A redis-server that keeps nothing on disk, on ``port``, in a directory of its own."""

    def __init__(self, port: int, directory: Path):
        self.port = port
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            cwd=self.directory,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.1)
        self.kill()
        pytest.fail(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        """SIGKILL: every queued message is lost."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path):
    if not shutil.which(REDIS_SERVER):
        pytest.skip("redis-server is not installed")
    directory = tmp_path / "redis"
    directory.mkdir()
    server = PrivateRedis(free_port(), directory)
    server.start()
    yield server
    server.kill()


@pytest.fixture
def on_private_redis(settings, redis_server):
    """This test sends, and caches, on the private Redis."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = redis_server.url
    settings.CELERY_TASK_DEFAULT_QUEUE = "jobs-outage"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_server.url,
            "KEY_PREFIX": "outage",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    return redis_server


@pytest.fixture
def worker(on_private_redis, tmp_path):
    started = Worker(
        "jobs-outage",
        tmp_path / "worker.log",
        chunk_size=1,
        redis_url=on_private_redis.url,
        extra={"JOB_STALLED_AFTER": str(STALLED_AFTER)},
    )
    started.start()
    yield started
    started.stop()


def test_a_job_survives_redis_stopping_in_the_middle_of_it(
    on_private_redis, worker, viewer_client, operator_actor, tmp_path
):
    people = PersonFactory.create_batch(30)
    job = start(people, operator_actor, sleep=0.2)
    deadline = time.monotonic() + 60
    while Job.objects.get(pk=job.pk).done < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    on_private_redis.kill()
    job.refresh_from_db()
    assert job.state == JobState.RUNNING and 5 <= job.done < 30

    for name in ("populations:job_detail", "populations:job_progress"):
        began = time.monotonic()
        response = viewer_client.get(reverse(name, args=[job.pk]))
        assert response.status_code == 200
        assert time.monotonic() - began < 5
        assert 'data-testid="job-queue-down">Waiting for the queue' in response.content.decode()

    time.sleep(1)  # the chunk under way ends; nothing else can move without the queue
    stopped_at = Job.objects.get(pk=job.pk).done
    time.sleep(STALLED_AFTER + 1)
    assert Job.objects.get(pk=job.pk).done == stopped_at < 30  # the messages are lost

    on_private_redis.start()  # the same port, empty
    back = time.monotonic()
    job = wait_for(job, {JobState.DONE, JobState.FAILED}, seconds=90, log=tmp_path / "worker.log")
    assert job.state == JobState.DONE, job.error
    assert time.monotonic() - back < 90
    assert set(job.chunks.values_list("state", flat=True)) == {ChunkState.DONE}
    assert_each_done_once(job, people)
    response = viewer_client.get(reverse("populations:job_progress", args=[job.pk]))
    assert "Waiting for the queue" not in response.content.decode()
