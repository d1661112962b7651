#!/usr/bin/env bash
# Install what the tests need and run the whole suite: lint, dependency and migration checks,
# every test on real PostgreSQL + Redis (with a real Celery worker and a real Chromium),
# then the smoke tests again on the embedded SQLite default.
# Extra arguments go to the main pytest run, e.g. scripts/test.sh -k calendar
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return
  echo "installing Debian packages: ${missing[*]}"
  [ -n "$apt_updated" ] || { as_root apt-get update -qq; apt_updated=1; }
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Chromium for the browser tests; CJK fonts and HarfBuzz subsetting for WeasyPrint PDFs.
apt_install chromium fonts-noto-cjk libharfbuzz-subset0 poppler-utils

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  apt_install postgresql postgresql-client
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start || true
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  # A fresh cluster asks for a password over TCP: give postgres the one the tests use.
  as_root su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null || true
fi
if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  apt_install redis-server
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
    --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 1; done
fi

scripts/bootstrap.sh dev
PY=.venv/bin/python
export DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/sjsj}
export CELERY_BROKER_URL=${TEST_CELERY_BROKER_URL:-redis://127.0.0.1:6379/15}
export SJSJ_CHROMIUM=${SJSJ_CHROMIUM:-/usr/bin/chromium}

# The application database itself (pytest creates test_<name> beside it).
$PY - <<'PYEOF'
import os, psycopg
url = os.environ["DATABASE_URL"]
base, name = url.rsplit("/", 1)
with psycopg.connect(base + "/postgres", autocommit=True) as conn:
    if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
        conn.execute(f'CREATE DATABASE "{name}"')
PYEOF

echo "== ruff"; .venv/bin/ruff check .
echo "== layers"; .venv/bin/lint-imports
echo "== types"; .venv/bin/mypy
echo "== pip check"; .venv/bin/pip check
echo "== migrations"; DJANGO_SETTINGS_MODULE=config.settings.test $PY manage.py makemigrations --check --dry-run >/dev/null
echo "== tests on PostgreSQL + Redis"
.venv/bin/pytest --create-db "$@"
echo "== smoke tests on the embedded SQLite default"
smoke_dir=$(mktemp -d)
DATABASE_URL="sqlite:///$smoke_dir/smoke.sqlite3" CELERY_BROKER_URL="filesystem://" \
  SJSJ_DATA_DIR="$smoke_dir" .venv/bin/pytest -m smoke --create-db -p no:cacheprovider -q
rm -rf "$smoke_dir"
