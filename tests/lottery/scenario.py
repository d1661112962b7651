"""A small county world and a draw at any stage of the ceremony, built through the services
(shared by the page, API, PDF and browser tests)."""

from __future__ import annotations

from datetime import date, timedelta

from lottery.models import Draw, Plan
from lottery.rules import PRESETS
from lottery.selectors import effective_selections
from lottery.services import (
    check_completed_record,
    draw_add_entropy,
    draw_commit,
    draw_execute,
    draw_prepare,
    draws_disclose_due,
    plan_approve,
    plan_create,
    plan_publish,
    plan_submit,
)
from tests.lottery.factories import give_plan_items, make_inspectors, make_sources

YEAR, QUARTER = 2026, 1


def build_world(county, *, key=20, general=40, special=4, inspectors=8):
    """Sources of each class (two suspended, one cancelled) and certified inspectors."""
    make_sources(county, key, klass="key")
    make_sources(county, general, klass="general")
    make_sources(county, special, klass="special")
    make_sources(county, 2, klass="key", status="suspended")
    make_sources(county, 1, klass="general", status="cancelled")
    return make_inspectors(county, inspectors)


def make_plan(county, clerk, leader=None, *, quarter=QUARTER, preset="luliang_2020_county"):
    """A draft plan, or with a ``leader`` a published one (ready for its draw)."""
    plan = plan_create(
        actor=clerk,
        organisation=county,
        kind=Plan.Kind.QUARTERLY,
        year=YEAR,
        quarter=quarter,
        title=f"武陟县{YEAR}年第{quarter}季度“双随机、一公开”抽查计划",
        classes=["key", "general", "special"],
        rules=PRESETS[preset].rules,
        planned_start=date(YEAR, 3 * quarter - 2, 11),
        planned_end=date(YEAR, 3 * quarter, 25),
    )
    give_plan_items(plan)
    return publish(plan, clerk, leader) if leader is not None else plan


def publish(plan, clerk, leader):
    """Submit, approve and publish: a draw is prepared only on a published plan."""
    give_plan_items(plan)
    plan = plan_submit(actor=clerk, plan=plan)
    plan = plan_approve(actor=leader, plan=plan)
    return plan_publish(actor=leader, plan=plan)


def make_draw(
    plan, clerk, *, stage: str = "executed", values=("351624", "661234"), **prepare
) -> Draw:
    """A draw of ``plan`` at ``stage``: prepared, committed, executed or disclosed.
    ``prepare``: more arguments of ``draw_prepare`` (e.g. ``max_team_share``)."""
    draw = draw_prepare(actor=clerk, plan=plan, **prepare)
    if stage == "prepared":
        return draw
    draw = draw_commit(actor=clerk, draw=draw)
    if stage == "committed":
        return draw
    for i, value in enumerate(values):
        draw_add_entropy(
            actor=clerk,
            draw=draw,
            witness_name=f"见证人{'甲乙丙丁'[i]}",
            witness_role="纪检监察干部" if i == 0 else "群众代表",
            value=value,
        )
    draw = draw_execute(actor=clerk, draw=draw)
    if stage == "disclosed":
        draws_disclose_due(today=plan.planned_end + timedelta(days=1))
        draw.refresh_from_db()
    return draw


def complete_checks(draw: Draw, *, only=None) -> list:
    """Record the spot checks of ``draw``'s effective drawn sources as completed (what
    approving their inspection tasks does), on the plan's first day; ``only``: a set of
    source pks to complete, the others stay never inspected."""
    return [
        check_completed_record(selection=s, completed_on=draw.plan.planned_start)
        for s in effective_selections(draw)
        if only is None or s.source_id in only
    ]
