"""An anonymous visitor in a real Chromium: from the portal home to a published plan, and on
to its draw's public record, by the menus and links alone."""

from __future__ import annotations

import pytest

from lottery.services import plan_approve, plan_submit
from tests.lottery.scenario import build_world, make_draw, make_plan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_visitor_goes_from_the_portal_home_to_a_plan_and_its_draw_record(
    page, county, county_clerk, county_leader
):
    build_world(county)
    plan = make_plan(county, county_clerk, county_leader)  # published
    hidden = plan_approve(  # approved, unpublished
        actor=county_leader,
        plan=plan_submit(actor=county_clerk, plan=make_plan(county, county_clerk, quarter=2)),
    )
    draw = make_draw(plan, county_clerk, stage="disclosed")

    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator('[data-testid="public-count-plans"]').inner_text() == "1"
    assert page.locator('[data-testid="public-count-draws"]').inner_text() == "1"
    assert page.locator('[data-nav="public_plans"]').inner_text() == "抽查计划"

    page.click('[data-testid="public-plans-link"]')
    page.wait_for_selector('[data-testid="public-plan-list"]')
    rows = page.locator('[data-testid="public-plan-row"]')
    assert rows.count() == 1 and hidden.title not in page.content()

    # The filter narrows to the county (its option is indented under its city).
    page.select_option('[data-testid="public-filter-org"]', str(county.pk))
    page.click('[data-testid="public-filter-submit"]')
    page.wait_for_url(f"**/public/plans/?org={county.pk}*")
    page.click(f'[data-testid="public-plan-link"]:has-text("{plan.title}")')

    page.wait_for_selector('[data-testid="public-plan-title"]')
    assert page.locator('[data-testid="public-plan-title"]').inner_text() == plan.title
    assert page.locator('[data-testid="public-rule-row"]').count() == len(plan.rules)
    page.click('[data-testid="public-plan-draw-link"]')

    page.wait_for_selector('[data-testid="public-record"]')
    assert page.locator('[data-testid="public-manifest-hash"]').inner_text() == draw.manifest_hash
    assert page.locator('[data-testid="public-seed"]').inner_text() == draw.seed
    page.click('[data-testid="public-draw-plan-link"]')
    page.wait_for_selector('[data-testid="public-plan-title"]')
