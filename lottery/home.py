"""Plan and draw figures for the home pages: this quarter at a glance, per role."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.home import Card
from core.roles import Cap, user_can
from lottery.deadline_rules import DeadlineNotComputable, quarter_due
from lottery.display import class_label, deadline_status
from lottery.models import Plan
from lottery.selectors import (
    DRAWING_KINDS,
    deadline_rules_for,
    decisions_pending_for_user,
    plan_list_for_user,
    quarter_standings,
    quarter_standings_for_user,
)


def cards(user) -> list[Card]:
    today = timezone.localdate()
    year, quarter = today.year, (today.month - 1) // 3 + 1
    if user_can(user, Cap.OWN_TASKS):
        return []  # an inspector's tasks are the inspections app's card
    if user_can(user, Cap.REVIEW_COUNTIES):
        return [_review_card(user, today, year, quarter)]
    organisation = user.organisation
    if organisation is None or not user_can(user, Cap.VIEW_PLANS):
        return []
    result = []
    if organisation.kind in DRAWING_KINDS:  # only the bureaus that draw have a quarterly plan
        standing = quarter_standings(organisations=[organisation], year=year, quarter=quarter)[0]
        result += [_plan_card(standing, year, quarter), _deadline_card(standing, today)]
    if user_can(user, Cap.EDIT_PLANS) and not user_can(user, Cap.APPROVE):
        returned = _returned_card(user)
        if returned is not None:
            result.insert(0, returned)
    if user_can(user, Cap.APPROVE):
        pending = decisions_pending_for_user(user=user)
        result.insert(
            min(1, len(result)),
            Card(
                "approvals",
                _("Waiting for your approval"),
                str(len(pending)),
                _("Plans awaiting approval %(plans)s, substitution requests %(substitutions)s.")
                % {"plans": len(pending.plans), "substitutions": len(pending.substitutions)},
                reverse("lottery:approvals"),
                "warning" if pending else "",
            ),
        )
    return result


def _returned_card(user) -> Card | None:
    """Drafts a leader sent back with a reason: the clerk must fix and resubmit them, and
    would otherwise only find out by opening each plan."""
    returned = list(
        plan_list_for_user(user=user)
        .filter(
            organisation_id=user.organisation_id,
            status=Plan.Status.DRAFT,
            returned_at__isnull=False,
        )
        .order_by("-returned_at", "pk")[:50]
    )
    if not returned:
        return None
    latest = returned[0]
    return Card(
        "returned",
        _("Plans returned to you"),
        str(len(returned)),
        _("%(title)s: %(reason)s") % {"title": latest.title, "reason": latest.return_reason},
        reverse("lottery:plan_detail", args=[latest.pk])
        if len(returned) == 1
        else reverse("lottery:plan_list"),
        "danger",
    )


def _review_card(user, today, year: int, quarter: int) -> Card:
    """The same units and the same test as the reviewer's overview (one selector)."""
    standings = quarter_standings_for_user(user=user, year=year, quarter=quarter)
    executed = sum(1 for s in standings if s.executed)
    late_units = [s for s in standings if s.late(today)]
    late = len(late_units)
    # Units under different regimes have different deadlines: name the earliest a late unit
    # missed (a late unit has a due date by definition).
    dues = [s.due for s in late_units if s.due is not None]
    if dues:
        due = min(dues)
        note = ngettext(
            "%(n)s unit late; the draw was due by %(due)s.",
            "%(n)s units late; the draw was due by %(due)s.",
            late,
        ) % {"n": late, "due": due.isoformat()}
    else:
        upcoming = sorted({s.due for s in standings if s.due is not None and not s.executed})
        note = (
            _("The draw is due by %(due)s.") % {"due": upcoming[0].isoformat()} if upcoming else ""
        )
    return Card(
        "quarter",
        _("Units that executed this quarter's draw"),
        f"{executed} / {len(standings)}",
        note,
        reverse("lottery:quota_overview"),
        "danger" if late else ("success" if standings and executed == len(standings) else ""),
    )


def _plan_due_text(organisation, year: int, quarter: int) -> str:
    """When the quarterly plan is due under the bureau's own deadline regime."""
    rules = deadline_rules_for([organisation])[organisation.pk]
    try:
        due = quarter_due(rules, "quarterly_plan", year, quarter).due
    except DeadlineNotComputable as exc:
        return str(exc.messages[0])
    return _("The quarterly plan is due by %(due)s.") % {"due": due.isoformat()}


def _plan_card(standing, year: int, quarter: int) -> Card:
    plan, draw = standing.plan, standing.draw
    if plan is None:
        return Card(
            "quarter",
            _("This quarter's plan and draw"),
            _("No plan"),
            _plan_due_text(standing.organisation, year, quarter),
            reverse("lottery:plan_list"),
            "warning",
        )
    return Card(
        "quarter",
        _("This quarter's plan and draw"),
        draw.get_status_display() if draw else plan.get_status_display(),
        plan.title,
        reverse("lottery:plan_detail", args=[plan.pk]),
        "success" if standing.executed else "",
    )


def _deadline_card(standing, today) -> Card:
    """The quarter's draw against its deadline, and the drawn counts against the quotas."""
    status = deadline_status(standing, today)
    draw = standing.draw
    if draw is None:
        note = (
            _("Quotas are fixed when the draw is prepared; the draw is due by %(due)s.")
            % {"due": standing.due.isoformat()}
            if standing.due is not None
            else standing.due_problem
        )
    elif standing.executed:
        note = " · ".join(
            f"{class_label(q['class'])} {standing.drawn.get(q['class'], 0)}/{q['required']}"
            for q in draw.quotas
        )
    else:
        note = " · ".join(f"{class_label(q['class'])} {q['required']}" for q in draw.quotas)
    if draw is not None:
        url = reverse("lottery:draw_detail", args=[draw.pk])
    elif standing.plan is not None:
        url = reverse("lottery:plan_detail", args=[standing.plan.pk])
    else:
        url = reverse("lottery:plan_list")
    tone = "danger" if status["late"] else ("success" if standing.executed else "")
    return Card("deadline", _("Quotas and deadlines"), status["text"], note, url, tone)
