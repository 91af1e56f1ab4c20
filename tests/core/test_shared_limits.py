"""Rate limits and the sign-in lockout across gunicorn workers, counted in the real Redis.

gunicorn serves the portal with production settings (DEBUG off) and three worker processes,
on a PostgreSQL database made for this module, with REDIS_URL naming the Redis the suite uses
(scripts/redis.sh) and a key prefix of its own, deleted after each test. Every request opens
its own connection, so the kernel spreads them over the workers. Low rates come from the
environment: API_THROTTLE_RATE=20/min, DEVICE_THROTTLE_RATE=10/min.

- TRUSTED_PROXY_COUNT=0 (the default): the client is the connection's address and
  X-Forwarded-For, which anyone can send, changes nothing;
- TRUSTED_PROXY_COUNT=1: the right-most X-Forwarded-For entry (the one the proxy wrote) is the
  client; what a client wrote to its left changes nothing.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import psycopg
import pytest
import redis

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
# The interpreter running the tests, and the gunicorn installed beside it.
PYTHON = Path(sys.executable)
GUNICORN = PYTHON.with_name("gunicorn")
WORKERS = 3
API_RATE = 20
DEVICE_RATE = 10
APP_CODE = "limits-app"
PASSWORD = "correct-horse-battery"
# The key prefix of this module's servers (other runs may share the Redis).
KEYS = f"limits-{secrets.token_hex(4)}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


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


@dataclass
class Database:
    env: dict[str, str]
    api_key: str


@pytest.fixture(scope="module")
def database() -> Iterator[Database]:
    """A migrated database with a read key, an application and sixteen operators."""
    server_url = os.environ.get("DATABASE_URL", "")
    if not server_url.startswith(("postgres://", "postgresql://")):
        pytest.skip("needs PostgreSQL (DATABASE_URL): gunicorn runs against a real database")
    name = f"portal_limits_{secrets.token_hex(4)}"
    admin_url = _with_database(server_url, "postgres")
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": _with_database(server_url, name),
        "SECRET_KEY": "limits-test-" + secrets.token_urlsafe(40),
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "LOG_LEVEL": "WARNING",
        "REDIS_URL": os.environ["REDIS_URL"],
        "API_THROTTLE_RATE": f"{API_RATE}/min",
        "DEVICE_THROTTLE_RATE": f"{DEVICE_RATE}/min",
    }
    try:
        _manage(env, "migrate", "--noinput", "-v0")
        api_key = _manage(env, "create_api_key", "limits", "--role", "read")
        _manage(env, "create_application", "Limits", "--code", APP_CODE)
        _manage(
            env,
            "shell",
            "-c",
            "from django.contrib.auth.models import User\n"
            "for n in range(16):\n"
            f"    User.objects.create_user(f'operator{{n}}', password={PASSWORD!r})",
        )
        yield Database(env, api_key)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Served:
    def __init__(self, port: int, prefix: str, api_key: str) -> None:
        self.port = port
        self.prefix = prefix
        self.api_key = api_key

    def request(
        self, method: str, path: str, headers: dict[str, str], body: str | None = None
    ) -> http.client.HTTPResponse:
        """One request on a connection of its own (any worker may take it)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            return response
        finally:
            connection.close()

    def api(self, forwarded_for: str | None = None) -> int:
        headers = {"Authorization": f"App {self.api_key}"}
        if forwarded_for:
            headers["X-Forwarded-For"] = forwarded_for
        return self.request("GET", "/people/2/tags", headers).status

    def device(self, forwarded_for: str) -> int:
        """A device request (for an unknown installation: 404 when let through)."""
        headers = {"Authorization": f"App {APP_CODE}", "X-Forwarded-For": forwarded_for}
        return self.request("GET", "/mobile/1/appinstance/no-such-device", headers).status

    def sign_in(self, username: str, password: str, forwarded_for: str) -> int:
        """The sign-in form, as a browser posts it (the CSRF cookie and token first)."""
        page = self.request("GET", "/accounts/login/", {"X-Forwarded-For": forwarded_for})
        cookie = re.search(r"csrftoken=([^;]+)", page.getheader("Set-Cookie") or "").group(1)
        body = urlencode(
            {"csrfmiddlewaretoken": cookie, "username": username, "password": password}
        )
        headers = {
            "X-Forwarded-For": forwarded_for,
            "Cookie": f"csrftoken={cookie}",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        return self.request("POST", "/accounts/login/", headers, body).status


def _serve(database: Database, trusted_proxies: int) -> Iterator[Served]:
    port = _free_port()
    prefix = f"{KEYS}-proxies-{trusted_proxies}"
    env = {**database.env, "TRUSTED_PROXY_COUNT": str(trusted_proxies), "CACHE_KEY_PREFIX": prefix}
    log_fd, log_name = tempfile.mkstemp(prefix="gunicorn-limits-", suffix=".log")
    log = Path(log_name)
    process = subprocess.Popen(
        [str(GUNICORN), "portal.wsgi:application", "--workers", str(WORKERS)]
        + ["--bind", f"127.0.0.1:{port}", "--no-control-socket"],
        cwd=ROOT,
        env=env,
        stdout=log_fd,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited: {log.read_text()[-3000:]}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/health")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not become healthy: {log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield Served(port, prefix, database.api_key)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        os.close(log_fd)
        log.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def direct(database) -> Iterator[Served]:
    """No proxy in front (TRUSTED_PROXY_COUNT=0)."""
    yield from _serve(database, trusted_proxies=0)


@pytest.fixture(scope="module")
def proxied(database) -> Iterator[Served]:
    """One trusted proxy in front (TRUSTED_PROXY_COUNT=1)."""
    yield from _serve(database, trusted_proxies=1)


@pytest.fixture(autouse=True)
def _fresh_counts(database) -> Iterator[None]:
    """Each test starts with no request counted and no failed sign-in recorded."""

    def forget() -> None:
        client = redis.Redis.from_url(os.environ["REDIS_URL"])
        keys = list(client.scan_iter(match=f"{KEYS}-*", count=1000))
        if keys:
            client.delete(*keys)
        with psycopg.connect(database.env["DATABASE_URL"], autocommit=True) as connection:
            connection.execute("DELETE FROM axes_accessattempt")

    forget()
    yield
    forget()


def at_once(calls, clients: int = 12) -> Counter:
    with ThreadPoolExecutor(max_workers=clients) as pool:
        return Counter(pool.map(lambda call: call(), calls))


def test_a_burst_of_key_requests_through_several_workers_gets_exactly_the_rate(direct):
    statuses = at_once([direct.api] * (3 * API_RATE))
    assert statuses == {200: API_RATE, 429: 2 * API_RATE}


def test_forty_device_requests_with_forty_forwarded_for_values_get_429_after_the_rate(direct):
    statuses = at_once([lambda n=n: direct.device(f"198.51.100.{n}") for n in range(40)], clients=8)
    assert statuses == {404: DEVICE_RATE, 429: 40 - DEVICE_RATE}


def test_behind_a_trusted_proxy_each_client_address_has_its_own_bucket(proxied):
    # Client A writes a different address of its own each time; the proxy appends A's.
    a = [lambda n=n: proxied.device(f"10.9.8.{n}, 198.51.100.1") for n in range(15)]
    b = [lambda: proxied.device("198.51.100.2")] * 15
    statuses = at_once(a + b, clients=8)
    assert statuses == {404: 2 * DEVICE_RATE, 429: 30 - 2 * DEVICE_RATE}
    # Each address got its rate: A's own 15 requests were not all let through.
    assert at_once([lambda: proxied.device("203.0.113.50, 198.51.100.1")]) == {429: 1}
    assert at_once([lambda: proxied.device("198.51.100.3")]) == {404: 1}


def test_sixty_failed_sign_ins_over_fifteen_usernames_lock_the_address_on_every_worker(proxied):
    spray = [
        lambda n=n: proxied.sign_in(f"operator{n % 15}", "wrong password", "198.51.100.66")
        for n in range(60)
    ]
    statuses = at_once(spray, clients=6)
    # At most the limit and the requests already under way when it was reached got through.
    assert statuses[429] >= 60 - 20 - 6, statuses
    # A sixteenth operator's right password, from that address, meets the lockout page...
    assert proxied.sign_in("operator15", PASSWORD, "198.51.100.66") == 429
    # ... while another client behind the same proxy signs in.
    assert proxied.sign_in("operator15", PASSWORD, "198.51.100.67") == 302
