"""Verify a stored draw: re-run it from its record and compare with what the database holds.

``lottery.engine.verify`` recomputes the manifest hash, the seed, every stratum's selection
and every team from the published inputs. On top of that this module checks what only the
database knows: the stored exclusions and modes match the frozen manifest. (The engine itself
replays every approved substitution in the record against the verifiable order.)
"""

from __future__ import annotations

from lottery import engine
from lottery.models import Draw, DrawExclusion, DrawSelection
from lottery.services import draw_record


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
