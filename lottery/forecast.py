"""The teams a manifest will give, forecast by running the engine itself (docs §8, version 3).

Prepare shows each required expertise's expected load per holder and refuses a manifest
whose teams would break the cap on an inspector's share. An estimate from formulas was wrong
exactly where it mattered (issue 9: "43.0 teams on average" while the one holder of an
expertise went on all 301), so this runs the real team assignment with a few stand-in seeds,
derived from the manifest hash, none of which is the draw's seed (that needs the witnesses'
values, which do not exist yet). Standard library and the engine only: no Django.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from lottery import engine

#: Stand-in seeds for a draw of up to this many teams; one above it (a run of a 100,000-source
#: draw costs about as much as the draw).
SMALL_DRAW = 3000


@dataclass
class Forecast:
    runs: int
    max_teams: int | None
    load: dict[str, float] = field(default_factory=dict)  # mean teams per inspector
    peak: dict[str, int] = field(default_factory=dict)  # the most teams in any run
    over_cap: list[str] = field(default_factory=list)  # certified ids above the cap in a run
    leaders: int = 0  # distinct leaders in the first run

    def as_json(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "max_teams": self.max_teams,
            "load": self.load,
            "peak": self.peak,
            "over_cap": self.over_cap,
            "leaders": self.leaders,
        }


def forecast_teams(
    manifest: dict[str, Any], manifest_hash: str, runs: int | None = None
) -> Forecast:
    """Mean and peak teams per inspector over ``runs`` stand-in seeds (default: 3 for a draw
    of up to SMALL_DRAW teams, else 1)."""
    teams_total = sum(s["quota"] for s in manifest["strata"])
    if runs is None:
        runs = 3 if teams_total <= SMALL_DRAW else 1
    cap = manifest["constraints"].get("max_teams")
    certified = {p["id"] for p in manifest["inspectors"]["pool"] if p["certified"]}
    totals: Counter[str] = Counter()
    peak: dict[str, int] = {}
    over: set[str] = set()
    leaders = 0
    for run in range(runs):
        seed = hashlib.sha256(f"sjsj-forecast\x00{manifest_hash}\x00{run}".encode()).digest()
        objects = engine.select_objects(seed, manifest)
        loads: Counter[str] = Counter()
        leaders_here = set()
        for team in engine.iter_teams(seed, manifest, objects):
            leaders_here.add(team["leader"])
            loads.update([team["leader"], *team["members"], *team["experts"]])
        if run == 0:
            leaders = len(leaders_here)
        totals.update(loads)
        for pid, n in loads.items():
            peak[pid] = max(peak.get(pid, 0), n)
            if cap is not None and pid in certified and n > cap:
                over.add(pid)
    return Forecast(
        runs=runs,
        max_teams=cap,
        load={pid: round(n / runs, 1) for pid, n in sorted(totals.items())},
        peak=dict(sorted(peak.items())),
        over_cap=sorted(over),
        leaders=leaders,
    )
