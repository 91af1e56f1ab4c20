"""Concurrency over real HTTP (issue 8, item 2).

The app runs under gunicorn with 4 worker processes on a PostgreSQL database made for this
module (gunicorn is another process: pytest-django's test database is not visible to it).
Sixteen or more client threads send requests over loopback, as automation would:

- 400 set-primary requests over 5 installations of one person, while a reader checks in the
  database that the person has exactly one primary installation whenever it looks;
- 50 personalize requests for 10 anonymous installations with the same new phone;
- 200 tag and custom attribute writes to one person;
- 200 rounds of two PATCHes with the same If-Match.

No answer may be a 5xx. The figures are printed (pytest -s shows them).
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
import pytest

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
# The interpreter running the tests, and the gunicorn installed beside it.
PYTHON = Path(sys.executable)
GUNICORN = PYTHON.with_name("gunicorn")
CLIENTS = 16
WORKERS = 4
APP_CODE = "conc-app"
PHONE = "+385 91 641 9710"


# ---------------------------------------------------------------------------------------------
# The served app


@dataclass
class Served:
    base_port: int
    database_url: str
    api_key: str
    statuses: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        *,
        device: bool = False,
    ) -> tuple[int, dict[str, str], Any]:
        """One request on a fresh connection; (status, headers, JSON body or None)."""
        credential = APP_CODE if device else self.api_key
        all_headers = {"Authorization": f"App {credential}", **(headers or {})}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        connection = http.client.HTTPConnection("127.0.0.1", self.base_port, timeout=60)
        try:
            connection.request(method, path, body=payload, headers=all_headers)
            response = connection.getresponse()
            raw = response.read()
            status, response_headers = response.status, dict(response.getheaders())
        finally:
            connection.close()
        with self.lock:
            self.statuses[status] += 1
        parsed = json.loads(raw) if raw and raw[:1] in (b"{", b"[") else None
        return status, response_headers, parsed

    def push(self, push_id: str, suffix: str = "") -> str:
        return f"/people/2/contactInformation/push/{quote(push_id)}{suffix}"

    def query(self, sql: str, *params: Any) -> list[tuple]:
        with psycopg.connect(self.database_url, autocommit=True) as connection:
            return connection.execute(sql, params).fetchall()


def _postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [str(PYTHON), "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip()


def _wait_until_healthy(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited: {log.read_text()[-3000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"gunicorn did not become healthy: {log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    server_url = _postgres_url()
    if server_url is None:
        pytest.skip("needs PostgreSQL (DATABASE_URL): gunicorn runs against a real database")
    name = f"portal_conc_{secrets.token_hex(4)}"
    admin_url = _with_database(server_url, "postgres")
    database_url = _with_database(server_url, name)
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    process = None
    log_fd, log_name = tempfile.mkstemp(prefix="gunicorn-", suffix=".log")
    log = Path(log_name)
    try:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "concurrency-test-" + secrets.token_urlsafe(40),
            "DEBUG": "0",
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "API_THROTTLE_RATE": "1000000/min",
            "LOG_LEVEL": "WARNING",
        }
        _manage(env, "migrate", "--noinput", "-v0")
        api_key = _manage(env, "create_api_key", "concurrency", "--role", "manage")
        _manage(env, "create_application", "Concurrency", "--code", APP_CODE)
        port = _free_port()
        process = subprocess.Popen(
            [
                str(GUNICORN),
                "portal.wsgi:application",
                "--workers",
                str(WORKERS),
                "--bind",
                f"127.0.0.1:{port}",
                "--timeout",
                "60",
            ],
            cwd=ROOT,
            env=env,
            stdout=log_fd,
            stderr=subprocess.STDOUT,
        )
        _wait_until_healthy(port, process, log)
        yield Served(port, database_url, api_key)
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        os.close(log_fd)
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        log.unlink(missing_ok=True)


def run_clients(calls: list[Callable[[], Any]], clients: int = CLIENTS) -> list[Any]:
    """Run the calls from ``clients`` threads at once; their results in order."""
    with ThreadPoolExecutor(max_workers=clients) as pool:
        return list(pool.map(lambda call: call(), calls))


def register(served: Served, push_id: str) -> None:
    status, _, body = served.request(
        "POST", "/mobile/1/appinstance", {"pushRegId": push_id}, device=True
    )
    assert status == 201, body


def no_server_errors(statuses: list[int]) -> None:
    assert not [status for status in statuses if status >= 500], Counter(statuses)


def report(
    what: str, count: int, seconds: float, statuses: list[int], clients: int = CLIENTS
) -> None:
    print(
        f"\n{what}: {count} requests from {clients} clients in {seconds:.1f} s "
        f"({count / seconds:.0f}/s), statuses {dict(Counter(statuses))}",
        file=sys.stderr,
    )


# ---------------------------------------------------------------------------------------------
# The workloads


def test_four_hundred_set_primary_requests_keep_exactly_one_primary_at_every_moment(served):
    push_ids = [f"conc-primary-{n}" for n in range(5)]
    for push_id in push_ids:
        register(served, push_id)
        status, _, body = served.request(
            "POST",
            served.push(push_id, "/personalize"),
            {"identity": {"externalId": "conc-primary-owner"}},
            {"AppCode": APP_CODE},
        )
        assert status == 200, body
    status, _, _ = served.request(
        "PATCH", served.push(push_ids[0]), {"isPrimary": True}, {"AppCode": APP_CODE}
    )
    assert status == 200
    (person_id,) = served.query(
        "SELECT id FROM people_person WHERE external_id = %s", "conc-primary-owner"
    )[0]

    done = threading.Event()
    seen: list[int] = []

    def reader() -> None:
        with psycopg.connect(served.database_url, autocommit=True) as connection:
            while not done.is_set():
                (count,) = connection.execute(
                    "SELECT count(*) FROM installations_installation"
                    " WHERE person_id = %s AND is_primary",
                    (person_id,),
                ).fetchone()
                seen.append(count)
                time.sleep(0.002)  # look often, but leave the CPU to the server

    reader_thread = threading.Thread(target=reader)
    reader_thread.start()
    started = time.monotonic()
    try:
        statuses = run_clients(
            [
                lambda push_id=push_ids[n % 5]: served.request(
                    "PATCH", served.push(push_id), {"isPrimary": True}, {"AppCode": APP_CODE}
                )[0]
                for n in range(400)
            ]
        )
    finally:
        done.set()
        reader_thread.join(timeout=30)
    report("set primary", 400, time.monotonic() - started, statuses)

    no_server_errors(statuses)
    assert statuses == [200] * 400
    assert len(seen) > 10, "the reader should have looked many times"
    assert set(seen) == {1}, Counter(seen)
    primaries = served.query(
        "SELECT push_registration_id FROM installations_installation"
        " WHERE person_id = %s AND is_primary",
        person_id,
    )
    assert len(primaries) == 1 and primaries[0][0] in push_ids


def test_fifty_personalize_requests_with_one_new_phone_leave_one_owner_of_all_ten(served):
    push_ids = [f"conc-phone-{n}" for n in range(10)]
    for push_id in push_ids:
        register(served, push_id)

    started = time.monotonic()
    results = run_clients(
        [
            lambda push_id=push_ids[n % 10]: served.request(
                "POST",
                served.push(push_id, "/personalize"),
                {"identity": {"phoneNumber": PHONE}},
                {"AppCode": APP_CODE},
            )
            for n in range(50)
        ]
    )
    statuses = [status for status, _, _ in results]
    report("personalize", 50, time.monotonic() - started, statuses)

    no_server_errors(statuses)
    assert statuses == [200] * 50, [body for status, _, body in results if status != 200]
    owners = served.query(
        "SELECT DISTINCT person_id FROM installations_installation"
        " WHERE push_registration_id = ANY(%s)",
        push_ids,
    )
    phone_owner = served.query(
        "SELECT person_id FROM people_contactidentity WHERE kind = 'PHONE' AND value = %s",
        "385916419710",
    )
    assert len(owners) == 1
    assert phone_owner == owners
    # Every answer names the same person: the one with the phone.
    assert all(
        body["contactInformation"]["phones"] == [{"number": "385916419710"}]
        for _, _, body in results
    ), results[0][2]


def test_two_hundred_tag_and_attribute_writes_to_one_person_are_all_kept_and_recorded(served):
    old_tags = [f"old-{n}" for n in range(50)]
    status, _, person = served.request(
        "POST", "/people/2/persons", {"externalId": "conc-tags", "tags": old_tags}
    )
    assert status == 200, person
    attributes = [f"Counter{n}" for n in range(4)]
    for name in attributes:
        status, _, body = served.request(
            "POST", "/people/2/customAttributes", {"name": name, "dataType": "INTEGER"}
        )
        assert status == 200, body
    (last_event,) = served.query("SELECT coalesce(max(id), 0) FROM people_event")[0]
    by_id = f"/people/2/persons?identifier={person['id']}&type=ID"

    writes: list[Callable[[], int]] = []
    for n in range(50):
        writes.append(lambda n=n: served.request("PATCH", by_id, {"tags": [f"new-{n}"]})[0])
        writes.append(
            lambda n=n: served.request(
                "DELETE",
                f"/people/2/tags/old-{n}/persons",
                {"people": [{"query": {"identifier": "conc-tags", "type": "EXTERNAL_ID"}}]},
            )[0]
        )
    for n in range(100):
        name = attributes[n % 4]
        writes.append(
            lambda name=name, n=n: served.request(
                "PATCH", by_id, {"customAttributes": {name: 1000 + n}}
            )[0]
        )
    started = time.monotonic()
    statuses = run_clients(writes)
    report("tag and attribute writes", len(writes), time.monotonic() - started, statuses)

    no_server_errors(statuses)
    assert statuses == [200] * 200
    events = served.query(
        "SELECT kind, changes FROM people_event WHERE person_id = %s AND id > %s ORDER BY id",
        person["id"],
        last_event,
    )
    # Every write changed something, so every write left one event.
    assert Counter(kind for kind, _ in events) == {
        "TAGS_CHANGED": 100,
        "CUSTOM_ATTRIBUTES_CHANGED": 100,
    }
    # The final state is the last recorded write of each tag and attribute.
    last_tag_write: dict[str, bool] = {}
    last_value: dict[str, int] = {}
    for _kind, changes in events:
        for name in changes.get("tags", {}).get("added", []):
            last_tag_write[name] = True
        for name in changes.get("tags", {}).get("removed", []):
            last_tag_write[name] = False
        for name, change in changes.get("customAttributes", {}).items():
            last_value[name] = change["after"]
    status, _, final = served.request("GET", by_id)
    assert status == 200
    assert sorted(final["tags"]) == sorted(name for name, on in last_tag_write.items() if on)
    assert sorted(final["tags"]) == sorted(f"new-{n}" for n in range(50))
    assert final["customAttributes"] == last_value
    assert set(last_value) == set(attributes)


def test_two_patches_with_the_same_if_match_one_wins_and_one_gets_412_every_round(served):
    rounds = 200
    status, headers, person = served.request(
        "POST", "/people/2/persons", {"externalId": "conc-if-match", "firstName": "Start"}
    )
    assert status == 200
    by_id = f"/people/2/persons?identifier={person['id']}&type=ID"
    etag = headers["ETag"]
    outcomes: list[tuple[int, int]] = []
    lost = 0
    all_statuses: list[int] = []
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        for round_number in range(rounds):
            barrier = threading.Barrier(2)

            def patch(
                name: str, tag: str = etag, barrier: threading.Barrier = barrier
            ) -> tuple[int, dict[str, str], Any]:
                barrier.wait(timeout=30)
                return served.request("PATCH", by_id, {"firstName": name}, {"If-Match": tag})

            names = (f"A{round_number}", f"B{round_number}")
            results = list(pool.map(patch, names))
            statuses = [status for status, _, _ in results]
            all_statuses += statuses
            outcomes.append(tuple(sorted(statuses)))
            winners = [
                name for name, (status, _, _) in zip(names, results, strict=True) if status == 200
            ]
            if len(winners) != 1:
                continue
            (winner,) = winners
            etag = next(h["ETag"] for status, h, _ in results if status == 200)
            stored = served.query(
                "SELECT first_name FROM people_person WHERE id = %s", person["id"]
            )
            lost += stored[0][0] != winner
    report("If-Match rounds", 2 * rounds, time.monotonic() - started, all_statuses, clients=2)

    no_server_errors(all_statuses)
    assert Counter(outcomes) == {(200, 412): rounds}
    assert lost == 0
    (version,) = served.query("SELECT version FROM people_person WHERE id = %s", person["id"])[0]
    assert version == 1 + rounds
    assert etag == f'W/"{person["id"]}-{version}"'
