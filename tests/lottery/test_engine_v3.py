"""Known answers of algorithm sjsj-es-hmac-sha256/3 and of every rule docs §2–§5 pin down.

Loaded from the file path like test_engine.py: the engine is also the public's script.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import subprocess
import sys
from typing import Any

import pytest

from tests.lottery.test_engine import ENGINE_PATH, _load_engine, example_record

engine = _load_engine()

SALT = "00" * 31 + "01"
ENTROPY = [{"witness": "监督员甲", "value": "351737"}, {"witness": "监督员乙", "value": "661234"}]


def v3_manifest(**changes: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "draw": {"id": "V3"},
        "strata": [
            {"name": "key", "quota": 2, "pool": ["K01", "K02", "K03", {"id": "K04", "tier": 1}]},
            {"name": "general", "quota": 1, "pool": ["G01", {"id": "G02", "weight": 3}]},
        ],
        "inspectors": [
            {"id": "I01", "name": "张三", "certified": True, "expertise": ["排污许可"]},
            {"id": "I02", "name": "李四", "certified": True},
            {"id": "I03", "name": "王五", "certified": True},
            {
                "id": "X01",
                "name": "孙八",
                "certified": False,
                "expert": True,
                "expertise": ["排污许可"],
            },
        ],
        "witnesses": 2,
        "digits": 6,
        "public_value": {"description": "中国福利彩票3D 承诺后下一期开奖号码", "digits": 3},
        "constraints": {
            "K01": {"requires": ["排污许可"]},
            "K02": {"requires": ["排污许可"], "conflicts": ["I02"]},
        },
        "salt": SALT,
    }
    arguments.update(changes)
    return engine.build_manifest(**arguments)


KAT_HASH = "0e514c056350561d90dd6340418f2ef58f548098f079e4a2311e74357493e700"
KAT_SEED = "60b7ef19577d857c3a94029f3bd270cb3b657c904b488850c1d512567b12e0db"
KAT_RESULT = {
    "objects": {"key": ["K01", "K03"], "general": ["G02"]},
    "teams": [
        {"object": "K01", "stratum": "key", "leader": "I01", "members": ["I02"], "experts": []},
        {"object": "K03", "stratum": "key", "leader": "I03", "members": ["I02"], "experts": []},
        {"object": "G02", "stratum": "general", "leader": "I01", "members": ["I03"], "experts": []},
    ],
}


def test_it_gives_the_version_3_known_answers() -> None:
    manifest = v3_manifest()
    assert manifest["algorithm"] == "sjsj-es-hmac-sha256/3"
    assert manifest["entropy_spec"] == {
        "witnesses": 2,
        "digits": 6,
        "public_value": {"description": "中国福利彩票3D 承诺后下一期开奖号码", "digits": 3},
    }
    assert manifest["constraints"]["max_teams"] == 3  # 100 % of 3 teams (3 certified)
    record = engine.execute(manifest, ENTROPY, "582")
    assert record["manifest_hash"] == KAT_HASH
    assert record["seed"] == KAT_SEED
    assert record["result"] == KAT_RESULT
    assert engine.verify(json.loads(json.dumps(record))) == []


def test_it_keys_each_pool_digest_with_the_salt_as_documented() -> None:
    manifest = v3_manifest()
    key = manifest["strata"][0]
    encoded = json.dumps(key["pool"], ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    expected = hmac.new(
        bytes.fromhex(SALT), b"sjsj-pool/3\x00" + encoded.encode(), "sha256"
    ).hexdigest()
    assert key["pool_digest"] == expected
    assert key["pool_digest"] != hashlib.sha256(encoded.encode()).hexdigest()
    # The seed as §5 writes it, from the manifest hash and the canonical entropy.
    payload = json.dumps(
        {"entropy": ENTROPY, "public_value": "582"},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    seed = hashlib.sha256(b"sjsj-seed/1\x00" + KAT_HASH.encode() + b"\x00" + payload)
    assert seed.hexdigest() == KAT_SEED


def test_it_draws_the_leader_as_documented() -> None:
    seed = bytes.fromhex(KAT_SEED)
    # K03's certified members in pick order are I03 (load 0) then I02; L mod 2 = 0 picks
    # I03, and I02 stays a member.
    mac = hmac.digest(seed, b"leader\x00K03\x000", "sha256")
    assert int.from_bytes(mac, "big") % 2 == 0
    assert ["I03", "I02"][int.from_bytes(mac, "big") % 2] == KAT_RESULT["teams"][1]["leader"]


def test_it_still_verifies_version_2_records() -> None:
    record = example_record()
    assert record["manifest"]["algorithm"] == "sjsj-es-hmac-sha256/2"
    assert engine.verify(record) == []


@pytest.mark.parametrize(
    ("entropy", "public", "message"),
    [
        ([{"witness": "监督员甲", "value": "３51737"}, ENTROPY[1]], "582", "U+FF13"),
        ([{"witness": "监督员甲", "value": "351\u200d737"}, ENTROPY[1]], "582", "U+200D"),
        ([{"witness": "监督员甲", "value": " 351737"}, ENTROPY[1]], "582", "U+0020"),
        ([{"witness": "监督员甲", "value": "35173"}, ENTROPY[1]], "582", "exactly 6"),
        ([{"witness": "监督员 甲", "value": "351737"}, ENTROPY[1]], "582", "U+0020"),
        ([{"witness": "ｍ", "value": "351737"}, ENTROPY[1]], "582", "U+FF4D"),
        ([{"witness": "甲" * 51, "value": "351737"}, ENTROPY[1]], "582", "at most 50"),
        ([{"witness": "", "value": "351737"}, ENTROPY[1]], "582", "empty"),
        (ENTROPY, "58\ufe0f2", "U+FE0F"),
        (ENTROPY, "5 8 2", "U+0020"),
        (ENTROPY, "5821", "exactly 3"),
        (ENTROPY, None, "missing"),
        ([ENTROPY[0], {"witness": "监督员甲", "value": "661234"}], "582", "twice"),
    ],
)
def test_it_refuses_entropy_not_in_canonical_form_without_normalising_it(
    entropy, public, message
) -> None:
    with pytest.raises(engine.EntropyError, match=re.escape(message)):
        engine.execute(v3_manifest(), entropy, public)


def test_it_accepts_names_of_the_pinned_set() -> None:
    people = [
        {"witness": "阿依古丽·买买提", "value": "000000"},
        {"witness": "Li3Ming", "value": "999999"},
    ]
    assert engine.execute(v3_manifest(), people, "000")["entropy"] == people


def test_it_requires_at_least_one_witness_in_version_3() -> None:
    with pytest.raises(engine.ManifestError, match="witnesses: must be an integer from 1"):
        v3_manifest(witnesses=0)
    # Version 2 allowed none with a public value; such records still verify.
    old = engine.build_manifest(
        draw={},
        strata=[{"name": "s", "quota": 1, "pool": ["A", "B"]}],
        inspectors=[{"id": f"I{i}", "name": "", "certified": True} for i in range(2)],
        witnesses=0,
        public_value="彩票",
        algorithm=engine.ALGORITHM_V2,
    )
    assert engine.verify(engine.execute(old, [], "12")) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"draw": {"n": 2**53}}, "outside the integer range"),
        ({"draw": {"n": -(2**53)}}, "outside the integer range"),
        ({"draw": {"n": 10**5000}}, "outside the integer range"),
        ({"digits": True}, "digits: must be an integer"),
        ({"digits": 0}, "digits: must be an integer from 1 to 64"),
        ({"public_value": {"description": "", "digits": 3}}, "description"),
        ({"public_value": {"description": "a\x00b", "digits": 3}}, "description"),
        ({"public_value": "彩票"}, "version 3 takes"),
        ({"max_team_share": 0}, "max_team_share"),
        ({"salt": "XYZ"}, "salt"),
        ({"constraints": {"K01": {"requires": [""]}}}, "non-empty string"),
        ({"constraints": {"K01": {"requires": ["a\x00b"]}}}, "NUL"),
        ({"team_size": True}, "team_size"),
    ],
)
def test_it_refuses_what_the_specification_excludes_with_an_engine_error(change, message) -> None:
    with pytest.raises(engine.EngineError, match=message):
        v3_manifest(**change)


def test_it_refuses_booleans_as_integers_and_integers_as_booleans() -> None:
    manifest = v3_manifest()
    manifest["strata"][0]["pool"][0]["weight"] = True
    with pytest.raises(engine.ManifestError, match="weight must be an integer"):
        engine.check_manifest(manifest)
    manifest = v3_manifest()
    manifest["inspectors"]["pool"][0]["certified"] = 1
    with pytest.raises(engine.ManifestError, match="certified must be true or false"):
        engine.check_manifest(manifest)


def test_it_reads_no_integer_beyond_the_range_and_says_so(tmp_path) -> None:
    with pytest.raises(engine.CanonicalJSONError, match="outside the range"):
        engine.load_json('{"a": ' + "9" * 5000 + "}")
    with pytest.raises(engine.CanonicalJSONError):
        engine.load_json('{"a": 9007199254740992}')
    record = engine.execute(v3_manifest(), ENTROPY, "582")
    text = json.dumps(record, ensure_ascii=False).replace('"id": "V3"', '"id": ' + "7" * 5000)
    path = tmp_path / "record.json"
    path.write_text(text, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, str(ENGINE_PATH), "verify", str(path)], capture_output=True, text=True
    )
    assert run.returncode == 1 and "outside the range" in run.stderr
    assert "Traceback" not in run.stderr


def test_it_reports_substitutions_null_as_a_difference() -> None:
    record = engine.execute(v3_manifest(), ENTROPY, "582")
    record["substitutions"] = None
    assert engine.verify(record) == ["substitutions: must be a list"]
    record["substitutions"] = []
    assert engine.verify(record) == []


def test_it_caps_an_inspector_and_overflows_only_when_nobody_else_can_go() -> None:
    """With the lone holder at the cap and no expert, the team takes him anyway (a committed
    draw never fails); prepare's forecast refuses such a manifest beforehand."""
    ids = [f"S{i:02d}" for i in range(20)]
    manifest = engine.build_manifest(
        draw={},
        strata=[{"name": "key", "quota": 20, "pool": ids}],
        inspectors=[
            {"id": f"I{i}", "name": "", "certified": True, "expertise": ["r"] if i == 0 else []}
            for i in range(6)
        ],
        witnesses=1,
        constraints={o: {"requires": ["r"]} for o in ids},
        max_team_share=50,
        salt=SALT,
    )
    assert manifest["constraints"]["max_teams"] == 10
    record = engine.execute(manifest, [{"witness": "甲", "value": "123456"}])
    holder = sum("I0" in [t["leader"], *t["members"]] for t in record["result"]["teams"])
    assert holder == 20  # over the cap: the overflow rule, visible in the record
    assert engine.verify(record) == []
