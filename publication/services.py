"""The only writers of published results: publish, correct, withdraw, withhold, export.

谁检查、谁录入、谁公开 (001 §二(四), 002 指引 三, 003 §八(二)): the inspecting body
publishes, once its leader has approved the record. A published entry is frozen; a later
change is a new, dated entry beside the original.
"""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.calendar import CalendarNotCovered, add_working_days
from core.errors import ServiceError
from core.models import User
from core.roles import Cap, user_can
from inspections.models import InspectionTask, Problem
from inspections.selectors import record_approved
from publication.models import (
    NARROWABLE_FIELDS,
    NationalExport,
    NationalExportLine,
    PendingPublication,
    PublishedResult,
    Withholding,
    WithholdReason,
)

#: Results are published within 20 working days (000 §五(五); 002 指引 三; 003 §八(二)).
PUBLISH_WORKING_DAYS = 20
#: An approved random-check result is published automatically this many days after its
#: approval (time for a leader to withhold it), and never later than its deadline.
PUBLISH_GRACE_DAYS = 3

#: The national platform's wording of the five result types (spot_check_formats_NOTES §C.3).
NATIONAL_WORDING = {
    1: "未发现问题",
    2: "未按规定公示应当公示的信息",
    3: "发现问题已责令改正",
    4: "不配合检查情节严重",
    5: "发现问题待后续处理",
}
SNAPSHOT_KEYS = (
    "company_name",
    "uscc",
    "source_name",
    "check_items",
    "item_codes",
    "checked_on",
    "result_type",
    "result_label",
    "inspectors",
    "problems",
    "withheld",
    "withheld_reason",
    "withheld_fields",
    "withdrawn",
)


def check_ended_on(task: InspectionTask, record=None) -> date | None:
    """When the check (and its handling) ended: the day the 20 working days run from."""
    if task.handling_ended_on:
        return task.handling_ended_on
    record = record or record_approved(task)
    if record is not None and record.checked_at is not None:
        return timezone.localtime(record.checked_at).date()
    return None


def publication_due(task: InspectionTask, record=None) -> date | None:
    """The last day to publish, or None when the check has not ended or the year's holiday
    schedule is not loaded (never guessed)."""
    ended = check_ended_on(task, record)
    if ended is None:
        return None
    try:
        return add_working_days(ended, PUBLISH_WORKING_DAYS)
    except CalendarNotCovered:
        return None


def _withholding(task: InspectionTask) -> Withholding | None:
    return task.withholdings.filter(revoked_at__isnull=True).order_by("-decided_at").first()


def _snapshot(task: InspectionTask, record) -> dict:
    source = task.source
    items = list(task.check_items.order_by("code"))
    snap = {
        "company_name": source.company_name or source.name,
        "uscc": source.uscc,
        "source_name": source.name,
        "check_items": [f"{i.code} {i.name}" for i in items],
        "item_codes": [i.code for i in items],
        "checked_on": check_ended_on(task, record),
        "result_type": record.result_type,
        "result_label": NATIONAL_WORDING.get(record.result_type, ""),
        "inspectors": [
            {"name": m.name, "certificate_number": m.certificate_number}
            for m in record.members.order_by("name")
        ],
        "problems": [
            {
                "description": p.description,
                "legal_basis": p.legal_basis,
                "handling": p.get_handling_display(),
                "document_number": p.document_number,
                "document_date": p.document_date.isoformat() if p.document_date else "",
                "receiving_body": p.receiving_body,
                "closed": p.state == Problem.State.CLOSED,
            }
            for p in task.problems.order_by("pk")
        ],
        "withheld": False,
        "withheld_reason": "",
        "withheld_fields": [],
        "withdrawn": False,
    }
    withholding = _withholding(task)
    if withholding is not None:
        snap["withheld_reason"] = withholding.reason
        if withholding.scope == Withholding.Scope.WHOLE:
            snap.update(
                withheld=True,
                company_name="",
                uscc="",
                source_name="",
                check_items=[],
                item_codes=[],
                result_type=None,
                result_label="",
                problems=[],
                withheld_fields=sorted(NARROWABLE_FIELDS),
            )
        else:
            snap["withheld_fields"] = sorted(withholding.fields)
            for field in withholding.fields:
                snap[field] = [] if isinstance(snap[field], list) else ""
            if "company_name" in withholding.fields:
                snap["source_name"] = ""
            if "check_items" in withholding.fields:
                snap["item_codes"] = []
    return snap


def _require_publisher(actor: User | None, task: InspectionTask) -> None:
    if actor is None:
        return  # the deadline job, acting for the bureau
    if not user_can(actor, Cap.APPROVE) or actor.organisation_id != task.organisation_id:
        raise ServiceError(
            _("Only a leader of the inspecting body publishes its results."), code="denied"
        )


def _current(task: InspectionTask) -> PublishedResult | None:
    return task.published.filter(is_current=True).first()


def _publish(task, record, snap, *, actor: User | None, reason: str, previous) -> PublishedResult:
    draw = task.selection.draw if task.selection_id else None
    entry = PublishedResult.objects.create(
        task=task,
        organisation_id=task.organisation_id,
        record_version=record.version if record else (previous.record_version if previous else 0),
        random=task.kind == InspectionTask.Kind.DRAWN,
        correction_of=previous,
        correction_reason=reason if previous else "",
        publisher_name=task.organisation.name,
        division_code=task.organisation.division_code,
        plan_title=draw.plan.title if draw else "",
        draw_number=draw.number if draw else "",
        published_at=timezone.now(),
        published_by=actor,
        **snap,
    )
    if previous is not None:
        PublishedResult.objects.filter(pk=previous.pk).update(is_current=False)
    audit_record(
        actor=actor,
        action="publication.result_publish" if previous is None else "publication.result_correct",
        obj=entry,
        after={
            "task": task.pk,
            "version": entry.record_version,
            "withheld": entry.withheld,
            "withdrawn": entry.withdrawn,
            "corrects": previous.pk if previous else None,
        },
    )
    return entry


def result_publish(
    *, actor: User | None, task: InspectionTask, reason: str = ""
) -> PublishedResult | None:
    """Publish the approved version of the task's result, or a correction when what would be
    published differs from what is. Returns None when there is nothing new (idempotent)."""
    _require_publisher(actor, task)
    with transaction.atomic():
        task = InspectionTask.objects.select_for_update().get(pk=task.pk)
        if task.state != InspectionTask.State.APPROVED:
            raise ServiceError(
                _("Only an approved result is published; this one is %(state)s.")
                % {"state": task.get_state_display()},
                code="not_approved",
            )
        previous = _current(task)
        if actor is None and task.kind != InspectionTask.Kind.DRAWN and previous is None:
            return None  # a targeted check is published when its bureau chooses
        record = record_approved(task)
        assert record is not None, "an approved task has its approved record"
        snap = _snapshot(task, record)
        if previous is not None:
            if all(getattr(previous, k) == snap[k] for k in SNAPSHOT_KEYS):
                return None
            reason = (
                reason.strip()
                or (record.reason if record.version != previous.record_version else "")
                or _("The published result was brought up to date.")
            )
        entry = _publish(task, record, snap, actor=actor, reason=reason, previous=previous)
        PendingPublication.objects.filter(task=task).delete()
        return entry


def result_withdraw(*, actor: User | None, task: InspectionTask, reason: str) -> PublishedResult:
    """A published result is never deleted: a withdrawal is a correction, with its reason."""
    _require_publisher(actor, task)
    if actor is None or len(reason.strip()) < 5:
        raise ServiceError({"reason": _("Give the reason for the withdrawal.")})
    with transaction.atomic():
        task = InspectionTask.objects.select_for_update().get(pk=task.pk)
        previous = _current(task)
        if previous is None or previous.withdrawn:
            raise ServiceError(_("There is no published result to withdraw."), code="state")
        snap = {k: getattr(previous, k) for k in SNAPSHOT_KEYS}
        snap.update(withdrawn=True, result_type=None, result_label="", problems=[], check_items=[])
        return _publish(task, None, snap, actor=actor, reason=reason.strip(), previous=previous)


def withholding_decide(
    *,
    actor: User | None,
    task: InspectionTask,
    reason: str,
    detail: str,
    scope: str,
    fields=(),
) -> Withholding:
    """A leader withholds a result, or publishes it without some fields, for a state
    secret, a trade secret or personal privacy, with a recorded explanation. If the result
    is already public, the change is published at once as a correction."""
    _require_publisher(actor, task)
    if actor is None:
        raise ServiceError(_("A person decides to withhold a result."), code="denied")
    errors = {}
    if reason not in WithholdReason.values:
        errors["reason"] = _("Choose why the result is withheld.")
    if len(detail.strip()) < 5:
        errors["detail"] = _("Explain why, in a few words at least.")
    if scope not in Withholding.Scope.values:
        errors["scope"] = _("Choose whether the whole result or some fields are withheld.")
    fields = sorted(set(fields))
    if scope == Withholding.Scope.NARROW and (not fields or set(fields) - set(NARROWABLE_FIELDS)):
        errors["fields"] = _("Choose the fields to leave out.")
    if errors:
        raise ServiceError(errors)
    with transaction.atomic():
        InspectionTask.objects.select_for_update().get(pk=task.pk)
        now = timezone.now()
        task.withholdings.filter(revoked_at__isnull=True).update(revoked_at=now)
        withholding = Withholding.objects.create(
            task=task,
            reason=reason,
            detail=detail.strip(),
            scope=scope,
            fields=fields if scope == Withholding.Scope.NARROW else [],
            decided_by=actor,
            decided_at=now,
        )
        audit_record(
            actor=actor,
            action="publication.withhold",
            obj=withholding,
            after={"task": task.pk, "reason": reason, "scope": scope, "fields": fields},
        )
        if _current(task) is not None:
            result_publish(
                actor=actor,
                task=task,
                reason=_("Withheld in part or whole: %(reason)s")
                % {"reason": WithholdReason(reason).label},
            )
    return withholding


# --- the deadline job --------------------------------------------------------------------


def publication_schedule(*, task: InspectionTask) -> PendingPublication | None:
    """Called when a leader approves a result (or a correction of it): a random-check
    result goes on the deadline job's list, published ``PUBLISH_GRACE_DAYS`` after approval
    (time to withhold it) and never later than its deadline; a correction of a result already
    public is published at once, beside the original. Idempotent."""
    task = InspectionTask.objects.select_related("organisation").get(pk=task.pk)
    if task.state != InspectionTask.State.APPROVED:
        return None
    if _current(task) is not None:
        result_publish(actor=None, task=task)  # a correction: public at once
        return None
    if task.kind != InspectionTask.Kind.DRAWN:
        return None  # a targeted check is published when its bureau chooses
    approved_on = timezone.localtime(task.approved_at).date() if task.approved_at else None
    approved_on = approved_on or timezone.localdate()
    due = publication_due(task)
    publish_from = approved_on + timedelta(days=PUBLISH_GRACE_DAYS)
    if due is not None:
        publish_from = min(publish_from, due)
    pending, _created = PendingPublication.objects.update_or_create(
        task=task, defaults={"due_on": due, "publish_from": publish_from}
    )
    return pending


def results_publish_due(*, today: date | None = None) -> int:
    """Publish every approved random-check result whose day has come. Works from state (the
    list of pending publications), not from "since the last run": three days of downtime
    are made good in one run. Idempotent: a published result leaves the list."""
    today = today or timezone.localdate()
    published = 0
    due = sorted(
        PendingPublication.objects.filter(publish_from__lte=today).values_list("task_id", flat=True)
    )
    for task_id in due:
        task = InspectionTask.objects.get(pk=task_id)
        with transaction.atomic():
            entry = result_publish(actor=None, task=task)
            PendingPublication.objects.filter(task_id=task_id).delete()
        published += entry is not None
    return published


# --- the national platform ----------------------------------------------------------------

NATIONAL_COLUMNS = [
    "抽查计划编号",
    "抽查计划名称",
    "抽查任务编号",
    "抽查任务名称",
    "抽查类型",
    "检查机关",
    "检查完成日期",
    "检查结果",
    "备注",
    "统一社会信用代码",
]


def _national_row(entry: PublishedResult) -> list[str]:
    kind = "双随机抽查" if entry.random else "非随机检查"
    note = []
    if entry.correction_of_id:
        note.append(f"更正：{entry.correction_reason}")
    if entry.withdrawn:
        note.append("撤回")
    if entry.withheld_fields:
        note.append("部分信息依法不予公开")
    return [
        entry.draw_number,
        entry.plan_title,
        str(entry.task_id),
        f"{entry.company_name}（{'、'.join(entry.item_codes)}）" if entry.item_codes else "",
        kind,
        entry.publisher_name,
        entry.checked_on.isoformat() if entry.checked_on else "",
        entry.result_label,
        "；".join(note),
        entry.uscc,
    ]


def national_export_make(*, actor: User, organisation, period_start: date, period_end: date):
    """A batch of the organisation's published entries checked in the period that no
    earlier batch carried (new results and corrections), as UTF-8 CSV in the national
    record's layout. Withheld results are not exported. All or nothing: a failure half way
    records no batch and marks nothing as sent."""
    if not user_can(actor, Cap.APPROVE) or actor.organisation_id != organisation.pk:
        raise ServiceError(_("Only a leader of the bureau makes its exports."), code="denied")
    if period_end < period_start:
        raise ServiceError({"period_end": _("The period ends before it starts.")})
    with transaction.atomic():
        entries = list(
            PublishedResult.objects.select_for_update(of=("self",))
            .filter(
                organisation=organisation,
                checked_on__gte=period_start,
                checked_on__lte=period_end,
                withheld=False,
                national_export_line__isnull=True,
            )
            .order_by("pk")
        )
        if not entries:
            raise ServiceError(
                _("Nothing new to export for this period: every result was sent before."),
                code="nothing_new",
            )
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(NATIONAL_COLUMNS)
        for entry in entries:
            writer.writerow(_national_row(entry))
        content = buffer.getvalue().encode("utf-8-sig")
        export = NationalExport.objects.create(
            organisation=organisation,
            period_start=period_start,
            period_end=period_end,
            created_at=timezone.now(),
            created_by=actor,
            rows=len(entries),
            sha256=hashlib.sha256(content).hexdigest(),
            content=content,
        )
        NationalExportLine.objects.bulk_create(
            [NationalExportLine(export=export, entry=e) for e in entries]
        )
        audit_record(
            actor=actor,
            action="publication.national_export",
            obj=export,
            after={"rows": len(entries), "sha256": export.sha256},
        )
    return export
