"""Example-based tests of lottery/engine.py: known answers, validation, tampering and the CLI.

The engine is loaded from its file path (not ``import lottery.engine``) because it is also the
standalone script the public downloads, and so these tests run without Django settings.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import hmac
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

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


# ----------------------------------------------------------------------------------------------
# The worked example of docs/draw-algorithm.md
# ----------------------------------------------------------------------------------------------


def example_manifest() -> dict[str, Any]:
    return engine.build_manifest(
        draw={
            "id": "D-2025Q1-001",
            "org_code": "EX001",
            "org_name": "示例县生态环境分局",
            "period": "2025Q1",
            "plan": "2025年第一季度双随机抽查计划",
        },
        strata=[
            {
                "name": "key",
                "quota": 2,
                "pool": [{"id": "K01"}, {"id": "K02"}, {"id": "K03", "tier": 1}, {"id": "K04"}],
            },
            {
                "name": "general",
                "quota": 2,
                "pool": [
                    "G01",
                    {"id": "G02", "weight": 3},
                    "G03",
                    "G04",
                    {"id": "G05", "weight": 2},
                ],
            },
        ],
        inspectors=[
            {"id": "I01", "name": "张三", "certified": True, "expertise": ["大气"]},
            {"id": "I02", "name": "李四", "certified": True, "expertise": ["水"]},
            {"id": "I03", "name": "王五", "certified": True, "expertise": ["危险废物", "大气"]},
            {"id": "I04", "name": "赵六", "certified": True},
            {
                "id": "X01",
                "name": "孙八",
                "certified": False,
                "expert": True,
                "expertise": ["辐射安全"],
            },
        ],
        team_size=2,
        constraints={
            "K01": {"requires": ["危险废物"], "conflicts": ["I01"]},
            "K02": {"requires": ["辐射安全"], "previous": ["I02"]},
            "K04": {"requires": ["水"], "previous": ["I02"]},
            "G02": {"conflicts": ["I04"]},
        },
        witnesses=2,
        public_value="中国福利彩票3D 2025年第001期开奖号码",
        # The worked example of docs §12 is a version 2 record: it must keep verifying.
        algorithm=engine.ALGORITHM_V2,
    )


EXAMPLE_ENTROPY = [
    {"witness": "监督员甲", "value": " 3 5 1 7 3 7 "},
    {"witness": "监督员乙", "value": "６６１２３４"},  # full-width digits from a Chinese IME
]
EXAMPLE_PUBLIC_VALUE = "5 8 2"


def example_record() -> dict[str, Any]:
    return engine.execute(example_manifest(), EXAMPLE_ENTROPY, EXAMPLE_PUBLIC_VALUE)


# These values were cross-checked independently of the engine: the manifest hash and seed with
# `sha256sum` over hand-written bytes (the version-1 manifest line with "/1" edited to "/2"),
# every object key and team value R(o, slot, k) with
# `openssl dgst -sha256 -mac HMAC -macopt hexkey:<seed>`, and the orders and teams by hand
# (see the worked example in docs/draw-algorithm.md). Changing them means changing the
# algorithm, which needs a new ALGORITHM_VERSION.
KAT_KEY_POOL_DIGEST = "3581f7aae9c0269c2b94a2186a51eaff3e0c20df7bb40b932e9c5a21e17b9c58"
KAT_GENERAL_POOL_DIGEST = "99641c1440dc16579d36516dce40c1f4ed2d738e88d6adb0f4cd3617dbf5d199"
KAT_INSPECTOR_POOL_DIGEST = "1d1bba6ca42157bfd8e699fb94d28e24ceb1f95dd9b389d44ca09f254faa6bb0"
KAT_MANIFEST_HASH = "89de9f4a8c13c675875318d7302779940e06c2a60520c0050a92ccb17687c5fb"
KAT_SEED = "fda14979dbeb52db346189e7903c776462c286f9402c536c2b36b6368904c02c"
KAT_TEAMS = [
    {"object": "K04", "stratum": "key", "leader": "I02", "members": ["I04"], "experts": []},
    {"object": "K02", "stratum": "key", "leader": "I03", "members": ["I01"], "experts": ["X01"]},
    {"object": "G02", "stratum": "general", "leader": "I02", "members": ["I03"], "experts": []},
    {"object": "G05", "stratum": "general", "leader": "I01", "members": ["I04"], "experts": []},
]


def test_known_answer_digests_hash_and_seed() -> None:
    manifest = example_manifest()
    assert manifest["strata"][0]["pool_digest"] == KAT_KEY_POOL_DIGEST
    assert manifest["strata"][1]["pool_digest"] == KAT_GENERAL_POOL_DIGEST
    assert manifest["inspectors"]["pool_digest"] == KAT_INSPECTOR_POOL_DIGEST
    assert engine.manifest_hash(manifest) == KAT_MANIFEST_HASH
    record = example_record()
    assert record["manifest_hash"] == KAT_MANIFEST_HASH
    assert record["seed"] == KAT_SEED
    assert record["entropy"] == [
        {"witness": "监督员甲", "value": "351737"},
        {"witness": "监督员乙", "value": "661234"},
    ]
    assert record["public_value"] == "582"


def test_known_answer_seed_bytes_spelled_out() -> None:
    payload = (
        '{"entropy":[{"value":"351737","witness":"监督员甲"},'
        '{"value":"661234","witness":"监督员乙"}],"public_value":"582"}'
    ).encode()
    expected = hashlib.sha256(
        b"sjsj-seed/1\x00" + KAT_MANIFEST_HASH.encode() + b"\x00" + payload
    ).hexdigest()
    assert expected == KAT_SEED


def test_known_answer_orders_and_result() -> None:
    manifest = example_manifest()
    # key: K03 has the highest score (f22d...) but tier 1, so it comes after every tier-0 object.
    assert engine.stratum_order(KAT_SEED, manifest["strata"][0]) == ["K04", "K02", "K01", "K03"]
    # general: G02 (weight 3) wins with its second key e223... over G05's cbcf...
    assert engine.stratum_order(KAT_SEED, manifest["strata"][1]) == [
        "G02",
        "G05",
        "G01",
        "G04",
        "G03",
    ]
    record = example_record()
    assert record["result"]["objects"] == {"key": ["K04", "K02"], "general": ["G02", "G05"]}
    assert record["result"]["teams"] == KAT_TEAMS
    assert engine.verify(record) == []


def test_docs_worked_example_is_current() -> None:
    text = (ENGINE_PATH.parents[1] / "docs" / "draw-algorithm.md").read_text(encoding="utf-8")
    manifest = example_manifest()
    assert engine.canonical_json(manifest).decode() in text
    assert f"manifest_hash = {KAT_MANIFEST_HASH}" in text
    assert f"seed = {KAT_SEED}" in text
    assert (
        f"The canonical manifest (one line, {len(engine.canonical_json(manifest))} bytes)" in text
    )
    for team in KAT_TEAMS:
        assert json.dumps(team, ensure_ascii=False) in text
    assert text.splitlines()[0].endswith(f"`{engine.ALGORITHM_VERSION}`")
    assert f'| `algorithm` | `"{engine.ALGORITHM_VERSION}"` |' in text


def test_known_answer_single_hmac_values() -> None:
    seed = bytes.fromhex(KAT_SEED)
    mac = hmac.digest(seed, b"object\x00general\x00G05\x001", "sha256").hex()
    assert mac == "cbcf9b26c5b92ba35979a72a0c7fa4fe6230177d8bf5dafa04a761e3e7b2a0b4"
    # r_1 of G02's second pick (slot 1): the first try (k=0) fell on I02, already chosen.
    mac = hmac.digest(seed, b"team\x00G02\x001\x001", "sha256").hex()
    assert mac == "c6f715af40545e227d75de7355b05fe5705ec7dd1fd593325ddb53f8edd06f56"


def test_fast_hmac_equals_stdlib_hmac() -> None:
    for length in (0, 1, 31, 32, 55, 56, 63, 64, 65, 127, 128, 200):
        key = hashlib.sha256(b"key%d" % length).digest()
        message = bytes(range(256))[:length] * 2
        assert engine._HmacSha256(key)(message) == hmac.digest(key, message, "sha256")
    long_key = b"k" * 100  # longer than a block: hashed first, as RFC 2104 says
    assert engine._HmacSha256(long_key)(b"m") == hmac.digest(long_key, b"m", "sha256")


# ----------------------------------------------------------------------------------------------
# Canonical JSON and strict loading
# ----------------------------------------------------------------------------------------------


def test_canonical_json_bytes() -> None:
    data = {"b": 1, "a": [True, None, 'x\n"é\x01'], "中": -9007199254740991, "Z": {}}
    assert (
        engine.canonical_json(data)
        == ('{"Z":{},"a":[true,null,"x\\n\\"é\\u0001"],"b":1,"中":-9007199254740991}').encode()
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"a": [1, 2.5]}, "$.a[1]: floats are not allowed"),
        ({"a": (1, 2)}, "$.a: tuple is not allowed"),
        ({1: "x"}, "object keys must be strings"),
        ({"a": {"b"}}, "$.a: set is not allowed"),
        ({"a": float("nan")}, "floats are not allowed"),
        ({"a": "\ud800"}, "lone surrogate"),
    ],
)
def test_canonical_json_rejects(value: Any, message: str) -> None:
    with pytest.raises(engine.CanonicalJSONError, match=re.escape(message)):
        engine.canonical_json(value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": 1.0}', "floats are not allowed"),
        ('{"a": NaN}', "floats are not allowed"),
        ('{"a": 1, "a": 2}', "duplicate key 'a'"),
    ],
)
def test_load_json_is_strict(text: str, message: str) -> None:
    with pytest.raises(engine.CanonicalJSONError, match=message):
        engine.load_json(text)


def test_load_json_accepts_bom_and_keeps_integers_up_to_2_53() -> None:
    assert engine.load_json('\ufeff{"a": 9007199254740991}'.encode()) == {"a": 2**53 - 1}


# ----------------------------------------------------------------------------------------------
# Manifest validation
# ----------------------------------------------------------------------------------------------


def _refresh_digests(manifest: dict[str, Any]) -> dict[str, Any]:
    """Redo the pool digests after a change (left alone when the pool cannot be hashed)."""
    for holder in [*manifest["strata"], manifest["inspectors"]]:
        with contextlib.suppress(engine.CanonicalJSONError):
            holder["pool_digest"] = engine.pool_digest(holder["pool"])
    return manifest


def _mutated(change: Any) -> dict[str, Any]:
    manifest = example_manifest()
    change(manifest)
    return _refresh_digests(manifest)


def _set(path: list[Any], value: Any) -> Any:
    def change(manifest: dict[str, Any]) -> None:
        target = manifest
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set(["strata", 0, "pool", 1, "id"], "K01"), "stratum key: duplicate object id K01"),
        (_set(["strata", 0, "pool", 1, "id"], "K09"), "pool is not sorted by id"),
        (
            _set(["strata", 1, "pool", 0, "id"], "K01"),
            "object id K01 appears in strata key and general",
        ),
        (
            _set(["strata", 0, "pool", 0, "weight"], 0),
            "object K01: weight must be an integer from 1",
        ),
        (
            _set(["strata", 0, "pool", 0, "weight"], 1001),
            "weight must be an integer from 1 to 1000",
        ),
        (_set(["strata", 0, "pool", 0, "weight"], True), "weight must be an integer"),
        (_set(["strata", 0, "pool", 0, "weight"], 1.0), "weight must be an integer"),
        (_set(["strata", 0, "pool", 0, "tier"], -1), "object K01: tier must be an integer >= 0"),
        (_set(["strata", 0, "pool", 0, "id"], "K\x0001"), "must not contain the NUL character"),
        (_set(["strata", 0, "pool", 0, "id"], ""), "must be a non-empty string"),
        (_set(["strata", 0, "quota"], -1), "stratum key: quota must be an integer >= 0"),
        (_set(["strata", 0, "quota"], 5), "stratum key: quota 5 exceeds the pool size 4"),
        (_set(["strata", 1, "name"], "key"), "stratum key: duplicate stratum name"),
        (_set(["strata", 0, "pool", 0, "extra"], 1), "unexpected extra"),
        (_set(["inspectors", "pool", 4, "certified"], True), "inspector X01: certified and expert"),
        (_set(["inspectors", "pool", 0, "expertise"], ["水", "大气"]), "not sorted"),
        (_set(["inspectors", "pool", 1, "id"], "I01"), "duplicate inspector id I01"),
        (_set(["constraints", "team_size"], 1), "team_size: must be an integer >= 2"),
        (_set(["constraints", "objects", "K01", "conflicts"], ["I99"]), "unknown inspector I99"),
        (
            _set(
                ["constraints", "objects", "Z99"], {"requires": [], "conflicts": [], "previous": []}
            ),
            "constraints, object Z99: not in any stratum pool",
        ),
        (
            _set(["entropy_spec"], {"witnesses": 0, "public_value": None}),
            "needs at least one witness",
        ),
        (_set(["draw", "budget"], 1.5), "manifest.draw.budget: floats are not allowed"),
        (
            _set(["algorithm"], "other/1"),
            "this engine implements 'sjsj-es-hmac-sha256/2' and 'sjsj-es-hmac-sha256/3'",
        ),
        (_set(["format"], "sjsj-draw/0"), "manifest.format"),
    ],
)
def test_check_manifest_names_the_problem(change: Any, message: str) -> None:
    with pytest.raises(engine.ManifestError) as caught:
        engine.check_manifest(_mutated(change))
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("requires", ["水", "危险废物"], "requires: not sorted"),
        ("requires", ["水", "水"], "requires: duplicate entry"),
        ("requires", [""], "must be a non-empty string"),
        ("requires", ["a\x00b"], "must not contain the NUL character"),
        ("requires", ("水",), "requires: must be a list"),
        ("requires", "水", "requires: must be a list"),
        ("requires", [1], "must be a non-empty string"),
        ("conflicts", ["I03", "I01"], "conflicts: not sorted"),
        ("conflicts", ["I01", "I99"], "conflicts: unknown inspector I99"),
        ("previous", ["I99"], "previous: unknown inspector I99"),
        ("previous", None, "previous: must be a list"),
        ("extra", [], "unexpected extra"),
    ],
)
def test_check_manifest_names_the_bad_rule(field: str, value: Any, message: str) -> None:
    manifest = example_manifest()
    manifest["constraints"]["objects"]["K01"][field] = value
    with pytest.raises(engine.ManifestError) as caught:
        engine.check_manifest(manifest)
    assert "constraints, object K01" in str(caught.value)
    assert message in str(caught.value)


def test_check_manifest_detects_pool_digest_mismatch() -> None:
    manifest = example_manifest()
    manifest["strata"][1]["pool"][0]["tier"] = 1  # changed after the digest was taken
    with pytest.raises(engine.ManifestError, match="stratum general: pool digest differs"):
        engine.check_manifest(manifest)
    manifest = example_manifest()
    manifest["inspectors"]["pool"][0]["name"] = "张叁"
    with pytest.raises(engine.ManifestError, match="inspectors: pool digest differs"):
        engine.check_manifest(manifest)


def test_build_manifest_sorts_and_drops_empty_constraints() -> None:
    manifest = engine.build_manifest(
        draw={"id": "x"},
        strata=[{"name": "general", "quota": 1, "pool": ["b", "a", {"id": "c", "weight": 2}]}],
        inspectors=[
            {"id": "i2", "name": "乙", "certified": True, "expertise": ["水", "大气", "水"]},
            {"id": "i1", "name": "甲", "certified": True},
        ],
        constraints={
            "a": {"conflicts": ["i2", "i1", "i2", "retired"]},
            "b": {},
            "c": {"previous": ["retired"]},
        },
        witnesses=1,
    )
    assert [o["id"] for o in manifest["strata"][0]["pool"]] == ["a", "b", "c"]
    assert [p["id"] for p in manifest["inspectors"]["pool"]] == ["i1", "i2"]
    assert manifest["inspectors"]["pool"][1]["expertise"] == ["大气", "水"]
    assert manifest["constraints"]["objects"] == {
        "a": {"requires": [], "conflicts": ["i1", "i2"], "previous": []}
    }
    engine.check_manifest(manifest)


def test_build_manifest_reports_floats_with_their_place() -> None:
    with pytest.raises(engine.ManifestError, match="weight must be an integer"):
        engine.build_manifest(
            draw={},
            strata=[{"name": "s", "quota": 1, "pool": [{"id": "a", "weight": 1.5}]}],
            inspectors=[],
            witnesses=1,
        )


# ----------------------------------------------------------------------------------------------
# Entropy
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" 3 5 1 6 ", "3516"),
        ("６６１２３４", "661234"),
        ("1\u30002\u00a03\t4\n", "1234"),
        ("\ufeff42\u200b", "42"),
        ("e\u0301", "é"),
        ("甲\u00b4", "甲\u0301"),  # NFKC gives a space + combining accent; the space goes
    ],
)
def test_normalise_text(raw: str, expected: str) -> None:
    assert engine.normalise_text(raw) == expected
    assert engine.normalise_text(expected) == expected


SPEC = {"witnesses": 2, "public_value": None}


@pytest.mark.parametrize(
    ("entropy", "public_value", "message"),
    [
        ([{"witness": "a", "value": "1"}], None, "expects 2 witness value"),
        (
            [{"witness": "a", "value": "1"}, {"witness": "b", "value": "  "}],
            None,
            "witness b\\): the value is empty",
        ),
        (
            [{"witness": "a", "value": "1"}, {"witness": " a", "value": "2"}],
            None,
            "witness a gave a value twice",
        ),
        (
            [{"witness": "a", "value": "1"}, {"witness": "", "value": "2"}],
            None,
            "witness name is empty",
        ),
        ([{"witness": "a", "value": "1"}, {"witness": "b", "value": 2}], None, "must be strings"),
        (
            [{"witness": "a", "value": "1"}, {"witness": "b", "value": "2"}],
            "7",
            "does not announce a public value",
        ),
    ],
)
def test_entropy_errors(entropy: Any, public_value: Any, message: str) -> None:
    with pytest.raises(engine.EntropyError, match=message):
        engine.normalise_entropy(entropy, public_value, SPEC)


def test_public_value_required_when_announced() -> None:
    spec = {"witnesses": 0, "public_value": "福彩3D 2025001期"}
    with pytest.raises(engine.EntropyError, match="it is missing"):
        engine.normalise_entropy([], None, spec)
    assert engine.normalise_entropy([], " 5 8 2", spec) == ([], "582")


def test_seed_depends_on_entropy_order_and_every_digit() -> None:
    a = [{"witness": "a", "value": "1"}, {"witness": "b", "value": "2"}]
    seeds = {
        engine.compute_seed(KAT_MANIFEST_HASH, a, None),
        engine.compute_seed(KAT_MANIFEST_HASH, a[::-1], None),
        engine.compute_seed(KAT_MANIFEST_HASH, [a[0], {"witness": "b", "value": "3"}], None),
        engine.compute_seed(KAT_MANIFEST_HASH, a, "0"),
        engine.compute_seed("0" * 64, a, None),
    }
    assert len(seeds) == 5


# ----------------------------------------------------------------------------------------------
# Selection details
# ----------------------------------------------------------------------------------------------


def _stratum(size: int, quota: int, tiers: dict[int, int] | None = None) -> dict[str, Any]:
    pool = [
        {"id": f"S{i:06d}", "weight": 1 + i % 3, "tier": (tiers or {}).get(i, 0)}
        for i in range(size)
    ]
    return {
        "name": "general",
        "quota": quota,
        "pool": pool,
        "pool_digest": engine.pool_digest(pool),
    }


def _manifest_with(strata: list[dict[str, Any]]) -> dict[str, Any]:
    return engine.build_manifest(
        draw={},
        strata=strata,
        inspectors=[{"id": f"I{i}", "name": "", "certified": True} for i in range(3)],
        witnesses=1,
    )


@pytest.mark.parametrize("tiered", [False, True])
def test_heap_path_equals_full_sort(tiered: bool) -> None:
    # quota * 16 < pool size takes the heapq path; it must agree with the full order.
    tiers = {i: i % 4 for i in range(400)} if tiered else None
    stratum = _stratum(400, 7, tiers)
    manifest = _manifest_with([stratum])
    seed = hashlib.sha256(b"heap").digest()
    full = engine.stratum_order(seed, manifest["strata"][0])
    assert engine.select_objects(seed, manifest)["general"] == full[:7]
    if tiered:
        tier_of = {o["id"]: o["tier"] for o in stratum["pool"]}
        assert [tier_of[i] for i in full] == sorted(tier_of[i] for i in full)


def test_tier_zero_comes_first() -> None:
    stratum = _stratum(10, 3, {i: 1 for i in range(10) if i != 4})
    manifest = _manifest_with([stratum])
    for n in range(20):
        drawn = engine.select_objects(hashlib.sha256(b"%d" % n).digest(), manifest)["general"]
        assert drawn[0] == "S000004"  # the only object not yet covered this cycle


def test_next_object_candidate_walks_the_public_order() -> None:
    record = example_record()
    manifest, seed = record["manifest"], record["seed"]
    taken = set(record["result"]["objects"]["key"])  # K04, K02
    assert engine.next_object_candidate(seed, manifest, "key", taken) == "K01"
    assert engine.next_object_candidate(seed, manifest, "key", taken | {"K01"}) == "K03"
    assert engine.next_object_candidate(seed, manifest, "key", {"K01", "K02", "K03", "K04"}) is None
    with pytest.raises(engine.ManifestError, match="no stratum named 'x'"):
        engine.next_object_candidate(seed, manifest, "x", taken)


# ----------------------------------------------------------------------------------------------
# Teams
# ----------------------------------------------------------------------------------------------


def test_constraint_error_too_few_inspectors() -> None:
    manifest = example_manifest()
    manifest["constraints"]["objects"]["K04"]["conflicts"] = ["I01", "I03", "I04"]
    with pytest.raises(engine.ConstraintError) as caught:
        engine.assign_teams(KAT_SEED, manifest, {"key": ["K04"]})
    assert str(caught.value) == (
        "source K04: only 1 certified inspector without a conflict, team needs 2"
    )
    assert caught.value.object_id == "K04"


def test_constraint_error_missing_expertise() -> None:
    manifest = example_manifest()
    manifest["constraints"]["objects"]["K02"]["conflicts"] = ["X01"]
    with pytest.raises(engine.ConstraintError) as caught:
        engine.assign_teams(KAT_SEED, manifest, {"key": ["K02"]})
    assert str(caught.value) == "source K02: nobody available has expertise 辐射安全"


def test_expert_only_in_addition_and_previous_is_only_a_preference() -> None:
    teams = example_record()["result"]["teams"]
    k02 = teams[1]
    assert k02["experts"] == ["X01"] and len([k02["leader"], *k02["members"]]) == 2
    k04 = teams[0]
    assert k04["leader"] == "I02"  # the only one with 水, although he went last time


def test_replacement_team_keeps_the_others() -> None:
    record = example_record()
    teams = record["result"]["teams"]
    # I01 declares a conflict with K02 (team I03 + I01 + expert X01).
    team = engine.replacement_team(record["seed"], record["manifest"], "K02", teams, {"I01"})
    assert team["leader"] == "I03" and team["experts"] == ["X01"]
    assert team["members"] != ["I01"] and len(team["members"]) == 1
    # Loads without K02's own team: I01 1, I02 2, I03 1, I04 2. At load 1 I01 is excluded and
    # I03 stays, so the pick is at load 2: I02 or I04, and I02 inspected K02 last time.
    assert team["members"] == ["I04"]
    # The leader recuses: the remaining member leads and one inspector is added (the same
    # way: load 1 holds only I01 and I03, and I02 went last time).
    team = engine.replacement_team(record["seed"], record["manifest"], "K02", teams, {"I03"})
    assert team["leader"] == "I01" and team["experts"] == ["X01"]
    assert team["members"] == ["I04"]


def test_replacement_team_for_a_substituted_object() -> None:
    record = example_record()
    teams = record["result"]["teams"]
    team = engine.replacement_team(record["seed"], record["manifest"], "K01", teams, ())
    # K01 needs 危险废物 (only I03) and conflicts with I01.
    assert team["leader"] == "I03" and "I01" not in team["members"]
    with pytest.raises(engine.ManifestError, match="not in any stratum pool"):
        engine.replacement_team(record["seed"], record["manifest"], "Z1", teams, ())


def test_team_grows_only_when_more_expertise_is_required_than_team_size() -> None:
    manifest = engine.build_manifest(
        draw={},
        strata=[{"name": "key", "quota": 1, "pool": ["A"]}],
        inspectors=[
            {"id": "i1", "name": "", "certified": True, "expertise": ["大气"]},
            {"id": "i2", "name": "", "certified": True, "expertise": ["水"]},
            {"id": "i3", "name": "", "certified": True, "expertise": ["固废"]},
            {"id": "i4", "name": "", "certified": True},
        ],
        constraints={"A": {"requires": ["固废", "大气", "水"]}},
        witnesses=1,
    )
    (team,) = engine.assign_teams(b"\x00" * 32, manifest, {"key": ["A"]})
    assert sorted([team["leader"], *team["members"]]) == ["i1", "i2", "i3"]
    assert team["experts"] == []


# ----------------------------------------------------------------------------------------------
# Tampering: verify must say where
# ----------------------------------------------------------------------------------------------


def test_untouched_record_matches_after_a_json_round_trip() -> None:
    record = json.loads(json.dumps(example_record(), ensure_ascii=False))
    assert engine.verify(record) == []
    assert engine.verify(record, expected_manifest_hash=KAT_MANIFEST_HASH.upper()) == []


def test_tamper_pool_member() -> None:
    record = copy.deepcopy(example_record())
    record["manifest"]["strata"][1]["pool"][2]["id"] = "G03X"
    differences = engine.verify(record)
    assert differences[0].startswith(
        "stratum general: pool digest differs — the pool list was changed"
    )
    assert any(d.startswith("manifest hash differs") for d in differences)


def test_tamper_pool_member_with_digests_redone_is_caught_by_the_published_hash() -> None:
    record = copy.deepcopy(example_record())
    record["manifest"]["strata"][0]["pool"][0]["tier"] = 1
    _refresh_digests(record["manifest"])
    record["manifest_hash"] = engine.manifest_hash(record["manifest"])
    differences = engine.verify(record, expected_manifest_hash=KAT_MANIFEST_HASH)
    assert any(f"differs from the published hash {KAT_MANIFEST_HASH}" in d for d in differences)
    assert any(d.startswith("seed differs") for d in differences)


def test_tamper_entropy_digit() -> None:
    record = copy.deepcopy(example_record())
    record["entropy"][0]["value"] = "351625"
    differences = engine.verify(record)
    assert differences[0].startswith(f"seed differs: recorded {KAT_SEED}, recomputed ")
    assert "the entropy, the public value or the manifest" in differences[0]


def test_tamper_result_row() -> None:
    record = copy.deepcopy(example_record())
    record["result"]["objects"]["general"][1] = "G01"
    assert engine.verify(record) == ["stratum general, position 2: recorded G01, recomputed G05"]


def test_tamper_result_length() -> None:
    record = copy.deepcopy(example_record())
    record["result"]["objects"]["key"].append("K01")
    assert engine.verify(record) == [
        "stratum key: recorded 3 objects, recomputed 2",
        "stratum key, position 3: recorded K01, recomputed (none)",
    ]


def test_tamper_team_member() -> None:
    record = copy.deepcopy(example_record())
    record["result"]["teams"][2]["members"] = ["I04"]
    assert engine.verify(record) == [
        "team 3 (source G02): members recorded [I04], recomputed [I03]"
    ]


def test_tamper_seed_only() -> None:
    record = copy.deepcopy(example_record())
    record["seed"] = "00" * 32
    differences = engine.verify(record)
    assert len(differences) == 1 and differences[0].startswith("seed differs: recorded 0000")


def test_tamper_manifest_field_outside_pools() -> None:
    record = copy.deepcopy(example_record())
    record["manifest"]["strata"][0]["quota"] = 3
    differences = engine.verify(record)
    assert differences[0].startswith("manifest hash differs")
    assert "stratum key: recorded 2 objects, recomputed 3" in differences


def test_verify_reports_broken_records_without_crashing() -> None:
    assert engine.verify([]) == ["record: not a JSON object"]
    assert engine.verify({"manifest": {}}) == [
        "record: missing field manifest_hash, entropy, public_value, seed, result"
    ]
    record = copy.deepcopy(example_record())
    record["manifest"]["strata"][0]["pool"][0]["weight"] = 2.5
    assert engine.verify(record)[-1].startswith("manifest: $.strata[0].pool[0].weight: floats")
    record = copy.deepcopy(example_record())
    record["entropy"].pop()
    assert engine.verify(record)[-1].startswith("entropy invalid: entropy: the manifest expects 2")


def test_verify_caps_the_position_report() -> None:
    stratum = _stratum(200, 100)
    manifest = _manifest_with([stratum])
    record = engine.execute(manifest, [{"witness": "w", "value": "111111"}])
    record["entropy"][0]["value"] = "222222"
    differences = engine.verify(record)
    positions = [d for d in differences if ", position " in d]
    assert len(positions) == 20
    assert any("more positions differ" in d for d in differences)


# ----------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ENGINE_PATH), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )


def _write(tmp_path: Path, data: Any, name: str = "record.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def test_cli_verify_matches(tmp_path: Path) -> None:
    path = _write(tmp_path, example_record())
    done = _run("verify", str(path))
    assert (done.returncode, done.stdout) == (0, "matches\n")
    done = _run("verify", str(path), "--manifest-hash", KAT_MANIFEST_HASH)
    assert (done.returncode, done.stdout) == (0, "matches\n")


def test_cli_verify_differs(tmp_path: Path) -> None:
    record = example_record()
    record["result"]["objects"]["key"][0] = "K01"
    done = _run("verify", str(_write(tmp_path, record)))
    assert done.returncode == 1
    assert "stratum key, position 1: recorded K01, recomputed K04" in done.stdout


def test_cli_verify_wrong_published_hash(tmp_path: Path) -> None:
    done = _run("verify", str(_write(tmp_path, example_record())), "--manifest-hash", "ab" * 32)
    assert done.returncode == 1
    assert "differs from the published hash" in done.stdout


def test_cli_draw_hash_and_order(tmp_path: Path) -> None:
    record = example_record()
    inputs = {"manifest": record["manifest"], "entropy": EXAMPLE_ENTROPY, "public_value": "582"}
    path = _write(tmp_path, inputs, "inputs.json")
    done = _run("draw", str(path))
    assert done.returncode == 0, done.stderr
    assert f"seed: {KAT_SEED}" in done.stdout
    assert "team 2: source K02 (key): leader I03; members I01; experts X01" in done.stdout
    done = _run("draw", str(path), "--json")
    assert json.loads(done.stdout)["result"] == record["result"]
    done = _run("hash", str(_write(tmp_path, record["manifest"], "manifest.json")))
    assert (done.returncode, done.stdout) == (0, KAT_MANIFEST_HASH + "\n")
    done = _run("order", str(path), "key")
    assert [line.split("\t")[1] for line in done.stdout.splitlines()] == [
        "K04",
        "K02",
        "K01",
        "K03",
    ]
    assert done.stdout.splitlines()[2].endswith("substitute")


def test_cli_bad_input(tmp_path: Path) -> None:
    done = _run("verify", str(tmp_path / "missing.json"))
    assert done.returncode == 1 and "cannot read the file" in done.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"a": 1.5}', encoding="utf-8")
    done = _run("verify", str(bad))
    assert done.returncode == 1 and "floats are not allowed" in done.stderr
    assert _run().returncode == 2


def test_build_manifest_takes_pools_already_in_manifest_form_and_normalises_the_rest():
    people = [
        {"id": "I1", "name": "甲", "certified": True},
        {"id": "I2", "name": "乙", "certified": True},
    ]
    ready = [{"id": "b", "tier": 1, "weight": 2}, {"id": "a", "tier": 0, "weight": 1}]
    odd = [{"id": "b", "weight": 2, "note": "dropped"}, "a"]
    one = engine.build_manifest(
        draw={}, strata=[{"name": "key", "quota": 1, "pool": ready}], inspectors=people, witnesses=1
    )
    two = engine.build_manifest(
        draw={}, strata=[{"name": "key", "quota": 1, "pool": odd}], inspectors=people, witnesses=1
    )
    assert one["strata"][0]["pool"] == [ready[1], ready[0]]  # sorted by id
    assert two["strata"][0]["pool"] == [
        {"id": "a", "tier": 0, "weight": 1},
        {"id": "b", "tier": 0, "weight": 2},
    ]
    one["strata"][0]["pool"][0]["weight"] = 9
    assert ready[1]["weight"] == 1  # build_manifest copies; only build_manifest_encoded shares
    manifest, encoded = engine.build_manifest_encoded(
        draw={}, strata=[{"name": "key", "quota": 1, "pool": ready}], inspectors=people, witnesses=1
    )
    assert encoded == engine.canonical_json(manifest)
    assert engine.manifest_hash(manifest) == hashlib.sha256(encoded).hexdigest()


def test_cli_names_itself_as_it_was_run(tmp_path: Path) -> None:
    """The public downloads the engine as verify_draw.py: its help must say so."""
    script = tmp_path / "verify_draw.py"
    script.write_bytes(ENGINE_PATH.read_bytes())
    done = subprocess.run(
        [sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout.startswith("usage: verify_draw.py ")
