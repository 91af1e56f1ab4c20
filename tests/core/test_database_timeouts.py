"""A slow or locked database answers 503 within seconds instead of holding every worker.

Web requests run with PostgreSQL's statement_timeout and lock_timeout (DB_STATEMENT_TIMEOUT_MS,
DB_LOCK_TIMEOUT_MS); /health with its own shorter one (HEALTH_DB_TIMEOUT_MS). The lock is real:
another connection, in a thread, holds ``LOCK TABLE people_person IN ACCESS EXCLUSIVE MODE``
as a migration or a stuck transaction would (issue 24, item 8: every request waited 26-29 s,
/health 22.6 s answering "ok").
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from core.models import ApiKey, ApiKeyRole
from tests.core.test_serve import fetch, free_port
from tests.factories import PersonFactory

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

# The default lock_timeout (3 s) plus the time a loaded machine takes to answer; /health's
# own timeout (1 s) plus the same margin.
FEW_SECONDS = 6
HEALTH_SECONDS = 3


@pytest.fixture
def client():
    # Like the real server: an exception becomes the handler's response.
    return Client(raise_request_exception=False)


def other_connection() -> psycopg.Connection:
    db = connection.settings_dict
    return psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"] or None,
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
    )


@contextmanager
def table_locked(table: str = "people_person") -> Iterator[None]:
    """Another connection, in its own thread, holds an ACCESS EXCLUSIVE lock on the table
    (no one may even read it) until the block ends."""
    locked, release = threading.Event(), threading.Event()
    failure: list[BaseException] = []

    def hold() -> None:
        try:
            with other_connection() as holder:
                holder.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
                locked.set()
                release.wait(60)
                holder.rollback()
        except BaseException as error:  # reported by the test, not lost in the thread
            failure.append(error)
            locked.set()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert locked.wait(10)
        assert failure == []
        yield
    finally:
        release.set()
        thread.join(10)


def timed(send) -> tuple[object, float]:
    started = time.monotonic()
    response = send()
    return response, time.monotonic() - started


def test_a_page_answers_503_with_retry_after_within_seconds_while_its_table_is_locked(
    client, editor
):
    person = PersonFactory(first_name="Jane")
    client.force_login(editor)
    url = reverse("people:detail", args=[person.pk])
    assert client.get(url).status_code == 200

    with table_locked():
        response, seconds = timed(lambda: client.get(url))
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "Temporarily unavailable" in response.content.decode()
    assert seconds < FEW_SECONDS

    assert client.get(url).status_code == 200


def test_the_api_answers_503_in_the_vendor_body_within_seconds_while_its_table_is_locked(client):
    person = PersonFactory(first_name="Jane", external_id="jane-1")
    _, key = ApiKey.issue(name="crm-sync", role=ApiKeyRole.READ)
    url = "/people/2/persons?type=EXTERNAL_ID&identifier=jane-1"
    headers = {"HTTP_AUTHORIZATION": f"App {key}"}
    assert client.get(url, **headers).status_code == 200

    with table_locked():
        response, seconds = timed(lambda: client.get(url, **headers))
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    exception = response.json()["requestError"]["serviceException"]
    assert exception["messageId"] == "SERVICE_UNAVAILABLE"
    assert "did not answer in time" in exception["text"]
    assert seconds < FEW_SECONDS

    response = client.get(url, **headers)
    assert response.status_code == 200
    assert response.json()["id"] == person.pk


def test_health_reports_the_database_down_within_its_own_short_timeout_while_people_are_locked(
    client,
):
    assert client.get(reverse("health")).status_code == 200

    with table_locked():
        response, seconds = timed(lambda: client.get(reverse("health")))
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "timeout"}
    assert response["Retry-After"] == "5"
    assert seconds < HEALTH_SECONDS

    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def timeouts_seen_by(*command: str) -> str:
    """statement_timeout and lock_timeout as a process started with the project's own
    settings (not the tests') sees them on its database connection."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "SECRET_KEY": "x" * 50,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "REDIS_URL": os.environ["REDIS_URL"],  # production settings require it
    }
    result = subprocess.run(
        [sys.executable, *command], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


SHOW_TIMEOUTS = (
    "from django.db import connection\n"
    "with connection.cursor() as cursor:\n"
    "    cursor.execute(\"SELECT string_agg(setting, ' ' ORDER BY name DESC) FROM pg_settings\"\n"
    "                   \" WHERE name IN ('statement_timeout', 'lock_timeout')\")\n"
    "    print(*cursor.fetchone())\n"
)


def test_the_web_process_runs_with_the_timeouts_and_management_commands_without(db):
    served = timeouts_seen_by("-c", "import portal.wsgi\n" + SHOW_TIMEOUTS)
    assert served == "5000 3000"  # the defaults of DB_STATEMENT_TIMEOUT_MS, DB_LOCK_TIMEOUT_MS
    # migrate, generate_people, prune_name_terms: PostgreSQL's defaults (no limit).
    assert timeouts_seen_by("manage.py", "shell", "-c", SHOW_TIMEOUTS) == "0 0"


@pytest.fixture
def gunicorn_one_worker(tmp_path) -> Iterator[str]:
    """gunicorn with one worker (so every request meets the same database connection) and
    production settings; its base URL."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    port = free_port()
    log = tmp_path / "gunicorn.log"
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "portal.wsgi:application",
            "--workers=1",
            f"--bind=127.0.0.1:{port}",
            "--no-control-socket",
        ],
        cwd=ROOT,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "SECRET_KEY": "x" * 50,
            "DATABASE_URL": url,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",
            "REDIS_URL": os.environ["REDIS_URL"],
            "CACHE_KEY_PREFIX": f"timeouts-{port}",  # its own counters
        },
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                fetch(base + "/health")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not start:\n{log.read_text()}")
                time.sleep(0.2)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def close_the_portals_connections_on_the_server() -> int:
    """What a database restart or a proxy's idle timeout does to the portal's idle connection
    (every connection to the test database but this test's own two)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        tests_own = cursor.fetchone()[0]
    with other_connection() as admin:
        closed = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid NOT IN (pg_backend_pid(), %s)",
            [tests_own],
        ).fetchone()[0]
    return closed


@pytest.mark.slow
def test_a_connection_the_server_closed_while_idle_costs_no_request_a_503(gunicorn_one_worker):
    _, key = ApiKey.issue(name="crm-sync", role=ApiKeyRole.READ)
    api = gunicorn_one_worker + "/people/2/persons?limit=1"
    headers = {"Authorization": f"App {key}"}
    assert fetch(api, headers)[0] == 200

    assert close_the_portals_connections_on_the_server() >= 1
    assert fetch(api, headers)[0] == 200

    assert close_the_portals_connections_on_the_server() >= 1
    status, _, body = fetch(gunicorn_one_worker + "/health")
    assert (status, json.loads(body)) == (200, {"status": "ok", "database": "ok"})


@pytest.mark.slow
def test_the_served_portal_answers_health_503_within_seconds_while_people_are_locked(
    gunicorn_one_worker,
):
    with table_locked():
        started = time.monotonic()
        status, headers, body = fetch(gunicorn_one_worker + "/health")
        seconds = time.monotonic() - started
    assert (status, json.loads(body)) == (503, {"status": "unavailable", "database": "timeout"})
    assert headers["Retry-After"] == "5"
    assert seconds < HEALTH_SECONDS
    assert fetch(gunicorn_one_worker + "/health")[0] == 200
