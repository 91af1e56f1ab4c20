"""Where the time of one benchmark target goes: timings, then a cProfile of the same requests.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench \
      .venv/bin/python bench/hotspots.py "operator page" "name prefix" [--requests 50] [--top 30]

Targets and kinds are those of bench/run.py ("operator page", "search box", "API list" with a
search kind; "person page", "set primary", "personalize" or "floor" alone). It reuses the data
set that ``make bench`` left (it never generates one) and prints p50 and p95 of the wall time,
of the process's CPU time (what the request costs in Python; the rest is waiting for
PostgreSQL), and the functions with the most time of their own (SORT=cumulative: with what
they call).

With ``--sql``, the statements of each GET request are sent again as they were, through a
plain cursor with nothing else around them (the rows fetched, nothing built from them), and
their time per request is printed too: what the request would cost if Django, the models and
the templates took no time at all.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import os
import pstats
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from django.db import connection  # noqa: E402

from bench import run as bench  # noqa: E402 (sets Django up)
from installations.models import Installation  # noqa: E402


def urls_for(target: str, kind: str, count: int, rng: random.Random) -> tuple[list, dict]:
    """The requests to send: (url, method and keyword arguments of the test client)."""
    if target in ("operator page", "search box", "API list"):
        samples = bench.samples(rng, count)[kind]
        url_of = bench.api_url if target == "API list" else bench.ui_url
        base = "/people/2/persons" if target == "API list" else "/"
        extra = {"HTTP_HX_REQUEST": "true"} if target == "search box" else {}
        return [url_of(base, sample) for sample in samples], extra
    people = [p.pk for p in bench.random_people(rng, count)]
    if target == "floor":
        return [f"/bench/floor/{pk}" for pk in people], {}
    if target == "person page":
        return [f"/person/{pk}/" for pk in people], {}
    if target == "set primary":
        rows = Installation.objects.filter(
            person__in=[p.pk for p in bench.random_people(rng, count * 3)]
        ).values_list("pk", "person_id")
        by_person: dict[int, list[int]] = {}
        for pk, person_id in rows:
            by_person.setdefault(person_id, []).append(pk)
        pairs = [pks for pks in by_person.values() if len(pks) >= 2][:count]
        extra = {"method": "post", "data": {"is_primary": "true"}, "HTTP_HX_REQUEST": "true"}
        return [f"/installations/{rng.choice(pks)}/primary" for pks in pairs], extra
    if target == "personalize":
        rows = Installation.objects.filter(
            person__in=[p.pk for p in bench.random_people(rng, count * 3)],
            person__external_id__isnull=False,
        ).values_list("push_registration_id", "person__external_id", "application__code")
        urls = []
        for push_id, external_id, app_code in rows[:count]:
            body = {"identity": {"externalId": external_id}, "attributes": {"city": "Split"}}
            urls.append(
                (f"/people/2/contactInformation/push/{push_id}/personalize", body, app_code)
            )
        return urls, {"method": "personalize"}
    sys.exit(f"Unknown target {target!r}.")


def send(client, method: str, url, extra: dict):
    """One request of ``urls_for``'s list."""
    if method == "personalize":
        url, body, app_code = url
        return client.post(
            url, json.dumps(body), content_type="application/json", headers={"AppCode": app_code}
        )
    return getattr(client, method)(url, **extra)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def replayed(statements: list[list[tuple[str, object]]]) -> list[float]:
    """The time of each request's statements sent again, in order, on a plain cursor (ms)."""
    times = []
    with connection.cursor() as cursor:
        for request in statements:
            started = time.perf_counter()
            for sql, params in request:
                cursor.execute(sql, params)
                if cursor.description is not None:
                    cursor.fetchall()
            times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target")
    parser.add_argument("kind", nargs="?", default="")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--sql", action="store_true", help="also time each request's statements alone (GET only)"
    )
    arguments = parser.parse_args()
    urls, extra = urls_for(
        arguments.target, arguments.kind, arguments.requests, random.Random(arguments.seed)
    )
    method = extra.pop("method", "get")
    client = bench.HttpsClient()
    client.force_login(bench.operator())
    for url in urls[:5]:  # warm-up: templates, URL resolvers, the session
        send(client, method, url, extra)
    if arguments.sql and method != "get":
        sys.exit("--sql sends the statements again, so it only takes the GET targets.")
    wall, cpu, statements = [], [], []

    def record(execute, sql, params, many, context):
        statements[-1].append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record) if arguments.sql else contextlib.nullcontext():
        for url in urls:
            statements.append([])
            started, started_cpu = time.perf_counter(), time.thread_time()
            send(client, method, url, extra)
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.thread_time() - started_cpu) * 1000)
    print(f"{arguments.target} {arguments.kind}: {len(urls)} requests")
    print(f"  wall p50 {percentile(wall, 0.5):7.1f} ms   p95 {percentile(wall, 0.95):7.1f} ms")
    print(f"  CPU  p50 {percentile(cpu, 0.5):7.1f} ms   p95 {percentile(cpu, 0.95):7.1f} ms")
    if arguments.sql:
        sql = replayed(statements)
        count = sum(map(len, statements)) / len(statements)
        print(
            f"  SQL  p50 {percentile(sql, 0.5):7.1f} ms   p95 {percentile(sql, 0.95):7.1f} ms"
            f"   ({count:.1f} statements a request, sent again alone)"
        )
    profile = cProfile.Profile()
    profile.enable()
    for url in urls:
        send(client, method, url, extra)
    profile.disable()
    pstats.Stats(profile).sort_stats(os.environ.get("SORT", "tottime")).print_stats(arguments.top)


if __name__ == "__main__":
    main()
