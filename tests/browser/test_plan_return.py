"""A draft plan in a real Chromium: the clerk moves it to another quarter (the dates follow the
quarter in the form) and submits it; the leader returns it with a reason; the clerk reads the
reason on the plan page, fixes the plan and submits it again."""

from __future__ import annotations

from datetime import date

import pytest

from lottery.models import Plan, RuleSet
from lottery.services import plan_create, ruleset_ensure_presets

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
