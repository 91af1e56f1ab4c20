#!/usr/bin/env bash
# The whole suite: first on PostgreSQL, then on SQLite (the embedded default).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

# Browser tests drive Debian's Chromium.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "Installing Debian's chromium for the browser tests" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
  else
    echo "Chromium (/usr/bin/chromium) is missing and cannot be installed here (needs root and apt-get)." >&2
    exit 1
  fi
fi

source scripts/pg.sh
source scripts/redis.sh

run_suite() {  # label, then pytest arguments
  local label="$1"; shift
  echo "=== tests on $label"
  set +e
  "$PY" -m pytest "$@"
  local rc=$?
  set -e
  if [ "$rc" -ne 0 ]; then
    echo "=== tests on $label failed (pytest exit $rc)" >&2
    exit "$rc"
  fi
}

DATABASE_URL="$PG_URL/portal" run_suite PostgreSQL "$@"
DATABASE_URL="" run_suite SQLite -m "not postgres_only" "$@"
