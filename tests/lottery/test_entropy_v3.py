"""Issue 9: the entropy that cannot be ground, the record that verifies, the digest that
reveals nothing (algorithm sjsj-es-hmac-sha256/3, docs/draw-algorithm.md §1, §4, §5)."""

from __future__ import annotations

import hashlib
import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from core.errors import ServiceError
from lottery import engine
from lottery.models import Draw, DrawEntropy
from lottery.services import (
    draw_add_entropy,
    draw_commit,
    draw_execute,
    draw_prepare,
)
from tests.lottery.scenario import build_world, complete_checks, make_draw, make_plan

pytestmark = pytest.mark.django_db

ENGINE_PATH = Path(engine.__file__)

# Every class of invisible or look-alike character the issue names, inside otherwise valid
# six digits: each lets a typist try many seeds that look alike, or is not a digit at all.
REFUSED = {
    "zero-width joiner": "123\u200d456",
    "zero-width non-joiner": "123\u200c456",
    "zero-width space": "123\u200b456",
    "left-to-right mark": "\u200e123456",
    "right-to-left mark": "123456\u200f",
    "soft hyphen": "123\u00ad456",
    "invisible times U+2062": "123\u2062456",
    "function application U+2061": "123\u2061456",
    "invisible plus U+2064": "123\u2064456",
    "variation selector U+FE0F": "123\ufe0f456",
    "variation selector U+FE00": "1\ufe00234567"[:7],
    "variation selector U+E0100": "123456\U000e0100",
    "tag character U+E0031": "123456\U000e0031",
    "Arabic-Indic digits": "١٢٣٤٥٦",
    "Devanagari digits": "१२३४५६",
    "Chinese numerals": "一二三四五六",
    "letters": "abc",
    "tab": "123\t456",
    "no-break space": "123\u00a0456",
}


def _committed(county, clerk, leader, **prepare):
    build_world(county)
    plan = make_plan(county, clerk, leader)
    draw = draw_prepare(actor=clerk, plan=plan, **prepare)
    return draw_commit(actor=clerk, draw=draw)


@pytest.mark.parametrize("typed", list(REFUSED.values()), ids=list(REFUSED))
def test_it_refuses_every_invisible_or_look_alike_character_at_entry_and_stores_nothing(
    county, county_clerk, county_leader, client, typed
):
    draw = _committed(county, county_clerk, county_leader)
    with pytest.raises(ServiceError) as refused:
        draw_add_entropy(
            actor=county_clerk, draw=draw, witness_name="甲", witness_role="", value=typed
        )
    message = " ".join(refused.value.messages)
    bad = next(c for c in typed if not ("0" <= c <= "9"))
    assert f"U+{ord(bad):04X}" in message, message  # names the character by code point
    # The same through the ceremony form (htmx): an error shown, nothing stored.
    client.force_login(county_clerk)
    html = client.post(
        reverse("lottery:draw_entropy", args=[draw.pk]),
        {"witness_name": "甲", "value": typed},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert 'data-testid="entropy-error"' in html
    assert not DrawEntropy.objects.filter(draw=draw).exists()


def test_it_shows_where_an_invisible_character_is_in_chinese(county, county_clerk, county_leader):
    draw = _committed(county, county_clerk, county_leader)
    with pytest.raises(ServiceError) as refused:
        draw_add_entropy(
            actor=county_clerk, draw=draw, witness_name="甲", witness_role="", value="123\u200d45"
        )
    assert "第 4 个字符 U+200D（零宽连接符）不是数字" in refused.value.messages[0]


@pytest.mark.parametrize("typed", list(REFUSED.values()), ids=list(REFUSED))
def test_it_refuses_the_same_characters_in_the_public_value_and_executes_nothing(
    county, county_clerk, county_leader, typed
):
    draw = _committed(
        county,
        county_clerk,
        county_leader,
        public_value_spec="中国福利彩票3D 承诺后下一期开奖号码",
        public_value_digits=6,
    )
    for i, value in enumerate(("351624", "661234")):
        draw_add_entropy(
            actor=county_clerk, draw=draw, witness_name=f"见证人{i}", witness_role="", value=value
        )
    with pytest.raises(ServiceError, match="U\\+"):
        draw_execute(actor=county_clerk, draw=draw, public_value=typed)
    draw.refresh_from_db()
    assert draw.status == Draw.Status.COMMITTED and draw.public_value == "" and not draw.seed


def test_it_refuses_the_lock_of_100_zero_width_spaces_at_entry(
    county, county_clerk, county_leader, client
):
    """Issue 9: this was accepted, cut to 100 characters, then refused at execution, and the
    committed draw could never be drawn."""
    draw = _committed(county, county_clerk, county_leader)
    lock = "\u200b" * 100 + "351624"
    with pytest.raises(ServiceError, match="U\\+200B"):
        draw_add_entropy(
            actor=county_clerk, draw=draw, witness_name="甲", witness_role="", value=lock
        )
    client.force_login(county_clerk)
    html = client.post(
        reverse("lottery:draw_entropy", args=[draw.pk]),
        {"witness_name": "甲", "value": lock},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert 'data-testid="entropy-error"' in html
    assert not DrawEntropy.objects.filter(draw=draw).exists()
    # Wrong lengths are refused, never cut; the draw still takes its two values and executes.
    for wrong in ("12345", "1234567"):
        with pytest.raises(ServiceError, match="6"):
            draw_add_entropy(
                actor=county_clerk, draw=draw, witness_name="甲", witness_role="", value=wrong
            )
    for i, value in enumerate(("351624", "661234")):
        draw_add_entropy(
            actor=county_clerk, draw=draw, witness_name=f"见证人{i}", witness_role="", value=value
        )
    assert draw_execute(actor=county_clerk, draw=draw).status == Draw.Status.EXECUTED


def test_it_verifies_the_published_record_of_every_accepted_input_with_the_standalone_script(
    county, county_clerk, county_leader, client, tmp_path
):
    """Full-width digits, spaces and the ideographic space are accepted at entry; what is
    stored is what the seed used, so the public record.json verifies with verify_draw.py."""
    build_world(county)
    plan = make_plan(county, county_clerk, county_leader)
    draw = draw_commit(
        actor=county_clerk,
        draw=draw_prepare(
            actor=county_clerk,
            plan=plan,
            witnesses=3,
            public_value_spec="中国福利彩票3D 承诺后下一期开奖号码",
            public_value_digits=3,
        ),
    )
    typed = [
        ("监督员　甲", " 3 5 1 7 3 7 "),
        ("监督员乙", "６６１２３４"),
        ("Li Ming", "88　３81２"),
    ]
    for name, value in typed:
        draw_add_entropy(
            actor=county_clerk, draw=draw, witness_name=name, witness_role="", value=value
        )
    draw = draw_execute(actor=county_clerk, draw=draw, public_value="５ 8 2")
    stored = list(draw.entropy.order_by("position").values_list("witness_name", "value"))
    assert stored == [("监督员甲", "351737"), ("监督员乙", "661234"), ("LiMing", "883812")]
    assert draw.public_value == "582"

    Draw.objects.filter(pk=draw.pk).update(disclosed_at=draw.executed_at)
    record = client.get(reverse("publication:draw_record", args=[draw.pk]))
    assert record.status_code == 200
    path = tmp_path / "record.json"
    path.write_bytes(b"".join(record.streaming_content) if record.streaming else record.content)
    assert json.loads(path.read_text("utf-8"))["manifest"]["algorithm"] == engine.ALGORITHM_VERSION
    script = tmp_path / "verify_draw.py"
    script.write_bytes(ENGINE_PATH.read_bytes())
    run = subprocess.run(
        [sys.executable, str(script), "verify", str(path)], capture_output=True, text=True
    )
    assert run.returncode == 0 and run.stdout.strip() == "matches", run.stdout + run.stderr


def _subset_attack(pool: list[dict], drawn: int, shown: str) -> list[str] | None:
    """What an inspector could try on a digest shown before an earlier draw is disclosed:
    every subset of ``drawn`` sources as the earlier draw's (tier 1), hashed as version 2
    hashed a pool. Returns the subset whose digest equals ``shown``."""
    ids = [entry["id"] for entry in pool]
    for subset in itertools.combinations(ids, drawn):
        taken = set(subset)
        guess = [{**entry, "tier": 1 if entry["id"] in taken else 0} for entry in pool]
        if hashlib.sha256(engine.canonical_json(guess)).hexdigest() == shown:
            return sorted(subset)
    return None


def test_it_gives_the_subset_attack_nothing_to_find_in_the_public_digests(
    county, county_clerk, county_leader, client
):
    build_world(county, key=18)
    q1 = make_draw(make_plan(county, county_clerk, county_leader, quarter=1), county_clerk)
    complete_checks(q1)
    q2 = make_draw(
        make_plan(county, county_clerk, county_leader, quarter=2), county_clerk, stage="committed"
    )
    q1_key = sorted(
        q1.selections.filter(stratum="key").values_list("source__source_code", flat=True)
    )
    assert 1 <= len(q1_key) <= 9
    page = client.get(reverse("publication:draw_detail", args=[q2.pk]))
    html = page.content.decode()
    key = next(s for s in page.context["summary"].strata if s.name == "key")
    assert key.pool_digest in html  # the digest the public sees before Q1 is disclosed
    # The attacker is given everything but the tiers: the ids and weights of the real pool.
    pool = next(s for s in json.loads(q2.manifest_json)["strata"] if s["name"] == "key")["pool"]
    assert {e["id"] for e in pool if e["tier"] == 1} == set(q1_key)  # what there is to find
    assert _subset_attack(pool, len(q1_key), key.pool_digest) is None
    assert q2.manifest_hash not in {key.pool_digest}
    # The attack itself works: against the unsalted (version 2) digest of the same pool it
    # finds Q1's key sources.
    assert _subset_attack(pool, len(q1_key), engine.pool_digest(pool)) == q1_key


def test_it_publishes_the_salt_with_the_manifest_once_the_earlier_draws_are_disclosed(
    county, county_clerk, county_leader
):
    build_world(county)
    q1 = make_draw(make_plan(county, county_clerk, county_leader, quarter=1), county_clerk)
    manifest = json.loads(q1.manifest_json)
    assert len(manifest["salt"]) == 64
    key = manifest["strata"][0]
    assert key["pool_digest"] == engine.pool_digest(key["pool"], manifest["salt"])


def test_it_repairs_version_2_records_only_where_it_proves_the_seed(
    county, county_clerk, county_leader, capsys
):
    """Migration 0010 on two draws made as version 2 made them (values stored as typed): one
    whose normalised values give its seed is repaired; one that does not is printed and left."""
    import importlib

    from django.apps import apps
    from django.db import connection

    repair = importlib.import_module("lottery.migrations.0010_entropy_canonical_form")
    build_world(county)
    good = make_draw(make_plan(county, county_clerk, county_leader, quarter=1), county_clerk)
    bad = make_draw(make_plan(county, county_clerk, county_leader, quarter=2), county_clerk)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE lottery_drawentropy DISABLE TRIGGER {repair.TRIGGER}")
        cursor.execute("ALTER TABLE lottery_draw DISABLE TRIGGER lottery_draw_monotone")
        for draw, typed in (
            (good, [" 3 5 1 6 2 4 ", "６６１２３４"]),
            (bad, ["3 5 1 6 2 5", "661234"]),
        ):
            cursor.execute(
                "UPDATE lottery_draw SET manifest_json = replace(manifest_json, %s, %s) "
                "WHERE id = %s",
                [
                    '"algorithm":"sjsj-es-hmac-sha256/3"',
                    '"algorithm":"sjsj-es-hmac-sha256/2"',
                    draw.pk,
                ],
            )
            for position, value in enumerate(typed, start=1):
                cursor.execute(
                    "UPDATE lottery_drawentropy SET value = %s WHERE draw_id = %s AND position = %s",
                    [value, draw.pk, position],
                )
        cursor.execute(f"ALTER TABLE lottery_drawentropy ENABLE TRIGGER {repair.TRIGGER}")
        cursor.execute("ALTER TABLE lottery_draw ENABLE TRIGGER lottery_draw_monotone")
    with connection.schema_editor(atomic=False) as editor:
        repair.canonical_entropy(apps, editor)
    out = capsys.readouterr().out
    assert list(good.entropy.order_by("position").values_list("value", flat=True)) == [
        "351624",
        "661234",
    ]
    assert list(bad.entropy.order_by("position").values_list("value", flat=True)) == [
        "3 5 1 6 2 5",
        "661234",
    ]
    assert (
        "1 draw(s) now store" in out
        and f"NOT REPAIRED (seed not proven), left as it was: {bad.number}" in out
    )
    # the trigger is back
    with pytest.raises(Exception, match="append-only"), connection.cursor() as cursor:
        cursor.execute("UPDATE lottery_drawentropy SET value = value WHERE draw_id = %s", [good.pk])
