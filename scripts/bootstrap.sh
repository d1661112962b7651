#!/usr/bin/env bash
# Create .venv with the pinned dependencies and install the npm front-end packages.
# Usage: scripts/bootstrap.sh [runtime|dev]      Idempotent: re-running is quick.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-runtime}

pick_python() {
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      echo "$candidate"; return
    fi
  done
  echo "Python 3.11 is required (python3.11 not found)." >&2
  exit 1
}

if [ ! -x .venv/bin/python ]; then
  "$(pick_python)" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
fi
stamp=".venv/.installed-$mode-$(cat pyproject.toml | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  if [ "$mode" = dev ]; then
    .venv/bin/pip install --quiet -e ".[dev]"
  else
    .venv/bin/pip install --quiet -e .
  fi
  touch "$stamp"
fi

if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "npm is required to install the front-end packages (Bootstrap, htmx, ECharts)." >&2
    exit 1
  fi
fi
if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.lock-stamp; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.lock-stamp
fi
