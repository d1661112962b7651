"""Issue 11: each field rule (text up to N characters, a choice, a date, a credit code…) says
what is wrong in ONE message, whoever applies it: a service refusing a form or an API call,
or the importer refusing a cell. The rules and their messages live in ``core/fields.py``;
the entities' fields are declared with them (``registry/fields.py``, ``inspectors/fields.py``).

Two guards: the catalogs of the apps that hold the entities have one msgid per rule (a second
wording of “at most N characters” would show up here), and the code spells each rule's
message only in ``core/fields.py``."""

import re
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("core", "registry", "inspectors")

pytestmark = pytest.mark.smoke

# Each rule's messages, recognised by what they say whatever the wording around it.
RULES = {
    "text too long": r"^(?!.*\btag\b).*(at most|longer than|more than) %\(max\)s characters",
    "tag too long": r"\btag\b.*%\(max\)s characters|%\(max\)s characters.*\btag\b",
    "too many tags": r"%\(max\)s tags",
    "required": r"^(This field is required\.?|The \w+ is required\.?|required(, but empty)?)$",
    "not a choice": r"not one of|^Unknown (value|pollution type|expertise|inspector type|gender)",
    "not a date": r"is not a date\b",
    "impossible date": r"is not a valid date",
    "yes or no": r"yes or no|是 or 否, not",
    "whole number": r"whole number",
    "number": r"is not a number",
    "out of range": r"is outside %\(min\)s|\bbetween\b.*%\(|\bbetween 0 and 60\b",
    "below the minimum": r"less than %\(min\)s|zero or more",
    "division code": r"is not a six-digit|has six digits|must be a six-digit",
    "pattern": r"is not valid: %\(rule\)s|^Not a GB/T 4754",
    "malformed credit code": r"is not a unified social credit code",
    "credit code check digit": r"should be %\(digit\)s",
}


def _msgids() -> set[str]:
    found = set()
    for app in APPS:
        po = ROOT / app / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
        found.update(entry.msgid for entry in polib.pofile(str(po)))
    return found


@pytest.mark.parametrize("rule", RULES)
def test_each_rule_has_one_message_in_the_catalogs(rule):
    pattern = re.compile(RULES[rule], re.IGNORECASE)
    wordings = sorted(msgid for msgid in _msgids() if pattern.search(msgid))
    assert len(wordings) == 1, f"{rule}: {wordings}"


def _gettext_literals(path: Path) -> list[str]:
    """The first string literal of each ``_(`` / ``gettext(`` call (adjacent literals joined)."""
    text = path.read_text(encoding="utf-8")
    found = []
    for match in re.finditer(r"\b(?:_|gettext|gettext_lazy)\(\s*((?:\"[^\"\n]*\"\s*)+)", text):
        found.append("".join(re.findall(r"\"([^\"\n]*)\"", match.group(1))))
    return found


def test_the_rules_messages_are_spelled_only_in_core_fields():
    home = ROOT / "core" / "fields.py"
    patterns = {rule: re.compile(regex, re.IGNORECASE) for rule, regex in RULES.items()}
    elsewhere = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if path == home or "migrations" in path.parts:
                continue
            for literal in _gettext_literals(path):
                for rule, pattern in patterns.items():
                    if pattern.search(literal):
                        elsewhere.append((str(path.relative_to(ROOT)), rule, literal))
    assert elsewhere == []
    # and core/fields.py does spell them (the scan would find nothing if it looked wrongly)
    home_literals = _gettext_literals(home)
    assert {rule for rule, p in patterns.items() if any(map(p.search, home_literals))} == set(RULES)
