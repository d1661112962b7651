"""The plan pages' wiring: edit and delete a draft, submit, return with a reason, the period
error beside the dates, one word for publishing, the rule set's name; and who may do what
(outsiders 404, roles without the capability 403)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from lottery.models import Plan, RuleSet
from lottery.services import plan_approve, plan_submit
from tests.lottery.scenario import YEAR, make_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(county, county_clerk):
    return make_plan(county, county_clerk)


def form_data(ruleset: RuleSet, **changes) -> dict:
    data = {
        "kind": "quarterly",
        "year": YEAR,
        "quarter": 1,
        "title": "第一季度抽查计划",
        "classes": ["key", "general"],
        "ruleset": ruleset.pk,
        "planned_start": "2026-01-11",
        "planned_end": "2026-03-25",
        "team_size": 2,
    }
    data.update(changes)
    return data


@pytest.fixture
def preset(client_for, county_clerk) -> RuleSet:
    client_for(county_clerk).get(reverse("lottery:plan_create"))  # the form creates the presets
    return RuleSet.objects.get(organisation__isnull=True, code="wuzhi_2021")


def test_the_form_shows_a_period_outside_the_quarter_beside_the_dates(
    client_for, county_clerk, preset
):
    client = client_for(county_clerk)
    response = client.post(reverse("lottery:plan_create"), form_data(preset, quarter=2))
    assert response.status_code == 200 and not Plan.objects.exists()
    errors = response.context["form"].errors
    assert "2026-04-01 – 2026-06-30" in errors["planned_start"][0]
    assert "第 2 季度" in response.content.decode()


def test_a_clerk_edits_a_draft_in_the_prefilled_form(client_for, county_clerk, draft, preset):
    client = client_for(county_clerk)
    page = client.get(reverse("lottery:plan_edit", args=[draft.pk]))
    assert page.status_code == 200
    initial = page.context["form"].initial
    assert initial["quarter"] == 1 and initial["title"] == draft.title
    assert str(initial["planned_start"]) == "2026-01-11"
    response = client.post(
        reverse("lottery:plan_edit", args=[draft.pk]),
        form_data(preset, quarter=2, planned_start="2026-04-15", planned_end="2026-06-20"),
    )
    assert response.status_code == 302
    assert response.url == reverse("lottery:plan_detail", args=[draft.pk])
    draft.refresh_from_db()
    assert (draft.quarter, str(draft.planned_start), draft.ruleset_code) == (
        2,
        "2026-04-15",
        "wuzhi_2021",
    )
    assert draft.ruleset_name == preset.name


def test_a_plan_past_draft_is_not_edited_through_the_form(client_for, county_clerk, draft, preset):
    plan_submit(actor=county_clerk, plan=draft)
    client = client_for(county_clerk)
    page = client.get(reverse("lottery:plan_edit", args=[draft.pk]))
    assert page.status_code == 302
    response = client.post(
        reverse("lottery:plan_edit", args=[draft.pk]), form_data(preset, title="改"), follow=True
    )
    assert "只有草稿状态的计划才能修改" in response.content.decode()
    draft.refresh_from_db()
    assert draft.title != "改"
    detail = client.get(reverse("lottery:plan_detail", args=[draft.pk])).content.decode()
    assert 'data-testid="plan-edit"' not in detail and 'data-testid="plan-delete"' not in detail


def test_a_clerk_deletes_a_draft(client_for, county_clerk, draft):
    client = client_for(county_clerk)
    detail = client.get(reverse("lottery:plan_detail", args=[draft.pk])).content.decode()
    assert 'data-testid="plan-delete"' in detail and 'data-testid="plan-submit"' in detail
    response = client.post(reverse("lottery:plan_delete", args=[draft.pk]))
    assert response.status_code == 302 and response.url == reverse("lottery:plan_list")
    assert not Plan.objects.filter(pk=draft.pk).exists()


def test_the_leader_returns_a_plan_and_the_clerk_sees_the_reason(
    client_for, county_clerk, county_leader, draft
):
    plan_submit(actor=county_clerk, plan=draft)
    leader = client_for(county_leader)
    page = leader.get(reverse("lottery:plan_detail", args=[draft.pk])).content.decode()
    assert 'data-testid="plan-return"' in page and 'data-testid="plan-approve"' in page
    url = reverse("lottery:plan_return", args=[draft.pk])
    refused = leader.post(url, {"reason": "  "}, follow=True).content.decode()
    draft.refresh_from_db()
    assert draft.status == Plan.Status.SUBMITTED and "必填" in refused  # the reason is required
    leader.post(url, {"reason": "检查时段应在第二季度"})
    draft.refresh_from_db()
    assert draft.status == Plan.Status.DRAFT
    html = client_for(county_clerk).get(reverse("lottery:plan_detail", args=[draft.pk]))
    html = html.content.decode()
    assert 'data-testid="plan-returned"' in html and "检查时段应在第二季度" in html
    history = html.split('data-testid="plan-history"')[1].split("</dd>")[0]
    assert f"{county_leader} 于" in history and "退回修改" in history
    assert "检查时段应在第二季度" in history


def test_an_approved_unpublished_plan_offers_return_and_publish_but_no_draw(
    client_for, county_clerk, county_leader, draft
):
    plan_approve(actor=county_leader, plan=plan_submit(actor=county_clerk, plan=draft))
    page = client_for(county_leader).get(reverse("lottery:plan_detail", args=[draft.pk]))
    html = page.content.decode()
    assert 'data-testid="plan-publish"' in html and 'data-testid="plan-return"' in html
    assert 'data-testid="prepare"' not in html and 'data-testid="prepare-waits"' in html


def test_the_rule_set_heading_shows_its_name(client_for, county_clerk, draft, preset):
    client = client_for(county_clerk)
    client.post(
        reverse("lottery:plan_edit", args=[draft.pk]), form_data(preset, title="有名称的规则")
    )
    html = client.get(reverse("lottery:plan_detail", args=[draft.pk])).content.decode()
    heading = html.split('data-testid="plan-ruleset">')[1].split("</h2>")[0]
    assert preset.name in heading and "wuzhi_2021" in heading
    assert heading.index(preset.name) < heading.index("wuzhi_2021")  # the code is secondary


# --- who may do what -------------------------------------------------------------------------


def test_an_outsider_gets_404_on_every_plan_action(client_for, outsider_clerk, draft, preset):
    client = client_for(outsider_clerk)
    assert client.get(reverse("lottery:plan_edit", args=[draft.pk])).status_code == 404
    for name in ("plan_edit", "plan_delete", "plan_submit", "plan_return", "plan_approve"):
        response = client.post(reverse(f"lottery:{name}", args=[draft.pk]), {"reason": "x"})
        assert response.status_code == 404, name
    draft.refresh_from_db()
    assert draft.status == Plan.Status.DRAFT


def test_a_clerk_cannot_return_and_a_reviewer_cannot_edit(
    client_for, county_clerk, city_reviewer, draft
):
    plan_submit(actor=county_clerk, plan=draft)
    clerk = client_for(county_clerk)
    response = clerk.post(reverse("lottery:plan_return", args=[draft.pk]), {"reason": "x"})
    assert response.status_code == 403
    page = clerk.get(reverse("lottery:plan_detail", args=[draft.pk])).content.decode()
    assert 'data-testid="plan-return"' not in page
    reviewer = client_for(city_reviewer)
    assert reviewer.get(reverse("lottery:plan_edit", args=[draft.pk])).status_code == 403
    for name in ("plan_delete", "plan_submit"):
        assert reviewer.post(reverse(f"lottery:{name}", args=[draft.pk])).status_code == 403
    draft.refresh_from_db()
    assert draft.status == Plan.Status.SUBMITTED


def test_the_plan_page_says_which_open_draw_holds_its_draw_back(
    client_for, county, county_clerk, county_leader
):
    """Found by clicking through: the prepare form was offered, and only refused on submit."""
    from tests.lottery.scenario import build_world, make_draw, make_plan

    build_world(county)
    open_draw = make_draw(
        make_plan(county, county_clerk, county_leader, quarter=1), county_clerk, stage="committed"
    )
    waiting = make_plan(county, county_clerk, county_leader, quarter=2)
    html = client_for(county_clerk).get(reverse("lottery:plan_detail", args=[waiting.pk]))
    body = html.content.decode()
    assert 'data-testid="prepare-blocked"' in body and open_draw.number in body
    assert 'data-testid="prepare-form"' not in body
    assert reverse("lottery:draw_detail", args=[open_draw.pk]) in body
