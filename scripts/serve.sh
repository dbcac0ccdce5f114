#!/usr/bin/env bash
# Serves Shafaf on http://127.0.0.1:$PORT with gunicorn, its background worker and the nightly jobs
# (`manage.py run_nightly --at $SHAFAF_NIGHTLY_AT`, 02:00 by default) beside it.
# Ctrl-C (or any of the three ending) stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8000}"
.venv/bin/python manage.py db_worker --queue-name default &
worker=$!
.venv/bin/python manage.py run_nightly --at "${SHAFAF_NIGHTLY_AT:-02:00}" &
nightly=$!
SHAFAF_DB_CONN_MAX_AGE="${SHAFAF_DB_CONN_MAX_AGE:-60}" .venv/bin/gunicorn config.wsgi --config config/gunicorn.conf.py --bind "127.0.0.1:${PORT}" --workers "${WEB_WORKERS:-2}" --access-logfile - &
web=$!
trap 'kill $worker $nightly $web 2>/dev/null || true; wait 2>/dev/null || true' INT TERM EXIT
echo "Shafaf: http://127.0.0.1:${PORT}/ (worker pid $worker, nightly pid $nightly, web pid $web)"
wait -n $worker $nightly $web
