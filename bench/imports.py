"""The CSV import at scale (``BENCH_ONLY=imports bash scripts/bench.sh``).

In a database of its own (BENCH_IMPORT_DATABASE, portal_bench_import, emptied of people
first), with one real Celery worker on Redis (database BENCH_REDIS_DB, 14): a file of
BENCH_IMPORT_ROWS rows (100,000), half of them new people (externalId, names, a phone, an
email, two tags), half updates of people that exist (a new first name and a tag). It prints
the upload (checks and rows stored, in this process), the dry run and the import, each end
to end (from the start to the last chunk done). Targets: dry run <= 60 s, import <= 120 s
with one worker. Then the largest file an import takes (BENCH_IMPORT_UPLOAD_ROWS, a million
rows) uploaded alone: an upload request's check and store. Results in
bench/results/imports-*.json.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from bench.jobs import Workers, run_job, vm_hwm_kb  # noqa: E402
from bench.run import machine  # noqa: E402
from people.history import Actor  # noqa: E402
from people.models import Person, PersonType, Source  # noqa: E402
from transfer.imports import services  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(os.environ.get("BENCH_RESULTS") or ROOT / "bench" / "results")
ROWS = int(os.environ.get("BENCH_IMPORT_ROWS") or 100_000)
# The largest file an import takes, uploaded alone (checked and stored), then deleted.
UPLOAD_ROWS = int(os.environ.get("BENCH_IMPORT_UPLOAD_ROWS") or 1_000_000)
ACTOR = Actor.system("bench imports", source=Source.IMPORT)
HEADER = ["externalId", "firstName", "lastName", "phones", "emails", "tags"]


def empty() -> None:
    """No people, history, jobs or files: the run starts from the same state each time."""
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE people_person, people_event, jobs_job, transfer_importfile CASCADE"
        )


def existing(count: int) -> None:
    """``count`` people the file updates (externalIds bi-0 ...)."""
    batch = []
    for n in range(count):
        batch.append(
            Person(
                external_id=f"bi-{n}",
                first_name=f"Old{n}",
                last_name=f"Person{n}",
                type=PersonType.CUSTOMER,
            )
        )
        if len(batch) == 5000:
            Person.objects.bulk_create(batch)
            batch = []
    Person.objects.bulk_create(batch)


def write_file(path: Path) -> None:
    half = ROWS // 2
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(ROWS):
            if n < half:  # an update
                writer.writerow([f"bi-{n}", f"New{n}", f"Person{n}", "", "", "imported"])
            else:  # a new person
                writer.writerow(
                    [
                        f"bi-{n}",
                        f"First{n}",
                        f"Last{n}",
                        f"+3851{4_000_000 + n}",
                        f"bi{n}@example.com",
                        "imported|new",
                    ]
                )


def timed_job(file, dry_run: bool) -> dict:
    connection.cursor().execute("VACUUM ANALYZE")
    pool = Workers(1)
    try:
        job = services.import_start(
            file=file, options={"tags": "add"}, actor=ACTOR, dry_run=dry_run
        )
        result = run_job(job, None)
        job.refresh_from_db()
        result |= {"created": job.created, "rows": job.total}
        result["worker_peak_rss_mb"] = [round(mb, 1) for mb in pool.peak_rss_mb()]
    finally:
        pool.stop()
    return result


def largest_upload(rows: int) -> dict:
    """The largest file an import takes (a million rows): checked and stored, as an upload
    request does it, then deleted."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "largest.csv"
        with open(path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADER)
            for n in range(rows):
                writer.writerow(
                    [
                        f"up-{n}",
                        f"First{n}",
                        f"Last{n}",
                        f"+3851{n:07d}",
                        f"up{n}@example.com",
                        "a|b",
                    ]
                )
        size = path.stat().st_size
        started = time.perf_counter()
        with open(path, "rb") as stream:
            file = services.import_file_upload(
                stream=stream, name=path.name, actor=ACTOR, size=size
            )
        seconds = round(time.perf_counter() - started, 1)
    file.delete()
    return {"rows": rows, "bytes": size, "seconds": seconds}


def main() -> None:
    if not settings.CELERY_BROKER_URL or settings.CELERY_TASK_ALWAYS_EAGER:
        raise SystemExit("The imports benchmark needs REDIS_URL: a real worker on a real broker.")
    empty()
    existing(ROWS // 2)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "people.csv"
        write_file(path)
        size = path.stat().st_size
        started = time.perf_counter()
        with open(path, "rb") as stream:
            file = services.import_file_upload(
                stream=stream, name=path.name, actor=ACTOR, size=size
            )
        upload = round(time.perf_counter() - started, 1)
    print(f"upload: {ROWS:,} rows, {size / 1e6:.1f} MB in {upload} s")
    dry = timed_job(file, dry_run=True)
    print(f"dry run: {dry}")
    real = timed_job(file, dry_run=False)
    print(f"import: {real}")
    largest = largest_upload(UPLOAD_ROWS)
    print(
        f"largest upload: {largest['rows']:,} rows, {largest['bytes'] / 1e6:.1f} MB in "
        f"{largest['seconds']} s"
    )
    report = {
        "largest_upload": largest,
        "rows": ROWS,
        "bytes": size,
        "upload_seconds": upload,
        "upload_peak_rss_mb": round(vm_hwm_kb(os.getpid()) / 1024, 1),
        "dry_run": dry,
        "import": real,
        "targets": {"dry_run_seconds": 60, "import_seconds": 120},
        "machine": machine(),
    }
    print()
    print(f"{'run':10} {'rows':>8} {'seconds':>8} {'rows/s':>8} {'target s':>9}")
    print(f"{'upload':10} {ROWS:>8,} {upload:>8.1f} {round(ROWS / max(upload, 0.1)):>8,} {'':>9}")
    for name, row, target in (("dry run", dry, 60), ("import", real, 120)):
        print(
            f"{name:10} {row['rows'] or 0:>8,} {row['seconds']:>8.1f} "
            f"{row['people_per_second'] or 0:>8,} {target:>9}"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = RESULTS / f"imports-{stamp}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"Written {out}")


if __name__ == "__main__":
    main()
