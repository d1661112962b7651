"""Verify a stored draw: re-run it from its record and compare with what the database holds.

``lottery.engine.verify`` recomputes the manifest hash, the seed, every stratum's selection
and every team from the published inputs. On top of that this module checks what only the
database knows: the stored exclusions and modes match the frozen manifest. (The engine itself
replays every approved substitution in the record against the verifiable order.)
"""

from __future__ import annotations

from lottery import engine
from lottery.models import Draw, DrawExclusion, DrawSelection
from lottery.selectors import draw_record


def draw_verify(draw: Draw) -> list[str]:
    """Every difference found, in words; an empty list means the draw matches."""
    if draw.status != Draw.Status.EXECUTED:
        return [f"draw {draw.number} has not been executed (status: {draw.status})"]
    record = draw_record(draw)
    problems = list(engine.verify(record))
    if problems:
        return problems
    manifest = record["manifest"]
    problems += _check_exclusions(draw, manifest)
    problems += _check_modes(draw, manifest)
    return problems


def _check_exclusions(draw: Draw, manifest: dict) -> list[str]:
    stored = sorted(
        [code, reason, detail]
        for code, reason, detail in DrawExclusion.objects.filter(draw=draw).values_list(
            "source__source_code", "reason", "detail"
        )
    )
    frozen = manifest["draw"].get("exclusions", [])
    if stored == frozen:
        return []
    missing = [e for e in frozen if e not in stored]
    added = [e for e in stored if e not in frozen]
    return [
        f"exclusions differ from the manifest: missing {missing[:5]}, not in manifest {added[:5]}"
    ]


def _check_modes(draw: Draw, manifest: dict) -> list[str]:
    off_site = set(manifest["draw"].get("off_site", []))
    joint = manifest["draw"].get("joint", {})
    problems = []
    for stratum, position, code, mode, is_joint, sub in DrawSelection.objects.filter(
        draw=draw
    ).values_list("stratum", "position", "source__source_code", "mode", "joint", "substitution"):
        expected = "off_site" if code in off_site else "on_site"
        if mode != expected:
            problems.append(f"stratum {stratum}, {code}: mode is {mode}, manifest says {expected}")
        if sub is None and is_joint != (position <= joint.get(stratum, 0)):
            problems.append(f"stratum {stratum}, position {position}: joint flag differs")
    return problems


#: The audited action that puts a draw in each status.
STATUS_ACTIONS = {
    "draw.prepare": Draw.Status.PREPARED,
    "draw.commit": Draw.Status.COMMITTED,
    "draw.execute": Draw.Status.EXECUTED,
    "draw.discard": Draw.Status.DISCARDED,
    "draw.abandon": Draw.Status.ABANDONED,
}


#: The audited action that discloses a draw (``disclosed_at`` set once).
DISCLOSE_ACTION = "draw.disclose"


def draws_against_trail() -> list[tuple[str, list[str]]]:
    """Every draw whose row and audit trail disagree: a status reached without its audited
    transition (e.g. ``UPDATE lottery_draw SET status = …`` by SQL), a disclosure without
    its entry (``SET disclosed_at = now()``, which the triggers allow once, as the services
    do), a draw without its preparation entry, or a draw in the trail whose row is gone.
    ``(label, problems)``."""
    from core.models import AuditEntry

    trail: dict[str, list[str]] = {}
    disclosed: set[str] = set()
    for object_id, action in (
        AuditEntry.objects.filter(
            object_type="lottery.draw", action__in=[*STATUS_ACTIONS, DISCLOSE_ACTION]
        )
        .order_by("seq")
        .values_list("object_id", "action")
    ):
        if action == DISCLOSE_ACTION:
            disclosed.add(object_id)
        else:
            trail.setdefault(object_id, []).append(action)
    found = []
    rows = {
        str(pk): (number, status, disclosed_at is not None)
        for pk, number, status, disclosed_at in Draw.objects.values_list(
            "pk", "number", "status", "disclosed_at"
        )
    }
    for pk, (number, status, is_disclosed) in sorted(rows.items(), key=lambda i: int(i[0])):
        actions = trail.get(pk, [])
        if not actions:
            found.append((number, ["no audit entry records its preparation"]))
            continue
        problems = []
        expected = STATUS_ACTIONS[actions[-1]]
        if status != expected:
            problems.append(f"status {status}, but the audit trail's last step says {expected}")
        if is_disclosed != (pk in disclosed):
            # An early disclosure by SQL makes the drawn list public before its time.
            problems.append(
                "disclosed, but no audit entry records its disclosure"
                if is_disclosed
                else "the audit trail records its disclosure, but it is not disclosed"
            )
        if problems:
            found.append((number, problems))
    for pk in sorted(set(trail) - set(rows), key=int):
        found.append((f"#{pk}", ["in the audit trail, but its row is missing from the table"]))
    return found
