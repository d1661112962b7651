"""The tasks of a draw written in one INSERT … SELECT are the tasks the ORM would write."""

from __future__ import annotations

import pytest
from django.forms.models import model_to_dict

from inspections.models import InspectionTask
from inspections.services import _tasks_create_orm, tasks_create_for_draw
from lottery.selectors import effective_selections
from lottery.services import substitution_decide, substitution_request
from tests.lottery.scenario import build_world, make_draw, make_plan

pytestmark = pytest.mark.django_db

COMPARED = [f.name for f in InspectionTask._meta.concrete_fields if f.name not in ("id",)]


def _rows(draw) -> dict[int, dict]:
    tasks = InspectionTask.objects.filter(selection__draw=draw).prefetch_related("check_items")
    return {
        t.selection_id: {
            **model_to_dict(t, fields=[f for f in COMPARED if f != "created_at"]),
            "items": sorted(i.pk for i in t.check_items.all()),
        }
        for t in tasks
    }


def test_the_single_statement_writes_what_the_orm_writes(county, county_clerk, county_leader):
    build_world(county)
    draw = make_draw(make_plan(county, county_clerk, county_leader), county_clerk)
    first = effective_selections(draw)[0]
    sub = substitution_request(actor=county_clerk, selection=first, reason="企业已停产")
    substitution_decide(actor=county_leader, substitution=sub, approve=True)

    n = tasks_create_for_draw(draw=draw)
    fast = _rows(draw)
    assert n == len(fast) == len(effective_selections(draw))
    assert first.pk not in fast  # the replaced source has no task; its replacement has one
    assert tasks_create_for_draw(draw=draw) == 0  # idempotent
    InspectionTask.check_items.through.objects.all().delete()
    InspectionTask.objects.all().delete()

    assert _tasks_create_orm(draw) == n
    assert _rows(draw) == fast
    assert all(row["items"] for row in fast.values())
