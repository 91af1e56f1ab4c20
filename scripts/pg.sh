# Sourced by the test and bench scripts: makes sure a PostgreSQL server answers and exports
# PG_URL (a server URL without database name). Uses, in order: DATABASE_URL if it is a
# PostgreSQL URL; the server on 127.0.0.1:5432 as user postgres; a throwaway cluster in a
# temporary folder, started from the installed PostgreSQL binaries (installing Debian's
# postgresql package first when they are missing and we run as root). Fails loudly otherwise.

pg_fail() { echo "PostgreSQL: $*" >&2; exit 1; }

pg_answers() {  # host port
  python3 - "$1" "$2" <<'PYEOF'
import socket, sys
s = socket.socket()
s.settimeout(2)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
except OSError:
    sys.exit(1)
PYEOF
}

pg_bin_dir() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

case "${DATABASE_URL:-}" in
  postgres://*|postgresql://*)
    PG_URL="${DATABASE_URL%/*}"
    ;;
  *)
    if pg_answers 127.0.0.1 5432; then
      PG_URL="postgres://postgres@127.0.0.1:5432"
    else
      bindir="$(pg_bin_dir)"
      if [ -z "$bindir" ]; then
        if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
          echo "PostgreSQL binaries missing: installing Debian's postgresql package" >&2
          apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null \
            || pg_fail "could not install the postgresql package"
          bindir="$(pg_bin_dir)"
        fi
      fi
      [ -n "$bindir" ] || pg_fail "no server answers on 127.0.0.1:5432, no PostgreSQL binaries are installed, and they cannot be installed here (not root or no apt-get)"
      PG_TMP="$(mktemp -d /tmp/portal-pg.XXXXXX)"
      PG_PORT=55432
      run_pg() { if [ "$(id -u)" = "0" ]; then chown -R postgres "$PG_TMP"; su postgres -c "$*"; else sh -c "$*"; fi; }
      run_pg "$bindir/initdb -D $PG_TMP/data -U postgres --auth=trust -E UTF8 >/dev/null" || pg_fail "initdb failed"
      run_pg "$bindir/pg_ctl -D $PG_TMP/data -o '-p $PG_PORT -k $PG_TMP -c listen_addresses=127.0.0.1 -c fsync=off' -l $PG_TMP/log -w start >/dev/null" \
        || pg_fail "the throwaway cluster did not start: $(tail -n 5 "$PG_TMP/log" 2>/dev/null)"
      echo "PostgreSQL: started a throwaway cluster on 127.0.0.1:$PG_PORT in $PG_TMP" >&2
      pg_stop() { run_pg "$bindir/pg_ctl -D $PG_TMP/data -m fast stop >/dev/null" || true; rm -rf "$PG_TMP"; }
      trap pg_stop EXIT
      PG_URL="postgres://postgres@127.0.0.1:$PG_PORT"
    fi
    ;;
esac
export PG_URL
