"""Inspection tasks from the draw to an approved result, the five result types, follow-up."""

from datetime import date, datetime

import pytest
from django.http import Http404
from django.utils import timezone

from core.errors import ServiceError
from inspections.models import InspectionRecord, InspectionTask, Problem, ResultType, Trigger
from inspections.selectors import task_get_for_user, task_list_for_user, task_team
from inspections.services import (
    entry_due_for,
    problem_add,
    problem_close,
    problem_verify,
    record_save,
    result_correct,
    task_approve,
    task_open_from_off_site,
    task_open_targeted,
    task_return,
    task_start,
    task_submit,
    tasks_create_for_draw,
    tasks_follow_substitution,
)
from inspections.tasks import inspection_tasks_create
from inspectors.models import Inspector
from lottery.models import DrawSelection
from lottery.selectors import effective_selections
from lottery.services import substitution_decide, substitution_request

State = InspectionTask.State


def _members(task):
    return [a.inspector for a in task_team(task)][:2]


def _record(actor, task, version=0, **kw):
    kw.setdefault("members", _members(task))
    kw.setdefault("checked_at", timezone.make_aware(datetime(2026, 3, 12, 9, 30)))
    return record_save(actor=actor, task=task, expected_version=version, **kw)


def test_one_task_per_effective_drawn_source_and_running_twice_adds_nothing(drawn):
    expected = {s.pk for s in effective_selections(drawn)}
    assert set(InspectionTask.objects.values_list("selection_id", flat=True)) == expected
    assert tasks_create_for_draw(draw=drawn) == 0
    assert inspection_tasks_create(drawn.pk) == 0  # the Celery task, run again
    assert InspectionTask.objects.count() == len(expected)
    t = InspectionTask.objects.first()
    assert t.state == State.ASSIGNED and t.period_start == drawn.plan.planned_start


def test_an_object_substitution_cancels_the_task_and_opens_one_for_the_replacement(
    drawn, county_clerk, county_leader
):
    first = effective_selections(drawn)[0]
    sub = substitution_request(actor=county_clerk, selection=first, reason="企业已停产")
    sub = substitution_decide(actor=county_leader, substitution=sub, approve=True)
    new = tasks_follow_substitution(substitution=sub)
    old = InspectionTask.objects.get(selection=first)
    assert old.state == State.CANCELLED and old.cancel_reason == "企业已停产"
    assert new.selection == DrawSelection.objects.get(substitution=sub)
    assert tasks_follow_substitution(substitution=sub) == new  # again: nothing more
    assert InspectionTask.objects.filter(selection__substitution=sub).count() == 1


def test_the_full_path_to_approval_and_a_correction_from_5_to_1(
    task, inspector_a, inspector_b, county_leader
):
    task_start(actor=inspector_a, task=task)
    rec = _record(inspector_a, task, result_type=ResultType.FURTHER_HANDLING)
    task.refresh_from_db()
    assert task.state == State.RECORDED and rec.version == 1
    task_submit(actor=inspector_b, task=task)
    with pytest.raises(ServiceError) as exc:
        task_submit(actor=inspector_b, task=task)
    assert exc.value.code == "submitted_twice"
    task = task_approve(actor=county_leader, task=task)
    assert task.state == State.APPROVED and InspectionRecord.objects.get(pk=rec.pk).approved
    with pytest.raises(ServiceError):
        result_correct(actor=county_leader, task=task, result_type=1, reason="调查结论")
    fixed = result_correct(
        actor=county_leader,
        task=task,
        result_type=1,
        reason="调查后未发现违法",
        conclusion="无违法",
    )
    assert fixed.version == 2 and fixed.approved and fixed.result_type == 1
    assert task.records.count() == 2  # the earlier version is kept


def test_a_filed_case_stays_type_5(task, inspector_a, county_leader):
    _record(inspector_a, task, result_type=5, case_filed=True)
    task_submit(actor=inspector_a, task=task)
    task_approve(actor=county_leader, task=task)
    with pytest.raises(ServiceError) as exc:
        result_correct(actor=county_leader, task=task, result_type=1, reason="x", conclusion="y")
    assert exc.value.code == "case_filed"


@pytest.mark.parametrize("result_type", [1, 2, 3, 4, 5])
def test_every_result_type_is_recorded(task, inspector_a, result_type):
    ground = "refused_entry" if result_type == 4 else ""
    rec = _record(inspector_a, task, result_type=result_type, ground=ground)
    assert rec.result_type == result_type and rec.get_result_type_display()


def test_refusals_change_nothing(task, inspector_a, inspector_b, outsider_clerk, county_leader):
    with pytest.raises(ServiceError) as exc:
        _record(inspector_a, task, result_type=4)
    assert "ground" in exc.value.message_dict
    with pytest.raises(ServiceError):
        _record(inspector_a, task, members=_members(task)[:1])  # fewer than two
    stranger = Inspector.objects.exclude(pk__in=[a.inspector_id for a in task_team(task)]).first()
    with pytest.raises(ServiceError):
        _record(inspector_a, task, members=[*_members(task), stranger])  # not in the team
    with pytest.raises(ServiceError):
        task_start(actor=outsider_clerk, task=task)
    with pytest.raises(ServiceError):
        task_approve(actor=county_leader, task=task)  # not submitted
    assert task.records.count() == 0
    task.refresh_from_db()
    assert task.state == State.ASSIGNED


def test_a_second_writer_from_a_stale_version_is_refused(task, inspector_a, inspector_b):
    _record(inspector_a, task)
    with pytest.raises(ServiceError) as exc:
        _record(inspector_b, task, version=0)
    assert exc.value.code == "version"
    assert task.records.count() == 1


def test_a_leader_returns_a_submitted_record(task, inspector_a, county_leader):
    _record(inspector_a, task, result_type=1)
    task_submit(actor=inspector_a, task=task)
    with pytest.raises(ServiceError):
        task_return(actor=county_leader, task=task, reason=" ")
    task = task_return(actor=county_leader, task=task, reason="记录不全")
    assert task.state == State.RECORDED and task.return_reason == "记录不全"


def test_the_follow_up_loop_closes_only_with_evidence(task, inspector_a, county_leader):
    with pytest.raises(ServiceError):
        problem_add(actor=inspector_a, task=task, description="台账缺失", handling="order")
    p = problem_add(
        actor=inspector_a,
        task=task,
        description="台账缺失",
        handling="order",
        rectification_due=date(2026, 4, 10),
    )
    with pytest.raises(ServiceError):
        problem_close(actor=county_leader, problem=p)
    assert Problem.objects.get(pk=p.pk).state == Problem.State.OPEN
    with pytest.raises(ServiceError):
        problem_verify(actor=inspector_a, problem=p, evidence="", verification="")
    problem_verify(
        actor=inspector_a, problem=p, evidence="整改照片 IMG_01", verification="复查合格"
    )
    p = problem_close(actor=county_leader, problem=p)
    assert p.state == Problem.State.CLOSED and p.closed_by == county_leader


def test_a_transfer_needs_its_document_and_receiving_body(task, inspector_a):
    with pytest.raises(ServiceError):
        problem_add(
            actor=inspector_a,
            task=task,
            description="涉嫌犯罪",
            handling="judicial",
            document_number="武环移〔2026〕1号",
            document_date=date(2026, 3, 13),
        )
    p = problem_add(
        actor=inspector_a,
        task=task,
        description="涉嫌犯罪",
        handling="judicial",
        document_number="武环移〔2026〕1号",
        document_date=date(2026, 3, 13),
        receiving_body="武陟县公安局",
    )
    assert p.receiving_body == "武陟县公安局"


def test_a_targeted_check_needs_its_trigger_and_is_not_random(county, county_clerk, drawn):
    source = drawn.selections.first().source
    kw = dict(period_start=date(2026, 3, 1), period_end=date(2026, 3, 31))
    with pytest.raises(ServiceError):
        task_open_targeted(actor=county_clerk, source=source, trigger="", **kw)
    t = task_open_targeted(actor=county_clerk, source=source, trigger=Trigger.COMPLAINT, **kw)
    assert t.kind == InspectionTask.Kind.TARGETED and t.selection is None


def test_an_off_site_clue_opens_a_linked_on_site_check(county_clerk, drawn):
    off = InspectionTask.objects.filter(selection__draw=drawn, mode="off_site").first()
    if off is None:
        pytest.skip("this preset draws no off-site rows")
    t = task_open_from_off_site(
        actor=county_clerk,
        task=off,
        detail="在线监测超标",
        period_start=date(2026, 3, 1),
        period_end=date(2026, 3, 31),
    )
    assert t.opened_from == off and t.trigger == Trigger.OFF_SITE_CLUE


def test_the_entry_deadline_spans_holidays(calendar_loaded):
    assert entry_due_for(date(2025, 9, 30)) == date(
        2025, 10, 16
    )  # National Day week; Sat 11 Oct is worked
    # 2026 Spring Festival: 15–23 Feb off, Sat 14 Feb and Sat 28 Feb worked. From Friday
    # 13 Feb: 14 Feb (1), 24–27 Feb (2–5), 28 Feb (6), Monday 2 Mar (7).
    assert entry_due_for(date(2026, 2, 13)) == date(2026, 3, 2)
    assert entry_due_for(date(2021, 5, 1)) is None  # no schedule loaded: never guessed


def test_confidentiality_per_persona(task, inspector_a, county_clerk, outsider_clerk, county):
    from core.roles import Role
    from tests.conftest import _make_user

    assert task_get_for_user(user=inspector_a, pk=task.pk) == task
    assert task_list_for_user(user=inspector_a).count() == 1
    assert task_list_for_user(user=county_clerk).count() == InspectionTask.objects.count()
    stranger = _make_user("inspector_c", Role.INSPECTOR, county)
    for user in (outsider_clerk, stranger):
        with pytest.raises(Http404):
            task_get_for_user(user=user, pk=task.pk)


# --- joint inspections ---------------------------------------------------------------------


def test_a_joint_inspection_is_recorded_and_counted_when_completed(
    task, inspector_a, inspector_b, county_clerk, county_leader
):
    from inspections.selectors import joint_inspection_counts
    from inspections.services import task_set_joint

    with pytest.raises(ServiceError) as exc:
        task_set_joint(actor=county_clerk, task=task, joint=True)
    assert "joint_sections" in exc.value.message_dict
    task = task_set_joint(
        actor=county_clerk, task=task, joint=True, sections="执法科、监测站", authorities="县应急局"
    )
    assert task.joint and task.joint_authorities == "县应急局"
    year = task.period_start.year
    counts = joint_inspection_counts(organisation_ids=[task.organisation_id], year=year)
    assert counts["year_total"] == 0  # not completed yet: nothing counts
    source = task.source
    source.supervision_class = "key"
    source.save(update_fields=["supervision_class"])
    _record(inspector_a, task, result_type=ResultType.NO_PROBLEM)
    task_submit(actor=inspector_b, task=task)
    task_approve(actor=county_leader, task=task)
    counts = joint_inspection_counts(organisation_ids=[task.organisation_id], year=year)
    quarter = (task.period_start.month - 1) // 3 + 1
    assert counts["quarters"][quarter] == 1 and counts["year_total"] == 1
    assert counts["share"] == round(100 / counts["key_objects"], 1)
    with pytest.raises(ServiceError):  # approved: no more changes
        task_set_joint(actor=county_clerk, task=task, joint=False)


def test_a_row_the_draw_made_joint_stays_joint(drawn, county_clerk):
    from inspections.services import task_set_joint

    t = InspectionTask.objects.filter(selection__draw=drawn).first()
    from tests.sql import triggers_off

    with triggers_off():  # as the draw would have marked it (drawn rows are append-only)
        DrawSelection.objects.filter(pk=t.selection_id).update(joint=True)
    t.refresh_from_db()
    with pytest.raises(ServiceError) as exc:
        task_set_joint(actor=county_clerk, task=t, joint=False)
    assert "joint" in exc.value.message_dict


def test_a_draw_is_disclosed_once_every_check_is_recorded(drawn, county_leader):
    """000 §五(三): the list is secret until the checks; then it is public at once."""
    from guardian.shortcuts import assign_perm

    from core.models import Role
    from core.services import user_create
    from lottery.models import Draw

    tasks = list(InspectionTask.objects.filter(selection__draw=drawn).order_by("pk"))
    users = {}
    for n, t in enumerate(tasks):
        team = [a.inspector for a in task_team(t)][:2]
        actor = None
        for m in team:
            if m.user_id is None:
                users[m.pk] = user_create(
                    actor=None,
                    username=f"insp{m.pk}",
                    password="x-Long-pass-1",
                    role=Role.INSPECTOR,
                    organisation=drawn.organisation,
                )
                Inspector.objects.filter(pk=m.pk).update(user=users[m.pk])
            actor = actor or Inspector.objects.get(pk=m.pk).user
            assign_perm("lottery.view_drawn_task", Inspector.objects.get(pk=m.pk).user, t.selection)
        drawn.refresh_from_db()
        assert drawn.disclosed_at is None, f"disclosed after {n} of {len(tasks)}"
        record_save(
            actor=actor,
            task=t,
            expected_version=0,
            members=team,
            result_type=ResultType.NO_PROBLEM if t.mode == "on_site" else None,
            body_camera_refs="DSJ",
        )
        t.refresh_from_db()
        if t.state != State.RECORDED:  # an off-site task without a result stays open
            record_save(
                actor=actor,
                task=t,
                expected_version=1,
                members=team,
                result_type=ResultType.NO_PROBLEM,
            )
    drawn = Draw.objects.get(pk=drawn.pk)
    assert drawn.disclosed_at is not None
