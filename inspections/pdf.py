"""The inspection's paper forms, in Chinese whatever the interface language (003 §七(五)):
行政执法检查审批表 (approval), 现场检查记录 (record, for signatures) and
涉企行政执法检查结果报告 (report). Rendered by WeasyPrint like the draw record."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone, translation

from inspections.models import InspectionTask, OffSiteMeans
from inspections.selectors import record_approved, record_current, task_team

TEMPLATES = {
    "approval": "inspections/pdf/approval.html",
    "record": "inspections/pdf/record.html",
    "report": "inspections/pdf/report.html",
}


def task_pdf_context(task: InspectionTask, kind: str) -> dict:
    """What the form shows; the caller has checked the user may see the task. The report
    uses the approved version where there is one."""
    record = (record_approved(task) if kind == "report" else None) or record_current(task)
    items = list(task.check_items.order_by("code"))
    findings = {f.check_item_id: f for f in record.findings.all()} if record else {}
    members = list(record.members.order_by("name")) if record else []
    shown = (record.credentials_shown or {}) if record else {}
    return {
        "task": task,
        "organisation": task.organisation,
        "source": task.source,
        "record": record,
        "items": items,
        "finding_rows": [{"item": i, "finding": findings.get(i.pk)} for i in items],
        "members": members,
        "member_rows": [{"inspector": m, "shown": shown.get(str(m.pk))} for m in members],
        "team": task_team(task),
        "problems": list(task.problems.all()),
        "means": [OffSiteMeans(m).label for m in (record.off_site_means if record else [])],
        "draw_number": task.selection.draw.number if task.selection is not None else "",
        "printed_at": timezone.localtime(),
    }


def task_pdf_html(task: InspectionTask, kind: str) -> str:
    with translation.override("zh-hans"):
        return render_to_string(TEMPLATES[kind], task_pdf_context(task, kind))


def task_pdf(task: InspectionTask, kind: str) -> bytes:
    from weasyprint import HTML  # heavy import: only when a PDF is asked for

    return HTML(string=task_pdf_html(task, kind)).write_pdf()
