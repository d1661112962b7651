"""Verify a stored draw: re-run it from its record and compare with what the database holds.

``lottery.engine.verify`` recomputes the manifest hash, the seed, every stratum's selection
and every team from the published inputs. On top of that this module checks what only the
database knows: the stored exclusions and modes match the frozen manifest, and every approved
substitution took exactly the replacement the verifiable order gives.
"""

from __future__ import annotations

import json
from collections import defaultdict

from lottery import engine
from lottery.models import Draw, DrawExclusion, DrawSelection, Substitution, TeamAssignment
from lottery.services import draw_record


def _team_of(rows: list[TeamAssignment], code: str, stratum: str) -> dict:
    return {
        "object": code,
        "stratum": stratum,
        "leader": next((f"I{a.inspector_id}" for a in rows if a.role == "leader"), ""),
        "members": [f"I{a.inspector_id}" for a in rows if a.role == "member"],
        "experts": [f"I{a.inspector_id}" for a in rows if a.role == "expert"],
    }


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
    problems += _check_substitutions(draw, manifest, record)
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


def _check_substitutions(draw: Draw, manifest: dict, record: dict) -> list[str]:
    seed = bytes.fromhex(draw.seed)
    teams = [dict(t) for t in record["result"]["teams"]]
    taken = {code for codes in record["result"]["objects"].values() for code in codes}
    rows_by_sub: dict[int, list[TeamAssignment]] = defaultdict(list)
    for a in TeamAssignment.objects.filter(
        selection__draw=draw, substitution__isnull=False
    ).order_by("pk"):
        rows_by_sub[a.substitution_id].append(a)
    excluded: dict[int, list[str]] = defaultdict(list)
    problems = []
    subs = (
        Substitution.objects.filter(draw=draw, status=Substitution.Status.APPROVED)
        .select_related("selection__source")
        .order_by("decided_at", "pk")
    )
    for sub in subs:
        where = f"substitution #{sub.pk}"
        code = sub.selection.source.source_code
        try:
            if sub.kind == Substitution.Kind.OBJECT:
                teams = [t for t in teams if t["object"] != code]
                expected = engine.next_object_candidate(
                    seed, manifest, sub.selection.stratum, taken
                )
                replacement = (
                    DrawSelection.objects.filter(substitution=sub).select_related("source").first()
                )
                got = replacement.source.source_code if replacement else None
                if got != expected:
                    problems.append(
                        f"{where}: replacement is {got}, the verifiable order gives {expected}"
                    )
                    continue
                taken.add(expected)
                team = engine.replacement_team(seed, manifest, expected, teams, [])
                stored = _team_of(rows_by_sub[sub.pk], expected, sub.selection.stratum)
            else:
                excluded[sub.selection_id].append(f"I{sub.inspector_id}")
                team = engine.replacement_team(
                    seed, manifest, code, teams, excluded[sub.selection_id]
                )
                stored = _team_of(rows_by_sub[sub.pk], code, sub.selection.stratum)
                teams = [t for t in teams if t["object"] != code]
        except engine.EngineError as exc:
            problems.append(f"{where}: cannot be recomputed: {exc}")
            continue
        if json.dumps(stored, sort_keys=True) != json.dumps(team, sort_keys=True):
            problems.append(f"{where}: stored team {stored} differs from the recomputed {team}")
        teams.append(team)
    return problems
