"""The plan's life: draft (edit, delete) → submitted → approved → published, and a leader's
return to draft with a reason; the inspection period within the plan's quarter or year; and
the order of draws (a published plan only; no later quarter while an earlier one is open)."""

from __future__ import annotations

from datetime import date

import pytest

from core.errors import ServiceError
from core.models import AuditEntry
from lottery.models import Draw, Plan
from lottery.rules import PRESETS
from lottery.services import (
    draw_discard,
    draw_prepare,
    plan_approve,
    plan_create,
    plan_delete,
    plan_edit,
    plan_publish,
    plan_return,
    plan_submit,
)
from tests.lottery.scenario import YEAR, build_world, make_draw, make_plan, publish

pytestmark = pytest.mark.django_db

RULES = PRESETS["luliang_2020_county"].rules


def fields(**changes) -> dict:
    """What the plan form sends for a 2026 Q1 plan, with ``changes``."""
    data = {
        "kind": Plan.Kind.QUARTERLY,
        "year": YEAR,
        "quarter": 1,
        "title": "第一季度抽查计划",
        "classes": ["key", "general"],
        "rules": RULES,
        "planned_start": date(YEAR, 1, 11),
        "planned_end": date(YEAR, 3, 25),
        "team_size": 2,
    }
    data.update(changes)
    return data


def audited(action: str, plan_pk: int) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action, object_id=str(plan_pk)).order_by("seq"))


@pytest.fixture
def draft(county, county_clerk):
    return make_plan(county, county_clerk)


def state(plan: Plan) -> tuple:
    plan.refresh_from_db()
    return (plan.status, plan.quarter, plan.planned_start, plan.planned_end, plan.title)


# --- the inspection period -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "bounds"),
    [
        # The reviewer's case: quarter 2 chosen, Q1's default dates left in place.
        ({"quarter": 2}, "2026-04-01 – 2026-06-30"),
        ({"quarter": 1, "planned_end": date(YEAR, 4, 1)}, "2026-01-01 – 2026-03-31"),
        (
            {
                "quarter": 4,
                "year": 2027,
                "planned_start": date(2027, 9, 30),
                "planned_end": date(2027, 12, 25),
            },
            "2027-10-01",
        ),
        (
            {"kind": Plan.Kind.ANNUAL, "quarter": None, "year": 2027},
            "2027-01-01 – 2027-12-31",
        ),
    ],
)
def test_it_refuses_an_inspection_period_outside_the_plans_quarter_or_year(
    county, county_clerk, changes, bounds
):
    with pytest.raises(ServiceError, match=bounds):
        plan_create(actor=county_clerk, organisation=county, **fields(**changes))
    assert not Plan.objects.exists()


def test_it_refuses_a_period_that_ends_before_it_starts(county, county_clerk):
    with pytest.raises(ServiceError, match="早于|before"):
        plan_create(
            actor=county_clerk,
            organisation=county,
            **fields(planned_start=date(YEAR, 3, 1), planned_end=date(YEAR, 2, 1)),
        )
    assert not Plan.objects.exists()


def test_a_period_may_use_the_quarters_first_and_last_day(county, county_clerk):
    q2 = plan_create(
        actor=county_clerk,
        organisation=county,
        **fields(quarter=2, planned_start=date(YEAR, 4, 1), planned_end=date(YEAR, 6, 30)),
    )
    annual = plan_create(
        actor=county_clerk,
        organisation=county,
        **fields(
            kind=Plan.Kind.ANNUAL,
            quarter=None,
            planned_start=date(YEAR, 1, 1),
            planned_end=date(YEAR, 12, 31),
        ),
    )
    assert q2.quarter == 2 and annual.quarter is None


# --- editing and deleting a draft ------------------------------------------------------------


def test_a_clerk_edits_a_draft_and_the_change_is_audited_before_and_after(
    county, county_clerk, draft
):
    plan_edit(
        actor=county_clerk,
        plan=draft,
        **fields(quarter=2, planned_start=date(YEAR, 4, 15), planned_end=date(YEAR, 6, 20)),
    )
    assert state(draft) == (
        Plan.Status.DRAFT,
        2,
        date(YEAR, 4, 15),
        date(YEAR, 6, 20),
        "第一季度抽查计划",
    )
    (entry,) = audited("plan.edit", draft.pk)
    assert entry.actor_id == county_clerk.pk
    assert entry.before["quarter"] == 1 and entry.after["quarter"] == 2
    assert entry.before["planned_start"] == "2026-01-11"
    assert entry.after["planned_start"] == "2026-04-15"


def test_an_edit_must_keep_the_period_within_the_new_quarter(county_clerk, draft):
    before = state(draft)
    with pytest.raises(ServiceError, match="2026-04-01"):
        plan_edit(actor=county_clerk, plan=draft, **fields(quarter=2))  # Q1 dates left
    assert state(draft) == before and not audited("plan.edit", draft.pk)


def test_an_edit_cannot_take_a_quarter_that_already_has_a_plan(county, county_clerk, draft):
    make_plan(county, county_clerk, quarter=2)
    before = state(draft)
    with pytest.raises(ServiceError, match="已有|already"):
        plan_edit(
            actor=county_clerk,
            plan=draft,
            **fields(quarter=2, planned_start=date(YEAR, 4, 11), planned_end=date(YEAR, 6, 25)),
        )
    assert state(draft) == before


def test_only_a_draft_can_be_edited_or_deleted(county_clerk, county_leader, draft):
    plan_submit(actor=county_clerk, plan=draft)
    for plan_state in ("submitted", "approved", "published"):
        if plan_state == "approved":
            plan_approve(actor=county_leader, plan=draft)
        if plan_state == "published":
            plan_publish(actor=county_leader, plan=draft)
        before = state(draft)
        assert before[0] == plan_state
        with pytest.raises(ServiceError, match="草稿|draft"):
            plan_edit(actor=county_clerk, plan=draft, **fields(title="改"))
        with pytest.raises(ServiceError, match="草稿|draft"):
            plan_delete(actor=county_clerk, plan=draft)
        assert state(draft) == before
    assert not audited("plan.edit", draft.pk) and not audited("plan.delete", draft.pk)


def test_a_draft_is_deleted_and_the_deletion_audited(county_clerk, draft):
    pk = draft.pk
    plan_delete(actor=county_clerk, plan=draft)
    assert not Plan.objects.filter(pk=pk).exists()
    (entry,) = audited("plan.delete", pk)
    assert entry.before["title"] == "武陟县2026年第1季度“双随机、一公开”抽查计划"


def test_a_draft_that_has_a_draw_is_not_deleted(county, county_clerk, county_leader):
    build_world(county)
    plan = make_plan(county, county_clerk, county_leader)
    make_draw(plan, county_clerk, stage="prepared")
    Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.DRAFT)  # as before this rule
    with pytest.raises(ServiceError, match="摇号|draw"):
        plan_delete(actor=county_clerk, plan=plan)
    assert Plan.objects.filter(pk=plan.pk).exists()


def test_others_cannot_edit_submit_or_delete_a_draft(
    county_clerk, outsider_clerk, inspector_a, city_reviewer, draft
):
    before = state(draft)
    for user in (outsider_clerk, inspector_a, city_reviewer):
        with pytest.raises(ServiceError):
            plan_edit(actor=user, plan=draft, **fields(title="改"))
        with pytest.raises(ServiceError):
            plan_submit(actor=user, plan=draft)
        with pytest.raises(ServiceError):
            plan_delete(actor=user, plan=draft)
    assert state(draft) == before


# --- submit, approve, return, publish -----------------------------------------------------


def test_a_draft_is_submitted_once_and_then_approved_and_published(
    county_clerk, county_leader, draft
):
    with pytest.raises(ServiceError, match="待审批|awaiting"):
        plan_approve(actor=county_leader, plan=draft)  # a draft is not yet submitted
    plan = plan_submit(actor=county_clerk, plan=draft)
    assert plan.status == Plan.Status.SUBMITTED and plan.submitted_by == county_clerk
    with pytest.raises(ServiceError):
        plan_submit(actor=county_clerk, plan=draft)
    with pytest.raises(ServiceError):
        plan_publish(actor=county_leader, plan=draft)  # not approved yet
    plan = plan_approve(actor=county_leader, plan=draft)
    with pytest.raises(ServiceError):
        plan_approve(actor=county_leader, plan=draft)
    plan = plan_publish(actor=county_leader, plan=draft)
    assert plan.status == Plan.Status.PUBLISHED and plan.published_by == county_leader
    with pytest.raises(ServiceError):
        plan_publish(actor=county_leader, plan=draft)
    assert [len(audited(a, draft.pk)) for a in ("plan.submit", "plan.approve", "plan.publish")] == [
        1,
        1,
        1,
    ]


def test_a_draft_saved_before_the_period_rule_must_be_fixed_before_it_is_submitted(
    county_clerk, draft
):
    Plan.objects.filter(pk=draft.pk).update(quarter=2)  # Q1 dates, as the reviewer saw
    with pytest.raises(ServiceError, match="2026-04-01"):
        plan_submit(actor=county_clerk, plan=draft)
    draft.refresh_from_db()
    assert draft.status == Plan.Status.DRAFT


def test_a_leader_returns_a_submitted_plan_and_the_clerk_fixes_and_resubmits(
    county_clerk, county_leader, draft
):
    plan_submit(actor=county_clerk, plan=draft)
    plan = plan_return(actor=county_leader, plan=draft, reason="  检查时段应在第二季度  ")
    assert plan.status == Plan.Status.DRAFT
    assert plan.returned_by == county_leader and plan.return_reason == "检查时段应在第二季度"
    (entry,) = audited("plan.return", draft.pk)
    assert entry.before["status"] == "submitted"
    assert entry.after == {"status": "draft", "reason": "检查时段应在第二季度"}
    plan_edit(
        actor=county_clerk,
        plan=draft,
        **fields(quarter=2, planned_start=date(YEAR, 4, 11), planned_end=date(YEAR, 6, 25)),
        check_items=list(draft.check_items.all()),
    )
    plan = plan_submit(actor=county_clerk, plan=draft)
    plan = plan_approve(actor=county_leader, plan=draft)
    assert plan.status == Plan.Status.APPROVED and plan.quarter == 2


def test_a_leader_returns_an_approved_unpublished_plan_and_its_approval_goes(
    county_clerk, county_leader, draft
):
    plan_submit(actor=county_clerk, plan=draft)
    plan_approve(actor=county_leader, plan=draft)
    plan = plan_return(actor=county_leader, plan=draft, reason="比例规则选错")
    assert plan.status == Plan.Status.DRAFT
    assert plan.approved_by is None and plan.approved_at is None
    (entry,) = audited("plan.return", draft.pk)
    assert entry.before["status"] == "approved" and entry.before["approved_by_id"] == (
        county_leader.pk
    )


def test_a_return_needs_a_reason(county_clerk, county_leader, draft):
    plan_submit(actor=county_clerk, plan=draft)
    for reason in ("", "   "):
        with pytest.raises(ServiceError, match="理由|why"):
            plan_return(actor=county_leader, plan=draft, reason=reason)
    draft.refresh_from_db()
    assert draft.status == Plan.Status.SUBMITTED and not audited("plan.return", draft.pk)


def test_a_draft_or_a_published_plan_is_not_returned(county_clerk, county_leader, draft):
    with pytest.raises(ServiceError):
        plan_return(actor=county_leader, plan=draft, reason="x")
    publish(draft, county_clerk, county_leader)
    with pytest.raises(ServiceError, match="公布|published"):
        plan_return(actor=county_leader, plan=draft, reason="x")
    draft.refresh_from_db()
    assert draft.status == Plan.Status.PUBLISHED


def test_an_approved_plan_with_a_draw_is_not_returned(county, county_clerk, county_leader):
    build_world(county)
    plan = make_plan(county, county_clerk, county_leader)
    make_draw(plan, county_clerk, stage="prepared")
    Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.APPROVED)  # drawn before publishing
    with pytest.raises(ServiceError, match="摇号|draw"):
        plan_return(actor=county_leader, plan=plan, reason="x")
    plan.refresh_from_db()
    assert plan.status == Plan.Status.APPROVED


def test_a_clerk_cannot_approve_return_or_publish(
    county_clerk, county_leader, outsider_clerk, draft
):
    plan_submit(actor=county_clerk, plan=draft)
    for user in (county_clerk, outsider_clerk):
        with pytest.raises(ServiceError, match="角色|role"):
            plan_approve(actor=user, plan=draft)
        with pytest.raises(ServiceError, match="角色|role"):
            plan_return(actor=user, plan=draft, reason="x")
    plan_approve(actor=county_leader, plan=draft)
    with pytest.raises(ServiceError, match="角色|role"):
        plan_publish(actor=county_clerk, plan=draft)
    draft.refresh_from_db()
    assert draft.status == Plan.Status.APPROVED


# --- the order of draws ------------------------------------------------------------------


@pytest.fixture
def world(county):
    return build_world(county)


def test_a_draw_is_prepared_only_on_a_published_plan(world, county, county_clerk, county_leader):
    plan = make_plan(county, county_clerk)
    for step in (
        None,
        lambda: plan_submit(actor=county_clerk, plan=plan),
        lambda: plan_approve(actor=county_leader, plan=plan),
    ):
        if step:
            step()
        with pytest.raises(ServiceError, match="公布|published"):
            draw_prepare(actor=county_clerk, plan=plan)
    assert not Draw.objects.exists()
    plan_publish(actor=county_leader, plan=plan)
    assert draw_prepare(actor=county_clerk, plan=plan).status == Draw.Status.PREPARED


@pytest.mark.parametrize("stage", ["prepared", "committed"])
def test_a_later_quarter_waits_for_an_earlier_quarters_open_draw(
    world, county, county_clerk, county_leader, stage
):
    q1 = make_draw(
        make_plan(county, county_clerk, county_leader, quarter=1), county_clerk, stage=stage
    )
    q2 = make_plan(county, county_clerk, county_leader, quarter=2)
    with pytest.raises(ServiceError) as refused:
        draw_prepare(actor=county_clerk, plan=q2)
    message = " ".join(refused.value.messages)
    assert q1.number in message and "2026Q1" in message and "2026Q2" in message
    assert not Draw.objects.filter(plan=q2).exists()


def test_a_later_quarter_is_drawn_once_the_earlier_draw_ran_or_was_discarded(
    world, county, county_clerk, county_leader
):
    q1 = make_draw(
        make_plan(county, county_clerk, county_leader, quarter=1), county_clerk, stage="prepared"
    )
    draw_discard(actor=county_clerk, draw=q1, reason="登记有误")
    make_draw(q1.plan, county_clerk)  # drawn again, executed
    q2 = make_plan(county, county_clerk, county_leader, quarter=2)
    make_draw(q2, county_clerk)  # executed
    q3 = make_plan(county, county_clerk, county_leader, quarter=3)
    assert draw_prepare(actor=county_clerk, plan=q3).status == Draw.Status.PREPARED


def test_a_later_quarters_open_draw_holds_an_earlier_one_back_too(
    world, county, county_clerk, county_leader
):
    """Out of order, each frozen count would miss what the other takes."""
    q2 = make_draw(
        make_plan(county, county_clerk, county_leader, quarter=2), county_clerk, stage="committed"
    )
    q1 = make_plan(county, county_clerk, county_leader, quarter=1)
    with pytest.raises(ServiceError) as refused:
        draw_prepare(actor=county_clerk, plan=q1)
    assert q2.number in " ".join(refused.value.messages)
    assert not Draw.objects.filter(plan=q1).exists()


def test_an_open_draw_of_another_bureau_does_not_hold_a_quarter_back_but_last_years_does(
    world, county, other_county, county_clerk, county_leader, outsider_clerk
):
    from core.models import Role
    from tests.conftest import _make_user

    other_leader = _make_user("other_leader", Role.LEADER, other_county)
    build_world(other_county)
    make_draw(
        make_plan(other_county, outsider_clerk, other_leader, quarter=1),
        outsider_clerk,
        stage="prepared",
    )
    q4_last_year = plan_create(
        actor=county_clerk,
        organisation=county,
        **fields(
            year=YEAR - 1,
            quarter=4,
            planned_start=date(YEAR - 1, 10, 11),
            planned_end=date(YEAR - 1, 12, 25),
        ),
    )
    q1 = make_plan(county, county_clerk, county_leader, quarter=1)
    opened = draw_prepare(actor=county_clerk, plan=q1)  # the other bureau's does not count
    assert opened.status == Draw.Status.PREPARED
    draw_discard(actor=county_clerk, draw=opened, reason="登记有误")
    # Last year's draw still open: this year's coverage cycle would not see what it takes.
    q4 = make_draw(
        publish(q4_last_year, county_clerk, county_leader), county_clerk, stage="prepared"
    )
    q2 = make_plan(county, county_clerk, county_leader, quarter=2)
    with pytest.raises(ServiceError) as refused:
        draw_prepare(actor=county_clerk, plan=q2)
    assert q4.number in " ".join(refused.value.messages)
