"""`make serve` serves the portal as in production: gunicorn, static files from WhiteNoise.

The test runs the Makefile target itself (without its install step: the test runs from the
installed environment) with production settings from the environment only: DEBUG off, a
generated SECRET_KEY, ALLOWED_HOSTS, Redis, two workers, and a TLS-terminating proxy in front
(TRUST_X_FORWARDED_PROTO, the proxy's X-Forwarded-Proto header).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
# The environment of the interpreter running the tests (`make serve` takes its gunicorn).
VENV = Path(sys.executable).parent.parent
# The served portal reads the test database: it must exist even when this module runs alone.
pytestmark = [pytest.mark.django_db, pytest.mark.slow]
STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(tmp_path: Path) -> str:
    """The test database for PostgreSQL (the health check reads the people table); an empty
    SQLite file otherwise (the test run's SQLite database lives in memory)."""
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        return (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    return f"sqlite:///{tmp_path / 'serve.sqlite3'}"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url: str, headers: dict[str, str] | None = None):
    """(status, headers, body) without following redirects."""
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.fixture(scope="module")
def serve_dir(tmp_path_factory) -> Path:
    """The folder of the served portal's files; its output (error and access log) in serve.log."""
    return tmp_path_factory.mktemp("serve")


@pytest.fixture(scope="module")
def served(django_db_setup, serve_dir):
    """The base URL of `make serve` running in the background (once for this module)."""
    tmp_path = serve_dir
    port = free_port()
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "LANG": "C.UTF-8",
        # Production settings: nothing but what an operator would set (no DEBUG).
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url(tmp_path),
        "TRUST_X_FORWARDED_PROTO": "1",
        "WEB_CONCURRENCY": "2",
        # The shared store of the rate limits (required with DEBUG off), under keys of its own.
        "REDIS_URL": os.environ["REDIS_URL"],
        "CACHE_KEY_PREFIX": f"serve-{secrets.token_hex(4)}",
        # Several servers may run on this machine at once.
        "GUNICORN_CMD_ARGS": "--no-control-socket",
    }
    log = tmp_path / "serve.log"
    if connection.vendor != "postgresql":
        # A deployment migrates before serving (README, Production); /health reads people.
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=ROOT,
            env=environment,
            check=True,
        )
    process = subprocess.Popen(
        # The interpreter running the tests and its environment, installed already.
        [
            "make",
            "-o",
            f"{VENV}/.installed",
            "serve",
            f"VENV={VENV}",
            f"PY={sys.executable}",
            f"PORT={port}",
        ],
        cwd=ROOT,
        env=environment,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                fetch(base + "/health")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"make serve did not start:\n{log.read_text()}")
                time.sleep(0.2)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


BEHIND_TLS = {"X-Forwarded-Proto": "https"}


def test_make_serve_answers_health_and_serves_compressed_static_files(served):
    status, _, body = fetch(served + "/health")
    assert status == 200, body
    assert b'"status": "ok"' in body

    status, headers, body = fetch(served + "/static/css/portal.css", BEHIND_TLS)
    assert status == 200
    assert headers["Content-Type"].startswith("text/css")
    assert (ROOT / "static/css/portal.css").read_bytes() == body

    # collectstatic made the compressed copies that WhiteNoise sends to browsers asking.
    status, headers, _ = fetch(
        served + "/static/css/portal.css", {**BEHIND_TLS, "Accept-Encoding": "gzip"}
    )
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    status, _, _ = fetch(served + "/static/admin/css/base.css", BEHIND_TLS)
    assert status == 200


def test_make_serve_runs_with_the_production_transport_settings(served):
    # Plain HTTP goes to HTTPS; behind the proxy, pages carry HSTS and need a sign-in.
    status, headers, _ = fetch(served + "/dashboard/")
    assert status == 301
    assert headers["Location"].startswith("https://")
    status, headers, _ = fetch(served + "/dashboard/", BEHIND_TLS)
    assert status == 302
    assert "/accounts/login/" in headers["Location"]
    assert "max-age=31536000" in headers["Strict-Transport-Security"]
    # DEBUG is off: an unknown page is a plain 404, not Django's debug page.
    status, _, body = fetch(served + "/no-such-page", BEHIND_TLS)
    assert status == 404
    assert b"URLconf" not in body


# Personal data that requests put in their URLs (issue 24, item 13: `make serve` logged them).
PERSONAL_URLS = [
    "/people/2/persons?identifier=jane.doe%40example.com&type=EMAIL",
    "/people/2/persons?phone=%2B385916419710",
    "/people/2/persons?externalId=crm-jane-4711",
    "/?q=jane.doe%40example.com",
    "/mobile/1/appinstance/push-reg-8c1f0e?sender=app-code-5e9a27",
    "/mobile/1/appinstance/push-reg-8c1f0e/personalize?sender=app-code-5e9a27",
    "/people/2/contactInformation/push/push-reg-8c1f0e",
    "/people/2/tags/jane.doe@example.com",
]
PERSONAL_DATA = [
    "jane.doe",
    "example.com",
    "385916419710",
    "crm-jane-4711",
    "push-reg-8c1f0e",
    "app-code-5e9a27",
    "referring.person",
]


def test_the_access_log_carries_no_personal_data_from_urls(served, serve_dir):
    referer = {**BEHIND_TLS, "Referer": served + "/?q=referring.person%40example.com"}
    for url in PERSONAL_URLS:
        fetch(served + url, referer)
    fetch(served + "/health?last=request")
    log = serve_dir / "serve.log"
    deadline = time.monotonic() + 10
    while "/health?last " not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    text = log.read_text()

    assert [word for word in PERSONAL_DATA if word in text] == []
    # What stays: the method, the path, the names of the query's parameters, the status.
    assert '"GET /people/2/persons?identifier&type HTTP/1.1" 401' in text
    assert '"GET /mobile/1/appinstance/[device]?sender HTTP/1.1" 401' in text
    assert '"GET /people/2/contactInformation/push/[device] HTTP/1.1"' in text
    assert '"GET /?q HTTP/1.1" 302' in text
