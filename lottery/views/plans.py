"""Plan pages: the list, the form (a new draft or a draft's change), the detail with its
quotas, and the steps of its life (submit, return, approve, publish, leave to draw early)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import ServiceError
from core.models import Organisation
from core.paging import page_for_request
from core.request_types import AuthenticatedHttpRequest
from core.roles import Cap, user_can
from lottery import services
from lottery.display import class_label, class_minimums, describe_rules, plan_history
from lottery.forms import PlanForm, PrepareForm, ReturnForm
from lottery.models import Draw, Plan, RuleSet
from lottery.periods import default_inspection_period, next_quarter
from lottery.pools import quota_for_plan
from lottery.rules import PRESETS, preset_for
from lottery.selectors import (
    draw_list_for_user,
    earlier_undrawn_plans,
    other_open_draw,
    plan_get_for_user,
    plan_list_for_user,
    ruleset_choices_for,
)
from lottery.views._common import (
    PAGE_SIZE,
    _can_approve,
    _can_operate_plan,
    _refused,
    _require_plans,
)
from registry.selectors import checkitem_list_for_user


@login_required
def plan_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_plans(request)
    live = Draw.objects.filter(plan=OuterRef("pk")).exclude(status__in=Draw.DEAD_STATUSES)
    qs = plan_list_for_user(user=request.user).annotate(
        live_draw_id=Subquery(live.values("pk")[:1]),
        live_draw_status=Subquery(live.values("status")[:1]),
    )
    year = request.GET.get("year", "").strip()
    if year and not (len(year) == 4 and year.isascii() and year.isdigit()):
        messages.warning(request, _("Some filters made no sense and were ignored."))
        year = ""
    if year:
        qs = qs.filter(year=int(year))
    page = page_for_request(request, qs, PAGE_SIZE)
    return render(
        request,
        "lottery/plan_list.html",
        {
            "page": page,
            "year": year,
            "extra_query": f"year={year}" if year else "",
            "can_create": user_can(request.user, Cap.EDIT_PLANS)
            and request.user.organisation_id is not None,
            "draw_statuses": dict(Draw.Status.choices),
        },
    )


def _ensure_presets() -> None:
    # The presets are code: create them the first time a plan form is shown anywhere.
    if RuleSet.objects.filter(organisation__isnull=True).count() < len(PRESETS):
        services.ruleset_ensure_presets()


def _plan_title(organisation: Organisation, year, quarter) -> str:
    """The default title; with "{year}"/"{quarter}" it is the form script's template."""
    name = organisation.short_name or organisation.name
    if quarter is None:
        return _("%(org)s %(year)s annual random spot-check plan") % {"org": name, "year": year}
    return _("%(org)s %(year)s Q%(quarter)s random spot-check plan") % {
        "org": name,
        "year": year,
        "quarter": quarter,
    }


def _plan_form_initial(organisation: Organisation, rulesets) -> dict:
    # The next quarter that has no quarterly plan yet: offering one that has would only
    # earn the clerk a refusal on saving.
    year, quarter = next_quarter(timezone.localdate())
    taken = set(
        Plan.objects.filter(organisation=organisation, kind=Plan.Kind.QUARTERLY).values_list(
            "year", "quarter"
        )
    )
    for _step in range(8):
        if (year, quarter) not in taken:
            break
        year, quarter = (year, quarter + 1) if quarter < 4 else (year + 1, 1)
    start, end = default_inspection_period(year, quarter)
    preset = preset_for(
        division_code=organisation.division_code,
        city_team=organisation.kind == Organisation.Kind.CITY_TEAM,
    )
    return {
        "kind": Plan.Kind.QUARTERLY,
        "year": year,
        "quarter": quarter,
        "title": _plan_title(organisation, year, quarter),
        "ruleset": rulesets.filter(organisation__isnull=True, code=preset.code).first(),
        "planned_start": start,
        "planned_end": end,
        "team_size": 2,
    }


def _plan_initial(plan: Plan, rulesets) -> dict:
    # The bureau's own set before a preset of the same code. A plan made from given rules
    # (or from a set since deleted) has none: the form saves the set the clerk picks.
    same_code = rulesets.filter(code=plan.ruleset_code) if plan.ruleset_code else rulesets.none()
    ruleset = (
        same_code.filter(organisation_id=plan.organisation_id).first()
        or same_code.filter(organisation__isnull=True).first()
    )
    return {
        "kind": plan.kind,
        "year": plan.year,
        "quarter": plan.quarter,
        "title": plan.title,
        "classes": plan.classes,
        "ruleset": ruleset,
        "check_items": list(plan.check_items.all()),
        "planned_start": plan.planned_start,
        "planned_end": plan.planned_end,
        "team_size": plan.team_size,
    }


def _plan_form_page(request: AuthenticatedHttpRequest, plan: Plan | None) -> HttpResponse:
    """The plan form: a new draft, or a draft's change (same fields, prefilled)."""
    user = request.user
    organisation: Organisation | None = plan.organisation if plan else user.organisation
    if organisation is None or not user_can(user, Cap.EDIT_PLANS):
        raise PermissionDenied
    if plan is not None and user.organisation_id != plan.organisation_id:
        raise PermissionDenied
    _ensure_presets()
    rulesets = ruleset_choices_for(organisation).order_by("organisation_id", "name")
    check_items = checkitem_list_for_user(user=user).filter(organisation=organisation)
    initial = _plan_initial(plan, rulesets) if plan else _plan_form_initial(organisation, rulesets)
    form = PlanForm(
        request.POST or None, initial=initial, rulesets=rulesets, check_items=check_items
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fields = {
            "kind": data["kind"],
            "year": data["year"],
            "quarter": data["quarter"],
            "title": data["title"],
            "classes": data["classes"],
            "ruleset": data["ruleset"],
            "check_items": data["check_items"],
            "planned_start": data["planned_start"],
            "planned_end": data["planned_end"],
            "team_size": data["team_size"],
        }
        try:
            if plan is None:
                plan = services.plan_create(actor=user, organisation=organisation, **fields)
                message = _("The plan was saved as a draft.")
            else:
                plan = services.plan_edit(actor=user, plan=plan, **fields)
                message = _("The draft plan was changed.")
        except ServiceError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, message)
            return redirect("lottery:plan_detail", pk=plan.pk)
    return render(
        request,
        "lottery/plan_form.html",
        {
            "form": form,
            "plan": plan,
            "organisation": organisation,
            "title_quarterly": _plan_title(organisation, "{year}", "{quarter}"),
            "title_annual": _plan_title(organisation, "{year}", None),
            "ruleset_rules": {
                str(r.pk): [row["text"] for row in describe_rules(r.rules)] for r in rulesets
            },
        },
    )


@login_required
def plan_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _plan_form_page(request, None)


@login_required
def plan_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    plan = plan_get_for_user(user=request.user, pk=pk)
    if not _can_edit_plan(request.user, plan):
        raise PermissionDenied
    if plan.status != Plan.Status.DRAFT:
        # The service refuses too; here the clerk is told before filling in the form.
        messages.error(request, _("Only a draft plan can be changed."))
        return redirect("lottery:plan_detail", pk=plan.pk)
    return _plan_form_page(request, plan)


def quota_rows(plan: Plan) -> list[dict]:
    """The plan's quarter quota per class, with the minimums the rules set and the arithmetic."""
    rows = []
    for q in quota_for_plan(plan):
        rows.append(
            {
                "klass": q.klass,
                "label": class_label(q.klass),
                "pool": q.pool_size,
                "minimums": class_minimums(plan.rules, q.klass),
                "drawn_this_year": q.drawn_this_year,
                "tiered": q.tiered,
                "uncovered": q.uncovered_in_cycle,
                "covered": q.pool_size - q.uncovered_in_cycle,
                "required": q.required,
                "joint": q.joint,
                "lines": [str(line) for line in q.lines],
            }
        )
    return rows


def frozen_quota_rows(plan: Plan, draw: Draw) -> list[dict]:
    """The quotas as the draw froze them at preparation (what the commitment covers)."""
    covered_classes = {r.get("class") for r in plan.rules if r.get("kind") == "coverage"}
    return [
        {
            "klass": q["class"],
            "label": class_label(q["class"]),
            "pool": q["pool"],
            "minimums": class_minimums(plan.rules, q["class"]),
            "drawn_this_year": q["drawn_this_year"],
            "tiered": q["class"] in covered_classes,
            "uncovered": q["uncovered"],
            "covered": q["pool"] - q["uncovered"],
            "required": q["required"],
            "joint": q["joint"],
            "lines": q["lines"],
        }
        for q in draw.quotas
    ]


def _plan_quotas(plan: Plan, live: Draw | None) -> list[dict] | None:
    if plan.kind != Plan.Kind.QUARTERLY:
        return None
    # Once a draw is prepared, its frozen quotas are the ones that count.
    return frozen_quota_rows(plan, live) if live is not None else quota_rows(plan)


@login_required
def plan_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    plan = plan_get_for_user(user=request.user, pk=pk)
    _require_plans(request)
    draws = list(draw_list_for_user(user=request.user).filter(plan=plan).order_by("-pk"))
    live = next((d for d in draws if d.status not in Draw.DEAD_STATUSES), None)
    can_operate = _can_operate_plan(request.user, plan)
    can_approve = _can_approve(request.user, plan.organisation_id)
    can_edit = _can_edit_plan(request.user, plan) and plan.status == Plan.Status.DRAFT
    return render(
        request,
        "lottery/plan_detail.html",
        {
            "plan": plan,
            "history": plan_history(plan),
            "can_edit": can_edit,
            "can_delete": can_edit and not draws,
            "can_return": can_approve
            and plan.status in (Plan.Status.SUBMITTED, Plan.Status.APPROVED)
            and not draws,
            "return_form": ReturnForm(),
            "rules": describe_rules(plan.rules),
            "classes": [class_label(c) for c in plan.classes],
            "check_items": plan.check_items.order_by("code"),
            "quotas": _plan_quotas(plan, live),
            "draws": draws,
            "live_draw": live,
            "can_approve": can_approve,
            "can_prepare": can_operate
            and plan.kind == Plan.Kind.QUARTERLY
            and plan.status == Plan.Status.PUBLISHED
            and live is None,
            "blocking_draw": other_open_draw(plan)
            if can_operate and plan.status == Plan.Status.PUBLISHED and live is None
            else None,
            "prepare_form": PrepareForm(),
            "earlier_undrawn": earlier_undrawn_plans(plan)
            if plan.status == Plan.Status.PUBLISHED and live is None and not plan.early_draw_reason
            else [],
            "early_form": ReturnForm(),
        },
    )


def _can_edit_plan(user, plan: Plan) -> bool:
    return user_can(user, Cap.EDIT_PLANS) and user.organisation_id == plan.organisation_id


@login_required
@require_POST
def plan_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    plan = plan_get_for_user(user=request.user, pk=pk)
    if not _can_edit_plan(request.user, plan):
        raise PermissionDenied
    try:
        services.plan_delete(actor=request.user, plan=plan)
    except ServiceError as exc:
        _refused(request, exc)
        return redirect("lottery:plan_detail", pk=plan.pk)
    messages.success(request, _("The draft plan was deleted."))
    return redirect("lottery:plan_list")


def _plan_step(
    request: AuthenticatedHttpRequest, pk: int, *, may, service, done: str
) -> HttpResponse:
    """A plan's state change from its page: ``may(user, plan)`` or 403, then the service;
    a refusal or ``done`` as a message, back to the plan."""
    plan = plan_get_for_user(user=request.user, pk=pk)
    if not may(request.user, plan):
        raise PermissionDenied
    try:
        service(actor=request.user, plan=plan)
    except ServiceError as exc:
        _refused(request, exc)
    else:
        messages.success(request, done)
    return redirect("lottery:plan_detail", pk=plan.pk)


def _may_approve(user, plan: Plan) -> bool:
    return _can_approve(user, plan.organisation_id)


@login_required
@require_POST
def plan_submit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _plan_step(
        request,
        pk,
        may=_can_edit_plan,
        service=services.plan_submit,
        done=_("The plan was submitted for approval."),
    )


@login_required
@require_POST
def plan_return(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    plan = plan_get_for_user(user=request.user, pk=pk)
    if not _can_approve(request.user, plan.organisation_id):
        raise PermissionDenied
    form = ReturnForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, str(message))
        return redirect("lottery:plan_detail", pk=plan.pk)
    try:
        services.plan_return(actor=request.user, plan=plan, reason=form.cleaned_data["reason"])
    except ServiceError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("The plan went back to draft."))
    return redirect("lottery:plan_detail", pk=plan.pk)


@login_required
@require_POST
def plan_allow_early_draw(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A leader records why this quarter may be drawn before an earlier one."""
    plan = plan_get_for_user(user=request.user, pk=pk)
    if not _can_approve(request.user, plan.organisation_id):
        raise PermissionDenied
    try:
        services.plan_allow_early_draw(
            actor=request.user, plan=plan, reason=request.POST.get("reason", "")[:2000]
        )
    except ServiceError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("Recorded: this plan may be drawn before the earlier one."))
    return redirect("lottery:plan_detail", pk=plan.pk)


@login_required
@require_POST
def plan_approve(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _plan_step(
        request,
        pk,
        may=_may_approve,
        service=services.plan_approve,
        done=_("The plan is approved."),
    )


@login_required
@require_POST
def plan_publish(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _plan_step(
        request,
        pk,
        may=_may_approve,
        service=services.plan_publish,
        done=_("The plan is published."),
    )
