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
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(tmp_path: Path) -> str:
    """The test database for PostgreSQL (the health check only asks it SELECT 1); an empty
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
def served(django_db_setup, tmp_path_factory):
    """The base URL of `make serve` running in the background (once for this module)."""
    tmp_path = tmp_path_factory.mktemp("serve")
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
    process = subprocess.Popen(
        ["make", "-o", ".venv/.installed", "serve", f"PORT={port}"],
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
    assert status == 200
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
