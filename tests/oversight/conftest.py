"""A fixture city for the oversight tests: three counties of 焦作 in 2026 Q1, built through the
lottery's services, whose inspections are then set to a known past (dates no service would
write today):

- 武陟县 (410823), on time: every drawn task inspected, entered on 4 March (due 11 March),
  published on 10 March (due 30 March); the draw executed on 9 January.
- 温县 (410825), behind on its key quota: its own plan draws 10% of the key objects where the
  city's regime (武陟 2021, 25% a quarter) wants 5 of 20; nothing inspected.
- 博爱县 (410822), missed a publication deadline: like 武陟县, but one key result never
  published (due 30 March 2026).

The other units of 焦作 have no plan and no draw: overdue.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from core.models import Role
from inspections.models import InspectionRecord, InspectionTask
from inspections.services import tasks_create_for_draw
from lottery.models import Draw, Plan
from lottery.services import plan_create
from publication.models import PublishedResult
from tests.conftest import _make_user
from tests.lottery.factories import give_plan_items
from tests.lottery.scenario import build_world, make_draw, make_plan, publish
from tests.sql import triggers_off

TZ = ZoneInfo("Asia/Shanghai")
YEAR, QUARTER = 2026, 1
ENDED = date(2026, 3, 2)  # the checks ended (a Monday)
ENTRY_DUE = date(2026, 3, 11)  # 7 working days later
ENTERED = datetime(2026, 3, 4, 10, 0, tzinfo=TZ)
PUBLISHED = datetime(2026, 3, 10, 10, 0, tzinfo=TZ)
PUBLISH_DUE = date(2026, 3, 30)  # 20 working days after 2 March

LOW_KEY_RULES = [
    {"kind": "pool", "scope": "own"},
    {"kind": "class_percentage", "class": "key", "percent": 10, "per": "quarter"},
    {"kind": "class_percentage", "class": "general", "percent": 5, "per": "quarter"},
]


def executed_on_time(draw: Draw) -> None:
    with triggers_off():
        Draw.objects.filter(pk=draw.pk).update(executed_at=datetime(YEAR, 1, 9, 10, tzinfo=TZ))


def complete(draw: Draw, user, *, unpublished: int = 0) -> list[InspectionTask]:
    """Every task of ``draw`` inspected, entered and approved in time; all published on time
    but the first ``unpublished`` key tasks."""
    tasks = list(InspectionTask.objects.filter(selection__draw=draw).order_by("pk"))
    InspectionTask.objects.filter(pk__in=[t.pk for t in tasks]).update(
        state=InspectionTask.State.APPROVED,
        handling_ended_on=ENDED,
        entry_due=ENTRY_DUE,
        approved_at=ENTERED,
        approved_by=user,
    )
    InspectionRecord.objects.bulk_create(
        InspectionRecord(
            task=t, version=1, result_type=1, approved=True, created_by=user, checked_at=ENTERED
        )
        for t in tasks
    )
    InspectionRecord.objects.filter(task__in=tasks).update(created_at=ENTERED)
    skip = {t.pk for t in tasks if t.selection and t.selection.stratum == "key"}
    skip = set(sorted(skip)[:unpublished])
    PublishedResult.objects.bulk_create(
        PublishedResult(
            task=t,
            organisation_id=t.organisation_id,
            record_version=1,
            random=True,
            publisher_name="分局",
            division_code="410800",
            checked_on=ENDED,
            result_type=1,
            published_at=PUBLISHED,
        )
        for t in tasks
        if t.pk not in skip
    )
    return tasks


@pytest.fixture
def city(orgs, calendar_loaded, county, county_clerk, county_leader, other_county):
    """The three counties as above; returns their organisations and draws by role."""
    # 武陟县: on time.
    build_world(county)
    on_time = make_draw(make_plan(county, county_clerk, county_leader), county_clerk)
    tasks_create_for_draw(draw=on_time)
    executed_on_time(on_time)
    complete(on_time, county_leader)
    # 温县: its own plan's ratio is below the city's regime.
    behind_clerk = _make_user("wen_clerk", Role.CLERK, other_county)
    behind_leader = _make_user("wen_leader", Role.LEADER, other_county)
    build_world(other_county)
    plan = plan_create(
        actor=behind_clerk,
        organisation=other_county,
        kind=Plan.Kind.QUARTERLY,
        year=YEAR,
        quarter=QUARTER,
        title="温县2026年第1季度抽查计划",
        classes=["key", "general"],
        rules=LOW_KEY_RULES,
        planned_start=date(YEAR, 1, 11),
        planned_end=date(YEAR, 3, 25),
    )
    give_plan_items(plan)
    behind = make_draw(publish(plan, behind_clerk, behind_leader), behind_clerk)
    tasks_create_for_draw(draw=behind)
    executed_on_time(behind)
    # 博爱县: one result never published.
    boai = orgs["county:410822"]
    boai_clerk = _make_user("boai_clerk", Role.CLERK, boai)
    boai_leader = _make_user("boai_leader", Role.LEADER, boai)
    build_world(boai)
    late = make_draw(make_plan(boai, boai_clerk, boai_leader), boai_clerk)
    tasks_create_for_draw(draw=late)
    executed_on_time(late)
    complete(late, boai_leader, unpublished=1)
    return {
        "on_time": county,
        "behind": other_county,
        "late": boai,
        "draws": {"on_time": on_time, "behind": behind, "late": late},
        "leaders": {"behind": behind_leader, "late": boai_leader},
    }


@pytest.fixture
def q1():
    return f"?year={YEAR}&quarter={QUARTER}"


@pytest.fixture
def q1_today(monkeypatch):
    """Today is 31 March 2026 (2026 Q1, the day after 博爱县's publication fell due), for the
    pages that show this quarter."""
    from django.utils import timezone

    real = timezone.localdate

    def localdate(value=None, timezone=None):
        return date(2026, 3, 31) if value is None else real(value, timezone)

    monkeypatch.setattr("django.utils.timezone.localdate", localdate)
    return date(2026, 3, 31)
