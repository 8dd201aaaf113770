#!/usr/bin/env bash
# A throw-away site for the upload and page benchmarks (bench_throughput.py, bench_http.py), kept away
# from the development data: its own database, media folder, cache prefix and broker database, on
# port ${PORT:-8010}, DEBUG off, gunicorn + one Celery worker as `make run` starts them.
#
#   bash bench/site.sh [SOURCE_DB]     # SOURCE_DB: a database to copy (default explore_bench, a full
#                                      # embedded catalogue); without it: migrate + the demo catalogue
#
# Services must be up (make services). The upload throttle is raised so 20 clients are not refused.
# Ctrl-C stops web and worker; the database `bench_site` stays for inspection (dropped on the next run).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SOURCE_DB="${1:-explore_bench}"
PORT="${PORT:-8010}"
PGHOST_DIR="$ROOT/.run/pgdata"
admin_url="postgresql://postgres@/postgres?host=$PGHOST_DIR"
export DATABASE_URL="postgresql://postgres@/bench_site?host=$PGHOST_DIR"
export ARTSITE_MEDIA_ROOT="$ROOT/.run/bench-media"
export CACHE_KEY_PREFIX="bench-site"
export CELERY_BROKER_URL="redis://127.0.0.1:${REDIS_PORT:-6390}/7"
export ARTSITE_UPLOAD_THROTTLE="${ARTSITE_UPLOAD_THROTTLE:-100000/hour}"
# As scripts/run.sh: a status request that waits (?wait=) holds a thread; keep four for the rest.
WEB_THREADS="${WEB_THREADS:-16}"
export ARTSITE_UPLOAD_WAIT_MAX_PER_PROCESS="${ARTSITE_UPLOAD_WAIT_MAX_PER_PROCESS:-$((WEB_THREADS > 4 ? WEB_THREADS - 4 : 0))}"

psql "$admin_url" -qc "DROP DATABASE IF EXISTS bench_site WITH (FORCE)"
if psql "$admin_url" -Atc "SELECT 1 FROM pg_database WHERE datname = '$SOURCE_DB'" | grep -q 1; then
  psql "$admin_url" -qc "CREATE DATABASE bench_site TEMPLATE $SOURCE_DB"
  .venv/bin/python manage.py migrate --noinput -v 0
else
  echo "no database $SOURCE_DB: migrating an empty one and importing the demo catalogue"
  psql "$admin_url" -qc "CREATE DATABASE bench_site"
  .venv/bin/python manage.py migrate --noinput -v 0
  .venv/bin/python manage.py import_catalogue demo/catalogue
  .venv/bin/python manage.py embed_catalogue
fi
rm -rf "$ARTSITE_MEDIA_ROOT" && mkdir -p "$ARTSITE_MEDIA_ROOT"
.venv/bin/celery -A artsite purge -f >/dev/null
: >"$ROOT/.run/bench-celery.log"
.venv/bin/celery -A artsite worker -l info --concurrency=1 --pool=prefork \
  --logfile="$ROOT/.run/bench-celery.log" --pidfile="$ROOT/.run/bench-celery.pid" &
worker=$!
trap 'kill $worker 2>/dev/null || true; wait $worker 2>/dev/null || true' EXIT INT TERM
echo "bench site: http://127.0.0.1:$PORT/ (worker log .run/bench-celery.log)"
.venv/bin/gunicorn artsite.wsgi:application --bind "127.0.0.1:$PORT" --workers "${WEB_WORKERS:-2}" \
  --worker-class gthread --threads "$WEB_THREADS" --keep-alive 5 --access-logfile /dev/null \
  --error-logfile - --log-level warning
