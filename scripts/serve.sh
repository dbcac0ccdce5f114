#!/usr/bin/env bash
# Serves Shafaf on http://127.0.0.1:$PORT with gunicorn, and its background worker beside it.
# Ctrl-C (or either process ending) stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8000}"
.venv/bin/python manage.py db_worker --queue-name default &
worker=$!
.venv/bin/gunicorn config.wsgi --bind "127.0.0.1:${PORT}" --workers "${WEB_WORKERS:-2}" --access-logfile - &
web=$!
trap 'kill $worker $web 2>/dev/null || true; wait 2>/dev/null || true' INT TERM EXIT
echo "Shafaf: http://127.0.0.1:${PORT}/ (worker pid $worker, web pid $web)"
wait -n $worker $web
