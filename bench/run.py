"""Side-by-side benchmark of search at scale (issue 7). Run it with ``make bench``.

    BENCH_PERSONS=1000000   people in the data set (generated once, then reused)
    BENCH_SEARCHES=200      searches per kind against the operator page, the API and the floor
    BENCH_ADMIN_SEARCHES=5  searches per kind against the stock admin (seconds each at 1M)
    BENCH_WRITES=100        person pages, set-primary and personalize requests (and half as
                            many merges of two people with at most 5 installations together,
                            each undone)
    BENCH_RESULTS=bench/results   where the JSON goes

Every request goes through the Django test client (no network, no server), so the figures are
the application and the database: URL routing, middleware (session, user), the view, its SQL
and the template. For each target and kind it prints p50 and p95 in milliseconds, the SQL
statements per request, the ratio of the p95 to the floor's p95 and the stock admin's p95 to
this p95; and writes the same as JSON under bench/results/.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import random
import statistics
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test import Client  # noqa: E402

from bench.samples import (  # noqa: E402
    ADMIN_KINDS,
    EXACT_KINDS,
    KINDS,
    Sample,
    admin_url,
    api_url,
    random_people,
    samples,
    ui_url,
)
from core import roles  # noqa: E402
from directory.search import estimated_count  # noqa: E402
from installations.models import Application, Installation  # noqa: E402
from people.models import Event, Person, Tag  # noqa: E402

RESULTS = Path(os.environ.get("BENCH_RESULTS") or Path(__file__).resolve().parent / "results")


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


@dataclass
class Result:
    target: str
    kind: str
    times: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    found: int = 0
    expected: int = 0
    errors: int = 0
    counts: int = 0  # statements with COUNT( over people-sized tables
    note: str = ""
    # The floor measured between this row's requests (Floor): the same seconds of the same
    # machine (a shared machine's speed drifts over a run of ten minutes).
    floor_times: list[float] = field(default_factory=list)

    def p(self, q: float, times: list[float] | None = None) -> float:
        ordered = sorted(self.times if times is None else times)
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000

    def as_dict(self, floor_p95: float, admin_p95: float | None) -> dict:
        p95 = self.p(0.95)
        first_floor_p95 = floor_p95
        if self.floor_times:
            floor_p95 = self.p(0.95, self.floor_times)
        return {
            "target": self.target,
            "kind": self.kind,
            "requests": len(self.times),
            "p50_ms": round(self.p(0.5), 2),
            "p95_ms": round(p95, 2),
            "queries_median": statistics.median(self.queries) if self.queries else None,
            "queries_max": max(self.queries) if self.queries else None,
            "floor_p95_ms": round(floor_p95, 2),
            "p95_over_floor": round(p95 / floor_p95, 2) if floor_p95 else None,
            "p95_over_first_floor": round(p95 / first_floor_p95, 2) if first_floor_p95 else None,
            "admin_p95_over_this": round(admin_p95 / p95, 1) if admin_p95 and p95 else None,
            "found": f"{self.found}/{self.expected}" if self.expected else "",
            "errors": self.errors,
            "count_statements": self.counts,
            "note": self.note,
        }


class HttpsClient(Client):
    """Requests over HTTPS, as in production (SECURE_SSL_REDIRECT redirects plain HTTP)."""

    def generic(self, *args, **kwargs):
        kwargs["secure"] = True
        return super().generic(*args, **kwargs)


class Counter:
    """Counts the SQL statements of a request (and the COUNT( ones) without DEBUG."""

    def __init__(self) -> None:
        self.statements = 0
        self.counts = 0

    def __call__(self, execute, sql, params, many, context):
        self.statements += 1
        if "COUNT(" in sql.upper():
            self.counts += 1
        return execute(sql, params, many, context)


# ---------------------------------------------------------------------------------------------
# Data set


def ensure_data(persons: int) -> dict:
    generated = Application.objects.filter(code="gen-shop-android").exists()
    have = estimated_count(Person)
    if generated and abs(have - persons) <= max(50, persons // 100):
        # The planner's estimate moves with each VACUUM; the set is the one asked for.
        print(f"Reusing the data set: about {have:,} people")
        return {"generated": False, "people": persons, "people_estimated": have}
    print(f"Generating {persons:,} people (this database has about {have:,})")
    started = time.monotonic()
    call_command("generate_people", persons=persons, reset=True)
    seconds = time.monotonic() - started
    return {"generated": True, "people": persons, "generation_seconds": round(seconds, 1)}


# The tables the bench's own writes change (set primary, personalize and their events).
WRITTEN_TABLES = ("people_person", "installations_installation", "people_event")


def settle() -> None:
    """Start from the data set as generated, then write back what is dirty.

    An earlier run's writes left the pages of the rows they changed not all-visible: an
    index-only walk reads the table for each entry on such a page (after 815 updated people,
    57 and 59 reads of the table in the two name ranges of "san" + a tag). A plain VACUUM
    does not mark them again while it skips the indexes for a few dead rows, so they are
    vacuumed with INDEX_CLEANUP ON (about 1 s at 1M). Then a CHECKPOINT (when this user may),
    so that a checkpoint's writes do not land in the middle of the measured requests."""
    with connection.cursor() as cursor:
        started = time.monotonic()
        for table in WRITTEN_TABLES:
            cursor.execute(f"VACUUM (INDEX_CLEANUP ON) {table}")
        print(f"VACUUM of {', '.join(WRITTEN_TABLES)} in {time.monotonic() - started:.1f} s")
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
        if row and row[0]:
            started = time.monotonic()
            cursor.execute("CHECKPOINT")
            print(f"CHECKPOINT in {time.monotonic() - started:.1f} s")


class Floor:
    """The floor measured with each row: a few requests not measured first (the first ones
    after another target pay for its garbage collection and caches), then one floor request
    after each of the row's requests (``run(..., floor=...)``), so that the row and its floor
    share the same seconds of a machine whose speed drifts, and as many of them."""

    UNMEASURED = 5

    def __init__(self, client: Client, ids: list[int]) -> None:
        self.client, self.ids, self.next = client, ids, 0

    def warm(self) -> None:
        for _ in range(self.UNMEASURED):
            self.request()

    def request(self) -> float:
        pk = self.ids[self.next % len(self.ids)]
        self.next += 1
        started = time.perf_counter()
        self.client.get(f"/bench/floor/{pk}")
        return time.perf_counter() - started

    def measure(self, result: Result) -> None:
        result.floor_times.append(self.request())


def run(
    client: Client,
    result: Result,
    url: str,
    sample: Sample | None,
    method="get",
    floor: Floor | None = None,
    **kw,
):
    counter = Counter()
    with ExitStack() as stack:
        # Every connection: the stock admin reads through its own (bench/settings.py).
        for alias in connections:
            stack.enter_context(connections[alias].execute_wrapper(counter))
        started = time.perf_counter()
        response = getattr(client, method)(url, **kw)
        elapsed = time.perf_counter() - started
    result.times.append(elapsed)
    result.queries.append(counter.statements)
    result.counts += counter.counts
    if floor is not None:
        floor.measure(result)
    if response.status_code not in (200, 302) or (
        response.status_code == 302 and "/person/" not in response.get("Location", "")
    ):
        result.errors += 1
        if result.errors == 1:
            print(f"    HTTP {response.status_code} for {url}: {response.content[:200]!r}")
    if sample is not None and sample.person_id is not None:
        result.expected += 1
        body = response.content.decode(errors="replace")
        if (
            f"/person/{sample.person_id}/" in body
            or f'"id": {sample.person_id}' in body
            or f'"id":{sample.person_id}' in body
            or response.get("Location", "").rstrip("/").endswith(f"/{sample.person_id}")
        ):
            result.found += 1
    return response


def real_or_stand_in(client: Client, real: str, stand_in: str, probe: Sample, url_of) -> str:
    """The real page when it answers the probe with the person, else the stand-in."""
    response = client.get(url_of(real, probe))
    body = response.content.decode(errors="replace")
    if response.status_code == 200 and (
        f"/person/{probe.person_id}/" in body
        or f'"id": {probe.person_id}' in body
        or f'"id":{probe.person_id}' in body
    ):
        return real
    print(f"  {real} does not answer yet (HTTP {response.status_code}): using {stand_in}")
    return stand_in


def operator() -> User:
    user, _ = User.objects.get_or_create(
        username="bench-operator", defaults={"is_staff": True, "is_superuser": True}
    )
    group = Group.objects.filter(name=roles.ADMINISTRATOR).first()
    if group:
        user.groups.add(group)
    return user


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory = int(Path("/proc/meminfo").read_text().split()[1]) // 1024 // 1024
    except OSError:
        memory = 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        (version,) = cursor.fetchone()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": memory,
        "python": platform.python_version(),
        "database": version.split(" on ")[0],
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("The bench needs PostgreSQL: set DATABASE_URL (make bench does).")
    persons = env_int("BENCH_PERSONS", 1_000_000)
    searches = env_int("BENCH_SEARCHES", 200)
    admin_searches = env_int("BENCH_ADMIN_SEARCHES", 5)
    writes = env_int("BENCH_WRITES", 100)
    rng = random.Random(env_int("BENCH_SEED", 2026))
    data = ensure_data(persons)
    settle()
    print("Drawing search values from the data ...")
    by_kind = samples(rng, searches)
    # Each target its own values: the rows of a value one target read first would still be in
    # memory when the next target searched for it.
    by_target = {"operator page": by_kind}
    by_target.update({target: samples(rng, searches) for target in ("search box", "API list")})
    client = HttpsClient()
    client.force_login(operator())
    tag_ids = dict(Tag.objects.values_list("name", "id"))

    probe = by_kind["externalId"][0]
    ui = real_or_stand_in(client, "/", "/bench/search", probe, ui_url)
    api = real_or_stand_in(client, "/people/2/persons", "/bench/persons", probe, api_url)
    results: list[Result] = []

    floor = Result("floor", "person by pk")
    floor_ids = [s.person_id for s in by_kind["externalId"]]
    for pk in floor_ids[:10]:
        client.get(f"/bench/floor/{pk}")
    for pk in floor_ids:
        run(client, floor, f"/bench/floor/{pk}", None)
    results.append(floor)
    # Its own generator: the floor's people do not shift the values drawn after them.
    floor_rng = random.Random(env_int("BENCH_SEED", 2026) + 1)
    row_floor = Floor(client, [p.pk for p in random_people(floor_rng, searches * 5)])

    # The operator page as a whole (a reload, a shared link), what its search box sends while
    # the operator types (htmx: the results only), and the API list.
    htmx = {"HTTP_HX_REQUEST": "true"}
    for target, base, url_of, headers in (
        ("operator page", ui, ui_url, {}),
        ("search box", ui, ui_url, htmx),
        ("API list", api, api_url, {}),
    ):
        for kind in KINDS:
            result = Result(
                target, kind, note="" if base in ("/", "/people/2/persons") else "stand-in"
            )
            if headers:
                result.note = (result.note + " htmx").strip()
            values = by_target[target][kind]
            for sample in values[:5]:  # warm-up, not measured
                url = url_of(base, sample)
                if url:
                    client.get(url, **headers)
            row_floor.warm()
            for sample in values:
                url = url_of(base, sample)
                if not url:
                    result.note = "no such query in this API"
                    break
                run(
                    client,
                    result,
                    url,
                    sample if kind in EXACT_KINDS else None,
                    floor=row_floor,
                    **headers,
                )
            print(f"  {target:14} {kind:28} p95 {result.p(0.95) if result.times else 0:8.1f} ms")
            results.append(result)

    for kind in ADMIN_KINDS:
        result = Result("stock admin", kind)
        for sample in by_kind[kind][:admin_searches]:
            run(client, result, admin_url(sample, tag_ids), sample)
        print(f"  {'stock admin':14} {kind:28} p95 {result.p(0.95):8.1f} ms")
        results.append(result)

    results.extend(write_requests(client, rng, writes, row_floor))
    report(results, data, {"ui": ui, "api": api, "searches": searches, "admin": admin_searches})


def write_requests(client: Client, rng: random.Random, count: int, floor: Floor) -> list[Result]:
    """The person page, set primary and personalize, on random people with devices."""
    multi = list(
        Installation.objects.filter(
            person__in=[p.pk for p in random_people(rng, count * 3)]
        ).values_list(
            "pk", "person_id", "push_registration_id", "person__external_id", "application__code"
        )
    )
    by_person: dict[int, list] = {}
    for row in multi:
        by_person.setdefault(row[1], []).append(row)
    pages = Result("person page", "GET")
    probe_id = multi[0][1]
    real_page = client.get(f"/person/{probe_id}/").status_code == 200
    page_url = "/person/{}/" if real_page else "/bench/person/{}"
    pages.note = "" if real_page else "stand-in"
    for pk in list(by_person)[:5]:
        client.get(page_url.format(pk))
    floor.warm()
    for pk in list(by_person)[:count]:
        run(client, pages, page_url.format(pk), None, floor=floor)

    primary = Result("set primary", "POST")
    pairs = [rows for rows in by_person.values() if len(rows) >= 2][:count]
    probe = client.post(
        f"/installations/{pairs[0][0][0]}/primary", {"is_primary": "true"}, HTTP_HX_REQUEST="true"
    )
    primary_url = (
        "/installations/{}/primary"
        if probe.status_code == 200
        else "/bench/installations/{}/primary"
    )
    primary.note = "" if probe.status_code == 200 else "stand-in"
    floor.warm()
    for rows in pairs:
        run(
            client,
            primary,
            primary_url.format(rng.choice(rows)[0]),
            None,
            "post",
            floor,
            data={"is_primary": "true"},
            HTTP_HX_REQUEST="true",
        )

    personalize = Result("personalize", "POST")
    identified = [rows[0] for rows in by_person.values() if rows[0][3]][:count]
    body = lambda row: json.dumps(  # noqa: E731
        {
            "identity": {"externalId": row[3]},
            "attributes": {"city": rng.choice(["Zagreb", "Split"])},
        }
    )
    real = f"/people/2/contactInformation/push/{identified[0][2]}/personalize"
    probe = client.post(
        real,
        body(identified[0]),
        content_type="application/json",
        headers={"AppCode": identified[0][4]},
    )
    personalize_url = (
        "/people/2/contactInformation/push/{}/personalize"
        if probe.status_code == 200
        else "/bench/push/{}/personalize"
    )
    personalize.note = "" if probe.status_code == 200 else "stand-in"
    floor.warm()
    for row in identified:
        run(
            client,
            personalize,
            personalize_url.format(row[2]),
            None,
            "post",
            floor,
            data=body(row),
            content_type="application/json",
            headers={"AppCode": row[4]},
        )
    return [pages, primary, personalize, *merge_requests(client, by_person, count // 2, floor)]


def merge_requests(
    client: Client, by_person: dict[int, list], count: int, floor: Floor
) -> list[Result]:
    """The merge screen's POST on two people with at most 5 installations together, then its
    undo (which puts the data set back as it was)."""
    merges, undos = Result("merge", "POST"), Result("merge undo", "POST")
    people = [pk for pk, rows in by_person.items() if len(rows) <= 4]
    pairs = [
        (a, b)
        for a, b in zip(people[0::2], people[1::2], strict=False)
        if len(by_person[a]) + len(by_person[b]) <= 5
    ][: max(count, 1)]
    if not pairs:
        return []
    floor.warm()
    done = []
    for survivor, other in pairs:
        response = run(
            client, merges, f"/person/{survivor}/merge/{other}", None, "post", floor, data={}
        )
        if response.status_code == 302:
            event = Event.objects.filter(person_id=survivor, kind="MERGE").order_by("-pk").first()
            done.append((survivor, event.pk))
    floor.warm()
    for survivor, event_id in done:
        run(client, undos, f"/person/{survivor}/merges/{event_id}/undo", None, "post", floor)
    return [merges, undos]


def report(results: list[Result], data: dict, setup: dict) -> None:
    floor_p95 = next(r for r in results if r.target == "floor").p(0.95)
    admin = {r.kind: r.p(0.95) for r in results if r.target == "stock admin" and r.times}
    rows = [r.as_dict(floor_p95, admin.get(r.kind)) for r in results if r.times]
    header = (
        f"{'target':14} {'kind':28} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'SQL':>5} "
        f"{'floor':>6} {'p95/floor':>9} {'admin/p95':>9} {'found':>8}  note"
    )
    print()
    print(f"{data['people']:,} people; {machine()['cpu']}, {os.cpu_count()} cores")
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['target']:14} {row['kind']:28} {row['requests']:>4} {row['p50_ms']:>8.1f} "
            f"{row['p95_ms']:>8.1f} {row['queries_max']:>5} {row['floor_p95_ms']:>6.1f} "
            f"{row['p95_over_floor'] or '':>9} "
            f"{row['admin_p95_over_this'] or '':>9} {row['found']:>8}  "
            f"{row['note']}{' errors: ' + str(row['errors']) if row['errors'] else ''}"
            + (f" COUNT statements: {row['count_statements']}" if row["count_statements"] else "")
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"bench-{data['people']}-{stamp}.json"
    path.write_text(
        json.dumps(
            {"when": stamp, "machine": machine(), "data": data, "setup": setup, "results": rows},
            indent=2,
        )
    )
    print(
        f"\nWritten to {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}"
    )


if __name__ == "__main__":
    main()
