"""An inspector's task list reads the inspector's own grants (and a group's, through guardian)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from guardian.shortcuts import assign_perm, remove_perm

from inspections.models import InspectionTask
from inspections.selectors import task_list_for_user
from inspections.services import tasks_create_for_draw
from tests.lottery.scenario import build_world, make_draw, make_plan

pytestmark = pytest.mark.django_db


def test_an_inspector_lists_exactly_the_tasks_granted_to_them_or_their_group(
    county, county_clerk, county_leader, inspector_a
):
    build_world(county)
    draw = make_draw(make_plan(county, county_clerk, county_leader), county_clerk)
    tasks_create_for_draw(draw=draw)
    one, two, three = InspectionTask.objects.order_by("pk")[:3]
    assert list(task_list_for_user(user=inspector_a)) == []
    assign_perm("lottery.view_drawn_task", inspector_a, one.selection)
    assign_perm("lottery.view_drawn_task", inspector_a, two.selection)
    assert list(task_list_for_user(user=inspector_a).order_by("pk")) == [one, two]
    remove_perm("lottery.view_drawn_task", inspector_a, one.selection)
    assert list(task_list_for_user(user=inspector_a)) == [two]

    group = Group.objects.create(name="检查组")
    inspector_a.groups.add(group)
    assign_perm("lottery.view_drawn_task", group, three.selection)
    assert list(task_list_for_user(user=inspector_a).order_by("pk")) == [two, three]
