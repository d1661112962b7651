"""The only writers of inspections: each service locks, checks, writes, then audits."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record, model_snapshot
from core.calendar import CalendarNotCovered, add_working_days
from core.errors import ServiceError
from core.models import User
from core.roles import Cap, user_can
from inspections.models import (
    Evidence,
    Finding,
    InspectionRecord,
    InspectionTask,
    NonCooperationGround,
    Problem,
    RecordDraft,
    ResultType,
    Trigger,
)
from inspections.selectors import task_team
from lottery.models import Draw, DrawSelection, Plan, Substitution
from lottery.selectors import effective_selections
from lottery.services import check_completed_record

#: Result entry is due within 7 working days after the check and its handling end (000 §五(二)).
ENTRY_WORKING_DAYS = 7
State = InspectionTask.State


def entry_due_for(ended: date) -> date | None:
    """The entry deadline, or None when that year has no loaded schedule (never guessed)."""
    try:
        return add_working_days(ended, ENTRY_WORKING_DAYS)
    except CalendarNotCovered:
        return None


def read_record(*, actor: User, action: str, obj=None, **detail) -> None:
    """Reading a confidential task, its evidence or its paper forms is itself recorded:
    who saw what, and when."""
    audit_record(
        actor=actor,
        action=action,
        obj=obj,
        object_type="" if obj is not None else "inspections.inspectiontask",
        after=detail or None,
    )


# --- creation ----------------------------------------------------------------------------


def tasks_create_for_draw(*, draw: Draw) -> int:
    """One task per effective drawn source of an executed draw, with the plan's check items.
    Idempotent: the unique selection and ON CONFLICT DO NOTHING make a second run (or a
    concurrent one) create nothing more. No row locks are taken. Returns the number of tasks
    created.

    On PostgreSQL one statement does it in the database (a draw has ~16,000 drawn sources at
    100,000; bench/tasks.py): the tasks from the drawn rows, then the check-item rows of
    exactly the tasks it created."""
    if draw.status != Draw.Status.EXECUTED:
        return 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            created = _tasks_insert_select(draw)
        else:
            created = _tasks_create_orm(draw)
        if created:
            audit_record(
                actor=None,
                action="inspection.tasks_create",
                obj=draw,
                after={"selections": created},
            )
    return created


def _tasks_insert_select(draw: Draw) -> int:
    """INSERT … SELECT of the effective drawn sources without a task (in the order the draw
    wrote them), and in the same statement the check-item rows of the tasks it created. Every
    column is written: the database knows none of the model's defaults."""
    task = InspectionTask._meta.db_table
    items = InspectionTask.check_items.through._meta.db_table
    selection = DrawSelection._meta.db_table
    substitution = Substitution._meta.db_table
    plan_items = Plan.check_items.through._meta.db_table
    plan = draw.plan
    sql = f"""
        WITH created AS (
            INSERT INTO {task} (
                organisation_id, kind, selection_id, source_id, mode, trigger, trigger_detail,
                opened_from_id, joint, joint_sections, joint_authorities, period_start,
                period_end, state, cancel_reason, return_reason, handling_ended_on, entry_due,
                created_by_id, created_at, approved_by_id, approved_at
            )
            SELECT %(organisation)s, %(kind)s, s.id, s.source_id, s.mode, '', '',
                   NULL, s.joint, '', '', %(start)s,
                   %(end)s, %(state)s, '', '', NULL, NULL,
                   NULL, %(now)s, NULL, NULL
            FROM {selection} s
            WHERE s.draw_id = %(draw)s
              AND NOT EXISTS (
                  SELECT 1 FROM {substitution} r
                  WHERE r.selection_id = s.id AND r.kind = %(object)s AND r.status = %(approved)s
              )
              AND NOT EXISTS (SELECT 1 FROM {task} t WHERE t.selection_id = s.id)
            ORDER BY s.id
            ON CONFLICT (selection_id) DO NOTHING
            RETURNING id
        ), attached AS (
            INSERT INTO {items} (inspectiontask_id, checkitem_id)
            SELECT c.id, p.checkitem_id
            FROM created c CROSS JOIN {plan_items} p
            WHERE p.plan_id = %(plan)s
            ON CONFLICT DO NOTHING
        )
        SELECT count(*) FROM created
    """
    params: dict[str, Any] = {
        "organisation": draw.organisation_id,
        "kind": InspectionTask.Kind.DRAWN.value,
        "start": plan.planned_start,
        "end": plan.planned_end,
        "state": State.ASSIGNED.value,
        "now": timezone.now(),
        "draw": draw.pk,
        "object": Substitution.Kind.OBJECT.value,
        "approved": Substitution.Status.APPROVED.value,
        "plan": plan.pk,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _tasks_create_orm(draw: Draw) -> int:
    """The same through the ORM (other databases)."""
    plan = draw.plan
    existing = set(
        InspectionTask.objects.filter(selection__draw=draw).values_list("selection_id", flat=True)
    )
    new = [
        InspectionTask(
            organisation_id=draw.organisation_id,
            kind=InspectionTask.Kind.DRAWN,
            selection_id=s.pk,
            source_id=s.source_id,
            mode=s.mode,
            joint=s.joint,
            period_start=plan.planned_start,
            period_end=plan.planned_end,
        )
        for s in effective_selections(draw)
        if s.pk not in existing
    ]
    if not new:
        return 0
    InspectionTask.objects.bulk_create(new, ignore_conflicts=True, batch_size=2000)
    _attach_check_items(draw, [t.selection_id for t in new if t.selection_id is not None])
    return len(new)


def _attach_check_items(draw: Draw, selection_ids: list[int]) -> None:
    items = list(draw.plan.check_items.values_list("pk", flat=True))
    if not items:
        return
    through = InspectionTask.check_items.through
    tasks = InspectionTask.objects.filter(selection_id__in=selection_ids).values_list(
        "pk", flat=True
    )
    through.objects.bulk_create(
        [through(inspectiontask_id=t, checkitem_id=i) for t in tasks for i in items],
        ignore_conflicts=True,
        batch_size=5000,
    )


def tasks_follow_substitution(*, substitution: Substitution) -> InspectionTask | None:
    """An approved object substitution cancels the replaced source's task, with its reason,
    and opens one for the replacement. Idempotent. Inspector substitutions change nothing
    here: the team is read from the draw."""
    if (
        substitution.kind != Substitution.Kind.OBJECT
        or substitution.status != Substitution.Status.APPROVED
    ):
        return None
    with transaction.atomic():
        old = (
            InspectionTask.objects.select_for_update()
            .filter(selection_id=substitution.selection_id)
            .first()
        )
        if old is not None and old.state != State.CANCELLED:
            before = model_snapshot(old, ["state"])
            old.state = State.CANCELLED
            old.cancel_reason = substitution.reason
            old.save(update_fields=["state", "cancel_reason"])
            audit_record(
                actor=substitution.decided_by,
                action="inspection.task_cancel",
                obj=old,
                before=before,
                after={"state": old.state, "reason": old.cancel_reason},
            )
            # the replacement's task comes next: disclosure waits for it below
        replacement = DrawSelection.objects.filter(substitution=substitution).first()
    if replacement is None:
        return None
    tasks_create_for_draw(draw=substitution.draw)
    return InspectionTask.objects.filter(selection=replacement).first()


def task_open_targeted(
    *,
    actor: User,
    source,
    trigger: str,
    detail: str = "",
    period_start: date,
    period_end: date,
    check_items=(),
    opened_from: InspectionTask | None = None,
) -> InspectionTask:
    """A clerk opens a non-random check on any source of their organisation; the trigger is
    required. Never counted towards quotas, coverage or the cap."""
    if not user_can(actor, Cap.OPERATE_DRAW) or actor.organisation_id != source.organisation_id:
        raise ServiceError(_("Your role does not allow this for this organisation."), code="denied")
    if trigger not in Trigger.values:
        raise ServiceError({"trigger": _("Give the trigger of a targeted check.")})
    if period_end < period_start:
        raise ServiceError({"period_end": _("The period ends before it starts.")})
    with transaction.atomic():
        task = InspectionTask.objects.create(
            organisation_id=source.organisation_id,
            kind=InspectionTask.Kind.TARGETED,
            source=source,
            trigger=trigger,
            trigger_detail=detail,
            opened_from=opened_from,
            period_start=period_start,
            period_end=period_end,
            created_by=actor,
        )
        task.check_items.set(check_items)
        audit_record(
            actor=actor,
            action="inspection.task_open_targeted",
            obj=task,
            after=model_snapshot(task, ["kind", "source", "trigger", "opened_from"]),
        )
    return task


def task_open_from_off_site(
    *, actor: User, task: InspectionTask, detail: str, period_start: date, period_end: date
) -> InspectionTask:
    """A clue found off-site opens a linked on-site targeted check (004 §二(六))."""
    if task.mode != "off_site":
        raise ServiceError(_("Only an off-site task can open a check from an off-site clue."))
    return task_open_targeted(
        actor=actor,
        source=task.source,
        trigger=Trigger.OFF_SITE_CLUE,
        detail=detail,
        period_start=period_start,
        period_end=period_end,
        check_items=list(task.check_items.all()),
        opened_from=task,
    )


# --- the team's work ---------------------------------------------------------------------


def _team_inspector_ids(task: InspectionTask) -> set[int]:
    return {a.inspector_id for a in task_team(task)}


def _require_team(actor: User, task: InspectionTask) -> None:
    """谁检查、谁录入: only a member of the current team enters (targeted: the organisation's
    inspectors)."""
    from inspectors.models import Inspector

    inspector = Inspector.objects.filter(user_id=actor.pk).first()
    if inspector is None or not user_can(actor, Cap.ENTER_RESULTS):
        ok = False
    elif task.selection_id is not None:
        ok = inspector.pk in _team_inspector_ids(task)
    else:
        ok = inspector.organisation_id == task.organisation_id
    if not ok:
        raise ServiceError(_("Only a member of this task's team may do this."), code="denied")


def _locked(task: InspectionTask) -> InspectionTask:
    return InspectionTask.objects.select_for_update().get(pk=task.pk)


def _transition(task, actor: User, allowed, new_state, action, **extra) -> InspectionTask:
    if task.state not in allowed:
        raise ServiceError(
            _("This task is %(state)s; that is not possible now.")
            % {"state": task.get_state_display()},
            code="state",
        )
    before = {"state": task.state}
    task.state = new_state
    for k, v in extra.items():
        setattr(task, k, v)
    task.save(update_fields=["state", *extra])
    audit_record(
        actor=actor,
        action=action,
        obj=task,
        before=before,
        after={"state": new_state, **{k: str(v) for k, v in extra.items()}},
    )
    return task


def task_start(*, actor: User, task: InspectionTask) -> InspectionTask:
    """The team begins the inspection."""
    _require_team(actor, task)
    with transaction.atomic():
        task = _locked(task)
        return _transition(
            task, actor, {State.ASSIGNED}, State.IN_PROGRESS, "inspection.task_start"
        )


def _check_result(result_type, ground: str, previous: InspectionRecord | None, conclusion: str):
    if result_type is None:
        return
    if result_type not in ResultType.values:
        raise ServiceError({"result_type": _("Choose one of the five result types.")})
    if result_type == ResultType.NON_COOPERATION and ground not in NonCooperationGround.values:
        raise ServiceError(
            {"ground": _("Result type 4 needs one of its three grounds.")}, code="ground"
        )
    if previous is not None and previous.result_type == ResultType.FURTHER_HANDLING:
        if result_type == ResultType.NO_PROBLEM and not conclusion.strip():
            raise ServiceError(
                {"conclusion": _("Changing type 5 to type 1 needs the investigation's conclusion.")}
            )
        if previous.case_filed and result_type != ResultType.FURTHER_HANDLING:
            raise ServiceError(_("A case was filed: the result stays type 5."), code="case_filed")
        if result_type not in (ResultType.NO_PROBLEM, ResultType.FURTHER_HANDLING):
            raise ServiceError(
                {"result_type": _("Type 5 may only change to type 1, or stay type 5.")}
            )


def record_save(
    *,
    actor: User,
    task: InspectionTask,
    expected_version: int,
    checked_at: datetime | None = None,
    members=(),
    credentials_shown: dict | None = None,
    result_type: int | None = None,
    ground: str = "",
    conclusion: str = "",
    case_filed: bool = False,
    findings: dict | None = None,
    handling_ended_on: date | None = None,
    reason: str = "",
    **fields,
) -> InspectionRecord:
    """Save a new version of the task's record. ``expected_version`` is the version the
    writer started from: if someone saved in between, the write is refused (their text stays
    with them). ``findings``: {check item pk: (outcome, note)}."""
    _require_team(actor, task)
    with transaction.atomic():
        task = _locked(task)
        if task.state not in (State.ASSIGNED, State.IN_PROGRESS, State.RECORDED):
            raise ServiceError(
                _("This record was submitted; it can only change by a correction."), code="state"
            )
        previous = task.records.order_by("-version").first()
        current = previous.version if previous else 0
        if expected_version != current:
            raise ServiceError(
                _(
                    "Someone else saved this record meanwhile; reload it and enter your change "
                    "again."
                ),
                code="version",
            )
        members = list(members)
        # A result of an on-site check needs its two certified members; a draft may wait.
        if members or (result_type is not None and task.mode == "on_site"):
            team = _team_inspector_ids(task) if task.selection_id else None
            on = (checked_at or timezone.now()).date()
            for m in members:
                if team is not None and m.pk not in team:
                    raise ServiceError(
                        {"members": _("%(name)s is not in the current team.") % {"name": m.name}}
                    )
            if sum(1 for m in members if m.is_certified(on)) < 2:
                raise ServiceError(
                    {"members": _("At least two certified members of the team must be present.")}
                )
        _check_result(result_type, ground, previous, conclusion)
        record = InspectionRecord.objects.create(
            task=task,
            version=current + 1,
            checked_at=checked_at,
            credentials_shown=credentials_shown or {},
            result_type=result_type,
            ground=ground if result_type == ResultType.NON_COOPERATION else "",
            conclusion=conclusion,
            case_filed=case_filed,
            reason=reason,
            created_by=actor,
            **fields,
        )
        record.members.set(members)
        Finding.objects.bulk_create(
            [
                Finding(record=record, check_item_id=item, outcome=outcome, note=note)
                for item, (outcome, note) in (findings or {}).items()
            ]
        )
        update = ["state"]
        task.state = State.RECORDED if result_type is not None else State.IN_PROGRESS
        if handling_ended_on is not None:
            task.handling_ended_on = handling_ended_on
            task.entry_due = entry_due_for(handling_ended_on)
            update += ["handling_ended_on", "entry_due"]
        task.save(update_fields=update)
        audit_record(
            actor=actor,
            action="inspection.record_save",
            obj=record,
            after={"version": record.version, "result_type": result_type},
        )
        RecordDraft.objects.filter(task=task, user=actor).delete()  # saved: the draft is done
        if task.selection_id and task.state == State.RECORDED and task.selection is not None:
            _disclose_when_inspected(task.selection.draw_id)
    return record


def _disclose_when_inspected(draw_id: int) -> None:
    """The drawn list stops being secret once every check of the draw is recorded or
    cancelled (000 §五(三)); the end of the inspection period remains the backstop."""
    from lottery.services import draw_disclose_inspected

    tasks = InspectionTask.objects.filter(selection__draw_id=draw_id)
    if tasks.exists() and not tasks.filter(state__in=[State.ASSIGNED, State.IN_PROGRESS]).exists():
        draw = Draw.objects.get(pk=draw_id)
        with_task = set(tasks.values_list("selection_id", flat=True))
        if {s.pk for s in effective_selections(draw)} <= with_task:  # each has its task
            draw_disclose_inspected(draw=draw)


def task_submit(*, actor: User, task: InspectionTask) -> InspectionTask:
    """The team submits the recorded result for approval (once)."""
    _require_team(actor, task)
    with transaction.atomic():
        task = _locked(task)
        if task.state == State.SUBMITTED:
            raise ServiceError(_("This record was already submitted."), code="submitted_twice")
        return _transition(task, actor, {State.RECORDED}, State.SUBMITTED, "inspection.task_submit")


def _require_leader(actor: User, task: InspectionTask) -> None:
    if not user_can(actor, Cap.APPROVE) or actor.organisation_id != task.organisation_id:
        raise ServiceError(_("Your role does not allow this for this organisation."), code="denied")


def task_approve(*, actor: User, task: InspectionTask) -> InspectionTask:
    """A leader approves the submitted record; its current version is the one published."""
    _require_leader(actor, task)
    with transaction.atomic():
        task = _locked(task)
        task = _transition(
            task,
            actor,
            {State.SUBMITTED},
            State.APPROVED,
            "inspection.task_approve",
            approved_by=actor,
            approved_at=timezone.now(),
        )
        current = task.records.order_by("-version")[0]
        task.records.filter(version=current.version).update(approved=True)
        if task.kind == InspectionTask.Kind.DRAWN:
            _record_completion(actor, task, current)
        _announce_approval(task)
    return task


def _announce_approval(task: InspectionTask) -> None:
    from inspections.signals import result_approved

    transaction.on_commit(lambda: result_approved.send(sender=InspectionTask, task=task))


def completed_on_for(task: InspectionTask, record: InspectionRecord) -> date:
    """The day a drawn check was completed: when it was made (the record's ``checked_at``),
    else when the check and its handling ended, else the day of approval."""
    if record.checked_at is not None:
        return timezone.localdate(record.checked_at)
    if task.handling_ended_on is not None:
        return task.handling_ended_on
    return timezone.localdate(task.approved_at)


def _record_completion(actor: User | None, task: InspectionTask, record: InspectionRecord) -> None:
    """An approved drawn check is a completed spot check: the lottery records the fact that
    coverage and the frequency cap of later draws count (docs/coverage.md). Nothing else
    completes a check: a cancelled task (its source replaced) never reaches approval, a
    returned or unapproved record is not a result, and a targeted check is never random."""
    assert task.selection is not None, "only a drawn task completes a spot check"
    check_completed_record(
        actor=actor,
        selection=task.selection,
        completed_on=completed_on_for(task, record),
        items=list(task.check_items.values_list("pk", flat=True)),
    )


def completions_record_missing() -> int:
    """Record as completed every approved drawn task that has no record yet (tasks approved
    before the lottery kept these records; ``manage.py record_completed_checks``). Idempotent;
    returns how many were recorded. A task whose source was replaced is left out."""
    from inspections.selectors import record_approved

    tasks = (
        InspectionTask.objects.filter(
            kind=InspectionTask.Kind.DRAWN,
            state=State.APPROVED,
            selection__completed_check__isnull=True,
        )
        .exclude(
            selection__substitutions__kind=Substitution.Kind.OBJECT,
            selection__substitutions__status=Substitution.Status.APPROVED,
        )
        .select_related("selection", "approved_by")
        .order_by("pk")
    )
    recorded = 0
    for task in tasks:
        record = record_approved(task)
        if record is None:
            continue
        with transaction.atomic():
            _record_completion(task.approved_by, task, record)
        recorded += 1
    return recorded


def task_return(*, actor: User, task: InspectionTask, reason: str) -> InspectionTask:
    """A leader returns a submitted record to the team, with the reason."""
    _require_leader(actor, task)
    if not reason.strip():
        raise ServiceError({"reason": _("Give the reason for returning the record.")})
    with transaction.atomic():
        task = _locked(task)
        return _transition(
            task,
            actor,
            {State.SUBMITTED},
            State.RECORDED,
            "inspection.task_return",
            return_reason=reason,
        )


def result_correct(
    *,
    actor: User,
    task: InspectionTask,
    result_type: int,
    reason: str,
    conclusion: str = "",
    case_filed: bool | None = None,
) -> InspectionRecord:
    """A later correction of an approved result (e.g. 5 → 1 after the investigation) is a new,
    approved version with its reason, actor and time."""
    _require_leader(actor, task)
    if not reason.strip():
        raise ServiceError({"reason": _("Give the reason for the correction.")})
    with transaction.atomic():
        task = _locked(task)
        if task.state != State.APPROVED:
            raise ServiceError(_("Only an approved result is corrected."), code="state")
        previous = task.records.order_by("-version").first()
        assert previous is not None, "an approved task has its approved record"
        _check_result(result_type, previous.ground, previous, conclusion)
        record = InspectionRecord.objects.create(
            task=task,
            version=previous.version + 1,
            checked_at=previous.checked_at,
            credentials_shown=previous.credentials_shown,
            result_type=result_type,
            ground=previous.ground if result_type == ResultType.NON_COOPERATION else "",
            conclusion=conclusion,
            case_filed=previous.case_filed if case_filed is None else case_filed,
            summary=previous.summary,
            reason=reason,
            approved=True,
            created_by=actor,
        )
        record.members.set(previous.members.all())
        audit_record(
            actor=actor,
            action="inspection.result_correct",
            obj=record,
            before={"result_type": previous.result_type},
            after={"result_type": result_type, "reason": reason},
        )
        _announce_approval(task)
    return record


# --- the follow-up ledger ----------------------------------------------------------------


def problem_add(
    *, actor: User, task: InspectionTask, description: str, handling: str, **fields
) -> Problem:
    """Enter a problem found and its handling (台账)."""
    _require_team(actor, task)
    if not description.strip():
        raise ServiceError({"description": _("Describe the problem.")})
    if handling in (
        Problem.Handling.CASE_FILED,
        Problem.Handling.TRANSFERRED,
        Problem.Handling.TRANSFERRED_JUDICIAL,
    ):
        if not fields.get("document_number") or not fields.get("document_date"):
            raise ServiceError({"document_number": _("Give the document number and date.")})
        if handling != Problem.Handling.CASE_FILED and not fields.get("receiving_body"):
            raise ServiceError({"receiving_body": _("Name the receiving body.")})
    if handling == Problem.Handling.NOT_PENALISED and not fields.get("minor_list_entry"):
        raise ServiceError({"minor_list_entry": _("Name the entry of the minor-violation list.")})
    if handling == Problem.Handling.RECTIFICATION_ORDER and not fields.get("rectification_due"):
        raise ServiceError({"rectification_due": _("Give the rectification deadline.")})
    with transaction.atomic():
        _locked(task)
        problem = Problem.objects.create(
            task=task, description=description, handling=handling, **fields
        )
        audit_record(
            actor=actor, action="inspection.problem_add", obj=problem, after=model_snapshot(problem)
        )
    return problem


def problem_verify(*, actor: User, problem: Problem, evidence: str, verification: str) -> Problem:
    """The re-check: evidence of the rectification and its verification."""
    _require_team(actor, problem.task)
    if not evidence.strip():
        raise ServiceError({"evidence": _("Attach the evidence of the rectification.")})
    with transaction.atomic():
        problem = Problem.objects.select_for_update().get(pk=problem.pk)
        if problem.state != Problem.State.OPEN:
            raise ServiceError(_("This problem was already verified."), code="state")
        problem.evidence, problem.verification = evidence, verification
        problem.state = Problem.State.VERIFIED
        problem.verified_by, problem.verified_at = actor, timezone.now()
        problem.save()
        audit_record(
            actor=actor,
            action="inspection.problem_verify",
            obj=problem,
            after={"state": problem.state},
        )
    return problem


def problem_close(*, actor: User, problem: Problem) -> Problem:
    """A leader closes the loop; never without evidence."""
    _require_leader(actor, problem.task)
    with transaction.atomic():
        problem = Problem.objects.select_for_update().get(pk=problem.pk)
        if not problem.evidence.strip():
            raise ServiceError({"evidence": _("A problem is closed only with evidence.")})
        if problem.state == Problem.State.CLOSED:
            raise ServiceError(_("This problem is already closed."), code="state")
        problem.state = Problem.State.CLOSED
        problem.closed_by, problem.closed_at = actor, timezone.now()
        problem.save(update_fields=["state", "closed_by", "closed_at"])
        audit_record(
            actor=actor,
            action="inspection.problem_close",
            obj=problem,
            after={"state": problem.state},
        )
    return problem


# --- drafts and evidence -----------------------------------------------------------------

#: Evidence files: photos and PDFs only, each at most this many bytes (setting
#: ``SJSJ_EVIDENCE_MAX_BYTES``, default 20 MB).
EVIDENCE_MAX_BYTES = 20 * 1024 * 1024


def draft_save(*, actor: User, task: InspectionTask, base_version: int, data: dict) -> RecordDraft:
    """Keep what a member typed, server-side, until they save it as a version. Nothing here
    is part of the record: the draft is the member's own, offered back when they return."""
    _require_team(actor, task)
    if task.state not in (State.ASSIGNED, State.IN_PROGRESS, State.RECORDED):
        raise ServiceError(
            _("This record was submitted; it can only change by a correction."), code="state"
        )
    clean = {str(k)[:100]: v for k, v in data.items() if k != "csrfmiddlewaretoken"}
    if len(repr(clean)) > 200_000:
        raise ServiceError(_("The draft is too large to keep."), code="too_large")
    draft, _created = RecordDraft.objects.update_or_create(
        task=task, user=actor, defaults={"base_version": base_version, "data": clean}
    )
    return draft


def draft_discard(*, actor: User, task: InspectionTask) -> None:
    RecordDraft.objects.filter(task=task, user=actor).delete()


def _sniff(head: bytes) -> str | None:
    """The evidence kind from the file's first bytes, never from its name or the browser."""
    if head.startswith(b"\xff\xd8\xff"):
        return Evidence.Kind.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Evidence.Kind.PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Evidence.Kind.WEBP
    if head.startswith(b"%PDF-"):
        return Evidence.Kind.PDF
    return None


def _check_content(upload, kind: str) -> None:
    """An image must decode; a PDF must end as a PDF does. Refuses disguised files."""
    upload.seek(0)
    if kind == Evidence.Kind.PDF:
        upload.seek(max(0, upload.size - 1024))
        if b"%%EOF" not in upload.read():
            raise ServiceError({"file": _("The PDF is incomplete or damaged.")}, code="damaged")
    else:
        from PIL import Image

        try:
            with Image.open(upload) as image:
                image.verify()
        except Exception:  # noqa: BLE001 - Pillow raises many kinds for a bad image
            raise ServiceError(
                {"file": _("The image cannot be read: it is damaged or not an image.")},
                code="damaged",
            ) from None
    upload.seek(0)


def evidence_add(
    *,
    actor: User,
    task: InspectionTask,
    upload,
    description: str = "",
    problem: Problem | None = None,
) -> Evidence:
    """Attach a photo or a PDF to the task (or to one of its problems). The type is read from
    the content; empty, oversized and other files are refused and nothing is stored."""
    from django.conf import settings

    _require_team(actor, task)
    if task.state == State.CANCELLED:
        raise ServiceError(_("This task was cancelled."), code="state")
    if problem is not None and problem.task_id != task.pk:
        raise ServiceError(_("That problem belongs to another task."), code="denied")
    limit = getattr(settings, "SJSJ_EVIDENCE_MAX_BYTES", EVIDENCE_MAX_BYTES)
    size = getattr(upload, "size", 0) or 0
    if size == 0:
        raise ServiceError({"file": _("The file is empty.")}, code="empty")
    if size > limit:
        raise ServiceError(
            {
                "file": _("The file is %(size)s MB; at most %(limit)s MB is accepted.")
                % {"size": round(size / 1048576, 1), "limit": round(limit / 1048576, 1)}
            },
            code="too_large",
        )
    upload.seek(0)
    kind = _sniff(upload.read(16))
    if kind is None:
        raise ServiceError(
            {"file": _("Only photos (JPEG, PNG, WebP) and PDF files are accepted.")},
            code="type",
        )
    _check_content(upload, kind)
    import hashlib

    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    name = (getattr(upload, "name", "") or "file").replace("\\", "/").rsplit("/", 1)[-1][:200]
    evidence = Evidence(
        task=task,
        problem=problem,
        original_name=name,
        content_type=kind,
        size=size,
        sha256=digest.hexdigest(),
        description=description[:200],
        uploaded_by=actor,
    )
    evidence.file.save(name, upload, save=False)
    try:
        with transaction.atomic():
            evidence.save()
            audit_record(
                actor=actor,
                action="inspection.evidence_add",
                obj=evidence,
                after={"task": task.pk, "sha256": evidence.sha256, "size": size, "type": kind},
            )
    except BaseException:
        evidence.file.delete(save=False)  # no row, no file: nothing half-stored
        raise
    return evidence


# --- joint inspections -------------------------------------------------------------------


def task_set_joint(
    *, actor: User, task: InspectionTask, joint: bool, sections: str = "", authorities: str = ""
) -> InspectionTask:
    """Record which sections of the bureau and which other authorities took part in a joint
    inspection (004 §二(五)). A row the draw marked joint stays joint; any other task may be
    chosen as joint by the bureau's clerk or its team, until it is approved."""
    if not (user_can(actor, Cap.OPERATE_DRAW) and actor.organisation_id == task.organisation_id):
        _require_team(actor, task)
    sections, authorities = sections.strip()[:1000], authorities.strip()[:1000]
    with transaction.atomic():
        task = _locked(task)
        if task.state in (State.APPROVED, State.CANCELLED):
            raise ServiceError(
                _("This task is %(state)s; that is not possible now.")
                % {"state": task.get_state_display()},
                code="state",
            )
        drawn_joint = task.selection is not None and task.selection.joint
        if drawn_joint and not joint:
            raise ServiceError(
                {"joint": _("The draw made this a joint inspection; it stays one.")},
                code="drawn_joint",
            )
        if joint and not (sections or authorities):
            raise ServiceError(
                {"joint_sections": _("Name the sections or the authorities that took part.")}
            )
        before = model_snapshot(task, ["joint", "joint_sections", "joint_authorities"])
        task.joint = joint
        task.joint_sections = sections if joint else ""
        task.joint_authorities = authorities if joint else ""
        task.save(update_fields=["joint", "joint_sections", "joint_authorities"])
        audit_record(
            actor=actor,
            action="inspection.task_set_joint",
            obj=task,
            before=before,
            after=model_snapshot(task, ["joint", "joint_sections", "joint_authorities"]),
        )
    return task
