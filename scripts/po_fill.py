"""Fill zh_Hans translations into the catalogs, or report what is missing.

    python scripts/po_fill.py --report
    python scripts/po_fill.py CATALOG_DIR translations.json   # {"English msgid": "中文", ...}

CATALOG_DIR is an app name (``core``) or ``.`` for the project's own catalog.
"""

import json
import subprocess
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = ["."] + [
    "core",
    "exchange",
    "registry",
    "inspectors",
    "lottery",
    "inspections",
    "publication",
    "deadlines",
    "oversight",
]


def po_path(where: str) -> Path:
    return ROOT / where / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def report() -> int:
    missing = 0
    for where in CATALOGS:
        path = po_path(where)
        if not path.exists():
            continue
        po = polib.pofile(str(path))
        for entry in po.untranslated_entries() + po.fuzzy_entries():
            missing += 1
            print(f"{where}: {entry.msgid!r}")
    print(f"{missing} missing")
    return 1 if missing else 0


def fill(where: str, mapping_file: str) -> None:
    mapping = json.loads(Path(mapping_file).read_text(encoding="utf-8"))
    path = po_path(where)
    po = polib.pofile(str(path))
    po.metadata["Language"] = "zh_Hans"
    po.metadata["Content-Type"] = "text/plain; charset=UTF-8"
    po.metadata["Plural-Forms"] = "nplurals=1; plural=0;"
    filled = 0
    for entry in po:
        if entry.msgid in mapping:
            if entry.msgid_plural:
                entry.msgstr_plural = {0: mapping[entry.msgid]}
            else:
                entry.msgstr = mapping[entry.msgid]
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
            filled += 1
    po.save(str(path))
    # msgfmt, like compilemessages, so the .mo bytes do not churn between the two tools.
    subprocess.run(["msgfmt", "-o", str(path.with_suffix(".mo")), str(path)], check=True)
    print(f"{where}: filled {filled} entries")


if __name__ == "__main__":
    if sys.argv[1:] == ["--report"]:
        sys.exit(report())
    fill(sys.argv[1], sys.argv[2])
