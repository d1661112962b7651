"""Plan and draw figures for the home pages: this quarter at a glance, per role."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.home import Card
from core.roles import Cap, user_can
from lottery.models import Draw, Plan, Substitution
from lottery.selectors import draw_list_for_user, draw_tasks_for_inspector, plan_list_for_user


def cards(user) -> list[Card]:
    today = timezone.localdate()
    year, quarter = today.year, (today.month - 1) // 3 + 1
    if user_can(user, Cap.OWN_TASKS):
        tasks = draw_tasks_for_inspector(user=user)
        return [
            Card(
                "tasks",
                _("My drawn inspection tasks"),
                str(len(tasks)),
                _("Confidential until the inspection."),
                reverse("lottery:my_draw_tasks"),
            )
        ]
    result = []
    if user_can(user, Cap.REVIEW_COUNTIES):
        draws = draw_list_for_user(user=user).filter(plan__year=year, plan__quarter=quarter)
        executed = draws.filter(status=Draw.Status.EXECUTED).count()
        plans = plan_list_for_user(user=user).filter(year=year, quarter=quarter).count()
        late = today.day > 10 and today.month == 3 * (quarter - 1) + 1
        result.append(
            Card(
                "quarter",
                _("Draws executed this quarter"),
                f"{executed} / {plans}",
                _("Due by the 10th of the quarter's first month."),
                reverse("lottery:quota_overview"),
                "danger" if late and executed < plans else "",
            )
        )
        return result
    if not user.organisation_id or not user_can(user, Cap.VIEW_PLANS):
        return result
    plan = Plan.objects.filter(
        organisation_id=user.organisation_id, kind=Plan.Kind.QUARTERLY, year=year, quarter=quarter
    ).first()
    if plan is None:
        value, note, tone = (
            _("No plan"),
            _("Quarterly plan due by the 5th of the first month."),
            "warning",
        )
        url = reverse("lottery:plan_list")
    else:
        draw = plan.draws.exclude(status=Draw.Status.DISCARDED).first()
        value = draw.get_status_display() if draw else plan.get_status_display()
        note, tone = plan.title, "success" if draw and draw.status == Draw.Status.EXECUTED else ""
        url = reverse("lottery:plan_detail", args=[plan.pk])
    result.append(Card("quarter", _("This quarter's plan and draw"), value, note, url, tone))
    if user_can(user, Cap.APPROVE):
        waiting = (
            Substitution.objects.filter(
                draw__organisation_id=user.organisation_id, status=Substitution.Status.REQUESTED
            ).count()
            + Plan.objects.filter(
                organisation_id=user.organisation_id, status=Plan.Status.DRAFT
            ).count()
        )
        result.append(
            Card(
                "approvals",
                _("Waiting for your approval"),
                str(waiting),
                _("Draft plans and substitution requests."),
                reverse("lottery:plan_list"),
                "warning" if waiting else "",
            )
        )
    return result
