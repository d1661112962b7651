"""Inspection figures for the home pages: open tasks, late entries, results to approve."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.home import Card
from core.roles import Cap, user_can
from inspections.models import InspectionTask
from inspections.selectors import task_list_for_user

State = InspectionTask.State
OPEN = [State.ASSIGNED, State.IN_PROGRESS, State.RECORDED]


def cards(user) -> list[Card]:
    today = timezone.localdate()
    tasks = task_list_for_user(user=user)
    late = tasks.filter(state__in=OPEN, entry_due__lt=today).count()
    if user_can(user, Cap.OWN_TASKS):
        open_ = tasks.filter(state__in=OPEN).count()
        return [
            Card(
                "tasks",
                _("My inspection tasks"),
                str(open_),
                _("Open tasks; %(late)s late. Confidential until the inspection.") % {"late": late},
                reverse("inspections:my_tasks"),
                "danger" if late else "",
            )
        ]
    result = []
    if user_can(user, Cap.APPROVE):
        waiting = tasks.filter(state=State.SUBMITTED).count()
        if waiting:
            result.append(
                Card(
                    "results_to_approve",
                    _("Results waiting for approval"),
                    str(waiting),
                    _("Submitted inspection records."),
                    reverse("inspections:board") + "?state=submitted",
                    "warning",
                )
            )
    if user_can(user, Cap.VIEW_DRAWS) and late:
        result.append(
            Card(
                "results_late",
                _("Result entry late"),
                str(late),
                _("Tasks past their 7-working-day entry deadline."),
                reverse("inspections:board") + "?late=on",
                "danger",
            )
        )
    return result
