"""A draft plan in a real Chromium: the clerk moves it to another quarter (the dates follow the
quarter in the form) and submits it; the leader returns it with a reason; the clerk reads the
reason on the plan page, fixes the plan and submits it again."""

from __future__ import annotations

from datetime import date

import pytest

from lottery.models import Plan, RuleSet
from lottery.services import plan_create, ruleset_ensure_presets
from tests.lottery.factories import make_check_item

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REASON = "检查时段请留出月底复核时间"


def sign_out(page) -> None:
    page.click('[data-testid="user-menu"]')
    page.click('[data-testid="logout"]')
    page.wait_for_selector('[data-testid="login-link"]')


def status(page) -> str:
    return page.locator('[data-testid="plan-status"]').get_attribute("data-status")


def test_a_clerk_edits_submits_and_resubmits_after_the_leader_returns_the_plan(
    page, login, county, county_clerk, county_leader
):
    ruleset_ensure_presets()
    plan = plan_create(
        actor=county_clerk,
        organisation=county,
        kind=Plan.Kind.QUARTERLY,
        year=2026,
        quarter=1,
        title="武陟县2026年第一季度抽查计划",
        classes=["key", "general"],
        ruleset=RuleSet.objects.get(organisation__isnull=True, code="wuzhi_2021"),
        planned_start=date(2026, 1, 11),
        planned_end=date(2026, 3, 25),
        check_items=[make_check_item(county, "01")],
    )

    # The clerk moves the draft to Q2: the dates follow, then the start is set by hand.
    login(county_clerk)
    page.goto(f"/lottery/plans/{plan.pk}/")
    page.click('[data-testid="plan-edit"]')
    assert page.input_value('[data-testid="plan-planned_start"]') == "2026-01-11"
    page.select_option('[data-testid="plan-quarter"]', "2")
    assert page.input_value('[data-testid="plan-planned_start"]') == "2026-04-11"
    assert page.input_value('[data-testid="plan-planned_end"]') == "2026-06-25"
    page.fill('[data-testid="plan-planned_start"]', "2026-04-15")
    page.click('[data-testid="plan-save"]')
    page.wait_for_selector('[data-testid="plan-submit"]')
    assert page.locator('[data-testid="plan-period"]').inner_text() == "2026-04-15 – 2026-06-25"
    page.click('[data-testid="plan-submit"]')
    page.wait_for_selector('[data-testid="plan-status"][data-status="submitted"]')
    assert page.locator('[data-testid="plan-edit"]').count() == 0
    sign_out(page)

    # The leader sends it back with a reason.
    login(county_leader)
    page.goto(f"/lottery/plans/{plan.pk}/")
    assert page.locator('[data-testid="plan-approve"]').is_visible()
    page.click('[data-testid="plan-return-toggle"]')
    page.fill('[data-testid="plan-return-reason-input"]', REASON)
    page.click('[data-testid="plan-return-submit"]')
    page.wait_for_selector('[data-testid="plan-status"][data-status="draft"]')
    sign_out(page)

    # The clerk sees why, fixes the end date and submits again.
    login(county_clerk)
    page.goto(f"/lottery/plans/{plan.pk}/")
    assert page.locator('[data-testid="plan-return-reason"]').inner_text() == REASON
    returned = page.locator('[data-testid="plan-step"][data-step="returned"]').inner_text()
    assert str(county_leader) in returned and REASON in returned
    page.click('[data-testid="plan-edit"]')
    page.fill('[data-testid="plan-planned_end"]', "2026-06-20")
    page.click('[data-testid="plan-save"]')
    page.wait_for_selector('[data-testid="plan-submit"]')
    page.click('[data-testid="plan-submit"]')
    page.wait_for_selector('[data-testid="plan-status"][data-status="submitted"]')
    plan.refresh_from_db()
    assert plan.status == Plan.Status.SUBMITTED and plan.quarter == 2
    assert (str(plan.planned_start), str(plan.planned_end)) == ("2026-04-15", "2026-06-20")
    assert plan.return_reason == REASON


def test_a_new_plan_opens_on_a_free_quarter_and_its_title_follows_the_choice(
    page, login, county, county_clerk
):
    """Found by clicking through: the form offered a quarter that already had a plan (so the
    first save failed) and kept the old quarter in the title when the quarter changed."""
    from django.utils import timezone

    from lottery.periods import default_inspection_period, next_quarter

    ruleset_ensure_presets()
    year, quarter = next_quarter(timezone.localdate())
    start, end = default_inspection_period(year, quarter)
    plan_create(
        actor=county_clerk,
        organisation=county,
        kind=Plan.Kind.QUARTERLY,
        year=year,
        quarter=quarter,
        title="已有的计划",
        classes=["key"],
        ruleset=RuleSet.objects.get(organisation__isnull=True, code="wuzhi_2021"),
        planned_start=start,
        planned_end=end,
    )
    free_year, free_quarter = (year, quarter + 1) if quarter < 4 else (year + 1, 1)
    login(county_clerk)
    page.goto("/lottery/plans/new/")
    assert page.input_value('[data-testid="plan-year"]') == str(free_year)
    assert page.input_value('[data-testid="plan-quarter"]') == str(free_quarter)
    title = page.input_value('[data-testid="plan-title"]')
    assert f"{free_year}年第{free_quarter}季度" in title

    other = 1 if free_quarter != 1 else 2
    page.select_option('[data-testid="plan-quarter"]', str(other))
    assert f"{free_year}年第{other}季度" in page.input_value('[data-testid="plan-title"]')
    page.select_option('[data-testid="plan-kind"]', "annual")
    annual = page.input_value('[data-testid="plan-title"]')
    assert f"{free_year}年度" in annual and "季度" not in annual

    page.fill('[data-testid="plan-title"]', "我们自己的标题")  # the clerk's own title stays
    page.select_option('[data-testid="plan-kind"]', "quarterly")
    assert page.input_value('[data-testid="plan-title"]') == "我们自己的标题"


def test_publishing_a_plan_asks_first(page, login, county, county_clerk, county_leader):
    """Publishing cannot be undone: the leader confirms it, and a dismissed question changes
    nothing."""
    from lottery.services import plan_approve, plan_submit

    ruleset_ensure_presets()
    plan = plan_create(
        actor=county_clerk,
        organisation=county,
        kind=Plan.Kind.QUARTERLY,
        year=2026,
        quarter=2,
        title="武陟县2026年第二季度抽查计划",
        classes=["key"],
        ruleset=RuleSet.objects.get(organisation__isnull=True, code="wuzhi_2021"),
        planned_start=date(2026, 4, 11),
        planned_end=date(2026, 6, 25),
        check_items=[make_check_item(county, "01")],
    )
    plan_approve(actor=county_leader, plan=plan_submit(actor=county_clerk, plan=plan))
    login(county_leader)
    page.goto(f"/lottery/plans/{plan.pk}/")
    questions = []
    page.once("dialog", lambda d: (questions.append(d.message), d.dismiss()))
    page.click('[data-testid="plan-publish"]')
    assert "公布" in questions[0] and status(page) == "approved"
    plan.refresh_from_db()
    assert plan.status == Plan.Status.APPROVED
    page.once("dialog", lambda d: d.accept())
    page.click('[data-testid="plan-publish"]')
    page.wait_for_selector('[data-testid="plan-status"][data-status="published"]')
