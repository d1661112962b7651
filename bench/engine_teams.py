"""Benchmark of the pure draw engine (lottery/engine.py), no Django, no database.

    .venv/bin/python bench/engine_teams.py          # 100k:500 drawing 16,000; 300k:1500 drawing 75,000
    .venv/bin/python bench/engine_teams.py --sizes 30000:200:4855 --repeat 5

For each size (sources:inspectors:drawn) it builds a county-like manifest — strata key 15 %,
general 80 %, special 5 % of the sources, quotas proportional to the pools, a few weights above
1 and a second tier, 1 % of the objects with a conflict, 10 % with last time's inspectors
(two each), the key and special objects requiring an expertise about a quarter of the
inspectors have, a few special objects requiring one only technical experts have — and prints
the CPU time of each step of ``execute`` and of the whole ``execute`` and ``verify`` (the best
of ``--repeat`` runs; CPU time, because the development machine is shared), plus the number of
HMACs per team pick.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import sys
import time
from pathlib import Path
from typing import Any

ENGINE_PATH = Path(__file__).resolve().parents[1] / "lottery" / "engine.py"
SKILLS = ["大气", "水", "危险废物", "自动监控"]  # each held by about a quarter of inspectors


def load_engine() -> Any:
    spec = importlib.util.spec_from_file_location("sjsj_engine_bench", ENGINE_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def make_manifest(
    engine: Any, n_sources: int, n_inspectors: int, drawn: int | None = None
) -> dict[str, Any]:
    rng = random.Random(n_sources * 7919 + n_inspectors)
    shares = {"key": 15, "general": 80, "special": 5}
    drawn = n_sources * 16 // 100 if drawn is None else drawn
    ids = {name: [] for name in shares}
    names = [name for name, share in shares.items() for _ in range(share)]
    for i in range(n_sources):
        ids[names[i % 100]].append(f"91410823MA{i:08d}")
    people = [
        {
            "id": f"I{i:05d}",
            "name": f"检查员{i}",
            "certified": True,
            "expertise": [SKILLS[i % 4]] + ([SKILLS[(i + 1) % 4]] if i % 5 == 0 else []),
        }
        for i in range(n_inspectors)
    ]
    people += [
        {"id": f"X{i:03d}", "name": f"专家{i}", "certified": False, "expert": True,
         "expertise": ["辐射安全"]}
        for i in range(max(2, n_inspectors // 100))
    ]  # fmt: skip
    certified = [p["id"] for p in people if p["certified"]]
    strata, constraints = [], {}
    for name, pool_ids in ids.items():
        pool = [
            {
                "id": oid,
                "weight": rng.choice([1, 1, 1, 1, 2, 3]),
                "tier": 0 if rng.random() < 0.7 else 1,
            }
            for oid in pool_ids
        ]
        strata.append({"name": name, "quota": drawn * len(pool) // n_sources, "pool": pool})
        for oid in pool_ids:
            rule: dict[str, list[str]] = {}
            if rng.random() < 0.01:
                rule["conflicts"] = rng.sample(certified, 1)
            if rng.random() < 0.10:
                rule["previous"] = rng.sample(certified, 2)
            if name == "key":
                rule["requires"] = [rng.choice(SKILLS)]
            elif name == "special":
                rule["requires"] = [rng.choice(SKILLS)] + (
                    ["辐射安全"] if rng.random() < 0.1 else []
                )
            if rule:
                constraints[oid] = rule
    return engine.build_manifest(
        draw={"number": f"bench-{n_sources}-{n_inspectors}"},
        strata=strata,
        inspectors=people,
        witnesses=2,
        team_size=2,
        constraints=constraints,
    )


def count_team_hmacs(engine: Any, seed: bytes, manifest: Any, objects: Any) -> int:
    """HMACs computed by one ``assign_teams`` (the engine inlines them: count pad copies)."""
    calls = 0

    class CountingPad:
        def __init__(self, state: Any) -> None:
            self.state = state

        def copy(self) -> Any:
            nonlocal calls
            calls += 1
            return self.state.copy()

    plain = engine._HmacSha256

    class CountingHmac(plain):  # type: ignore[misc, valid-type]
        def __init__(self, key: bytes) -> None:
            super().__init__(key)
            self.outer = CountingPad(self.outer)

    engine._HmacSha256 = CountingHmac
    try:
        engine.assign_teams(seed, manifest, objects)
    finally:
        engine._HmacSha256 = plain
    return calls


def best(repeat: int, func: Any, *args: Any) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.process_time()
        result = func(*args)
        times.append(time.process_time() - start)
    return min(times), result


def run(engine: Any, n_sources: int, n_inspectors: int, drawn: int, repeat: int) -> None:
    manifest = make_manifest(engine, n_sources, n_inspectors, drawn)
    entropy = [{"witness": "甲", "value": "351624"}, {"witness": "乙", "value": "661234"}]
    t_check, _ = best(repeat, engine.check_manifest, manifest)
    t_hash, digest = best(repeat, engine.manifest_hash, manifest)
    clean, public = engine.normalise_entropy(entropy, None, manifest["entropy_spec"])
    seed = engine.compute_seed(digest, clean, public)
    t_select, objects = best(repeat, engine.select_objects, seed, manifest)
    t_teams, teams = best(repeat, engine.assign_teams, seed, manifest, objects)
    calls = count_team_hmacs(engine, seed, manifest, objects)
    picks = sum(1 + len(t["members"]) + len(t["experts"]) for t in teams)
    t_execute, record = best(repeat, engine.execute, manifest, entropy)
    t_verify, problems = best(repeat, engine.verify, record)
    assert problems == [], problems
    drawn = sum(len(v) for v in objects.values())
    print(
        f"{n_sources:>8} {n_inspectors:>6} {drawn:>7} {t_check:>7.3f} {t_hash:>7.3f} "
        f"{t_select:>7.3f} {t_teams:>7.3f} {calls / max(picks, 1):>9.2f} "
        f"{t_execute:>8.3f} {t_verify:>7.3f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000:500:16000,300000:1500:75000")
    parser.add_argument("--repeat", type=int, default=3, help="runs per step; the best is shown")
    args = parser.parse_args()
    engine = load_engine()
    print(f"engine {engine.ALGORITHM_VERSION}, Python {sys.version.split()[0]}; CPU seconds")
    print(
        f"{'sources':>8} {'insp.':>6} {'drawn':>7} {'check':>7} {'hash':>7} {'select':>7} "
        f"{'teams':>7} {'HMAC/pick':>9} {'execute':>8} {'verify':>7}"
    )
    for spec in args.sizes.split(","):
        n_sources, n_inspectors, *drawn = (int(x) for x in spec.split(":"))
        run(
            engine,
            n_sources,
            n_inspectors,
            drawn[0] if drawn else n_sources * 16 // 100,
            args.repeat,
        )


if __name__ == "__main__":
    main()
