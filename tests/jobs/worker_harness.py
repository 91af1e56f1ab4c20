"""A real Celery worker for the tests (a subprocess, as `make worker` runs it) over the run's
Redis and the test database, and the fixtures that start it: ``queue`` (this test's queue,
the test process sends there) and ``workers`` (start one or more; all stopped after the test).

A test that uses them commits what it writes (``django_db(transaction=True)``): the worker
connects to the same test database. Its broker is a Redis database of its own, on a queue
named for the test. The worker registers the tests' action (tests.jobs.worker_actions) beside
the real ones (the populations app registers them when it is ready).
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

from jobs.models import Job

ROOT = Path(__file__).resolve().parents[2]
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
