"""Quarterly draws go in quarter order; a leader may let a later quarter go first with a
recorded reason. Refusals change nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.errors import ServiceError
from core.models import AuditEntry
from lottery.models import Draw
from lottery.services import draw_prepare, plan_allow_early_draw
from tests.lottery.scenario import build_world, make_draw, make_plan

pytestmark = pytest.mark.django_db
REASON = "第一季度计划因机构改革暂缓执行，经局务会研究先行抽取"


@pytest.fixture
def plans(county, county_clerk, county_leader):
    build_world(county)
    q1 = make_plan(county, county_clerk, county_leader, quarter=1)
    q2 = make_plan(county, county_clerk, county_leader, quarter=2)
    return q1, q2


def test_a_later_quarter_waits_for_the_earlier_published_plan(plans, county_clerk):
    q1, q2 = plans
    drafts = Draw.objects.count()
    with pytest.raises(ServiceError) as exc:
        draw_prepare(actor=county_clerk, plan=q2)
    assert exc.value.code == "out_of_order" and "2026Q1" in exc.value.messages[0]
    assert Draw.objects.count() == drafts
    make_draw(q1, county_clerk)
    assert make_draw(q2, county_clerk).status == Draw.Status.EXECUTED


def test_a_leader_lets_a_later_quarter_go_first_with_a_reason(
    plans, county_clerk, county_leader, client_for
):
    q1, q2 = plans
    for actor, reason in ((county_clerk, REASON), (county_leader, "太短")):
        with pytest.raises(ServiceError):
            plan_allow_early_draw(actor=actor, plan=q2, reason=reason)
    q2.refresh_from_db()
    assert q2.early_draw_reason == ""

    client = client_for(county_leader)
    page = client.get(reverse("lottery:plan_detail", args=[q2.pk])).content.decode()
    assert 'data-testid="early-draw-form"' in page
    client.post(reverse("lottery:plan_allow_early_draw", args=[q2.pk]), {"reason": REASON})
    q2.refresh_from_db()
    assert q2.early_draw_reason == REASON and q2.early_draw_by == county_leader
    entry = AuditEntry.objects.get(action="plan.allow_early_draw")
    assert entry.after == {"reason": REASON, "earlier": ["2026Q1"]}
    assert make_draw(q2, county_clerk).status == Draw.Status.EXECUTED
    page = client.get(reverse("lottery:plan_detail", args=[q2.pk])).content.decode()
    assert REASON in page
