"""verify_draw: matches for an honest draw with substitutions; names the place of tampering."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from lottery.models import DrawSelection, TeamAssignment
from lottery.selectors import effective_selections, effective_teams
from lottery.services import draw_prepare, draw_record, substitution_decide, substitution_request
from lottery.verification import draw_verify
from tests.lottery.test_draw_services import _plan, _run, world  # noqa: F401 - fixture


@pytest.fixture
def executed(world, county_clerk, county_leader):  # noqa: F811
    plan = _plan(world, county_clerk, county_leader)
    return _run(draw_prepare(actor=county_clerk, plan=plan), county_clerk)


def _tamper(sql, params):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")


def test_an_honest_draw_with_substitutions_matches(executed, county_clerk, county_leader, capsys):
    selections = effective_selections(executed)
    sub1 = substitution_request(actor=county_clerk, selection=selections[0], reason="已注销")
    substitution_decide(actor=county_leader, substitution=sub1, approve=True)
    second = selections[1]
    member = next(a for a in effective_teams([second])[second.pk] if a.role == "member")
    sub2 = substitution_request(
        actor=county_clerk, selection=second, reason="回避", inspector=member.inspector
    )
    substitution_decide(actor=county_leader, substitution=sub2, approve=True)
    rejected = substitution_request(actor=county_clerk, selection=selections[2], reason="试试")
    substitution_decide(actor=county_leader, substitution=rejected, approve=False)
    assert draw_verify(executed) == []
    call_command("verify_draw", executed.number)
    assert "matches" in capsys.readouterr().out


def test_a_substitution_that_skipped_the_order_is_named(executed, county_clerk, county_leader):
    selections = effective_selections(executed)
    sub = substitution_request(actor=county_clerk, selection=selections[0], reason="已注销")
    substitution_decide(actor=county_leader, substitution=sub, approve=True)
    replacement = DrawSelection.objects.get(substitution=sub)
    someone_else = (
        executed.organisation.sources.filter(supervision_class=replacement.stratum, status="active")
        .exclude(pk__in=DrawSelection.objects.filter(draw=executed).values("source_id"))
        .first()
    )
    _tamper(
        "UPDATE lottery_drawselection SET source_id = %s WHERE id = %s",
        [someone_else.pk, replacement.pk],
    )
    problems = draw_verify(executed)
    assert any("substitution 1" in p and "replacement recorded" in p for p in problems), problems


def test_a_swapped_team_member_is_named(executed):
    row = TeamAssignment.objects.filter(selection__draw=executed, role="member").first()
    other = (
        TeamAssignment.objects.filter(selection__draw=executed)
        .exclude(
            inspector_id__in=TeamAssignment.objects.filter(selection=row.selection).values(
                "inspector_id"
            )
        )
        .first()
    )
    _tamper(
        "UPDATE lottery_teamassignment SET inspector_id = %s WHERE id = %s",
        [other.inspector_id, row.pk],
    )
    problems = draw_verify(executed)
    assert problems and any(row.selection.source.source_code in p for p in problems), problems
    with pytest.raises(CommandError):
        call_command("verify_draw", executed.number)


def test_a_changed_entropy_digit_is_named(executed):
    entry = executed.entropy.order_by("position").first()
    _tamper(
        "UPDATE lottery_drawentropy SET value = %s WHERE id = %s",
        [entry.value[:-1] + ("1" if entry.value[-1] != "1" else "2"), entry.pk],
    )
    problems = draw_verify(executed)
    assert any("seed" in p for p in problems), problems


def test_a_dropped_exclusion_is_named(executed):
    exclusion = executed.exclusions.first()
    _tamper("DELETE FROM lottery_drawexclusion WHERE id = %s", [exclusion.pk])
    assert any("exclusions" in p for p in draw_verify(executed))


def test_the_published_record_checks_with_the_command(executed, tmp_path, capsys):
    path = tmp_path / "record.json"
    record = draw_record(executed)
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    call_command("verify_draw", record=str(path))
    assert "matches" in capsys.readouterr().out
    record["entropy"][0]["value"] = "999999"
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("verify_draw", record=str(path))
