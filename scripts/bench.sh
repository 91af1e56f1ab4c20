#!/usr/bin/env bash
# make bench: generate (or reuse) BENCH_PERSONS people in the bench database, then run the
# side-by-side benchmark (bench/run.py). Results: the table on stdout and bench/results/*.json.
#   BENCH_PERSONS (default 1000000), BENCH_SEARCHES (200), BENCH_ADMIN_SEARCHES (5),
#   BENCH_WRITES (100), BENCH_DATABASE (default portal_bench), BENCH_RESULTS (bench/results);
#   BENCH_PYTHON, the Python to run (default .venv/bin/python).
# Then the batch benchmark (bench/batch.py: BENCH_BATCH_SIZE, BENCH_BATCH_RUNS), which needs no
# data set; then the jobs benchmark (bench/jobs.py: a tag added to about BENCH_JOB_PEOPLE people
# by one and by two Celery workers, and undone); then the export benchmark (bench/export.py:
# everyone to CSV by a job on two workers). BENCH_ONLY=search, batch, jobs or export runs one of
# them (make bench-batch). BENCH_ONLY=imports runs the import benchmark (bench/imports.py) alone,
# in its own database (BENCH_IMPORT_DATABASE, default portal_bench_import).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${BENCH_PYTHON:-.venv/bin/python}"

source scripts/pg.sh

BENCH_DATABASE="${BENCH_DATABASE:-portal_bench}"
if [ "${BENCH_ONLY:-all}" = imports ]; then
    BENCH_DATABASE="${BENCH_IMPORT_DATABASE:-portal_bench_import}"
fi
"$PY" - "$PG_URL" "$BENCH_DATABASE" <<'PYEOF'
import sys

import psycopg

server, name = sys.argv[1], sys.argv[2]
with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
    if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
        conn.execute(f'CREATE DATABASE "{name}"')
        print(f"Created database {name}")
PYEOF

export DATABASE_URL="$PG_URL/$BENCH_DATABASE"
export DJANGO_SETTINGS_MODULE=bench.settings
"$PY" manage.py migrate --noinput -v 0
BENCH_ONLY="${BENCH_ONLY:-all}"
if [ "$BENCH_ONLY" = all ] || [ "$BENCH_ONLY" = search ]; then
    "$PY" bench/run.py
fi
if [ "$BENCH_ONLY" = all ] || [ "$BENCH_ONLY" = batch ]; then
    "$PY" bench/batch.py
fi
if [ "$BENCH_ONLY" = all ] || [ "$BENCH_ONLY" = jobs ]; then
    # Real workers on a real broker: the Redis of scripts/redis.sh, database BENCH_REDIS_DB
    # (14: neither the tests' 15 nor a deployment's 0), a queue of this run's own.
    source scripts/redis.sh
    REDIS_URL="${REDIS_URL%/*}/${BENCH_REDIS_DB:-14}" JOB_QUEUE="bench-jobs-$$" "$PY" bench/jobs.py
fi
if [ "$BENCH_ONLY" = all ] || [ "$BENCH_ONLY" = imports ]; then
    source scripts/redis.sh
    REDIS_URL="${REDIS_URL%/*}/${BENCH_REDIS_DB:-14}" JOB_QUEUE="bench-imports-$$" "$PY" bench/imports.py
fi
if [ "$BENCH_ONLY" = all ] || [ "$BENCH_ONLY" = export ]; then
    # An export of everyone as a job on real workers (bench/export.py), as the jobs above.
    source scripts/redis.sh
    REDIS_URL="${REDIS_URL%/*}/${BENCH_REDIS_DB:-14}" JOB_QUEUE="bench-export-$$" "$PY" bench/export.py
fi
