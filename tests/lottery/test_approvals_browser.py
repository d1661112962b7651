"""A leader clicks from the home card to the pending decisions, on to the substitution on its
draw's page, decides it there, and the card counts one fewer. No request of the session fails
(the site's icon included)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from lottery.models import DrawSelection, Substitution
from lottery.services import substitution_request
from tests.lottery.scenario import build_world, make_draw, make_plan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_leader_goes_from_the_home_card_to_the_decision(
    page, login, county, county_clerk, county_leader
):
    build_world(county)
    draw = make_draw(make_plan(county, county_clerk, county_leader), county_clerk)
    first, second = DrawSelection.objects.filter(draw=draw).order_by("pk")[:2]
    substitution_request(actor=county_clerk, selection=first, reason="企业已注销")
    target = substitution_request(actor=county_clerk, selection=second, reason="与企业负责人系亲属")
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)

    login(county_leader)
    assert page.get_by_test_id("card-approvals").inner_text().strip() == "2"
    page.click('[data-card="approvals"]')
    page.wait_for_selector('[data-testid="pending-substitutions"]')
    assert page.locator('[data-testid="pending-substitution"]').count() == 2
    page.click(f'[data-substitution="{target.pk}"] [data-testid="decide-link"]')
    page.wait_for_url(
        f"**{reverse('lottery:draw_detail', args=[draw.pk])}#substitution-{target.pk}"
    )
    row = page.locator(f"#substitution-{target.pk}")
    assert row.evaluate("el => el.matches(':target')")
    assert "与企业负责人系亲属" in row.inner_text()
    row.get_by_test_id("decide-reject").click()
    page.wait_for_selector(f'#substitution-{target.pk}[data-status="rejected"]')
    assert Substitution.objects.get(pk=target.pk).status == Substitution.Status.REJECTED

    page.goto("/")
    assert page.get_by_test_id("card-approvals").inner_text().strip() == "1"
    page.goto("/favicon.ico")
    assert not failed, failed
