"""The dashboard, its drill-downs and the province's view cost the same number of queries for a
city of 3 counties as for one of 20."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import Organisation, Role
from inspections.models import InspectionRecord, InspectionTask
from inspections.services import tasks_create_for_draw
from lottery.models import Plan
from lottery.rules import PRESETS
from publication.models import PublishedResult
from registry.models import PollutionSource
from tests.conftest import _make_user
from tests.lottery.factories import make_inspectors, make_sources
from tests.lottery.scenario import build_world, make_draw, make_plan
from tests.oversight.conftest import ENDED, ENTERED, ENTRY_DUE, PUBLISHED

pytestmark = pytest.mark.django_db

CITY = "4199"
Q1 = "?year=2026&quarter=1"


def _add_county(n: int, city_bureau, user, *, plan: bool = True) -> Organisation:
    org = Organisation.objects.create(
        division_code=f"{CITY}{n:02d}",
        kind=Organisation.Kind.COUNTY_BUREAU,
        name=f"测试市第{n}县分局",
        short_name=f"第{n}县",
        parent=city_bureau,
    )
    make_sources(org, 4, klass="key")
    make_sources(org, 6, klass="general")
    make_inspectors(org, 2)
    if plan:
        Plan.objects.create(
            organisation=org,
            kind=Plan.Kind.QUARTERLY,
            year=2026,
            quarter=1,
            title="计划",
            rules=PRESETS["shanxi_2024"].rules,
            planned_start=date(2026, 1, 11),
            planned_end=date(2026, 3, 25),
            created_by=user,
        )
    sources = list(PollutionSource.objects.filter(organisation=org))
    tasks = InspectionTask.objects.bulk_create(
        InspectionTask(
            organisation=org,
            kind=InspectionTask.Kind.TARGETED,
            trigger="complaint",
            source=s,
            period_start=date(2026, 2, 1),
            period_end=date(2026, 2, 28),
            state=InspectionTask.State.APPROVED if i % 2 else InspectionTask.State.ASSIGNED,
            handling_ended_on=ENDED if i % 2 else date(2026, 2, 2 + i),
            entry_due=ENTRY_DUE,
            joint=i == 1,
            mode="off_site" if i == 3 else "on_site",
        )
        for i, s in enumerate(sources)
    )
    InspectionRecord.objects.bulk_create(
        InspectionRecord(
            task=t, version=1, result_type=[1, 3, 5][i % 3], approved=True, created_by=user
        )
        for i, t in enumerate(tasks)
        if i % 2
    )
    InspectionRecord.objects.filter(task__organisation=org).update(created_at=ENTERED)
    PublishedResult.objects.bulk_create(
        PublishedResult(
            task=t,
            organisation=org,
            record_version=1,
            random=False,
            publisher_name=org.name,
            division_code=org.division_code,
            published_at=PUBLISHED,
        )
        for i, t in enumerate(tasks)
        if i % 4 == 1
    )
    return org


@pytest.fixture
def test_city(orgs, calendar_loaded):
    province = orgs["province:410000"]
    bureau = Organisation.objects.create(
        division_code=f"{CITY}00",
        kind=Organisation.Kind.CITY_BUREAU,
        name="测试市生态环境局",
        short_name="测试市",
        parent=province,
    )
    team = Organisation.objects.create(
        division_code=f"{CITY}00",
        kind=Organisation.Kind.CITY_TEAM,
        name="测试市执法队",
        short_name="测试市执法队",
        parent=bureau,
    )
    reviewer = _make_user("test_city_reviewer", Role.CITY_REVIEWER, team)
    first = _add_county(1, bureau, reviewer, plan=False)
    clerk = _make_user("first_clerk", Role.CLERK, first)
    leader = _make_user("first_leader", Role.LEADER, first)
    build_world(first)
    draw = make_draw(make_plan(first, clerk, leader, preset="luliang_2020_county"), clerk)
    tasks_create_for_draw(draw=draw)
    InspectionTask.objects.filter(selection__draw=draw).update(
        handling_ended_on=ENDED, entry_due=ENTRY_DUE
    )
    for n in (2, 3):
        _add_county(n, bureau, reviewer)

    def grow(to: int):
        for n in range(4, to + 1):
            _add_county(n, bureau, reviewer)

    return {"reviewer": reviewer, "first": first, "grow": grow, "draw": draw}


def _count(client, url) -> int:
    client.get(url)  # warm the per-process caches (content types)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def test_query_counts_do_not_grow_with_the_counties(client_for, test_city, province_viewer):
    reviewer, first = test_city["reviewer"], test_city["first"]
    client = client_for(reviewer)
    dashboard = "/lottery/quotas/" + Q1
    drills = [
        reverse("oversight:drill", args=[first.pk, metric]) + Q1
        for metric in (
            "tasks",
            "overdue",
            "published_on_time",
            "key_coverage",
            "general_coverage",
            "staff_ratio",
            "pool",
            "substitutions",
        )
    ]
    small = {url: _count(client, url) for url in [dashboard, *drills]}
    rows = client.get(dashboard).context["rows"]
    assert len(rows) == 4  # the team and three counties
    assert sum(r.counts["tasks"] for r in rows) > 30
    province = client_for(province_viewer)
    province_small = _count(province, reverse("oversight:province") + Q1)

    test_city["grow"](20)
    client = client_for(reviewer)
    large = {url: _count(client, url) for url in [dashboard, *drills]}
    assert len(client.get(dashboard).context["rows"]) == 21
    assert large == small
    province = client_for(province_viewer)
    assert _count(province, reverse("oversight:province") + Q1) == province_small


@pytest.mark.smoke  # raw SQL of the dashboard: also on the demo's SQLite
def test_every_task_figure_equals_its_drill_down(client_for, test_city, city, city_reviewer):
    """The dashboard counts with SQL filters (``TASK_SQL``), the drill-down lists with Django
    filters (``task_filters``): on both fixture cities they agree for every figure."""
    from oversight.selectors import TASK_SQL

    checked = 0
    for user, divisions in (
        (test_city["reviewer"], {f"{CITY}01", f"{CITY}02", f"{CITY}03"}),
        (city_reviewer, {"410823", "410825", "410822"}),
    ):
        client = client_for(user)
        for row in client.get("/lottery/quotas/" + Q1).context["rows"]:
            if row.organisation.division_code not in divisions:
                continue
            for name in TASK_SQL:
                url = reverse("oversight:drill", args=[row.organisation.pk, name]) + Q1
                assert client.get(url).context["count"] == row.counts[name], (row, name)
                checked += 1
    assert checked == 6 * len(TASK_SQL)


def test_the_home_cards_cost_the_same_for_3_and_20_counties(
    client_for, test_city, province_viewer, q1_today
):
    reviewer = test_city["reviewer"]
    home = reverse("home")
    small = _count(client_for(reviewer), home)
    cards = {c.key: c for c in client_for(reviewer).get(home).context["cards"]}
    assert cards["oversight"].value.endswith("/ 4")
    province_small = _count(client_for(province_viewer), home)
    test_city["grow"](20)
    assert _count(client_for(reviewer), home) == small
    cards = {c.key: c for c in client_for(reviewer).get(home).context["cards"]}
    assert cards["oversight"].value.endswith("/ 21")
    assert _count(client_for(province_viewer), home) == province_small
