"""The daily disclosure task: thin, and harmless to run twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from config.celery_app import app
from core.models import AuditEntry
from lottery.models import Draw, Plan
from lottery.tasks import draws_disclose_due_task
from tests.lottery.scenario import build_world, make_draw, make_plan

pytestmark = pytest.mark.django_db


@pytest.mark.smoke
def test_the_disclosure_task_discloses_once_and_is_scheduled_daily(
    county, county_clerk, county_leader
):
    build_world(county)
    draw = make_draw(make_plan(county, county_clerk, county_leader), county_clerk)
    # The test plan's inspections ended in March 2026, before the tests' "today".
    assert draw.plan.planned_end < timezone.localdate()
    assert draws_disclose_due_task.apply().get() == 1
    first = Draw.objects.get(pk=draw.pk).disclosed_at
    assert first is not None
    assert draws_disclose_due_task.apply().get() == 0  # run twice: nothing more happens
    assert Draw.objects.get(pk=draw.pk).disclosed_at == first
    assert AuditEntry.objects.filter(action="draw.disclose", object_id=str(draw.pk)).count() == 1
    entries = [
        e for e in app.conf.beat_schedule.values() if e["task"] == draws_disclose_due_task.name
    ]
    assert len(entries) == 1 and entries[0]["schedule"].hour == {1}


def test_a_draw_whose_inspections_are_still_running_stays_confidential(
    county, county_clerk, county_leader
):
    build_world(county)
    draw = make_draw(make_plan(county, county_clerk, county_leader), county_clerk)
    Plan.objects.filter(pk=draw.plan_id).update(
        planned_end=timezone.localdate() + timedelta(days=10)
    )
    assert draws_disclose_due_task.apply().get() == 0
    assert Draw.objects.get(pk=draw.pk).disclosed_at is None
