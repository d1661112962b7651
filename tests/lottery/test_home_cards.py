"""The lottery's home cards and the pages they lead to: a leader's pending decisions, and the
city reviewer's count of this quarter's draws, which must agree with the overview."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import Organisation, Role
from core.services import user_create
from inspectors.models import Inspector
from lottery.models import DrawSelection, Plan
from lottery.periods import default_inspection_period, quarter_of
from lottery.rules import PRESETS
from lottery.services import (
    plan_approve,
    plan_create,
    plan_publish,
    plan_submit,
    substitution_decide,
    substitution_request,
)
from tests.lottery.scenario import build_world, make_draw, make_plan, publish

pytestmark = pytest.mark.django_db


def card(client, key: str):
    cards = {c.key: c for c in client.get(reverse("home")).context["cards"]}
    return cards.get(key)


def leader_of(org, username: str):
    return user_create(
        actor=None,
        username=username,
        password="pw-Test-2026",
        role=Role.LEADER,
        organisation=org,
        display_name=username,
    )


# --- a leader's pending decisions ------------------------------------------------------------


@pytest.fixture
def waiting(county, other_county, county_clerk, county_leader, outsider_clerk):
    """Two executed draws of the bureau with three open requests between them, one request
    already decided, a plan submitted for approval and a draft still being written (not
    waiting); and a submitted plan of the neighbouring county."""
    build_world(county)
    first = make_draw(make_plan(county, county_clerk, county_leader, quarter=1), county_clerk)
    second = make_draw(make_plan(county, county_clerk, county_leader, quarter=2), county_clerk)
    a, b = DrawSelection.objects.filter(draw=first).order_by("pk")[:2]
    (c,) = DrawSelection.objects.filter(draw=second).order_by("pk")[:1]
    decided = substitution_request(actor=county_clerk, selection=a, reason="企业已关闭")
    substitution_decide(actor=county_leader, substitution=decided, approve=False)
    recused = Inspector.objects.get(pk=b.team.order_by("pk").first().inspector_id)
    subs = [
        substitution_request(actor=county_clerk, selection=a, reason="企业已注销"),
        substitution_request(actor=county_clerk, selection=b, reason="回避", inspector=recused),
        substitution_request(actor=county_clerk, selection=c, reason="与企业负责人系亲属"),
    ]
    submitted = plan_submit(actor=county_clerk, plan=make_plan(county, county_clerk, quarter=3))
    make_plan(county, county_clerk, quarter=4)  # a draft: nothing to decide yet
    plan_submit(actor=outsider_clerk, plan=make_plan(other_county, outsider_clerk, quarter=3))
    return {"plans": [submitted], "substitutions": subs, "draws": [first, second]}


def test_a_leader_sees_every_decision_waiting_across_the_bureaus_draws(
    client_for, county_leader, waiting
):
    client = client_for(county_leader)
    page = client.get(reverse("lottery:approvals"))
    assert page.status_code == 200
    pending = page.context["pending"]
    assert [p.pk for p in pending.plans] == [p.pk for p in waiting["plans"]]
    assert [s.pk for s in pending.substitutions] == [s.pk for s in waiting["substitutions"]]
    html = page.content.decode()
    assert html.count('data-testid="pending-plan"') == 1
    assert html.count('data-testid="pending-substitution"') == 3
    # What, who, when and why, and where to decide it.
    assert "与企业负责人系亲属" in html and "企业已注销" in html and "企业已关闭" not in html
    assert waiting["plans"][0].title in html and "clerk" in html
    assert reverse("lottery:plan_detail", args=[waiting["plans"][0].pk]) in html
    for sub in waiting["substitutions"]:
        anchor = reverse("lottery:draw_detail", args=[sub.draw_id]) + f"#substitution-{sub.pk}"
        assert f'href="{anchor}"' in html
        draw_page = client.get(reverse("lottery:draw_detail", args=[sub.draw_id])).content
        row = draw_page.decode().split(f'id="substitution-{sub.pk}"', 1)[1].split("</tr>", 1)[0]
        assert 'data-testid="decide-form"' in row  # the anchor lands on the form
    # The home card counts exactly what the page lists and leads there.
    approvals = card(client, "approvals")
    assert approvals.value == "4" and approvals.url == reverse("lottery:approvals")
    # Decided, it is gone from both.
    substitution_decide(
        actor=county_leader, substitution=waiting["substitutions"][0], approve=False
    )
    plan_approve(actor=county_leader, plan=waiting["plans"][0])
    # Approved, the plan still waits for the leader: to be published (a draw needs it).
    page = client.get(reverse("lottery:approvals"))
    assert [p.pk for p in page.context["pending"].plans] == [waiting["plans"][0].pk]
    assert 'data-testid="pending-plan-approved"' in page.content.decode()
    assert card(client, "approvals").value == "3"
    plan_publish(actor=county_leader, plan=waiting["plans"][0])
    pending = client.get(reverse("lottery:approvals")).context["pending"]
    assert len(pending) == 2 and card(client, "approvals").value == "2"


@pytest.mark.parametrize("persona", ["county_clerk", "inspector_a", "city_reviewer", "sysadmin"])
def test_only_a_leader_may_open_the_pending_decisions(request, client_for, persona, waiting):
    client = client_for(request.getfixturevalue(persona))
    assert client.get(reverse("lottery:approvals")).status_code == 403


def test_the_pending_decisions_need_a_login(client):
    response = client.get(reverse("lottery:approvals"))
    assert response.status_code == 302 and reverse("login") in response.url


def test_another_bureaus_leader_sees_none_of_our_decisions(client_for, orgs, other_county, waiting):
    for leader in (
        leader_of(other_county, "wen_leader"),
        # The city bureau sees the county's records, but the county's leader decides.
        leader_of(orgs["city_bureau:410800"], "city_leader"),
    ):
        client = client_for(leader)
        pending = client.get(reverse("lottery:approvals")).context["pending"]
        ours = {s.pk for s in waiting["substitutions"]} | {p.pk for p in waiting["plans"]}
        assert not ours & ({s.pk for s in pending.substitutions} | {p.pk for p in pending.plans})
        assert len(pending) == int(card(client, "approvals").value)


# --- the reviewer's count agrees with the overview -------------------------------------------


def test_the_reviewers_home_card_counts_what_the_overview_shows(
    client_for, city_reviewer, county, county_clerk, county_leader
):
    build_world(county)
    year, quarter = quarter_of(timezone.localdate())
    start, end = default_inspection_period(year, quarter)
    plan = plan_create(
        actor=county_clerk,
        organisation=county,
        kind=Plan.Kind.QUARTERLY,
        year=year,
        quarter=quarter,
        title="本季度抽查计划",
        classes=["key", "general", "special"],
        rules=PRESETS["luliang_2020_county"].rules,
        planned_start=start,
        planned_end=end,
    )
    make_draw(publish(plan, county_clerk, county_leader), county_clerk)
    client = client_for(city_reviewer)
    rows = client.get(reverse("lottery:quota_overview")).context["rows"]
    executed = sum(1 for r in rows if r["draw"] and r["draw"].status == "executed")
    quarter_card = card(client, "quarter")
    assert quarter_card.value == f"{executed} / {len(rows)}"
    # One of 焦作's bureaus drew; every county bureau and the city team had to.
    units = Organisation.objects.filter(
        kind__in=[Organisation.Kind.COUNTY_BUREAU, Organisation.Kind.CITY_TEAM],
        division_code__startswith="4108",
    )
    assert executed == 1 and len(rows) == units.count() > 2
    assert quarter_card.url == reverse("lottery:quota_overview")
    assert (quarter_card.tone == "danger") == any(r["deadline"]["late"] for r in rows)
    # No second count of "units in scope" (it included the city bureau, which does not draw).
    assert 'data-testid="visible-orgs"' not in client.get(reverse("home")).content.decode()
    # The bureau's own leader reads the same deadline and the drawn counts on their home.
    ours = next(r for r in rows if r["organisation"] == county)
    deadline = card(client_for(county_leader), "deadline")
    assert deadline.value == ours["deadline"]["text"]
    for quota in ours["quotas"]:
        assert f"{quota['label']} {quota['drawn']}/{quota['required']}" in deadline.note


def test_a_clerk_is_told_on_the_home_page_that_a_plan_came_back(
    client_for, county, county_clerk, county_leader
):
    """Found by clicking through: the reason was only on the plan's own page."""
    from lottery.services import plan_return

    clerk = client_for(county_clerk)
    assert card(clerk, "returned") is None
    plan = plan_submit(actor=county_clerk, plan=make_plan(county, county_clerk, quarter=3))
    plan_return(actor=county_leader, plan=plan, reason="检查期间与汛期重叠，请调整")
    returned = card(clerk, "returned")
    assert returned.value == "1" and "检查期间与汛期重叠" in returned.note
    assert returned.url == reverse("lottery:plan_detail", args=[plan.pk])
    listing = clerk.get(reverse("lottery:plan_list")).content.decode()
    assert 'data-testid="plan-returned"' in listing
    assert card(client_for(county_leader), "returned") is None  # the leader sent it back
    plan_submit(actor=county_clerk, plan=plan)  # fixed and sent again: the notice goes
    assert card(clerk, "returned") is None


# --- due dates from the bureau's own deadline regime --------------------------------------------


def test_the_plan_card_gives_the_due_date_of_the_bureaus_own_regime(
    client_for, county, county_clerk, county_leader
):
    """No plan yet: the card names the day the bureau's regime sets, not a fixed "5th"."""
    import copy

    from lottery.deadline_rules import default_rules
    from lottery.services import deadline_regime_save

    today = timezone.localdate()
    year, quarter = today.year, (today.month - 1) // 3 + 1
    first_month = 3 * (quarter - 1) + 1
    client = client_for(county_clerk)
    assert card(client, "quarter").note == f"季度计划应于{year}-{first_month:02d}-05前发布。"
    rules = copy.deepcopy(default_rules())
    rules["quarterly_plan"].update(month=2, day=3)
    deadline_regime_save(actor=county_leader, organisation=county, rules=rules)
    assert card(client, "quarter").note == f"季度计划应于{year}-{first_month + 1:02d}-03前发布。"
