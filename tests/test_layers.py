"""The layers import-linter cannot see: string references to an upper app.

`.importlinter` enforces the order of Python imports (README, Architecture). A lower app can still
reach up by name: an "app.Model" key, an `import_string` path, a URL name "app:view" (in code or
in a template's `{% url %}`), an `{% include "app/..." %}`. This test finds such strings in each app's code and templates and fails
on any not in ALLOWED — and on an ALLOWED entry that is gone, so the list only shrinks.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ORDER = [
    "core",
    "exchange",
    "registry",
    "inspectors",
    "lottery",
    "inspections",
    "publication",
    "deadlines",
    "oversight",
]  # low → high

# (file, referenced string): today's known exceptions, each to be removed, never added to.
ALLOWED: set[tuple[str, str]] = set()

TEMPLATE_REF = re.compile(r"""\{%\s*(?:include|extends|url)\s+["']([^"']+)["']""")


def _upper_pattern(app: str) -> re.Pattern[str] | None:
    upper = ORDER[ORDER.index(app) + 1 :]
    if not upper:
        return None
    return re.compile(rf"^({'|'.join(upper)})[.:/]")


def _references(app: str) -> set[tuple[str, str]]:
    pattern = _upper_pattern(app)
    if pattern is None:
        return set()
    found = set()
    for path in (ROOT / app).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and pattern.match(text):
                found.add((str(path.relative_to(ROOT)), text))
    for path in (ROOT / app).rglob("*.html"):
        for name in TEMPLATE_REF.findall(path.read_text(encoding="utf-8")):
            if pattern.match(name):
                found.add((str(path.relative_to(ROOT)), name))
    return found


def test_no_lower_app_names_an_upper_one():
    found = set().union(*(_references(app) for app in ORDER))
    assert found - ALLOWED == set(), "a lower app names an upper one: register it from above"
    assert ALLOWED - found == set(), "an allowed exception is gone: remove it from ALLOWED"


def test_the_readme_states_the_enforced_order():
    contract = (ROOT / ".importlinter").read_text(encoding="utf-8")
    layers = contract.split("layers =", 1)[1].split()
    assert [name for name in reversed(layers) if name in ORDER] == ORDER
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert " ← ".join(f"`{app}`" for app in ORDER) in " ".join(readme.split())
