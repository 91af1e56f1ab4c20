"""Batch benchmark (issue 24, item 3): the four batch operations at their documented maximum.

Run alone with ``make bench-batch``; ``make bench`` runs it after the search benchmark.

    BENCH_BATCH_SIZE=1000   items per batch (the vendor's documented maximum)
    BENCH_BATCH_RUNS=5      runs of each operation
    BENCH_RESULTS=bench/results   where the JSON goes

Each run creates BENCH_BATCH_SIZE people (8 tags, 5 emails and 2 custom attributes each, about
480 bytes an item, as in the issue), updates each of them (a name, 2 tags, an email and an
attribute), adds a tag to all of them and removes it (``/tags/T/persons``), then deletes them:
the database ends as it started, so it needs no data set and runs beside the search bench's
(whose people it leaves alone). Requests go through the Django test client over HTTPS with a
manage API key, so the figures are the application and the database, with no network.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
import uuid
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from bench.run import RESULTS, Counter, HttpsClient, Result, env_int, machine  # noqa: E402
from core.models import ApiKey, ApiKeyRole  # noqa: E402
from people import services  # noqa: E402
from people.models import AttributeDefinition, DataType, Person, Tag  # noqa: E402

BATCH = "/people/2/persons/batch"
TAG = "Bench batch tag"
TAGS = [f"Bench segment {n}" for n in range(24)]
TIER, SCORE = "Bench tier", "Bench score"


def definitions() -> None:
    """The two custom attributes and the tag the batches use, made once."""
    if not Tag.objects.filter(name=TAG).exists():
        services.tag_create(name=TAG)
    for name, data_type in ((TIER, DataType.STRING), (SCORE, DataType.INTEGER)):
        if not AttributeDefinition.objects.filter(name=name).exists():
            services.attribute_definition_create(name=name, data_type=data_type)


def create_item(run: str, i: int) -> dict:
    item = {
        "firstName": f"Benchfirst{i}",
        "lastName": f"Benchlast{i}",
        "city": "Zagreb",
        "tags": [TAGS[(i + k * 3) % len(TAGS)] for k in range(8)],
        "contactInformation": {
            "email": [{"address": f"bench.{run}.{i}.{k}@example.com"} for k in range(5)]
        },
        "customAttributes": {TIER: ["gold", "silver", "bronze"][i % 3], SCORE: i},
    }
    if i % 2:  # half of them without an externalId, as in the issue
        item["externalId"] = f"bench-{run}-{i}"
    return item


def update_item(run: str, i: int, person_id: int) -> dict:
    return {
        "query": {"type": "ID", "identifier": str(person_id)},
        "update": {
            "lastName": f"Benchupdated{i}",
            "tags": [TAGS[(i + 1) % len(TAGS)], "Bench updated"],
            "contactInformation": {"email": [{"address": f"bench.{run}.{i}.new@example.com"}]},
            "customAttributes": {SCORE: i + 1},
        },
    }


def timed(client, result: Result, method: str, url: str, body: dict, expect: int = 200):
    counter = Counter()
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        response = getattr(client, method)(url, json.dumps(body), content_type="application/json")
        elapsed = time.perf_counter() - started
    result.times.append(elapsed)
    result.queries.append(counter.statements)
    if response.status_code != expect:
        result.errors += 1
        print(
            f"    HTTP {response.status_code} for {method.upper()} {url}:",
            response.content[:300],
        )
    return response


def main() -> None:
    size = env_int("BENCH_BATCH_SIZE", 1000)
    runs = env_int("BENCH_BATCH_RUNS", 5)
    definitions()
    _, raw = ApiKey.issue(name=f"bench-batch-{uuid.uuid4().hex[:6]}", role=ApiKeyRole.MANAGE)
    client = HttpsClient(HTTP_AUTHORIZATION=f"App {raw}")
    results = {
        name: Result("batch", f"{name} {size}")
        for name in ("create", "update", "tag add", "tag remove", "delete")
    }
    print(f"Batches of {size} people, {runs} runs of each operation ...")
    for number in range(runs):
        run = uuid.uuid4().hex[:8]
        response = timed(
            client,
            results["create"],
            "post",
            BATCH,
            {"people": [create_item(run, i) for i in range(size)]},
        )
        ids = [r["id"] for r in response.json().get("results", []) if r.get("status") == 200]
        if len(ids) != size:
            sys.exit(f"The create batch made {len(ids)} of {size} people; stopping.")
        timed(
            client,
            results["update"],
            "patch",
            BATCH,
            {"people": [update_item(run, i, pk) for i, pk in enumerate(ids)]},
        )
        queries = {"people": [{"query": {"type": "ID", "identifier": str(pk)}} for pk in ids]}
        tag_url = f"/people/2/tags/{TAG}/persons"
        timed(client, results["tag add"], "patch", tag_url, queries)
        timed(client, results["tag remove"], "delete", tag_url, queries)
        timed(client, results["delete"], "delete", BATCH, queries)
        left = Person.objects.filter(pk__in=ids).count()
        if left:
            sys.exit(f"The delete batch left {left} of {size} people; stopping.")
        print(
            f"  run {number + 1}: "
            + ", ".join(f"{name} {r.times[-1]:.2f} s" for name, r in results.items())
        )
    report(list(results.values()), size, runs)


def report(results: list[Result], size: int, runs: int) -> None:
    header = f"{'target':14} {'kind':28} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'SQL':>6}  note"
    print()
    print(f"Batches of {size}; {machine()['cpu']}, {os.cpu_count()} cores")
    print(header)
    print("-" * len(header))
    rows = []
    for result in results:
        row = {
            "target": result.target,
            "kind": result.kind,
            "requests": len(result.times),
            "p50_ms": round(result.p(0.5), 1),
            "p95_ms": round(result.p(0.95), 1),
            "queries_max": max(result.queries),
            "errors": result.errors,
        }
        rows.append(row)
        print(
            f"{row['target']:14} {row['kind']:28} {row['requests']:>4} {row['p50_ms']:>8.1f} "
            f"{row['p95_ms']:>8.1f} {row['queries_max']:>6}  "
            + (f"errors: {row['errors']}" if row["errors"] else "")
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"bench-batch-{size}-{stamp}.json"
    path.write_text(
        json.dumps(
            {
                "when": stamp,
                "machine": machine(),
                "setup": {"batch_size": size, "runs": runs},
                "results": rows,
            },
            indent=2,
        )
    )
    print(f"\nWritten to {path}")


if __name__ == "__main__":
    main()
