"""Coverage and the frequency cap rest on completed inspections, not on draws (docs/coverage.md).

A drawn source counts as covered, and a spot check counts towards the cap, only once the
inspection of the drawn task is approved: that writes the lottery's append-only
``CompletedCheck``. A task cancelled (its source replaced) or never recorded leaves the source
uncovered; a targeted check counts for neither.
"""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm

from core.models import AuditEntry
from inspections.models import InspectionTask, ResultType, Trigger
from inspections.selectors import task_team
from inspections.services import (
    record_save,
    task_approve,
    task_open_targeted,
    task_return,
    task_submit,
    tasks_create_for_draw,
    tasks_follow_substitution,
)
from inspectors.models import Inspector
from lottery.models import CompletedCheck, DrawSelection, Plan
from lottery.selectors import earlier_draws
from lottery.services import (
    check_completed_record,
    plan_create,
    substitution_decide,
    substitution_request,
)
from tests.lottery.factories import make_check_item, make_inspectors, make_sources
from tests.lottery.scenario import build_world, complete_checks, make_draw, make_plan, publish

pytestmark = pytest.mark.django_db

State = InspectionTask.State
CHECKED = timezone.make_aware(datetime(2026, 2, 12, 9, 30))


def _tiers(draw, stratum="key") -> dict[str, int]:
    pool = next(s for s in json.loads(draw.manifest_json)["strata"] if s["name"] == stratum)
    return {e["id"]: e["tier"] for e in pool["pool"]}


def _capped(draw) -> set[str]:
    return set(
        draw.exclusions.filter(reason="frequency_cap").values_list("source__source_code", flat=True)
    )


def _link_team(task, *users) -> list[Inspector]:
    """The task's first team members become ``users``' registry records; each sees the task."""
    members = [a.inspector for a in task_team(task)][: len(users)]
    for member, user in zip(members, users, strict=True):
        Inspector.objects.filter(user=user).update(user=None)
        Inspector.objects.filter(pk=member.pk).update(user=user)
        assign_perm("lottery.view_drawn_task", user, task.selection)
    return members


def _approve(task, members, inspector, leader, *, checked_at=CHECKED):
    record_save(
        actor=inspector,
        task=task,
        expected_version=task.records.count(),
        members=members,
        checked_at=checked_at,
        result_type=ResultType.NO_PROBLEM,
    )
    task_submit(actor=inspector, task=task)
    return task_approve(actor=leader, task=task)


@pytest.fixture
def q1(county, county_clerk, county_leader):
    """Q1 of 吕梁 (every key object each year: uncovered ones are drawn first), its tasks."""
    build_world(county)
    draw = make_draw(make_plan(county, county_clerk, county_leader, quarter=1), county_clerk)
    tasks_create_for_draw(draw=draw)
    return draw


def _key_tasks(draw):
    return list(
        InspectionTask.objects.filter(selection__draw=draw, selection__stratum="key")
        .select_related("selection__source")
        .order_by("selection__position")
    )


def test_only_an_approved_drawn_check_covers_its_source_in_the_next_quarter(
    q1, county, county_clerk, county_leader, inspector_a, inspector_b
):
    approved, cancelled, returned, untouched, *_ = _key_tasks(q1)
    # Approved: the full path, record → submit → approve.
    _approve(approved, _link_team(approved, inspector_a, inspector_b), inspector_a, county_leader)
    # Cancelled: the source is replaced (the replacement's task is never inspected either).
    sub = substitution_request(actor=county_clerk, selection=cancelled.selection, reason="已停产")
    sub = substitution_decide(actor=county_leader, substitution=sub, approve=True)
    replacement = tasks_follow_substitution(substitution=sub)
    # Recorded and submitted, then returned to the team: not a result yet.
    members = _link_team(returned, inspector_a, inspector_b)
    record_save(
        actor=inspector_a,
        task=returned,
        expected_version=0,
        members=members,
        checked_at=CHECKED,
        result_type=ResultType.CORRECTED,
    )
    task_submit(actor=inspector_a, task=returned)
    task_return(actor=county_leader, task=returned, reason="记录不全")

    done = CompletedCheck.objects.get()
    assert done.selection_id == approved.selection_id
    assert done.completed_on == date(2026, 2, 12)  # the day of the check, not of approval
    assert set(done.check_items.values_list("pk", flat=True)) == set(
        approved.check_items.values_list("pk", flat=True)
    )
    for task in (cancelled, returned):
        task.refresh_from_db()
    assert cancelled.state == State.CANCELLED and returned.state == State.RECORDED

    q2 = make_draw(
        make_plan(county, county_clerk, county_leader, quarter=2), county_clerk, stage="prepared"
    )
    tiers = _tiers(q2)

    def code(task):
        return task.selection.source.source_code

    assert tiers[code(approved)] == 1
    for task in (cancelled, returned, untouched, replacement):
        assert tiers[code(task)] == 0, task
    assert [c for c, t in tiers.items() if t == 1] == [code(approved)]
    # The quota sees the same: every key object but the inspected one is still to cover.
    key_quota = next(q for q in q2.quotas if q["class"] == "key")
    assert key_quota["uncovered"] == len(tiers) - 1


def test_a_targeted_check_counts_for_neither_coverage_nor_the_cap(
    county, county_clerk, county_leader, inspector_a, inspector_b
):
    item = make_check_item(county, "01")
    (source,) = make_sources(county, 1, klass="key")
    make_sources(county, 3, klass="key")
    people = make_inspectors(county, 4)
    Inspector.objects.filter(pk=people[0].pk).update(user=inspector_a)
    Inspector.objects.filter(pk=people[1].pk).update(user=inspector_b)
    for _ in range(3):  # three approved targeted checks of the same item this year
        task = task_open_targeted(
            actor=county_clerk,
            source=source,
            trigger=Trigger.COMPLAINT,
            period_start=date(2026, 1, 5),
            period_end=date(2026, 1, 30),
            check_items=[item],
        )
        _approve(task, people[:2], inspector_a, county_leader)
        assert InspectionTask.objects.get(pk=task.pk).state == State.APPROVED
    assert not CompletedCheck.objects.exists()

    plan = _plan(county, county_clerk, county_leader, item, quarter=1, percent=25)
    draw = make_draw(plan, county_clerk, stage="prepared")
    assert _tiers(draw)[source.source_code] == 0
    assert _capped(draw) == set()


def _plan(county, clerk, leader, item, *, quarter, percent=100, cap=2):
    rules = [
        {"kind": "class_percentage", "class": "key", "percent": percent, "per": "quarter"},
        {"kind": "coverage", "class": "key", "cycle": "year"},
        {"kind": "frequency_cap", "max_per_year": cap, "exempt_classes": ["special"]},
    ]
    plan = plan_create(
        actor=clerk,
        organisation=county,
        kind=Plan.Kind.QUARTERLY,
        year=2026,
        quarter=quarter,
        title=f"2026Q{quarter}",
        classes=["key"],
        rules=rules,
        check_items=[item],
        planned_start=date(2026, 3 * quarter - 2, 15),
        planned_end=date(2026, 3 * quarter, 20),
    )
    return publish(plan, clerk, leader)


def test_a_third_spot_check_of_an_item_in_a_year_is_excluded_by_the_cap(
    county, county_clerk, county_leader
):
    """Every key object is drawn each quarter (100 %); the cap is two checks a year per item.
    Only completed checks count: a source drawn twice but inspected once stays in the pool."""
    item = make_check_item(county, "01")
    make_sources(county, 3, klass="key")
    make_inspectors(county, 6)
    q1 = make_draw(_plan(county, county_clerk, county_leader, item, quarter=1), county_clerk)
    complete_checks(q1)
    q2 = make_draw(_plan(county, county_clerk, county_leader, item, quarter=2), county_clerk)
    assert _capped(q2) == set()  # one check each so far
    by_code = {s.source.source_code: s for s in q2.selections.select_related("source")}
    twice, once = sorted(by_code)[:2], sorted(by_code)[2]
    complete_checks(q2, only={by_code[c].source_id for c in twice})
    q3 = make_draw(
        _plan(county, county_clerk, county_leader, item, quarter=3), county_clerk, stage="prepared"
    )
    assert _capped(q3) == set(twice)
    details = dict(q3.exclusions.values_list("source__source_code", "detail"))
    assert all(details[c] == "2/2" for c in twice)
    assert set(_tiers(q3)) == {once}  # drawn twice, checked once: still in the pool


def test_a_check_completed_after_the_preparation_is_not_in_that_manifest(
    county, county_clerk, county_leader
):
    item = make_check_item(county, "01")
    make_sources(county, 2, klass="key")
    make_inspectors(county, 6)
    q1 = make_draw(_plan(county, county_clerk, county_leader, item, quarter=1, cap=1), county_clerk)
    q2 = make_draw(
        _plan(county, county_clerk, county_leader, item, quarter=2, cap=1),
        county_clerk,
        stage="prepared",
    )
    assert _capped(q2) == set()  # Q1 drawn, never inspected: no cap
    complete_checks(q1)  # after Q2 was prepared: Q2's manifest did not read it
    assert list(earlier_draws(q2)) == [q1]  # as the bureau's own executed draw, as before
    assert CompletedCheck.objects.filter(recorded_at__gt=q2.prepared_at).count() == 2


def test_recording_a_completed_check_is_idempotent_and_append_only(q1, county_leader):
    selection = DrawSelection.objects.filter(draw=q1).order_by("pk").first()
    first = check_completed_record(
        actor=county_leader, selection=selection, completed_on=date(2026, 2, 1)
    )
    again = check_completed_record(
        actor=county_leader, selection=selection, completed_on=date(2026, 3, 1)
    )
    assert again == first and again.completed_on == date(2026, 2, 1)  # the first fact stands
    assert CompletedCheck.objects.count() == 1
    assert AuditEntry.objects.filter(action="draw.check_completed").count() == 1
    assert set(first.check_items.all()) == set(q1.plan.check_items.all())
    with pytest.raises(DatabaseError), transaction.atomic():
        CompletedCheck.objects.filter(pk=first.pk).update(completed_on=date(2026, 3, 1))
    with pytest.raises(DatabaseError), transaction.atomic():
        CompletedCheck.objects.filter(pk=first.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        first.check_items.clear()


def test_approving_a_drawn_task_again_adds_nothing(q1, county_leader, inspector_a, inspector_b):
    task = _key_tasks(q1)[0]
    _approve(task, _link_team(task, inspector_a, inspector_b), inspector_a, county_leader)
    from inspections.selectors import record_approved
    from inspections.services import _record_completion

    task.refresh_from_db()
    _record_completion(county_leader, task, record_approved(task))  # a retry of the write
    assert CompletedCheck.objects.filter(selection=task.selection).count() == 1


def test_a_check_is_completed_only_for_its_plans_items(q1, county):
    from core.errors import ServiceError

    selection = DrawSelection.objects.filter(draw=q1).first()
    stranger = make_check_item(county, "99")
    with pytest.raises(ServiceError):
        check_completed_record(selection=selection, completed_on=date(2026, 2, 1), items=[stranger])
    assert not CompletedCheck.objects.exists()


def test_a_completed_check_keeps_its_draw_result_and_a_replaced_source_completes_nothing(
    q1, county_clerk, county_leader
):
    from core.errors import ServiceError

    done, asked, replaced = (t.selection for t in _key_tasks(q1)[:3])
    team = [a.inspector for a in task_team(_key_tasks(q1)[1])]
    # Asked before the check was completed, decided after: refused, but it may be rejected.
    pending = substitution_request(actor=county_clerk, selection=asked, reason="需回避")
    check_completed_record(selection=done, completed_on=date(2026, 2, 1))
    check_completed_record(selection=asked, completed_on=date(2026, 2, 1))
    for kw in ({}, {"inspector": [a.inspector for a in task_team(_key_tasks(q1)[0])][0]}):
        with pytest.raises(ServiceError) as exc:
            substitution_request(actor=county_clerk, selection=done, reason="已停产", **kw)
        assert exc.value.code == "completed"
    with pytest.raises(ServiceError) as exc:
        substitution_decide(actor=county_leader, substitution=pending, approve=True)
    assert exc.value.code == "completed"
    assert substitution_decide(actor=county_leader, substitution=pending, approve=False)
    assert [a.inspector for a in task_team(_key_tasks(q1)[1])] == team

    sub = substitution_request(actor=county_clerk, selection=replaced, reason="已停产")
    substitution_decide(actor=county_leader, substitution=sub, approve=True)
    with pytest.raises(ServiceError) as exc:
        check_completed_record(selection=replaced, completed_on=date(2026, 2, 1))
    assert exc.value.code == "replaced"
    assert CompletedCheck.objects.count() == 2


def test_approved_tasks_without_a_record_are_recorded_once(
    q1, county_leader, inspector_a, inspector_b
):
    from django.core.management import call_command

    task = _key_tasks(q1)[0]
    _approve(task, _link_team(task, inspector_a, inspector_b), inspector_a, county_leader)
    # As before the lottery kept the record: an approved task without one.
    from tests.sql import triggers_off

    with triggers_off():
        CompletedCheck.check_items.through.objects.all().delete()
        CompletedCheck.objects.all().delete()
    call_command("record_completed_checks")
    done = CompletedCheck.objects.get()
    assert done.selection_id == task.selection_id and done.completed_on == date(2026, 2, 12)
    call_command("record_completed_checks")
    assert CompletedCheck.objects.count() == 1
