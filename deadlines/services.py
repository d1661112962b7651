"""The daily deadline job and the only writers of obligations and notifications.

``deadlines_run`` works from state, never from "since the last run": each run derives the
obligations that should exist today from plans, draws, tasks, published results, inspectors
and the calendar, and moves each one on (open → reminded → overdue → escalated, or done).
Three days of downtime are made good by one run. Every transition is a conditional UPDATE
(``state=<from>``) and every obligation has a unique (kind, key), every notification a unique
(recipient, obligation, stage): running twice, or in two workers, makes nothing twice.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.calendar import calendar_coverage
from core.errors import ServiceError
from core.models import Organisation, Role, User
from deadlines.models import Notification, Obligation
from deadlines.providers import Wanted, providers
from inspections.models import InspectionTask
from inspections.selectors import task_team
from inspectors.models import Inspector, Unavailability
from lottery.deadline_rules import (
    DeadlineNotComputable,
    after_due,
    annual_due,
    next_quarter_of,
    quarter_due,
    quarter_of_day,
    working_days_before,
)
from lottery.models import Draw, Plan
from lottery.selectors import DRAWING_KINDS, deadline_rules_for
from publication.models import PublishedResult
from publication.services import check_ended_on
from registry.models import CheckItem

logger = logging.getLogger(__name__)

K = Obligation.Kind
S = Obligation.State
LIVE = [S.OPEN, S.REMINDED, S.OVERDUE, S.ESCALATED]
#: Kinds whose missed deadline goes to the bureau's leader and the city team.
ESCALATING = {
    K.CHECK_ITEMS,
    K.ANNUAL_PLAN,
    K.QUARTERLY_PLAN,
    K.QUARTERLY_DRAW,
    K.RESULT_ENTRY,
    K.RESULT_PUBLICATION,
    K.QUARTER_DONE,
    K.QUARTERLY_REPORT,
    K.ANNUAL_REPORT,
    K.CITY_RETURN,
    K.YEAR_END_REPORT,
}
YEARLY = {K.CHECK_ITEMS: "check_items", K.ANNUAL_PLAN: "annual_plan"}
QUARTERLY = {
    K.QUARTERLY_PLAN: "quarterly_plan",
    K.QUARTERLY_DRAW: "quarterly_draw",
    K.QUARTER_DONE: "quarter_done",
}
TASK_CLOSED = [InspectionTask.State.APPROVED, InspectionTask.State.CANCELLED]
#: Warnings: told once when they arise, overdue (to the same people) when the day passes.
WARNINGS = {K.CERTIFICATE, K.LEAVE, K.CALENDAR}
ENTRY_OPEN = [
    InspectionTask.State.ASSIGNED,
    InspectionTask.State.IN_PROGRESS,
    InspectionTask.State.RECORDED,
]
CERTIFICATE_WARNING_DAYS = 60
#: From this day of the year on, next year's holiday schedule must be loaded.
CALENDAR_WARNING_FROM = (11, 1)


def remind_working_days() -> int:
    return int(getattr(settings, "DEADLINES_REMIND_WORKING_DAYS", 2))


def catch_up_days() -> int:
    """Deadlines further back than this are not turned into obligations on a first run."""
    return int(getattr(settings, "DEADLINES_CATCH_UP_DAYS", 31))


def _remind_on(w: Wanted, today: date) -> date | None:
    if w.remind_now:
        return today
    if w.due_on is None:
        return None
    try:
        return working_days_before(w.due_on, remind_working_days())
    except DeadlineNotComputable:
        # Only the reminder, never the deadline: without the schedule, count calendar days.
        return w.due_on - timedelta(days=remind_working_days())


# --- what should exist today -------------------------------------------------------------


def _titles() -> dict:
    return {
        K.CHECK_ITEMS: _("%(org)s: publish the %(year)s check-item list"),
        K.ANNUAL_PLAN: _("%(org)s: publish the %(year)s annual plan"),
        K.QUARTERLY_PLAN: _(
            "%(org)s: publish the %(year)s Q%(q)s plan and return it to the city team"
        ),
        K.QUARTERLY_DRAW: _("%(org)s: the %(year)s Q%(q)s draw"),
        K.QUARTER_DONE: _(
            "%(org)s: finish the %(year)s Q%(q)s checks and return the results to the city team"
        ),
    }


def _quarterly(today: date, horizon: date) -> tuple[list[Wanted], set[tuple[str, str]]]:
    """Each drawing bureau's yearly events (this year and the next) and quarterly events (this
    quarter and the next: 衡水's next-quarter draw falls in this one). Returns the obligations
    and the (kind, key) already fulfilled."""
    organisations = list(Organisation.objects.filter(kind__in=DRAWING_KINDS, is_active=True))
    regimes = deadline_rules_for(organisations)
    this = quarter_of_day(today)
    quarters = [this, next_quarter_of(*this)]
    years = [today.year, today.year + 1]
    titles = _titles()
    wanted, done = [], set()
    for org in organisations:
        name = org.short_name or org.name
        periods = [(kind, year, None) for kind in YEARLY for year in years] + [
            (kind, year, quarter) for kind in QUARTERLY for year, quarter in quarters
        ]
        for kind, year, quarter in periods:
            dates: dict[str, Any]  # Wanted's date fields, or the reason there is no date
            try:
                if quarter is None:
                    due = annual_due(regimes[org.pk], YEARLY[kind], year)
                else:
                    due = quarter_due(regimes[org.pk], QUARTERLY[kind], year, quarter)
                dates = {"due_on": due.due, "opens_on": due.opens}
            except DeadlineNotComputable as exc:
                dates = {"due_on": None, "due_problem": exc.message[:200]}
            if dates["due_on"] is not None and dates["due_on"] < horizon:
                continue
            if dates["due_on"] is not None and dates["due_on"] > today + timedelta(days=120):
                continue  # next year's annual events: made when they come near
            key = f"org{org.pk}-{year}" + (f"q{quarter}" if quarter else "")
            wanted.append(
                Wanted(
                    kind=kind,
                    key=key,
                    organisation_id=org.pk,
                    title=titles[kind] % {"org": name, "year": year, "q": quarter},
                    link=reverse("lottery:plan_list"),
                    responsible=Obligation.Responsible.CLERK,
                    year=year,
                    quarter=quarter,
                    **dates,
                )
            )
    candidates = [
        Obligation(kind=w.kind, organisation_id=w.organisation_id, year=w.year, quarter=w.quarter)
        for w in wanted
    ]
    fulfilled = _conditioned(candidates, _period_done(candidates))
    for w, candidate in zip(wanted, candidates, strict=True):
        if id(candidate) in fulfilled:
            done.add((w.kind, w.key))
    return wanted, done


def _conditioned(obligations: list[Obligation], fulfilled: set[int]) -> set[int]:
    """Of ``fulfilled`` (by ``id()``), those every provider that conditions their kind also
    finds done (``deadlines.providers``: the quarterly plan's and results' returns)."""
    for provider in providers():
        asked = [o for o in obligations if id(o) in fulfilled and o.kind in provider.conditions]
        if asked:
            fulfilled = fulfilled - {id(o) for o in asked} | (provider.done(asked) & fulfilled)
    return fulfilled


def _provided(today: date, horizon: date) -> tuple[list[Wanted], set[tuple[str, str]]]:
    """The providers' obligations (those due before ``horizon`` or more than 120 days ahead
    left out, as for the plans) and the (kind, key) already fulfilled."""
    wanted, done = [], set()
    for provider in providers():
        mine = [
            w
            for w in provider.wanted(today, horizon)
            if w.due_on is None or horizon <= w.due_on <= today + timedelta(days=120)
        ]
        candidates = [
            Obligation(
                kind=w.kind,
                key=w.key,
                organisation_id=w.organisation_id,
                year=w.year,
                quarter=w.quarter,
            )
            for w in mine
        ]
        fulfilled = provider.done(candidates)
        done |= {
            (w.kind, w.key) for w, c in zip(mine, candidates, strict=True) if id(c) in fulfilled
        }
        wanted += mine
    return wanted, done


def _period_done(obligations: list[Obligation]) -> set[int]:
    """Of yearly and quarterly obligations, those fulfilled (by ``id()``, so unsaved ones can
    be asked too): the check-item list published, the annual or quarterly plan published, the
    quarter's draw executed, every check of the quarter's draw approved or cancelled."""
    done = set()
    for ob in obligations:
        if ob.organisation_id is None or ob.year is None:
            continue  # not a yearly or quarterly obligation
        if ob.kind == K.CHECK_ITEMS:
            finished = CheckItem.objects.filter(
                organisation_id=ob.organisation_id, year=ob.year, published_at__isnull=False
            ).exists()
        elif ob.kind == K.ANNUAL_PLAN:
            finished = Plan.objects.filter(
                organisation_id=ob.organisation_id,
                kind=Plan.Kind.ANNUAL,
                year=ob.year,
                status=Plan.Status.PUBLISHED,
            ).exists()
        else:
            plans = Plan.objects.filter(
                organisation_id=ob.organisation_id,
                kind=Plan.Kind.QUARTERLY,
                year=ob.year,
                quarter=ob.quarter,
            )
            draws = Draw.objects.filter(plan__in=plans, status=Draw.Status.EXECUTED)
            if ob.kind == K.QUARTERLY_PLAN:
                finished = plans.filter(status=Plan.Status.PUBLISHED).exists()
            elif ob.kind == K.QUARTERLY_DRAW:
                finished = draws.exists()
            else:  # the quarter's checks: all recorded, approved (or cancelled)
                finished = (
                    draws.exists()
                    and not InspectionTask.objects.filter(selection__draw__in=draws)
                    .exclude(state__in=TASK_CLOSED)
                    .exists()
                )
        if finished:
            done.add(id(ob))
    return done


def _tasks(today: date, horizon: date) -> list[Wanted]:
    """Result entry for each ended check not yet submitted; publication for each ended random
    check not yet published."""
    tasks = list(
        InspectionTask.objects.filter(handling_ended_on__isnull=False)
        .exclude(state=InspectionTask.State.CANCELLED)
        .filter(
            Q(state__in=ENTRY_OPEN)
            | Q(kind=InspectionTask.Kind.DRAWN)
            & ~Q(pk__in=PublishedResult.objects.values("task_id"))
        )
        .select_related("organisation", "source", "selection__draw")
    )
    regimes = deadline_rules_for(list({t.organisation for t in tasks}))
    wanted = []
    for task in tasks:
        rules = regimes[task.organisation_id]
        link = reverse("inspections:task_detail", args=[task.pk])
        source = task.source.name
        draw = task.selection.draw if task.selection is not None else None
        if draw is not None and draw.disclosed_at is None:
            # Which sources were drawn is confidential until disclosure, and obligations are
            # read (and escalated) beyond those who may see the list: name the task instead.
            source = _("task #%(task)s of draw %(draw)s") % {"task": task.pk, "draw": draw.number}
        if task.state in ENTRY_OPEN:
            wanted.append(
                _after(
                    K.RESULT_ENTRY,
                    task,
                    rules,
                    "result_entry",
                    task.handling_ended_on,
                    _("Enter the result of the check of %(source)s") % {"source": source},
                    link,
                    Obligation.Responsible.TEAM,
                    horizon,
                )
            )
        if task.kind == InspectionTask.Kind.DRAWN:
            ended = check_ended_on(task)
            if ended is not None:
                wanted.append(
                    _after(
                        K.RESULT_PUBLICATION,
                        task,
                        rules,
                        "result_publication",
                        ended,
                        _("Approve and publish the result of the check of %(source)s")
                        % {"source": source},
                        link,
                        Obligation.Responsible.LEADER,
                        horizon,
                    )
                )
    return [w for w in wanted if w is not None]


def _after(kind, task, rules, event, start, title, link, responsible, horizon) -> Wanted | None:
    dates: dict[str, Any]  # Wanted's date fields, or the reason there is no date
    try:
        dates = {"due_on": after_due(rules, event, start).due}
    except DeadlineNotComputable as exc:
        dates = {"due_on": None, "due_problem": exc.message[:200]}
    if dates["due_on"] is not None and dates["due_on"] < horizon:
        return None
    return Wanted(
        kind=kind,
        key=f"task{task.pk}",
        organisation_id=task.organisation_id,
        title=title,
        link=link,
        responsible=responsible,
        task_id=task.pk,
        **dates,
    )


def _tasks_done(obligations: list[Obligation]) -> set[int]:
    ids = {ob.task_id for ob in obligations if ob.task_id is not None}
    states = dict(InspectionTask.objects.filter(pk__in=ids).values_list("pk", "state"))
    published = set(
        PublishedResult.objects.filter(task_id__in=ids).values_list("task_id", flat=True)
    )
    done = set()
    for ob in obligations:
        state = states.get(ob.task_id) if ob.task_id is not None else None
        if (
            state is None
            or state == InspectionTask.State.CANCELLED
            or ob.kind == K.RESULT_ENTRY
            and state not in ENTRY_OPEN
            or ob.kind == K.RESULT_PUBLICATION
            and ob.task_id in published
        ):
            done.add(ob.pk)
    return done


def _warnings(today: date) -> list[Wanted]:
    wanted = []
    # Certificates running out within 60 days.
    expiring = Inspector.objects.filter(
        kind=Inspector.Kind.ENFORCEMENT,
        is_active=True,
        certificate_valid_until__gte=today,
        certificate_valid_until__lte=today + timedelta(days=CERTIFICATE_WARNING_DAYS),
    ).exclude(certificate_number="")
    for inspector in expiring:
        valid_until = inspector.certificate_valid_until
        if valid_until is None:  # excluded by the filter
            continue
        wanted.append(
            Wanted(
                kind=K.CERTIFICATE,
                key=f"inspector{inspector.pk}-{valid_until.isoformat()}",
                organisation_id=inspector.organisation_id,
                title=_("The enforcement certificate of %(name)s runs out on %(date)s")
                % {"name": inspector.name, "date": valid_until.isoformat()},
                link=reverse("inspectors:inspector_detail", args=[inspector.pk]),
                responsible=Obligation.Responsible.CLERK,
                due_on=valid_until,
                inspector_id=inspector.pk,
                remind_now=True,
            )
        )
    # Leave, training or secondment during the period of a plan not yet drawn.
    plans = list(
        Plan.objects.filter(
            planned_end__gte=today,
            status__in=[Plan.Status.SUBMITTED, Plan.Status.APPROVED, Plan.Status.PUBLISHED],
        ).exclude(draws__status=Draw.Status.EXECUTED)
    )
    for plan in plans:
        clashes = Unavailability.objects.filter(
            inspector__organisation_id=plan.organisation_id,
            inspector__is_active=True,
            start__lte=plan.planned_end,
            end__gte=plan.planned_start,
        ).select_related("inspector")
        for leave in clashes:
            wanted.append(
                Wanted(
                    kind=K.LEAVE,
                    key=f"plan{plan.pk}-leave{leave.pk}",
                    organisation_id=plan.organisation_id,
                    title=_(
                        "%(name)s is unavailable (%(reason)s) from %(start)s to %(end)s, during "
                        "the period of %(plan)s"
                    )
                    % {
                        "name": leave.inspector.name,
                        "reason": leave.get_reason_display(),
                        "start": leave.start.isoformat(),
                        "end": leave.end.isoformat(),
                        "plan": plan.title,
                    },
                    link=reverse("lottery:plan_detail", args=[plan.pk]),
                    responsible=Obligation.Responsible.CLERK,
                    due_on=plan.planned_start,
                    plan_id=plan.pk,
                    inspector_id=leave.inspector_id,
                    remind_now=True,
                )
            )
    # The holiday schedule: this year's always, next year's from 1 November.
    years = [today.year]
    if (today.month, today.day) >= CALENDAR_WARNING_FROM:
        years.append(today.year + 1)
    for year, covered in calendar_coverage(years).items():
        if covered:
            continue
        wanted.append(
            Wanted(
                kind=K.CALENDAR,
                key=f"calendar{year}",
                organisation_id=None,
                title=_(
                    "The %(year)s holiday schedule is not loaded: deadlines in %(year)s cannot "
                    "be computed"
                )
                % {"year": year},
                link=reverse("admin:index"),
                responsible=Obligation.Responsible.ADMIN,
                due_on=date(year - 1, 12, 31) if year > today.year else today,
                remind_now=True,
            )
        )
    return wanted


def _warnings_done(obligations: list[Obligation], wanted_keys: set[tuple[str, str]]) -> set[int]:
    """A warning whose condition is gone (certificate renewed, leave withdrawn, plan drawn,
    schedule loaded) is done."""
    return {ob.pk for ob in obligations if (ob.kind, ob.key) not in wanted_keys}


# --- the job ---------------------------------------------------------------------------------


def obligations_sync(*, today: date) -> dict:
    """Make the obligations today's state calls for (each once), refresh the dates of those
    not yet acted on, and mark done what has been done."""
    now = timezone.now()
    horizon = today - timedelta(days=catch_up_days())
    quarterly, quarterly_done = _quarterly(today, horizon)
    provided, provided_done = _provided(today, horizon)
    quarterly_done |= provided_done
    warnings = _warnings(today)
    wanted = quarterly + provided + _tasks(today, horizon) + warnings
    existing = {
        (ob.kind, ob.key): ob
        for ob in Obligation.objects.filter(
            key__in=[w.key for w in wanted], kind__in={w.kind for w in wanted}
        )
    }
    new = []
    refreshed = 0
    for w in wanted:
        if (w.kind, w.key) in quarterly_done and (w.kind, w.key) not in existing:
            continue  # done before it was ever due: nothing to track
        fields = {
            "organisation_id": w.organisation_id,
            "title": w.title[:300],
            "link": w.link,
            "responsible": w.responsible,
            "due_on": w.due_on,
            "opens_on": w.opens_on,
            "remind_on": _remind_on(w, today),
            "due_problem": w.due_problem,
            "year": w.year,
            "quarter": w.quarter,
            "plan_id": w.plan_id,
            "task_id": w.task_id,
            "inspector_id": w.inspector_id,
        }
        ob = existing.get((w.kind, w.key))
        if ob is None:
            new.append(Obligation(kind=w.kind, key=w.key, **fields))
        elif ob.state == S.OPEN and any(getattr(ob, k) != v for k, v in fields.items()):
            # The regime or the calendar changed before anyone was told: follow it.
            refreshed += Obligation.objects.filter(pk=ob.pk, state=S.OPEN).update(**fields)
    created = Obligation.objects.bulk_create(new, ignore_conflicts=True)
    # Done: from state, for every live obligation however old.
    live = list(Obligation.objects.filter(state__in=LIVE))
    periodic = [o for o in live if o.kind in YEARLY or o.kind in QUARTERLY]
    fulfilled = _conditioned(periodic, _period_done(periodic))
    done_ids = {o.pk for o in periodic if id(o) in fulfilled}
    for provider in providers():
        owned = [o for o in live if o.kind in provider.kinds]
        if owned:
            fulfilled = provider.done(owned)
            done_ids |= {o.pk for o in owned if id(o) in fulfilled}
    done_ids |= _tasks_done([o for o in live if o.kind in (K.RESULT_ENTRY, K.RESULT_PUBLICATION)])
    wanted_keys = {(w.kind, w.key) for w in warnings}
    done_ids |= _warnings_done([o for o in live if o.kind in WARNINGS], wanted_keys)
    done = Obligation.objects.filter(pk__in=done_ids, state__in=LIVE).update(
        state=S.DONE, done_at=now
    )
    return {"created": len(created), "refreshed": refreshed, "done": done}


def _users(organisation_id, roles) -> list[User]:
    if organisation_id is None:
        return []
    return list(
        User.objects.filter(organisation_id=organisation_id, role__in=roles, is_active=True)
    )


def responsible_users(ob: Obligation) -> list[User]:
    """Who must act: the clerks, the leaders, the inspection team (the clerks when the task
    has no team in the system) or the administrators."""
    if ob.responsible == Obligation.Responsible.ADMIN:
        return list(User.objects.filter(role=Role.ADMIN, is_active=True))
    if ob.responsible == Obligation.Responsible.LEADER:
        return _users(ob.organisation_id, [Role.LEADER])
    if ob.responsible == Obligation.Responsible.REVIEWER:
        return _users(ob.organisation_id, [Role.CITY_REVIEWER])
    if ob.responsible == Obligation.Responsible.TEAM and ob.task is not None:
        team_user_ids = [
            a.inspector.user_id for a in task_team(ob.task) if a.inspector.user_id is not None
        ]
        users = list(User.objects.filter(pk__in=team_user_ids, is_active=True))
        if users:
            return users
    users = _users(ob.organisation_id, [Role.CLERK])
    if ob.kind == K.CERTIFICATE and ob.inspector is not None and ob.inspector.user_id:
        users += list(User.objects.filter(pk=ob.inspector.user_id, is_active=True))
    return users or _users(ob.organisation_id, [Role.LEADER])


def escalation_users(ob: Obligation) -> list[User]:
    """The bureau's leaders and the reviewers of its city's enforcement team."""
    users = _users(ob.organisation_id, [Role.LEADER])
    organisation = ob.organisation
    team: Organisation | None
    if organisation is not None:
        if organisation.kind == Organisation.Kind.CITY_TEAM:
            team = organisation
        else:
            team = Organisation.objects.filter(
                kind=Organisation.Kind.CITY_TEAM, parent_id=organisation.parent_id
            ).first()
        if team is not None:
            users += _users(team.pk, [Role.CITY_REVIEWER])
    return users


def _notify(users: list[User], ob: Obligation, stage: str, text: str) -> int:
    """One notification per person (once per obligation and stage), and an e-mail to those
    with an address once the transaction commits."""
    unique = {u.pk: u for u in users}
    rows = Notification.objects.bulk_create(
        [
            Notification(recipient=u, obligation=ob, stage=stage, text=text[:500], link=ob.link)
            for u in unique.values()
        ],
        ignore_conflicts=True,
    )
    emails = [u.email for u in unique.values() if u.email]
    if emails and getattr(settings, "DEADLINES_EMAIL", True):
        transaction.on_commit(lambda: _email(ob.pk, stage, text, ob.link, emails))
    return len(rows)


def _email(obligation_id: int, stage: str, text: str, link: str, emails: list[str]) -> None:
    base = getattr(settings, "DEADLINES_SITE_URL", "")
    subject = _("[Random spot checks] %(text)s") % {"text": text[:80]}
    try:
        send_mail(subject, f"{text}\n\n{base}{link}", None, emails, fail_silently=False)
    except Exception:
        logger.exception("deadline mail failed for obligation %s", obligation_id)
        return
    Notification.objects.filter(
        obligation_id=obligation_id, stage=stage, recipient__email__in=emails
    ).update(emailed_at=timezone.now())


def _due_words(ob: Obligation) -> str:
    assert ob.due_on is not None, "only a dated obligation gets a reminder (_remind_on)"
    if ob.opens_on:
        return _("%(start)s to %(end)s") % {
            "start": ob.opens_on.isoformat(),
            "end": ob.due_on.isoformat(),
        }
    return ob.due_on.isoformat()


def obligations_advance(*, today: date) -> dict:
    """Overdue and escalation first (what a downtime let pass is overdue, not "due soon"),
    then reminders. Each step claims the obligation with a conditional UPDATE."""
    now = timezone.now()
    counts = {"overdue": 0, "escalated": 0, "reminded": 0, "notifications": 0}
    late = Obligation.objects.filter(
        state__in=[S.OPEN, S.REMINDED], due_on__lt=today
    ).select_related("organisation")
    for ob in late:
        if ob.due_on is None:  # excluded by the filter
            continue
        with transaction.atomic():
            if not Obligation.objects.filter(pk=ob.pk, state__in=[S.OPEN, S.REMINDED]).update(
                state=S.OVERDUE, overdue_at=now
            ):
                continue
            counts["overdue"] += 1
            text = _("Overdue since %(due)s: %(title)s") % {
                "due": ob.due_on.isoformat(),
                "title": ob.title,
            }
            counts["notifications"] += _notify(responsible_users(ob), ob, "overdue", text)
            if ob.kind not in ESCALATING:
                continue
            recipients = escalation_users(ob)
            if not recipients:
                continue
            Obligation.objects.filter(pk=ob.pk, state=S.OVERDUE).update(
                state=S.ESCALATED, escalated_at=now
            )
            counts["escalated"] += 1
            text = _("Missed deadline (%(due)s), escalated to you: %(title)s") % {
                "due": ob.due_on.isoformat(),
                "title": ob.title,
            }
            counts["notifications"] += _notify(recipients, ob, "escalation", text)
    soon = Obligation.objects.filter(state=S.OPEN, remind_on__lte=today).filter(
        Q(due_on__gte=today) | Q(due_on__isnull=True)
    )
    for ob in soon.select_related("organisation"):
        with transaction.atomic():
            if not Obligation.objects.filter(pk=ob.pk, state=S.OPEN).update(
                state=S.REMINDED, reminded_at=now
            ):
                continue
            counts["reminded"] += 1
            if ob.kind in WARNINGS:
                stage, text = "warning", ob.title
            else:
                stage = "reminder"
                text = _("Due %(due)s: %(title)s") % {"due": _due_words(ob), "title": ob.title}
            counts["notifications"] += _notify(responsible_users(ob), ob, stage, text)
    return counts


def deadlines_run(*, today: date | None = None) -> dict:
    """The daily job: derive, then advance. Safe to run any number of times a day."""
    today = today or timezone.localdate()
    with translation.override(settings.LANGUAGE_CODE):
        result = obligations_sync(today=today)
        result.update(obligations_advance(today=today))
    return result


# --- notifications read by their recipient --------------------------------------------------


def notification_mark_read(
    *, actor: User | AnonymousUser | None, notification_ids: list[int] | None = None
) -> int:
    """Mark the actor's own notifications read (all of them when no ids are given)."""
    if actor is None or not actor.is_authenticated:
        raise ServiceError(_("Log in to read notifications."), code="denied")
    rows = Notification.objects.filter(recipient=actor, read_at__isnull=True)
    if notification_ids is not None:
        rows = rows.filter(pk__in=notification_ids)
    return rows.update(read_at=timezone.now())
