"""make loadtest: operators and API clients against the served app for a fixed time.

    make loadtest                                   # 60 s, 12 operators + 4 API clients
    LOADTEST_SECONDS=20 LOADTEST_CLIENTS=8 make loadtest

What it does, on the PostgreSQL server that `make test` uses (PG_URL, from scripts/pg.sh):

1. makes (or reuses) the database LOADTEST_DATABASE (default portal_loadtest), migrates it, and
   fills it with LOADTEST_PERSONS generated people (default 20,000; `generate_people`), unless
   that many are there already; creates the load test's operators (Editors) and an API key;
2. starts gunicorn on a free loopback port with production settings (DEBUG off, a fresh
   SECRET_KEY, secure cookies; the clients send X-Forwarded-Proto as a TLS proxy would) and
   WEB_CONCURRENCY workers (default 4);
3. signs the operators in, then for LOADTEST_SECONDS (default 60) every client sends requests
   back to back (no think time): operators search (by phone, email, externalId, push
   registration id, start of a name, a tag filter), open person pages and the dashboard, add
   and remove tags and make a device primary in place (htmx); API clients read people by
   externalId and phone, update names (PATCH), make push registrations primary (PATCH) and
   run filtered lists;
4. prints the throughput, p50/p95/max per kind and every error (a 5xx, an unexpected status, a
   timeout or a refused connection), writes the figures to bench/results/loadtest-*.json, and
   exits 1 when there was any error. Zero errors is the bar.

Environment: LOADTEST_SECONDS (60), LOADTEST_CLIENTS (16: three quarters operators, at least
one API client), LOADTEST_PERSONS (20000), LOADTEST_DATABASE (portal_loadtest),
WEB_CONCURRENCY (4), PG_URL (postgres://postgres@127.0.0.1:5432).
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import platform
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SECONDS = float(os.environ.get("LOADTEST_SECONDS") or 60)
CLIENTS = int(os.environ.get("LOADTEST_CLIENTS") or 16)
PERSONS = int(os.environ.get("LOADTEST_PERSONS") or 20_000)
DATABASE = os.environ.get("LOADTEST_DATABASE") or "portal_loadtest"
WORKERS = int(os.environ.get("WEB_CONCURRENCY") or 4)
PG_URL = (os.environ.get("PG_URL") or "postgres://postgres@127.0.0.1:5432").rstrip("/")
REQUEST_TIMEOUT = 30
PASSWORD = "load-test-passphrase-2026"
TAGS = [f"load-{n}" for n in range(8)]
SAMPLE = 300

# (kind, weight) of what an operator does next; and of what an API client does next.
OPERATOR_MIX = [
    ("search", 30),
    ("search as you type", 10),
    ("person page", 25),
    ("dashboard", 3),
    ("add tag", 10),
    ("remove tag", 7),
    ("set primary", 10),
    ("person history", 5),
]
API_MIX = [
    ("api get by externalId", 30),
    ("api get by phone", 15),
    ("api update name", 20),
    ("api set primary", 15),
    ("api filtered list", 10),
    ("api get push registration", 10),
]


# ---------------------------------------------------------------------------------------------
# Data


def environment(secret_key: str) -> dict[str, str]:
    """Production settings from the environment only: nothing of a developer's shell leaks in."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": f"{PG_URL}/{DATABASE}",
        "SECRET_KEY": secret_key,
        "ALLOWED_HOSTS": "127.0.0.1",
        "TRUST_X_FORWARDED_PROTO": "1",
        "LOG_LEVEL": "WARNING",
        # The rate limits' shared store (scripts/redis.sh, sourced by `make loadtest`).
        "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
        "CACHE_KEY_PREFIX": f"loadtest-{secrets.token_hex(4)}",
    }


def create_database() -> None:
    import psycopg

    with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE])
        if not exists.fetchone():
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
            print(f"Created database {DATABASE}")


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


@dataclass
class DataSet:
    operators: list[str]
    api_key: str
    person_ids: list[int]
    searches: list[str]
    external_ids: list[str]
    phones: list[str]
    # (installation id, push registration id, application code) of people with 2+ devices
    devices: list[tuple[int, str, str]]


def prepare_data(env: dict[str, str]) -> DataSet:
    """Migrate, generate people unless there are enough, make operators and a key."""
    create_database()
    manage(env, "migrate", "--noinput", "-v", "0")
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.db.models import Count

    from core import roles
    from core.models import ApiKey, ApiKeyRole
    from installations.models import Installation
    from people.models import ContactIdentity, Person

    generated = Person.objects.count()
    if generated < PERSONS:
        print(f"Generating {PERSONS} people (had {generated}) ...", flush=True)
        manage(env, "generate_people", "--persons", str(PERSONS), "--reset")

    operators = []
    editors = Group.objects.get(name=roles.EDITOR)
    for n in range(CLIENTS):
        username = f"loadtest-operator-{n}"
        user, _ = User.objects.get_or_create(username=username)
        user.set_password(PASSWORD)
        user.is_active = True
        user.save()
        user.groups.set([editors])
        operators.append(username)
    ApiKey.objects.filter(name="loadtest").delete()
    _, api_key = ApiKey.issue(name="loadtest", role=ApiKeyRole.MANAGE)

    def sample(queryset, *fields):
        return list(queryset.order_by("?").values_list(*fields)[:SAMPLE])

    people = [pk for (pk,) in sample(Person.objects.all(), "pk")]
    external_ids = [v for (v,) in sample(Person.objects.exclude(external_id=None), "external_id")]
    phones = [v for (v,) in sample(ContactIdentity.objects.filter(kind="PHONE"), "value")]
    emails = [v for (v,) in sample(ContactIdentity.objects.filter(kind="EMAIL"), "value")]
    push_ids = [v for (v,) in sample(Installation.objects.all(), "push_registration_id")]
    names = [v for (v,) in sample(Person.objects.exclude(last_name=""), "last_name")]
    several = Person.objects.annotate(devices=Count("installations")).filter(devices__gte=2)
    devices = sample(
        Installation.objects.filter(person__in=several.values("pk")[:2000]),
        "pk",
        "push_registration_id",
        "application__code",
    )
    searches = (
        [f"+{p}" for p in phones[:60]]
        + [e.upper() for e in emails[:60]]
        + external_ids[:60]
        + push_ids[:60]
        + [n[:4] for n in names[:60]]
    )
    return DataSet(operators, api_key, people, searches, external_ids, phones, devices)


# ---------------------------------------------------------------------------------------------
# The server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(env: dict[str, str], port: int) -> subprocess.Popen:
    command = [
        str(ROOT / ".venv/bin/gunicorn"),
        "portal.wsgi:application",
        "--workers",
        str(WORKERS),
        "--bind",
        f"127.0.0.1:{port}",
        "--no-control-socket",
        "--timeout",
        "60",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("gunicorn exited before it answered")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    stop_server(process)
    raise SystemExit("gunicorn did not answer /health within 60 seconds")


def stop_server(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


# ---------------------------------------------------------------------------------------------
# Clients


@dataclass
class Results:
    timings: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, seconds: float, error: str | None) -> None:
        with self.lock:
            self.timings[kind].append(seconds)
            if error:
                self.errors[kind].append(error)


class Browser:
    """One operator's browser behind the TLS proxy: cookies, the CSRF token, htmx headers."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.origin = f"https://127.0.0.1:{port}"
        self.cookies: dict[str, str] = {}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)

    def request(self, method: str, path: str, form: dict | None = None, htmx: bool = False):
        headers = {"X-Forwarded-Proto": "https", "Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if method == "POST":
            body = urlencode(form or {})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = self.origin
            headers["Referer"] = self.origin + path
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        if htmx:
            headers["HX-Request"] = "true"
            headers["HX-Current-URL"] = self.origin + path
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            content = response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()
            raise
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                cookie_name, _, rest = value.partition("=")
                self.cookies[cookie_name.strip()] = rest.split(";", 1)[0]
        return response.status, content

    def sign_in(self, username: str) -> None:
        self.request("GET", "/accounts/login/")
        status, _ = self.request(
            "POST",
            "/accounts/login/",
            {"username": username, "password": PASSWORD},
        )
        if status != 302 or "sessionid" not in self.cookies:
            raise SystemExit(f"{username} could not sign in (status {status})")


class Api:
    def __init__(self, port: int, key: str) -> None:
        self.port = port
        self.key = key
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)

    def request(self, method: str, path: str, body: dict | None = None, app_code: str = ""):
        headers = {
            "X-Forwarded-Proto": "https",
            "Authorization": f"App {self.key}",
            "Accept": "application/json",
        }
        if app_code:
            headers["AppCode"] = app_code
        payload = None
        if body is not None:
            payload = json.dumps(body)
            headers["Content-Type"] = "application/json"
        try:
            self.connection.request(method, path, body=payload, headers=headers)
            response = self.connection.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()
            raise


def timed(results: Results, kind: str, expected: set[int], call) -> None:
    started = time.perf_counter()
    error = None
    try:
        status, content = call()
        if status not in expected:
            snippet = content[:160].decode("utf-8", "replace").replace("\n", " ")
            error = f"status {status}: {snippet}"
    except (OSError, http.client.HTTPException) as exc:
        error = f"{type(exc).__name__}: {exc}"
    results.record(kind, time.perf_counter() - started, error)


def choose(mix: list[tuple[str, int]], rng: random.Random) -> str:
    kinds, weights = zip(*mix, strict=True)
    return rng.choices(kinds, weights)[0]


def operator_loop(browser: Browser, data: DataSet, deadline: float, results: Results, seed: int):
    rng = random.Random(seed)
    while time.monotonic() < deadline:
        kind = choose(OPERATOR_MIX, rng)
        person = rng.choice(data.person_ids)
        if kind == "search":
            query = rng.choice(data.searches)
            path = "/?" + urlencode({"q": query})
            timed(results, kind, {200}, lambda p=path: browser.request("GET", p))
        elif kind == "search as you type":
            query = rng.choice(data.searches)
            path = "/?" + urlencode({"q": query, "tags": rng.choice(TAGS[:3])})
            timed(results, kind, {200}, lambda p=path: browser.request("GET", p, htmx=True))
        elif kind == "person page":
            path = f"/person/{person}/"
            timed(results, kind, {200}, lambda p=path: browser.request("GET", p))
        elif kind == "person history":
            path = f"/person/{person}/history"
            timed(results, kind, {200}, lambda p=path: browser.request("GET", p, htmx=True))
        elif kind == "dashboard":
            timed(results, kind, {200}, lambda: browser.request("GET", "/dashboard/"))
        elif kind in ("add tag", "remove tag"):
            action = "add" if kind == "add tag" else "remove"
            path = f"/person/{person}/tags/{action}"
            form = {"name": rng.choice(TAGS)}
            timed(
                results,
                kind,
                {200},
                lambda p=path, f=form: browser.request("POST", p, f, htmx=True),
            )
        elif kind == "set primary":
            installation, _, _ = rng.choice(data.devices)
            path = f"/installations/{installation}/primary"
            form = {"is_primary": rng.choice(["true", "true", "false"])}
            timed(
                results,
                kind,
                {200},
                lambda p=path, f=form: browser.request("POST", p, f, htmx=True),
            )


def api_loop(api: Api, data: DataSet, deadline: float, results: Results, seed: int) -> None:
    rng = random.Random(seed)
    while time.monotonic() < deadline:
        kind = choose(API_MIX, rng)
        if kind == "api get by externalId":
            path = "/people/2/persons?" + urlencode({"externalId": rng.choice(data.external_ids)})
            timed(results, kind, {200}, lambda p=path: api.request("GET", p))
        elif kind == "api get by phone":
            path = "/people/2/persons?" + urlencode({"phone": rng.choice(data.phones)})
            timed(results, kind, {200}, lambda p=path: api.request("GET", p))
        elif kind == "api update name":
            path = "/people/2/persons?" + urlencode({"externalId": rng.choice(data.external_ids)})
            body = {"firstName": rng.choice(["Ana", "Marko", "Iva", "Luka"]), "tags": ["api"]}
            timed(results, kind, {200}, lambda p=path, b=body: api.request("PATCH", p, b))
        elif kind == "api set primary":
            _, push_id, app_code = rng.choice(data.devices)
            path = f"/people/2/contactInformation/push/{push_id}"
            body = {"isPrimary": True}
            timed(
                results,
                kind,
                {200},
                lambda p=path, b=body, a=app_code: api.request("PATCH", p, b, app_code=a),
            )
        elif kind == "api get push registration":
            _, push_id, app_code = rng.choice(data.devices)
            path = f"/people/2/contactInformation/push/{push_id}"
            timed(results, kind, {200}, lambda p=path, a=app_code: api.request("GET", p, None, a))
        elif kind == "api filtered list":
            query = {"#contains": {"tags": rng.choice(TAGS + ["api"])}}
            path = "/people/2/persons?" + urlencode({"filter": json.dumps(query), "limit": 20})
            timed(results, kind, {200}, lambda p=path: api.request("GET", p))


# ---------------------------------------------------------------------------------------------
# Report


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def report(results: Results, elapsed: float, operators: int, api_clients: int) -> dict:
    total = sum(len(v) for v in results.timings.values())
    errors = sum(len(v) for v in results.errors.values())
    rows = []
    for kind, _ in OPERATOR_MIX + API_MIX:
        values = results.timings.get(kind, [])
        if not values:
            continue
        rows.append(
            {
                "kind": kind,
                "requests": len(values),
                "per_second": len(values) / elapsed,
                "p50_ms": statistics.median(values) * 1000,
                "p95_ms": percentile(values, 0.95) * 1000,
                "max_ms": max(values) * 1000,
                "errors": len(results.errors.get(kind, [])),
            }
        )
    print()
    print(
        f"Load test: {elapsed:.0f} s, {operators} operators + {api_clients} API clients, "
        f"{WORKERS} gunicorn workers, {PERSONS} people, {os.cpu_count()} CPUs"
    )
    print(
        f"{'kind':<28}{'requests':>9}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
        f"{'errors':>8}"
    )
    for row in rows:
        print(
            f"{row['kind']:<28}{row['requests']:>9}{row['per_second']:>8.1f}"
            f"{row['p50_ms']:>9.1f}{row['p95_ms']:>9.1f}{row['max_ms']:>9.0f}{row['errors']:>8}"
        )
    every = [t for values in results.timings.values() for t in values]
    print(
        f"{'all':<28}{total:>9}{total / elapsed:>8.1f}"
        f"{statistics.median(every) * 1000:>9.1f}{percentile(every, 0.95) * 1000:>9.1f}"
        f"{max(every) * 1000:>9.0f}{errors:>8}"
    )
    for kind, messages in results.errors.items():
        distinct = sorted(set(messages))
        print(f"errors of {kind}: {len(messages)}, e.g. {distinct[:3]}")
    return {
        "elapsed_s": elapsed,
        "operators": operators,
        "api_clients": api_clients,
        "workers": WORKERS,
        "people": PERSONS,
        "requests": total,
        "per_second": total / elapsed,
        "errors": errors,
        "kinds": rows,
        "error_samples": {k: sorted(set(v))[:10] for k, v in results.errors.items()},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "load_average": os.getloadavg(),
    }


def main() -> int:
    secret_key = secrets.token_urlsafe(50)
    env = environment(secret_key)
    data = prepare_data(env)
    api_clients = max(1, CLIENTS // 4)
    operators = CLIENTS - api_clients
    port = free_port()
    print(f"Serving with gunicorn ({WORKERS} workers) on 127.0.0.1:{port}", flush=True)
    server = start_server(env, port)
    try:
        browsers = []
        for username in data.operators[:operators]:
            browser = Browser(port)
            browser.sign_in(username)
            browsers.append(browser)
        results = Results()
        started = time.monotonic()
        deadline = started + SECONDS
        threads = [
            threading.Thread(target=operator_loop, args=(b, data, deadline, results, n))
            for n, b in enumerate(browsers)
        ] + [
            threading.Thread(
                target=api_loop, args=(Api(port, data.api_key), data, deadline, results, 100 + n)
            )
            for n in range(api_clients)
        ]
        print(f"Running {len(threads)} clients for {SECONDS:.0f} s ...", flush=True)
        for thread in threads:
            thread.start()
        for thread in threads:
            # Bounded: every request has a timeout, so a client ends soon after the deadline.
            thread.join(timeout=SECONDS + REQUEST_TIMEOUT + 10)
        elapsed = time.monotonic() - started
    finally:
        stop_server(server)
    summary = report(results, elapsed, operators, api_clients)
    out = ROOT / "bench/results"
    out.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = out / f"loadtest-{stamp}.json"
    path.write_text(json.dumps(summary, indent=2))
    print(f"Figures written to {path.relative_to(ROOT)}")
    return 1 if summary["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
