#!/usr/bin/env bash
# Extract translatable strings into each app's catalog (and the project's for templates/ and
# config/), then compile. Chinese (zh_Hans) is the interface's first language; msgids are
# English. Fill new entries with: python scripts/po_fill.py <app> translations.json
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
APPS=(core exchange registry inspectors lottery inspections publication deadlines oversight)
for app in "${APPS[@]}"; do
  mkdir -p "$app/locale"
  (cd "$app" && "../$PY" ../manage.py makemessages -l zh_Hans --no-obsolete --no-location >/dev/null)
done
ignores=()
for app in "${APPS[@]}"; do ignores+=(-i "$app"); done
"$PY" manage.py makemessages -l zh_Hans --no-obsolete --no-location "${ignores[@]}" \
  -i .venv -i node_modules -i data -i tests -i bench -i scripts -i docs >/dev/null
"$PY" manage.py compilemessages -i .venv -i node_modules >/dev/null
echo "catalogs updated; untranslated entries:"
"$PY" scripts/po_fill.py --report
