"""A bureau's own view: its row, and what falls due in the next ten working days."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from inspections.models import InspectionTask
from inspections.services import tasks_create_for_draw
from oversight.selectors import working_days_after as add_working_days
from tests.lottery.scenario import build_world, make_draw, make_plan

pytestmark = pytest.mark.django_db


@pytest.mark.smoke  # raw SQL of the dashboard: also on the demo's SQLite
def test_the_bureau_sees_its_row_and_what_falls_due(
    client_for, county, county_clerk, county_leader, calendar_loaded
):
    today = timezone.localdate()
    if today.year > 2026:
        pytest.skip("the tests load the official schedules up to 2026")
    build_world(county)
    draw = make_draw(make_plan(county, county_clerk, county_leader), county_clerk)
    tasks_create_for_draw(draw=draw)
    first, second, third = InspectionTask.objects.filter(selection__draw=draw).order_by("pk")[:3]
    InspectionTask.objects.filter(pk=first.pk).update(
        handling_ended_on=today, entry_due=add_working_days(today, 7)
    )
    ended = add_working_days(today, -15)  # published within 20: due in 5 working days
    InspectionTask.objects.filter(pk=second.pk).update(
        handling_ended_on=ended, state=InspectionTask.State.APPROVED
    )
    InspectionTask.objects.filter(pk=third.pk).update(
        handling_ended_on=today,
        entry_due=add_working_days(today, 12),  # not within ten days
    )
    for user in (county_clerk, county_leader):
        page = client_for(user).get(reverse("oversight:bureau"))
        assert page.status_code == 200
        assert [r.organisation for r in page.context["rows"]] == [county]
        soon = page.context["soon"]
        assert soon["limit"] == add_working_days(today, 10)
        assert [t.pk for t in soon["entries"]] == [first.pk]
        assert [(p["task"].pk, p["due"]) for p in soon["publications"]] == [
            (second.pk, add_working_days(ended, 20))
        ]
        html = page.content.decode()
        assert html.count('data-testid="overview-row"') == 1
        assert 'data-testid="due-entry"' in html and 'data-testid="due-publication"' in html


def test_a_drill_down_leads_back_to_where_its_user_came_from(
    client_for, county, county_clerk, city_reviewer
):
    """A bureau's clerk opens a figure from the bureau's own row: the way back is that row, not
    the city team's dashboard, which answers the clerk 403."""
    build_world(county)
    url = reverse("oversight:drill", args=[county.pk, "tasks"])
    clerk = client_for(county_clerk)
    back = clerk.get(url).context["back_to_bureau"]
    page = clerk.get(url).content.decode()
    assert back and f'href="{reverse("oversight:bureau")}?' in page
    assert clerk.get(reverse("oversight:bureau")).status_code == 200
    assert clerk.get(reverse("lottery:quota_overview")).status_code == 403
    reviewer = client_for(city_reviewer).get(url)
    assert f'href="{reverse("lottery:quota_overview")}?' in reviewer.content.decode()
