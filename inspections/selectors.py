"""Reads of inspection tasks, already filtered by what the user may see.

The confidentiality rule is the draw's: an inspector sees a drawn task only through the
per-object grant ``lottery.view_drawn_task`` on its drawn source (given when the draw
executed, withdrawn on recusal or replacement); staff see their organisations' tasks.
"""

from __future__ import annotations

from datetime import date

from django.contrib.contenttypes.models import ContentType
from django.db.models import BigIntegerField, Q, QuerySet
from django.db.models.functions import Cast
from django.http import Http404
from guardian.models import UserObjectPermission
from guardian.shortcuts import get_objects_for_user

from core.calendar import CalendarNotCovered, add_working_days
from core.roles import Cap, user_can
from core.selectors import scope_queryset
from inspections.models import Evidence, InspectionRecord, InspectionTask, RecordDraft
from lottery.models import DrawSelection, TeamAssignment
from lottery.selectors import effective_teams


def _staff(user) -> bool:
    return user_can(user, Cap.VIEW_DRAWS) or user_can(user, Cap.APPROVE)


def task_list_for_user(*, user) -> QuerySet[InspectionTask]:
    """Tasks ``user`` may see: staff by organisation, an inspector only their granted ones."""
    if not getattr(user, "is_authenticated", False):
        return InspectionTask.objects.none()
    tasks = InspectionTask.objects.select_related("source", "selection")
    if _staff(user):
        return scope_queryset(tasks, user)
    if user_can(user, Cap.OWN_TASKS):
        granted = _granted_selection_ids(user)
        # Drawn tasks only through the grant; targeted checks of the inspector's own bureau
        # are not drawn, so not secret among its inspectors.
        return tasks.filter(
            Q(selection_id__in=granted)
            | Q(kind=InspectionTask.Kind.TARGETED, organisation_id=user.organisation_id)
        )
    return InspectionTask.objects.none()


def _granted_selection_ids(user) -> list[int]:
    """The ids of the drawn sources granted to ``user`` (``lottery.view_drawn_task``).

    Read from the user's own grants, the grant's text key cast to the id (guardian's query
    casts every drawn source's id to text instead, so the list scanned every task): the list
    then costs what the user was granted, not what the database holds (bench/tasks.py,
    100,000 tasks), and as a list of ids it stays an index lookup when combined with other
    conditions. The draw grants to users only; a user in a group gets guardian's own query,
    which also reads group grants."""
    if user.groups.exists():
        return list(
            get_objects_for_user(
                user, "lottery.view_drawn_task", klass=DrawSelection, accept_global_perms=False
            ).values_list("pk", flat=True)
        )
    return list(
        UserObjectPermission.objects.filter(
            user=user,
            content_type=ContentType.objects.get_for_model(DrawSelection),
            permission__codename="view_drawn_task",
        )
        .annotate(selection_id=Cast("object_pk", BigIntegerField()))
        .values_list("selection_id", flat=True)
    )


def task_get_for_user(*, user, pk: int) -> InspectionTask:
    """One task, or 404 for anyone who may not see it (never a hint that it exists)."""
    try:
        return task_list_for_user(user=user).get(pk=pk)
    except InspectionTask.DoesNotExist:
        raise Http404 from None


def task_team(task: InspectionTask) -> list[TeamAssignment]:
    """The team as it stands, read from the draw (never copied); empty for a targeted check."""
    if task.selection is None:
        return []
    return effective_teams([task.selection])[task.selection.pk]


def record_current(task: InspectionTask) -> InspectionRecord | None:
    """The latest version of the task's record."""
    return task.records.order_by("-version").first()


def record_approved(task: InspectionTask) -> InspectionRecord | None:
    """The latest approved version: the one publication uses."""
    return task.records.filter(approved=True).order_by("-version").first()


def record_draft(task: InspectionTask, user) -> RecordDraft | None:
    """The member's own unsaved draft of this record, if any."""
    return RecordDraft.objects.filter(task=task, user=user).first()


def task_evidence(task: InspectionTask) -> list[Evidence]:
    return list(task.evidence.select_related("uploaded_by", "problem"))


def earlier_results(task: InspectionTask, limit: int = 10) -> list[InspectionRecord]:
    """Approved results of the same source's earlier inspections, newest first (the
    preparation view, 002 指引 前期准备)."""
    latest: dict[int, InspectionRecord] = {}
    for record in (
        InspectionRecord.objects.filter(
            task__source_id=task.source_id, approved=True, task__state=InspectionTask.State.APPROVED
        )
        .exclude(task=task)
        .select_related("task")
        .order_by("-task__period_start", "-version")
    ):
        latest.setdefault(record.task_id, record)
        if len(latest) >= limit:
            break
    return list(latest.values())


#: "Due soon" means within this many working days.
DUE_SOON_WORKING_DAYS = 2


def due_soon_limit(today: date) -> date | None:
    """The last day that counts as "due soon" from ``today``, or None without a schedule."""
    try:
        return add_working_days(today, DUE_SOON_WORKING_DAYS)
    except CalendarNotCovered:
        return None


def deadline_state(task: InspectionTask, today: date, soon: date | None) -> str:
    """The entry deadline's state: none (the check has not ended), unknown (the year's
    schedule is not loaded: never guessed), done, late, due_soon or on_time."""
    if task.handling_ended_on is None:
        return "none"
    if task.entry_due is None:
        return "unknown"
    if task.state in (InspectionTask.State.SUBMITTED, InspectionTask.State.APPROVED):
        return "done"
    if today > task.entry_due:
        return "late"
    if soon is None or task.entry_due <= soon:
        return "due_soon"
    return "on_time"


def joint_inspection_counts(*, organisation_ids, year: int) -> dict:
    """Completed (approved) joint inspections of key objects per quarter of ``year``, against
    the key objects of the registry, so 衡水's "every quarter, at least 5% a year" (004 §二(五))
    is checked on what happened, not on what was drawn. Targeted checks count too: a joint
    check is joint whatever opened it."""
    from django.db.models import Count
    from django.db.models.functions import ExtractQuarter

    from registry.models import PollutionSource

    rows = (
        InspectionTask.objects.filter(
            organisation_id__in=organisation_ids,
            joint=True,
            state=InspectionTask.State.APPROVED,
            source__supervision_class="key",
            period_start__year=year,
        )
        .annotate(q=ExtractQuarter("period_start"))
        .values("q")
        .annotate(n=Count("source_id", distinct=True))
    )
    quarters = {q: 0 for q in (1, 2, 3, 4)}
    for row in rows:
        quarters[row["q"]] = row["n"]
    year_total = (
        InspectionTask.objects.filter(
            organisation_id__in=organisation_ids,
            joint=True,
            state=InspectionTask.State.APPROVED,
            source__supervision_class="key",
            period_start__year=year,
        )
        .values("source_id")
        .distinct()
        .count()
    )
    key_objects = PollutionSource.objects.filter(
        organisation_id__in=organisation_ids, supervision_class="key", status="active"
    ).count()
    return {
        "year": year,
        "quarters": quarters,
        "year_total": year_total,
        "key_objects": key_objects,
        "share": round(100 * year_total / key_objects, 1) if key_objects else None,
    }
