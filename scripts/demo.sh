#!/usr/bin/env bash
# Run the app with demo data on the embedded default: SQLite and a file-system Celery broker
# under data/, no server to install. Web on http://127.0.0.1:8000, plus a Celery worker and beat.
set -euo pipefail
cd "$(dirname "$0")/.."
# Chinese fonts for the PDFs (without them every character is an empty box, and the app
# refuses to make a PDF); HarfBuzz subsetting keeps them small and fast.
missing=()
for pkg in fonts-noto-cjk libharfbuzz-subset0; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" = 0 ]; then sudo=(); else sudo=(sudo); fi
  "${sudo[@]}" apt-get update -qq &&
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null ||
    echo "could not install ${missing[*]}: PDFs are refused until a Chinese font is installed" >&2
fi
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
