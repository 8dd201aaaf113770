#!/usr/bin/env bash
# Serve the site on 127.0.0.1:8000 with a Celery worker beside it (services must be up: make services).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PORT="${PORT:-8000}"
# gunicorn threads per process. A status request that waits for its upload (?wait=,
# gallery.upload_events) holds one while it sleeps; up to all but four of them may, so pages and
# uploads always have threads left. 16 was chosen by measurement (docs/architecture.md).
WEB_THREADS="${WEB_THREADS:-16}"
export ARTSITE_UPLOAD_WAIT_MAX_PER_PROCESS="${ARTSITE_UPLOAD_WAIT_MAX_PER_PROCESS:-$((WEB_THREADS > 4 ? WEB_THREADS - 4 : 0))}"
mkdir -p .run
# One worker process, one task at a time: the style model is loaded once per process and the
# machine has two cores. -B runs Celery beat inside the worker for the periodic sweep that re-queues
# stale uploads (CELERY_BEAT_SCHEDULE); run it in exactly one worker when there are several.
.venv/bin/celery -A artsite worker -l info --concurrency=1 --pool=prefork \
  -B --schedule="$ROOT/.run/celerybeat-schedule" \
  --pidfile="$ROOT/.run/celery.pid" --logfile="$ROOT/.run/celery.log" &
worker=$!
trap 'kill $worker 2>/dev/null || true; wait $worker 2>/dev/null || true' EXIT INT TERM
echo "worker: Celery (log in .run/celery.log)"
echo "site:   http://127.0.0.1:$PORT/   (admin: http://127.0.0.1:$PORT/admin/, API docs: /api/docs/)"
# DEBUG stays off (the settings' default) and the secret key is the random one the settings keep in
# .run/secret_key; only the development server, for someone editing the code, turns DEBUG on.
if [ "${DEV_SERVER:-0}" = 1 ]; then
  # Auto-reload and Django's debug pages while editing code.
  DJANGO_DEBUG=1 .venv/bin/python manage.py runserver "127.0.0.1:$PORT"
else
  # Several processes so one slow request does not hold up the others; static files via WhiteNoise.
  .venv/bin/gunicorn artsite.wsgi:application --bind "127.0.0.1:$PORT" --workers "${WEB_WORKERS:-2}" --worker-class gthread --threads "$WEB_THREADS" --keep-alive 5 \
    --access-logfile "${ACCESS_LOG:-/dev/null}" --error-logfile - --log-level warning
fi
