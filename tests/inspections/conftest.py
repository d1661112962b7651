"""Fixtures of the inspection tests: an executed draw with its tasks, and one task whose
first two team members are the inspector personas."""

import pytest
from guardian.shortcuts import assign_perm

from inspections.models import InspectionTask
from inspections.selectors import task_team
from inspections.services import tasks_create_for_draw
from inspectors.models import Inspector
from tests.lottery.scenario import build_world, make_draw, make_plan


@pytest.fixture
def drawn(county, county_clerk, county_leader):
    build_world(county)
    draw = make_draw(make_plan(county, county_clerk, county_leader), county_clerk)
    tasks_create_for_draw(draw=draw)
    return draw


@pytest.fixture
def task(drawn, inspector_a, inspector_b):
    """The first on-site task, its two team members linked to the inspector personas."""
    t = InspectionTask.objects.filter(selection__draw=drawn, mode="on_site").first()
    team = [a.inspector for a in task_team(t)]
    Inspector.objects.filter(pk=team[0].pk).update(user=inspector_a)
    Inspector.objects.filter(pk=team[1].pk).update(user=inspector_b)
    for user in (inspector_a, inspector_b):
        assign_perm("lottery.view_drawn_task", user, t.selection)
    return t
