#!/usr/bin/env bash
# Run the app with demo data on the embedded default: SQLite and a file-system Celery broker
# under data/, no server to install. Web on http://127.0.0.1:8000, plus a Celery worker and beat.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh runtime
export DJANGO_SETTINGS_MODULE=config.settings.local
unset DATABASE_URL CELERY_BROKER_URL CELERY_RESULT_BACKEND
PY=.venv/bin/python

$PY manage.py migrate --noinput
$PY manage.py demo_seed

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
.venv/bin/celery -A config worker --loglevel=WARNING --pool=threads --concurrency=2 &
pids+=($!)
.venv/bin/celery -A config beat --loglevel=WARNING &
pids+=($!)
echo
echo "  Open http://127.0.0.1:8000  (demo accounts above; Ctrl-C stops web, worker and beat)"
echo
$PY manage.py runserver 127.0.0.1:8000 --noreload &
pids+=($!)
wait -n "${pids[@]}"
