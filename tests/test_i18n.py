"""Chinese first: every catalog is fully translated and its compiled .mo matches the .po."""

import gettext
from collections import defaultdict
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = sorted(ROOT.glob("*/locale/zh_Hans/LC_MESSAGES/django.po")) + sorted(
    ROOT.glob("locale/zh_Hans/LC_MESSAGES/django.po")
)

pytestmark = pytest.mark.smoke


@pytest.mark.parametrize("po_path", CATALOGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_catalog_is_complete_and_compiled(po_path):
    po = polib.pofile(str(po_path))
    missing = [e.msgid for e in po.untranslated_entries() + po.fuzzy_entries()]
    assert missing == [], f"untranslated in {po_path}: run scripts/messages.sh and fill them"
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists(), f"{mo_path} missing: run scripts/messages.sh"
    with mo_path.open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    for entry in po.translated_entries():
        if entry.msgid_plural or entry.msgctxt:
            continue
        assert compiled.gettext(entry.msgid) == entry.msgstr, f"{mo_path} is stale"


def test_there_is_a_catalog_for_every_app():
    names = {p.parts[-5] if p.parts[-4] == "locale" else "." for p in CATALOGS}
    assert {
        "core",
        "exchange",
        "registry",
        "inspectors",
        "lottery",
        "inspections",
        "publication",
    } <= {p.relative_to(ROOT).parts[0] for p in CATALOGS}, names


def test_no_msgid_is_translated_differently_in_two_catalogs():
    """Django merges the catalogs and the first app in INSTALLED_APPS wins for a shared msgid,
    so two catalogs translating one (msgctxt, msgid) differently show the wrong word on one
    app's pages. Give one use its own msgid or a context instead."""
    seen = defaultdict(dict)
    for po_path in CATALOGS:
        where = str(po_path.relative_to(ROOT).parents[3])
        for entry in polib.pofile(str(po_path)).translated_entries():
            msgstr = entry.msgstr_plural[0] if entry.msgid_plural else entry.msgstr
            seen[(entry.msgctxt, entry.msgid)][where] = msgstr
    conflicts = {key: found for key, found in seen.items() if len(set(found.values())) > 1}
    assert conflicts == {}
