# Sourced by the test and load-test scripts: makes sure a Redis server answers and exports
# REDIS_URL (the store the rate limits count in). Uses, in order: REDIS_URL if it is set (a
# redis:// one must answer); the server on 127.0.0.1:6379 (database 15, the tests' own: they write
# under a prefix of their own and delete only their keys); a throwaway server in a temporary
# folder, started from the installed redis-server (installing Debian's redis-server package
# first when it is missing and we run as root). Fails loudly otherwise.

redis_fail() { echo "Redis: $*" >&2; exit 1; }

redis_answers() {  # host port: a PING gets +PONG
  python3 - "$1" "$2" <<'PYEOF'
import socket, sys
try:
    with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2) as s:
        s.sendall(b"PING\r\n")
        sys.exit(0 if s.recv(64).startswith(b"+PONG") else 1)
except OSError:
    sys.exit(1)
PYEOF
}

redis_url_answers() {  # redis://[user:password@]host[:port][/db]
  local rest="${1#*://}"
  rest="${rest##*@}"
  rest="${rest%%/*}"
  local host="${rest%%:*}" port=6379
  [ "$rest" != "$host" ] && port="${rest##*:}"
  redis_answers "${host:-127.0.0.1}" "$port"
}

if [ -n "${REDIS_URL:-}" ]; then
  case "$REDIS_URL" in
    redis://*) redis_url_answers "$REDIS_URL" || redis_fail "REDIS_URL is set but its server does not answer" ;;
  esac
elif redis_answers 127.0.0.1 6379; then
  REDIS_URL="redis://127.0.0.1:6379/15"
else
  if ! command -v redis-server >/dev/null; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
      echo "Redis missing: installing Debian's redis-server package" >&2
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null \
        || redis_fail "could not install the redis-server package"
    fi
  fi
  command -v redis-server >/dev/null \
    || redis_fail "no server answers on 127.0.0.1:6379, redis-server is not installed, and it cannot be installed here (not root or no apt-get)"
  REDIS_TMP="$(mktemp -d /tmp/portal-redis.XXXXXX)"
  REDIS_PORT=56379
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$REDIS_TMP" --save '' --appendonly no \
    --daemonize yes --pidfile "$REDIS_TMP/redis.pid" --logfile "$REDIS_TMP/log" \
    || redis_fail "redis-server did not start"
  for _ in $(seq 50); do redis_answers 127.0.0.1 "$REDIS_PORT" && break; sleep 0.1; done
  redis_answers 127.0.0.1 "$REDIS_PORT" \
    || redis_fail "the throwaway server does not answer: $(tail -n 5 "$REDIS_TMP/log" 2>/dev/null)"
  echo "Redis: started a throwaway server on 127.0.0.1:$REDIS_PORT in $REDIS_TMP" >&2
  redis_stop() { kill "$(cat "$REDIS_TMP/redis.pid")" 2>/dev/null || true; rm -rf "$REDIS_TMP"; }
  # Run after whatever exit trap was there (scripts/pg.sh may have set one).
  REDIS_PREVIOUS_TRAP="$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")"
  trap 'redis_stop; eval "$REDIS_PREVIOUS_TRAP"' EXIT
  REDIS_URL="redis://127.0.0.1:$REDIS_PORT/15"
fi
export REDIS_URL
