"""Every background job goes through the transactional outbox (README, Reliability).

A task sent straight to the broker (``task.delay(...)``, ``task.apply_async(...)``,
``app.send_task(...)``) hangs or fails the request while Redis is down, and is lost if the
broker loses it; ``core.outbox.outbox_enqueue(task_name, *args)`` commits the job with its
message and sends it once the broker can take it. This scan of the project's code (not the
tests, the benchmarks or the virtualenv) fails on any direct send outside ``core/outbox.py``,
the one module that publishes, so a new feature cannot bypass the outbox unnoticed. Celery's
canvas (``group``, ``chain``, ``chord``) publishes by itself too, and is refused likewise.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP = {".venv", "node_modules", "tests", "bench", ".git", "static", "data"}
THE_OUTBOX = ROOT / "core" / "outbox.py"
SENDS = {"delay", "apply_async", "send_task"}
CANVAS = {"group", "chain", "chord"}


def _project_files() -> list[Path]:
    return sorted(
        path
        for path in ROOT.rglob("*.py")
        if not SKIP & set(path.relative_to(ROOT).parts[:-1]) and path != THE_OUTBOX
    )


def direct_sends(source: str) -> list[tuple[int, str]]:
    """(line, what) of every direct send in ``source``: an attribute ``.delay``,
    ``.apply_async`` or ``.send_task`` (called or not: ``send = task.delay`` counts), a bare
    ``send_task(``, and Celery's canvas imported."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in SENDS:
            found.append((node.lineno, f".{node.attr}"))
        elif isinstance(node, ast.Name) and node.id == "send_task":
            found.append((node.lineno, "send_task"))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("celery"):
            for alias in node.names:
                if alias.name in CANVAS | {"send_task"}:
                    found.append((node.lineno, f"from {node.module} import {alias.name}"))
    return sorted(found)


def test_the_scan_finds_each_way_of_sending():
    source = (
        "from celery import group\n"
        "report_build_task.delay(1)\n"
        "tasks.archive_build_task.apply_async(args=[2], countdown=5)\n"
        "current_app.send_task('oversight.tasks.report_build_task', args=[3])\n"
        "send = task.delay\n"
        '"""task.delay(1) in a docstring is not a send"""\n'
        "# nor task.delay(1) in a comment\n"
        "outbox_enqueue('oversight.tasks.report_build_task', 4)\n"
    )
    assert direct_sends(source) == [
        (1, "from celery import group"),
        (2, ".delay"),
        (3, ".apply_async"),
        (4, ".send_task"),
        (5, ".delay"),
    ]


def test_the_scan_covers_every_app():
    scanned = {path.relative_to(ROOT).parts[0] for path in _project_files()}
    assert {
        "core",
        "exchange",
        "registry",
        "inspectors",
        "lottery",
        "inspections",
        "publication",
        "deadlines",
        "oversight",
        "config",
    } <= scanned
    assert (ROOT / "oversight" / "services.py") in _project_files()


def test_no_task_is_sent_except_through_the_outbox():
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {what}"
        for path in _project_files()
        for line, what in direct_sends(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], (
        "a task sent straight to the broker: queue it with core.outbox.outbox_enqueue("
        "task_name, *args) in the caller's transaction instead"
    )
