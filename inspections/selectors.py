"""Reads of inspection tasks, already filtered by what the user may see.

The confidentiality rule is the draw's: an inspector sees a drawn task only through the
per-object grant ``lottery.view_drawn_task`` on its drawn source (given when the draw
executed, withdrawn on recusal or replacement); staff see their organisations' tasks.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import BigIntegerField, QuerySet
from django.db.models.functions import Cast
from django.http import Http404
from guardian.models import UserObjectPermission
from guardian.shortcuts import get_objects_for_user

from core.roles import Cap, user_can
from core.selectors import scope_queryset
from inspections.models import InspectionRecord, InspectionTask
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
        return tasks.filter(selection_id__in=granted)
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
    if task.selection_id is None:
        return []
    return effective_teams([task.selection])[task.selection_id]


def record_current(task: InspectionTask) -> InspectionRecord | None:
    """The latest version of the task's record."""
    return task.records.order_by("-version").first()


def record_approved(task: InspectionTask) -> InspectionRecord | None:
    """The latest approved version: the one publication uses."""
    return task.records.filter(approved=True).order_by("-version").first()
