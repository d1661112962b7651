"""Property-based and statistical tests of lottery/engine.py.

Statistical tests use fixed seeds (SHA-256 of a label and a counter), so they give the same
answer on every run and cannot flake; the significance level (0.001) only says how unlucky the
fixed seed set would have to be for a correct engine to fail, which we checked once.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from collections import Counter
from itertools import permutations
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ENGINE_PATH = Path(__file__).resolve().parents[2] / "lottery" / "engine.py"


def _load_engine() -> Any:
    name = "sjsj_lottery_engine_under_test"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ENGINE_PATH)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


engine = _load_engine()

EXPERTISE = ["大气", "水", "危险废物", "辐射安全"]
STRATA = ["key", "general", "special"]
SEEDS = st.binary(min_size=32, max_size=32)
PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def fixed_seeds(label: str, count: int) -> list[bytes]:
    return [hashlib.sha256(f"sjsj-test/{label}/{j}".encode()).digest() for j in range(count)]


# ----------------------------------------------------------------------------------------------
# Strategies
# ----------------------------------------------------------------------------------------------


@st.composite
def manifests(
    draw: Any, *, max_inspectors: int = 10, with_constraints: bool = True
) -> dict[str, Any]:
    """Small but varied manifests: weights, tiers, experts, conflicts, requirements."""
    inspectors = []
    for i in range(draw(st.integers(0, max_inspectors))):
        kind = draw(st.sampled_from(["certified"] * 5 + ["expert"] * 2 + ["neither"]))
        inspectors.append(
            {
                "id": f"I{i}",
                "name": f"检查员{i}",
                "certified": kind == "certified",
                "expert": kind == "expert",
                "expertise": draw(st.lists(st.sampled_from(EXPERTISE), unique=True, max_size=3)),
            }
        )
    strata, counter = [], 0
    for name in STRATA[: draw(st.integers(1, 3))]:
        size = draw(st.integers(0, 6))
        pool = [
            {
                "id": f"O{counter + k}",
                "weight": draw(st.integers(1, 4)),
                "tier": draw(st.integers(0, 2)),
            }
            for k in range(size)
        ]
        counter += size
        strata.append({"name": name, "quota": draw(st.integers(0, size)), "pool": pool})
    constraints: dict[str, Any] = {}
    people = [p["id"] for p in inspectors]
    if with_constraints:
        for oid in (f"O{k}" for k in range(counter)):
            if draw(st.booleans()):
                constraints[oid] = {
                    "requires": draw(
                        st.just([]) | st.lists(st.sampled_from(EXPERTISE), unique=True, max_size=3)
                    ),
                    "conflicts": draw(st.lists(st.sampled_from(people), unique=True, max_size=2))
                    if people
                    else [],
                    "previous": draw(st.lists(st.sampled_from(people), unique=True))
                    if people
                    else [],
                }
    return engine.build_manifest(
        draw={"id": "prop"},
        strata=strata,
        inspectors=inspectors,
        team_size=draw(st.integers(2, 3)),
        constraints=constraints,
        witnesses=draw(st.integers(1, 3)),
    )


def witness_entropy(manifest: dict[str, Any], salt: bytes) -> list[dict[str, str]]:
    count = manifest["entropy_spec"]["witnesses"]
    return [{"witness": f"w{i}", "value": salt.hex() + str(i)} for i in range(count)]


def rule_of(manifest: dict[str, Any], oid: str) -> dict[str, list[str]]:
    return manifest["constraints"]["objects"].get(
        oid, {"requires": [], "conflicts": [], "previous": []}
    )


def infeasibility(manifest: dict[str, Any], oid: str) -> str | None:
    """Independent oracle: why no valid team exists for ``oid`` (None if one exists).

    A team needs team_size certified inspectors without a conflict, and every required
    expertise must be held by someone available, certified or technical expert.
    """
    rule = rule_of(manifest, oid)
    pool = manifest["inspectors"]["pool"]
    free = [p for p in pool if p["id"] not in rule["conflicts"]]
    certified = [p for p in free if p["certified"]]
    if len(certified) < manifest["constraints"]["team_size"]:
        return "too few certified"
    for skill in rule["requires"]:
        if not any(skill in p["expertise"] for p in free if p["certified"] or p["expert"]):
            return f"missing {skill}"
    return None


def assert_valid_team(
    manifest: dict[str, Any], team: dict[str, Any], max_size: int | None = None
) -> None:
    by_id = {p["id"]: p for p in manifest["inspectors"]["pool"]}
    rule = rule_of(manifest, team["object"])
    size = manifest["constraints"]["team_size"]
    certified = [team["leader"], *team["members"]]
    everyone = certified + team["experts"]
    assert len(set(everyone)) == len(everyone), "nobody twice on a team"
    assert all(by_id[p]["certified"] for p in certified), "leader and members are certified"
    assert all(by_id[p]["expert"] for p in team["experts"]), "experts are technical experts"
    assert not set(everyone) & set(rule["conflicts"]), "nobody with a conflict"
    limit = max(size, len(rule["requires"])) if max_size is None else max_size
    assert size <= len(certified) <= limit, "team size"
    covered = {s for p in everyone for s in by_id[p]["expertise"]}
    assert set(rule["requires"]) <= covered, "required expertise covered"
    eligible_certified = [
        p for p in by_id.values() if p["certified"] and p["id"] not in rule["conflicts"]
    ]
    certified_skills = {s for p in certified for s in by_id[p]["expertise"]}
    for skill in rule["requires"]:
        if any(skill in p["expertise"] for p in eligible_certified):
            assert skill in certified_skills, f"{skill} must be covered by certified staff"
    for expert in team["experts"]:
        # An expert is only there for a requirement no eligible certified inspector has.
        useful = [
            s
            for s in by_id[expert]["expertise"]
            if s in rule["requires"] and not any(s in p["expertise"] for p in eligible_certified)
        ]
        assert useful, f"expert {expert} added without need"


# ----------------------------------------------------------------------------------------------
# Properties
# ----------------------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(manifests(), SEEDS)
def test_same_inputs_same_draw_and_the_record_verifies(
    manifest: dict[str, Any], salt: bytes
) -> None:
    entropy = witness_entropy(manifest, salt)
    try:
        first = engine.execute(manifest, entropy)
    except engine.ConstraintError:
        with pytest.raises(engine.ConstraintError):
            engine.execute(manifest, entropy)
        return
    second = engine.execute(json.loads(json.dumps(manifest)), entropy)
    assert first == second
    assert engine.verify(json.loads(json.dumps(first, ensure_ascii=False))) == []


@PROPERTY_SETTINGS
@given(manifests(with_constraints=False), SEEDS, st.data())
def test_selection_structure_and_exclusions(
    manifest: dict[str, Any], seed: bytes, data: st.DataObject
) -> None:
    # The app removes excluded sources from the pool before the manifest is frozen; model that
    # by excluding a random subset of a registry and drawing from the rest.
    registry = {o["id"] for s in manifest["strata"] for o in s["pool"]}
    excluded = (
        set(data.draw(st.lists(st.sampled_from(sorted(registry)), unique=True)))
        if registry
        else set()
    )
    strata = [
        {
            "name": s["name"],
            "quota": min(s["quota"], len([o for o in s["pool"] if o["id"] not in excluded])),
            "pool": [o for o in s["pool"] if o["id"] not in excluded],
        }
        for s in manifest["strata"]
    ]
    reduced = engine.build_manifest(draw={}, strata=strata, inspectors=[], witnesses=1)
    drawn = engine.select_objects(seed, reduced)
    assert list(drawn) == [s["name"] for s in strata]
    for stratum in reduced["strata"]:
        ids = drawn[stratum["name"]]
        order = engine.stratum_order(seed, stratum)
        tier = {o["id"]: o["tier"] for o in stratum["pool"]}
        assert len(ids) == stratum["quota"] == len(set(ids))
        assert ids == order[: stratum["quota"]]
        assert sorted(order) == sorted(tier), "the order is a permutation of the pool"
        assert [tier[i] for i in order] == sorted(tier[i] for i in order), "tiers ascending"
        assert not set(ids) & excluded


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 4), st.integers(0, 2)), min_size=1, max_size=6),
    st.integers(1, 6),
)
def test_every_candidate_has_a_chance_unless_its_tier_rules_it_out(
    members: list[tuple[int, int]], quota: int
) -> None:
    quota = min(quota, len(members))
    pool = [{"id": f"P{i}", "weight": w, "tier": t} for i, (w, t) in enumerate(members)]
    manifest = engine.build_manifest(
        draw={}, strata=[{"name": "s", "quota": quota, "pool": pool}], inspectors=[], witnesses=1
    )
    # Reachable: fewer than `quota` objects sit in a strictly better tier. A reachable object
    # is drawn with probability >= min weight / tier weight >= 1/21 here, so 400 seeds miss
    # it with probability < 4e-9.
    reachable = {
        o["id"] for o in pool if sum(1 for other in pool if other["tier"] < o["tier"]) < quota
    }
    seen: set[str] = set()
    for seed in fixed_seeds("chance", 400):
        seen.update(engine.select_objects(seed, manifest)["s"])
        if seen == reachable:
            break
    assert seen == reachable


@PROPERTY_SETTINGS
@given(manifests(), SEEDS)
def test_teams_satisfy_constraints_or_error_exactly_when_impossible(
    manifest: dict[str, Any], seed: bytes
) -> None:
    drawn = engine.select_objects(seed, manifest)
    in_order = [(name, oid) for name, ids in drawn.items() for oid in ids]
    blocked = [oid for _, oid in in_order if infeasibility(manifest, oid)]
    if blocked:
        with pytest.raises(engine.ConstraintError) as caught:
            engine.assign_teams(seed, manifest, drawn)
        assert caught.value.object_id == blocked[0]
        assert str(caught.value).startswith(f"source {blocked[0]}: ")
        return
    teams = engine.assign_teams(seed, manifest, drawn)
    assert [(t["stratum"], t["object"]) for t in teams] == in_order
    for team in teams:
        assert_valid_team(manifest, team)


@PROPERTY_SETTINGS
@given(
    st.lists(st.sampled_from(EXPERTISE), min_size=2, max_size=8),
    st.lists(st.sampled_from(EXPERTISE), unique=True, min_size=1),
    st.integers(2, 3),
    SEEDS,
)
def test_team_grows_exactly_as_far_as_required_expertise_needs(
    specialties: list[str], requires: list[str], team_size: int, seed: bytes
) -> None:
    # Certified single-skill specialists, plus one expert per skill: the team has one
    # specialist per required skill any specialist has (or team_size if that is more), and
    # experts exactly for the required skills no specialist has.
    inspectors = [
        {"id": f"I{i}", "name": "", "certified": True, "expertise": [skill]}
        for i, skill in enumerate(specialties)
    ] + [
        {"id": f"X{i}", "name": "", "certified": False, "expert": True, "expertise": [skill]}
        for i, skill in enumerate(EXPERTISE)
    ]
    team_size = min(team_size, len(specialties))
    manifest = engine.build_manifest(
        draw={},
        strata=[{"name": "s", "quota": 1, "pool": ["A"]}],
        inspectors=inspectors,
        team_size=team_size,
        constraints={"A": {"requires": requires}},
        witnesses=1,
    )
    (team,) = engine.assign_teams(seed, manifest, {"s": ["A"]})
    assert_valid_team(manifest, team)
    coverable = set(requires) & set(specialties)
    assert len(team["members"]) + 1 == max(team_size, len(coverable))
    assert len(team["experts"]) == len(set(requires) - coverable)


@PROPERTY_SETTINGS
@given(st.integers(2, 8), st.integers(2, 4), st.integers(1, 30), SEEDS)
def test_workload_is_spread_evenly(
    inspectors: int, team_size: int, objects: int, seed: bytes
) -> None:
    team_size = min(team_size, inspectors)
    manifest = engine.build_manifest(
        draw={},
        strata=[{"name": "s", "quota": objects, "pool": [f"O{i:02d}" for i in range(objects)]}],
        inspectors=[{"id": f"I{i}", "name": "", "certified": True} for i in range(inspectors)],
        team_size=team_size,
        witnesses=1,
    )
    teams = engine.assign_teams(seed, manifest, engine.select_objects(seed, manifest))
    load = Counter(p for t in teams for p in [t["leader"], *t["members"]])
    counts = [load.get(f"I{i}", 0) for i in range(inspectors)]
    assert max(counts) - min(counts) <= 1


@PROPERTY_SETTINGS
@given(st.integers(2, 8), st.integers(2, 3), st.data(), SEEDS)
def test_previous_inspectors_are_avoided_when_possible(
    inspectors: int, team_size: int, data: st.DataObject, seed: bytes
) -> None:
    team_size = min(team_size, inspectors)
    ids = [f"I{i}" for i in range(inspectors)]
    previous = data.draw(st.lists(st.sampled_from(ids), unique=True))
    manifest = engine.build_manifest(
        draw={},
        strata=[{"name": "s", "quota": 1, "pool": ["A"]}],
        inspectors=[{"id": i, "name": "", "certified": True} for i in ids],
        team_size=team_size,
        constraints={"A": {"previous": previous}},
        witnesses=1,
    )
    (team,) = engine.assign_teams(seed, manifest, {"s": ["A"]})
    on_team = {team["leader"], *team["members"]}
    fresh = inspectors - len(previous)
    assert len(on_team & set(previous)) == max(0, team_size - fresh)


@PROPERTY_SETTINGS
@given(manifests(), SEEDS, st.data())
def test_replacement_team_after_recusal(
    manifest: dict[str, Any], seed: bytes, data: st.DataObject
) -> None:
    drawn = engine.select_objects(seed, manifest)
    try:
        teams = engine.assign_teams(seed, manifest, drawn)
    except engine.ConstraintError:
        return
    if not teams:
        return
    index = data.draw(st.integers(0, len(teams) - 1))
    old = teams[index]
    people = [old["leader"], *old["members"], *old["experts"]]
    excluded = set(data.draw(st.lists(st.sampled_from(people), min_size=1, unique=True)))
    # Judge the new team against the object's constraints plus the recusals.
    rule = manifest["constraints"]["objects"].setdefault(
        old["object"], {"requires": [], "conflicts": [], "previous": []}
    )
    try:
        new = engine.replacement_team(seed, manifest, old["object"], teams, excluded)
    except engine.ConstraintError as exc:
        rule["conflicts"] = sorted(set(rule["conflicts"]) | excluded)
        assert infeasibility(manifest, old["object"]) is not None
        assert exc.object_id == old["object"]
        return
    rule["conflicts"] = sorted(set(rule["conflicts"]) | excluded)
    assert (new["object"], new["stratum"]) == (old["object"], old["stratum"])
    kept = [p for p in [old["leader"], *old["members"]] if p not in excluded]
    assert [new["leader"], *new["members"]][: len(kept)] == kept, "the others stay, in order"
    # Kept members may leave more requirements to re-cover than a fresh team would, so the
    # replacement team is allowed to be larger than a fresh one.
    assert_valid_team(manifest, new, max_size=len(people) + len(rule["requires"]))


@PROPERTY_SETTINGS
@given(manifests(), SEEDS, st.data())
def test_any_changed_result_row_is_named(
    manifest: dict[str, Any], salt: bytes, data: st.DataObject
) -> None:
    try:
        record = engine.execute(manifest, witness_entropy(manifest, salt))
    except engine.ConstraintError:
        return
    rows = [(n, i) for n, ids in record["result"]["objects"].items() for i in range(len(ids))]
    if not rows:
        return
    name, index = data.draw(st.sampled_from(rows))
    original = record["result"]["objects"][name][index]
    record["result"]["objects"][name][index] = original + "X"
    assert (
        f"stratum {name}, position {index + 1}: recorded {original}X, recomputed {original}"
        in engine.verify(record)
    )


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(_json_values)
def test_canonical_json_round_trips_and_ignores_key_order(value: Any) -> None:
    encoded = engine.canonical_json(value)
    assert json.loads(encoded) == value
    assert engine.load_json(encoded) == value

    def reorder(item: Any) -> Any:
        if isinstance(item, dict):
            return {k: reorder(item[k]) for k in reversed(list(item))}
        if isinstance(item, list):
            return [reorder(v) for v in item]
        return item

    assert engine.canonical_json(reorder(value)) == encoded


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_normalise_text_is_idempotent(value: str) -> None:
    once = engine.normalise_text(value)
    assert engine.normalise_text(once) == once
    assert not any(ch.isspace() for ch in once)


# ----------------------------------------------------------------------------------------------
# Statistics (deterministic seeds)
# ----------------------------------------------------------------------------------------------

# Upper 0.001 quantiles of the chi-square distribution (checked against the regularised
# incomplete gamma function): degrees of freedom -> critical value.
CHI2_999 = {3: 16.266, 4: 18.467, 9: 27.877, 11: 31.264}
DRAWS = 4000


def _single_stratum(weights: list[int], quota: int) -> dict[str, Any]:
    pool = [{"id": f"W{i}", "weight": w} for i, w in enumerate(weights)]
    return engine.build_manifest(
        draw={}, strata=[{"name": "s", "quota": quota, "pool": pool}], inspectors=[], witnesses=1
    )


def _chi2(observed: list[int], expected: list[float]) -> float:
    return sum((observed[i] - expected[i]) ** 2 / expected[i] for i in range(len(observed)))


def test_unweighted_inclusion_is_uniform() -> None:
    n, q = 10, 3
    manifest = _single_stratum([1] * n, q)
    counts: Counter[str] = Counter()
    for seed in fixed_seeds("uniform", DRAWS):
        counts.update(engine.select_objects(seed, manifest)["s"])
    # Inclusion counts of a without-replacement sample are not multinomial: each count is
    # Binomial(N, q/n) and they sum to N*q, with covariance N*lam*(I - J/n) where
    # lam = q(n-q)/(n(n-1)). Scaling by N*lam gives a chi-square with n-1 degrees of freedom.
    lam = q * (n - q) / (n * (n - 1))
    statistic = sum((counts[f"W{i}"] - DRAWS * q / n) ** 2 for i in range(n)) / (DRAWS * lam)
    assert statistic < CHI2_999[9], (statistic, counts)


def test_unweighted_first_position_is_uniform() -> None:
    manifest = _single_stratum([1] * 10, 3)
    firsts = Counter(
        engine.select_objects(s, manifest)["s"][0] for s in fixed_seeds("first", DRAWS)
    )
    statistic = _chi2([firsts[f"W{i}"] for i in range(10)], [DRAWS / 10] * 10)
    assert statistic < CHI2_999[9], (statistic, firsts)


def test_weighted_quota_one_is_exactly_proportional_to_weight() -> None:
    # With quota 1 the winner holds the largest of all sum(w) HMAC values; by symmetry each
    # of those values is equally likely to be the largest, so P(i) = w_i / sum(w) exactly.
    weights = [1, 2, 3, 4, 10]
    manifest = _single_stratum(weights, 1)
    wins = Counter(engine.select_objects(s, manifest)["s"][0] for s in fixed_seeds("w1", DRAWS))
    observed = [wins[f"W{i}"] for i in range(len(weights))]
    expected = [DRAWS * w / sum(weights) for w in weights]
    assert _chi2(observed, expected) < CHI2_999[4], observed
    # Power check: the same counts are far from uniform.
    assert _chi2(observed, [DRAWS / len(weights)] * len(weights)) > 10 * CHI2_999[4]


def test_weighted_ordered_pairs_follow_efraimidis_spirakis() -> None:
    # Efraimidis–Spirakis = successive sampling: P(first a, then b) = p_a * p_b / (1 - p_a).
    weights = [1, 2, 3, 4]
    total = sum(weights)
    p = [w / total for w in weights]
    manifest = _single_stratum(weights, 2)
    pairs = Counter(
        tuple(engine.select_objects(s, manifest)["s"]) for s in fixed_seeds("w2", DRAWS)
    )
    cells = list(permutations(range(len(weights)), 2))
    observed = [pairs[(f"W{a}", f"W{b}")] for a, b in cells]
    expected = [DRAWS * p[a] * p[b] / (1 - p[a]) for a, b in cells]
    assert sum(observed) == DRAWS
    assert _chi2(observed, expected) < CHI2_999[11], observed


def test_inspector_choice_among_equals_is_uniform() -> None:
    # One object, four interchangeable inspectors, teams of two: every pair equally likely.
    manifest = engine.build_manifest(
        draw={},
        strata=[{"name": "s", "quota": 1, "pool": ["A"]}],
        inspectors=[{"id": f"I{i}", "name": "", "certified": True} for i in range(4)],
        witnesses=1,
    )
    leaders: Counter[str] = Counter()
    for seed in fixed_seeds("leader", DRAWS):
        (team,) = engine.assign_teams(seed, manifest, {"s": ["A"]})
        leaders[team["leader"]] += 1
    statistic = _chi2([leaders[f"I{i}"] for i in range(4)], [DRAWS / 4] * 4)
    assert statistic < CHI2_999[3], leaders
