"""A plan's status changes in one place: `lottery.services.plans._plan_transition`.

That helper locks the plan, checks its stored status, writes the new one and audits the step. A
service that set a status itself could skip any of those, so this scan of the lottery app fails
on a status written anywhere else: `plan.status = …`, `<anything>.status = Plan.Status.…`,
`setattr(plan, "status", …)` or `.update(status=Plan.Status.…)`.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HELPER = ("lottery/services/plans.py", "_plan_transition")


def _names_plan_status(node: ast.AST) -> bool:
    """Whether ``node`` mentions ``Plan.Status`` (e.g. ``Plan.Status.DRAFT``)."""
    return any(
        isinstance(n, ast.Attribute)
        and n.attr == "Status"
        and isinstance(n.value, ast.Name)
        and n.value.id == "Plan"
        for n in ast.walk(node)
    )


def _is_plan(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == "plan"


def _targets(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.Assign):
        found = []
        for target in node.targets:
            found += target.elts if isinstance(target, ast.Tuple | ast.List) else [target]
        return found
    if isinstance(node, ast.AugAssign | ast.AnnAssign):
        return [node.target]
    return []


class _Scan(ast.NodeVisitor):
    def __init__(self, path: str):
        self.path = path
        self.functions: list[str] = []
        self.found: list[str] = []

    def _function(self, node) -> None:
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def _report(self, node: ast.AST) -> None:
        if (self.path, self.functions[-1] if self.functions else "") != HELPER:
            self.found.append(f"{self.path}:{node.lineno}: {ast.unparse(node)}")

    def generic_visit(self, node: ast.AST) -> None:
        value = getattr(node, "value", None)
        for target in _targets(node):
            if (
                isinstance(target, ast.Attribute)
                and target.attr == "status"
                and (_is_plan(target.value) or (value is not None and _names_plan_status(value)))
            ):
                self._report(node)
        if isinstance(node, ast.Call):
            func, args = node.func, node.args
            if (
                isinstance(func, ast.Name)
                and func.id == "setattr"
                and len(args) >= 2
                and isinstance(args[1], ast.Constant)
                and args[1].value == "status"
                and (_is_plan(args[0]) or any(_names_plan_status(a) for a in args[2:]))
            ):
                self._report(node)
            if isinstance(func, ast.Attribute) and func.attr in ("update", "bulk_update"):
                for keyword in node.keywords:
                    if keyword.arg == "status" and _names_plan_status(keyword.value):
                        self._report(node)
        super().generic_visit(node)


def scan(root: Path = ROOT) -> list[str]:
    found = []
    for path in sorted((root / "lottery").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        visitor = _Scan(str(path.relative_to(root)))
        visitor.visit(ast.parse(path.read_text(encoding="utf-8")))
        found += visitor.found
    return found


def test_a_plan_status_is_written_only_by_the_transition_helper():
    assert scan() == [], "a plan's status written outside lottery.services.plans._plan_transition"


def test_the_scan_sees_each_way_of_writing_a_status(tmp_path):
    """The guard can fail: each form below, outside the helper, is reported."""
    services = tmp_path / "lottery" / "services"
    services.mkdir(parents=True)
    (services / "plans.py").write_text(
        "def _plan_transition(plan, to_state):\n"
        "    plan.status = to_state\n"
        "def plan_withdraw(plan, draft):\n"
        "    plan.status = Plan.Status.DRAFT\n"
        "    draft.status = Plan.Status.DRAFT\n"
        "    plan.status, x = 'draft', 1\n"
        "    setattr(plan, 'status', 'draft')\n"
        "    Plan.objects.filter(pk=1).update(status=Plan.Status.DRAFT)\n"
        "    draw.status = Draw.Status.EXECUTED\n",
        encoding="utf-8",
    )
    assert [line.split(":")[1] for line in scan(tmp_path)] == ["4", "5", "6", "7", "8"]
