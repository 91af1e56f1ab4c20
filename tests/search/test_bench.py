"""`make bench` end to end on a small data set: the script that creates, migrates and fills
its database, every target and kind of the table, and the JSON it writes.

It runs scripts/bench.sh as `make bench` does, in a database of its own that it drops after,
so the figures of the measured runs are not what is checked here (a few hundred people are
not a million): that each row is there, answered without errors, found the exact kinds'
people on the first page every time, and counted what the targets promise to count."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings

from bench.run import ADMIN_KINDS, EXACT_KINDS, KINDS

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SEARCHES = 4


def server_url() -> str:
    """The test database's server, as a URL without a database name."""
    db = settings.DATABASES["default"]
    login = quote(db["USER"], safe="") + (
        f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    )
    return f"postgres://{login}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"


@pytest.fixture
def bench_database():
    name = f"portal_bench_check_{uuid.uuid4().hex[:8]}"
    yield name
    with psycopg.connect(f"{server_url()}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_make_bench_measures_every_target_and_kind_and_writes_the_table_as_json(
    bench_database, tmp_path
):
    environment = {
        **os.environ,
        "DATABASE_URL": f"{server_url()}/postgres",  # the server; the script picks the database
        "BENCH_DATABASE": bench_database,
        "BENCH_PERSONS": "300",
        "BENCH_SEARCHES": str(SEARCHES),
        "BENCH_ADMIN_SEARCHES": "1",
        "BENCH_WRITES": "3",
        "BENCH_BATCH_SIZE": "5",
        "BENCH_BATCH_RUNS": "2",
        "BENCH_IMPORT_ROWS": "200",
        "BENCH_IMPORT_UPLOAD_ROWS": "1000",
        "BENCH_RESULTS": str(tmp_path),
        "BENCH_PYTHON": sys.executable,
    }
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    finished = subprocess.run(
        ["bash", "scripts/bench.sh"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finished.returncode == 0, finished.stdout[-2000:] + finished.stderr[-2000:]
    assert f"Created database {bench_database}" in finished.stdout
    assert "Generating 300 people" in finished.stdout

    [written] = tmp_path.glob("bench-300-*.json")
    report = json.loads(written.read_text())
    assert report["data"]["generated"] is True
    rows = {(row["target"], row["kind"]): row for row in report["results"]}
    expected = {("floor", "person by pk")}
    for target in ("operator page", "search box"):
        expected |= {(target, kind) for kind in KINDS}
    # The API has no similar-name search, nor a national number without its country code.
    expected |= {
        ("API list", kind) for kind in KINDS if kind not in ("similar name", "phone (national)")
    }
    expected |= {("stock admin", kind) for kind in ADMIN_KINDS}
    expected |= {("person page", "GET"), ("set primary", "POST"), ("personalize", "POST")}
    expected |= {("merge", "POST"), ("merge undo", "POST")}
    assert set(rows) == expected

    for (target, kind), row in rows.items():
        assert row["errors"] == 0, (target, kind)
        writes = ("person page", "set primary", "personalize")
        # Half as many merges as other writes (each merges two people), each undone.
        merges = ("merge", "merge undo")
        asked = 1 if target in ("stock admin", *merges) else 3 if target in writes else SEARCHES
        assert row["requests"] == asked, (target, kind)
        assert 0 < row["p50_ms"] <= row["p95_ms"], (target, kind)
        if target == "stock admin":
            # The stock admin counts its changelist (the bench tells such statements apart).
            assert row["count_statements"] > 0, kind
            assert row["admin_p95_over_this"] == 1.0
            continue
        assert row["count_statements"] == 0, (target, kind)
        assert row["p95_over_floor"] == pytest.approx(row["p95_ms"] / row["floor_p95_ms"], rel=0.01)
        if kind in EXACT_KINDS:
            assert row["found"] == f"{SEARCHES}/{SEARCHES}", (target, kind)
            assert row["queries_max"] <= 6, (target, kind)
            if kind in ADMIN_KINDS:
                admin = rows["stock admin", kind]["p95_ms"]
                assert row["admin_p95_over_this"] == pytest.approx(admin / row["p95_ms"], abs=0.06)
    assert "Written to" in finished.stdout

    # Then the batches: each operation twice on 5 people, without errors.
    [batch_report] = tmp_path.glob("bench-batch-5-*.json")
    batch_rows = {row["kind"]: row for row in json.loads(batch_report.read_text())["results"]}
    assert set(batch_rows) == {
        f"{name} 5" for name in ("create", "update", "tag add", "tag remove", "delete")
    }
    for row in batch_rows.values():
        assert row["requests"] == 2 and row["errors"] == 0
        assert 0 < row["p50_ms"] <= row["p95_ms"]
