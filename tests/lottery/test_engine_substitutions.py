"""Substitutions in the published record (docs/draw-algorithm.md §10): replay, helpers, verify.

Like the other engine tests this loads lottery/engine.py from its path, without Django.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.lottery.test_engine import ENGINE_PATH, engine, example_record
from tests.lottery.test_engine_properties import (
    SEEDS,
    manifests,
    reference_replacement,
    witness_entropy,
)

# The worked example of docs §12, continued: K04 closes down, then I03 recuses from K02.
KAT_SUBSTITUTIONS = [
    {
        "kind": "object",
        "stratum": "key",
        "replaced": "K04",
        "replacement": "K01",
        "team": {"object": "K01", "stratum": "key", "leader": "I03", "members": ["I04"], "experts": []},
        "reason": "停产",
    },
    {
        "kind": "inspector",
        "object": "K02",
        "replaced": "I03",
        "team": {
            "object": "K02",
            "stratum": "key",
            "leader": "I01",
            "members": ["I02"],
            "experts": ["X01"],
        },
        "reason": "回避：近亲属在该单位任职",
    },
]  # fmt: skip


def record_with_substitutions() -> dict[str, Any]:
    record = example_record()
    record["substitutions"] = copy.deepcopy(KAT_SUBSTITUTIONS)
    return record


def test_known_answer_substitutions() -> None:
    record = example_record()
    seed, manifest, result = record["seed"], record["manifest"], record["result"]
    first = engine.object_substitution(seed, manifest, result, [], "K04", reason="停产")
    assert first == KAT_SUBSTITUTIONS[0]
    second = engine.inspector_substitution(
        seed, manifest, result, [first], "K02", "I03", reason="回避：近亲属在该单位任职"
    )
    assert second == KAT_SUBSTITUTIONS[1]
    assert engine.verify(record_with_substitutions()) == []


def test_known_answer_substitutions_follow_the_documented_calls() -> None:
    # Exactly what lottery/verification.py replays with the public functions.
    record = example_record()
    seed, manifest = record["seed"], record["manifest"]
    teams = [t for t in record["result"]["teams"] if t["object"] != "K04"]
    taken = {"K04", "K02", "G02", "G05"}
    assert engine.next_object_candidate(seed, manifest, "key", taken) == "K01"
    k01 = engine.replacement_team(seed, manifest, "K01", teams, [])
    assert k01 == KAT_SUBSTITUTIONS[0]["team"]
    assert k01 == reference_replacement(bytes.fromhex(seed), manifest, "K01", teams, [])
    teams.append(k01)
    k02 = engine.replacement_team(seed, manifest, "K02", teams, ["I03"])
    assert k02 == KAT_SUBSTITUTIONS[1]["team"]


def test_docs_show_the_known_answer_substitutions() -> None:
    text = (ENGINE_PATH.parents[1] / "docs" / "draw-algorithm.md").read_text(encoding="utf-8")
    for entry in KAT_SUBSTITUTIONS:
        assert f'"team": {json.dumps(entry["team"], ensure_ascii=False)}' in text
        assert f'"reason": {json.dumps(entry["reason"], ensure_ascii=False)}' in text


def test_apply_substitutions_gives_the_draw_as_it_stands() -> None:
    record = record_with_substitutions()
    state = engine.apply_substitutions(
        record["seed"], record["manifest"], record["result"], record["substitutions"]
    )
    assert state["objects"] == {"key": ["K01", "K02"], "general": ["G02", "G05"]}
    assert [t["object"] for t in state["teams"]] == ["K01", "K02", "G02", "G05"]
    assert state["teams"][0] == KAT_SUBSTITUTIONS[0]["team"]
    assert state["teams"][1] == KAT_SUBSTITUTIONS[1]["team"]
    assert state["taken"] == ["G02", "G05", "K01", "K02", "K04"]
    assert state["recused"] == {"K02": ["I03"]}
    # The record itself is left alone.
    assert record["result"]["objects"]["key"] == ["K04", "K02"]


def test_apply_substitutions_refuses_a_forged_entry() -> None:
    record = record_with_substitutions()
    record["substitutions"][0]["team"]["members"] = ["I02"]
    with pytest.raises(engine.SubstitutionError, match=r"substitution 1 \(object K04 replaced"):
        engine.apply_substitutions(
            record["seed"], record["manifest"], record["result"], record["substitutions"]
        )


def test_helpers_refuse_impossible_requests() -> None:
    record = example_record()
    seed, manifest, result = record["seed"], record["manifest"], record["result"]
    with pytest.raises(engine.SubstitutionError, match="K01 is not a drawn object now"):
        engine.object_substitution(seed, manifest, result, [], "K01")
    with pytest.raises(engine.SubstitutionError, match="I02 is not on the team of K02"):
        engine.inspector_substitution(seed, manifest, result, [], "K02", "I02")
    with pytest.raises(engine.SubstitutionError, match="K04 is not a drawn object now"):
        engine.inspector_substitution(seed, manifest, result, KAT_SUBSTITUTIONS, "K04", "I02")
    # key: K04, K02 drawn; K01 and then K03 are the only substitutes.
    subs = [engine.object_substitution(seed, manifest, result, [], "K04")]
    subs.append(engine.object_substitution(seed, manifest, result, subs, "K01"))
    assert subs[1]["replacement"] == "K03"
    with pytest.raises(engine.SubstitutionError, match="no object is left in the verifiable"):
        engine.object_substitution(seed, manifest, result, subs, "K03")
    # K01 needs 危险废物, which only I03 has: his recusal leaves no valid team.
    with pytest.raises(engine.ConstraintError, match="nobody available has expertise 危险废物"):
        engine.inspector_substitution(seed, manifest, result, subs[:1], "K01", "I03")


def test_reason_is_not_verified_and_may_be_left_out() -> None:
    record = record_with_substitutions()
    record["substitutions"][0]["reason"] = "另一个理由"
    del record["substitutions"][1]["reason"]
    assert engine.verify(record) == []
    record["substitutions"] = []
    assert engine.verify(record) == []


# ----------------------------------------------------------------------------------------------
# Tampering: verify names the substitution and what differs
# ----------------------------------------------------------------------------------------------


def test_tamper_replacement() -> None:
    record = record_with_substitutions()
    record["substitutions"][0]["replacement"] = "K03"
    record["substitutions"][0]["team"]["object"] = "K03"
    differences = engine.verify(record)
    assert differences[0] == (
        "substitution 1 (object K04 replaced by K03): replacement recorded K03, recomputed K01 "
        "(the first object of stratum key's verifiable order not drawn before)"
    )
    # The rest is checked against the recorded outcome: K03's own team (K03 has no rule, so
    # the least loaded I02 and I04 would go), and then the recusal from K02, which replays
    # because the recorded K03 team loads the same inspectors as K01's would.
    assert differences[1:] == [
        "substitution 1 (object K04 replaced by K03): team leader recorded I03, recomputed I02"
    ]


def test_tamper_object_team() -> None:
    record = record_with_substitutions()
    record["substitutions"][0]["team"]["members"] = ["I02"]
    assert engine.verify(record)[0] == (
        "substitution 1 (object K04 replaced by K01): team members recorded [I02], recomputed [I04]"
    )


def test_tamper_recusal_team() -> None:
    record = record_with_substitutions()
    record["substitutions"][1]["team"]["members"] = ["I04"]
    assert engine.verify(record) == [
        "substitution 2 (inspector I03 recused from K02): team members recorded [I04], "
        "recomputed [I02]"
    ]


def test_each_line_names_a_substitution_that_does_not_follow_from_those_before() -> None:
    # A forged first team, and a second substitution computed honestly on top of it: only
    # the first is reported, because the replay goes on from the recorded outcome.
    record = example_record()
    seed, manifest = record["seed"], record["manifest"]
    forged = copy.deepcopy(KAT_SUBSTITUTIONS[0])
    forged["team"]["members"] = ["I02"]
    teams = [t for t in record["result"]["teams"] if t["object"] != "K04"] + [forged["team"]]
    honest = {
        "kind": "inspector",
        "object": "G05",
        "replaced": "I04",
        "team": engine.replacement_team(seed, manifest, "G05", teams, ["I04"]),
    }
    record["substitutions"] = [forged, honest]
    assert engine.verify(record) == [
        "substitution 1 (object K04 replaced by K01): team members recorded [I02], recomputed [I04]"
    ]


def test_replaced_object_not_drawn_stops_the_replay() -> None:
    record = record_with_substitutions()
    record["substitutions"][0]["replaced"] = "K01"
    assert engine.verify(record) == [
        "substitution 1 (object K01 replaced by K01): K01 is not a drawn object of stratum key now",
        "substitutions 2 to 2: not checked, they build on substitution 1",
    ]


def test_recused_inspector_not_on_the_team() -> None:
    record = record_with_substitutions()
    record["substitutions"][1]["replaced"] = "I04"
    differences = engine.verify(record)
    assert differences[0] == (
        "substitution 2 (inspector I04 recused from K02): I04 is not on the current team of "
        "K02 (leader I03, members [I01], experts [X01])"
    )
    assert differences[1].startswith("substitution 2 (inspector I04 recused from K02): team")


def test_recusal_that_leaves_no_valid_team() -> None:
    record = record_with_substitutions()
    record["substitutions"][1] = {
        "kind": "inspector",
        "object": "K01",
        "replaced": "I03",
        "team": {"object": "K01", "stratum": "key", "leader": "I04", "members": ["I02"],
                 "experts": []},
    }  # fmt: skip
    assert engine.verify(record) == [
        "substitution 2 (inspector I03 recused from K01): no valid team exists: source K01: "
        "nobody available has expertise 危险废物"
    ]


def test_exhausted_order() -> None:
    record = example_record()
    seed, manifest, result = record["seed"], record["manifest"], record["result"]
    subs = [engine.object_substitution(seed, manifest, result, [], "K04")]
    subs.append(engine.object_substitution(seed, manifest, result, subs, "K01"))
    forged = copy.deepcopy(subs[1])
    forged.update(replaced="K03", replacement="K04")
    forged["team"]["object"] = "K04"
    record["substitutions"] = [*subs, forged]
    assert engine.verify(record) == [
        "substitution 3 (object K03 replaced by K04): stratum key has no object left in its "
        "verifiable order to substitute, recorded K04"
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.update(kind="source"), 'kind must be "object" or "inspector"'),
        (lambda s: s.pop("replacement"), "missing replacement"),
        (lambda s: s.update(approved_by="局长"), "unexpected approved_by"),
        (lambda s: s.update(stratum=1), "stratum must be a string, got 1"),
        (lambda s: s["team"].pop("experts"), "team must be {object, stratum, leader"),
        (lambda s: s["team"].update(members="I04"), "team must be {object, stratum, leader"),
        (lambda s: s.update(stratum="special"), "stratum special is not in the manifest"),
    ],
)
def test_malformed_substitution(change: Any, message: str) -> None:
    record = record_with_substitutions()
    change(record["substitutions"][0])
    differences = engine.verify(record)
    assert differences[0].startswith("substitution 1")
    assert message in differences[0]
    assert differences[1] == "substitutions 2 to 2: not checked, they build on substitution 1"


def test_substitutions_must_be_a_list_and_a_misspelt_key_is_reported() -> None:
    record = example_record()
    record["substitutions"] = {"1": KAT_SUBSTITUTIONS[0]}
    assert engine.verify(record) == ["substitutions: must be a list"]
    record = example_record()
    record["substitution"] = copy.deepcopy(KAT_SUBSTITUTIONS)
    assert engine.verify(record) == ["record: unexpected field substitution"]


def test_cli_verifies_substitutions(tmp_path: Path) -> None:
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record_with_substitutions(), ensure_ascii=False), "utf-8")
    run = [sys.executable, str(ENGINE_PATH), "verify", str(path)]
    done = subprocess.run(run, capture_output=True, text=True, encoding="utf-8", check=False)
    assert (done.returncode, done.stdout) == (0, "matches\n")
    record = record_with_substitutions()
    record["substitutions"][1]["team"]["leader"] = "I04"
    path.write_text(json.dumps(record, ensure_ascii=False), "utf-8")
    done = subprocess.run(run, capture_output=True, text=True, encoding="utf-8", check=False)
    assert done.returncode == 1
    assert (
        "- substitution 2 (inspector I03 recused from K02): team leader recorded I04, "
        "recomputed I01" in done.stdout
    )


# ----------------------------------------------------------------------------------------------
# Properties: the engine's replay is the one lottery/verification.py performs
# ----------------------------------------------------------------------------------------------


def replay_like_the_app(
    record: dict[str, Any], requests: list[tuple[str, int, int]]
) -> list[dict[str, Any]]:
    """Make substitutions with the public functions, as lottery/services/substitutions.py does.

    ``requests``: (kind, index of a current object, index of a team member); requests that
    cannot be made (pool exhausted, no valid team) are skipped, as a refused approval is.
    """
    seed, manifest = record["seed"], record["manifest"]
    teams = [dict(t) for t in record["result"]["teams"]]
    taken = {oid for ids in record["result"]["objects"].values() for oid in ids}
    recused: dict[str, list[str]] = {}
    made = []
    for kind, which, who in requests:
        if not teams:
            break
        current = teams[which % len(teams)]
        code = current["object"]
        if kind == "object":
            rest = [t for t in teams if t["object"] != code]
            new = engine.next_object_candidate(seed, manifest, current["stratum"], taken)
            if new is None:
                continue
            try:
                team = engine.replacement_team(seed, manifest, new, rest, [])
            except engine.ConstraintError:
                continue
            taken.add(new)
            teams = [team if t["object"] == code else t for t in teams]
            entry = {"kind": "object", "stratum": current["stratum"], "replaced": code}
            made.append({**entry, "replacement": new, "team": team})
        else:
            people = [current["leader"], *current["members"], *current["experts"]]
            inspector = people[who % len(people)]
            excluded = [*recused.get(code, []), inspector]
            try:
                team = engine.replacement_team(seed, manifest, code, teams, excluded)
            except engine.ConstraintError:
                continue
            recused[code] = excluded
            teams = [team if t["object"] == code else t for t in teams]
            made.append({"kind": "inspector", "object": code, "replaced": inspector, "team": team})
    return made


REQUESTS = st.lists(
    st.tuples(st.sampled_from(["object", "inspector"]), st.integers(0, 50), st.integers(0, 5)),
    max_size=6,
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(manifests(), SEEDS, REQUESTS)
def test_helpers_and_verify_agree_with_the_apps_replay(
    manifest: dict[str, Any], salt: bytes, requests: list[tuple[str, int, int]]
) -> None:
    try:
        record = engine.execute(manifest, witness_entropy(manifest, salt))
    except engine.ConstraintError:
        return
    made = replay_like_the_app(record, requests)
    # The helpers build the same entries from the record alone.
    built: list[dict[str, Any]] = []
    for entry in made:
        args = (record["seed"], record["manifest"], record["result"], built)
        if entry["kind"] == "object":
            built.append(engine.object_substitution(*args, entry["replaced"]))
        else:
            built.append(engine.inspector_substitution(*args, entry["object"], entry["replaced"]))
    assert built == made
    record["substitutions"] = made
    assert engine.verify(json.loads(json.dumps(record, ensure_ascii=False))) == []
    if made:
        # Any change to a recorded team is named, with the substitution's number.
        record = copy.deepcopy(record)
        team = record["substitutions"][-1]["team"]
        team["leader"] = team["leader"] + "X"
        assert any(
            d.startswith(f"substitution {len(made)} ") and "team leader recorded" in d
            for d in engine.verify(record)
        )
