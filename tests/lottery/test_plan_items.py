"""A plan is submitted only with items of its own year's published check-item list; each
refusal says why and changes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.errors import ServiceError
from core.models import AuditEntry
from lottery.models import Plan
from lottery.services import plan_submit
from tests.lottery.factories import make_check_item
from tests.lottery.scenario import make_plan

pytestmark = pytest.mark.django_db


def _bare_plan(county, clerk):
    plan = make_plan(county, clerk)
    plan.check_items.clear()
    return plan


def _refused(plan, clerk, code):
    audits = AuditEntry.objects.count()
    with pytest.raises(ServiceError) as exc:
        plan_submit(actor=clerk, plan=plan)
    plan.refresh_from_db()
    assert exc.value.code == code
    assert plan.status == Plan.Status.DRAFT and AuditEntry.objects.count() == audits
    return exc.value.messages[0]


def test_a_year_without_a_published_list_is_refused_with_that_said(county, county_clerk):
    plan = _bare_plan(county, county_clerk)
    county.check_items.all().delete()
    make_check_item(county, "D-01", published=False)  # a draft list is not a list yet
    message = _refused(plan, county_clerk, "no_published_list")
    assert "2026" in message


def test_a_plan_needs_check_items(county, county_clerk):
    plan = _bare_plan(county, county_clerk)
    make_check_item(county, "01")
    _refused(plan, county_clerk, "no_check_items")


@pytest.mark.parametrize("stray", ["last_year", "unpublished"])
def test_items_come_from_the_plans_year_and_are_published(county, county_clerk, stray):
    plan = _bare_plan(county, county_clerk)
    plan.check_items.add(make_check_item(county, "01"))
    if stray == "last_year":
        odd = make_check_item(county, "2025-07", year=2025)
    else:
        odd = make_check_item(county, "D-02", published=False)
    plan.check_items.add(odd)
    message = _refused(plan, county_clerk, "check_items_not_in_list")
    assert odd.code in message


def test_a_plan_with_its_years_published_items_is_submitted(county, county_clerk):
    plan = _bare_plan(county, county_clerk)
    plan.check_items.add(make_check_item(county, "01"), make_check_item(county, "02"))
    assert plan_submit(actor=county_clerk, plan=plan).status == Plan.Status.SUBMITTED


def test_the_submit_page_shows_the_refusal_in_chinese(client_for, county, county_clerk):
    plan = _bare_plan(county, county_clerk)
    make_check_item(county, "01")
    client = client_for(county_clerk)
    response = client.post(reverse("lottery:plan_submit", args=[plan.pk]), follow=True)
    assert "检查事项" in response.content.decode()
    plan.refresh_from_db()
    assert plan.status == Plan.Status.DRAFT
