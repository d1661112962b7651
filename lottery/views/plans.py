"""Staff pages of plans and draws: plan list/form/detail with its quotas, the draw ceremony
(prepare → commit → witnesses' entropy → execute), the result with its substitutions, the
downloads and the city reviewer's quota overview.

Thin: ``lottery.selectors`` reads (404 outside the user's scope), ``lottery.services`` writes
and refuses with a translated message, ``lottery.display`` shapes what is shown. Who may see
the drawn list is decided in one place, ``lottery.selectors.can_see_full_result``; every time
the list is shown or downloaded an audit entry ``draw.view_result`` records who saw it. The
manifest embeds earlier draws' results, so it has its own rule,
``lottery.selectors.can_see_manifest``, and a view of it while those are confidential is
recorded as ``draw.view_manifest``.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import ServiceError
from core.models import Organisation
from core.roles import Cap, user_can
from inspectors.models import Inspector
from lottery import engine, readers, records, services
from lottery.display import (
    class_label,
    class_minimums,
    deadline_status,
    describe_rules,
    exclusion_rows,
    manifest_summary,
    plan_history,
    team_member,
)
from lottery.forms import (
    AbandonForm,
    DiscardForm,
    EntropyForm,
    ExecuteForm,
    PlanForm,
    PrepareForm,
    QuarterForm,
    ReturnForm,
    SubstitutionDecideForm,
    SubstitutionRequestForm,
)
from lottery.models import Draw, DrawSelection, Plan, RuleSet, Substitution
from lottery.periods import default_inspection_period, next_quarter, quarter_of
from lottery.rules import PRESETS, preset_for
from lottery.selectors import (
    EARLIER_RESULT_REASONS,
    can_operate_draw,
    can_see_full_result,
    can_see_manifest,
    confidential_earlier_draws,
    decisions_pending_for_user,
    draw_get_for_user,
    draw_list_for_user,
    earlier_undrawn_plans,
    effective_teams,
    other_open_draw,
    plan_get_for_user,
    plan_list_for_user,
    quarter_standings_for_user,
    ruleset_choices_for,
)
from registry.selectors import checkitem_list_for_user

PAGE_SIZE = 50
EXCLUSIONS_SHOWN = 500


# --- who may do what -------------------------------------------------------------------------


def _require_plans(request: HttpRequest) -> None:
    if not user_can(request.user, Cap.VIEW_PLANS):
        raise PermissionDenied


def _require_draws(request: HttpRequest) -> None:
    """Draw pages: bureau staff, and reviewers who check them (inspectors have their tasks)."""
    if not (user_can(request.user, Cap.VIEW_DRAWS) or user_can(request.user, Cap.VIEW_PLANS)):
        raise PermissionDenied


def _can_approve(user, organisation_id: int) -> bool:
    return user_can(user, Cap.APPROVE) and user.organisation_id == organisation_id


def _can_operate_plan(user, plan: Plan) -> bool:
    return user.organisation_id == plan.organisation_id and user_can(user, Cap.OPERATE_DRAW)


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _refused(request: HttpRequest, exc: ServiceError) -> None:
    for message in exc.messages:
        messages.error(request, message)


# --- plans -------------------------------------------------------------------------------------


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    _require_plans(request)
    live = Draw.objects.filter(plan=OuterRef("pk")).exclude(status__in=Draw.DEAD_STATUSES)
    qs = plan_list_for_user(user=request.user).annotate(
        live_draw_id=Subquery(live.values("pk")[:1]),
        live_draw_status=Subquery(live.values("status")[:1]),
    )
    year = request.GET.get("year", "")
    if year.isdigit():
        qs = qs.filter(year=int(year))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "lottery/plan_list.html",
        {
            "page": page,
            "year": year,
            "extra_query": f"year={year}" if year.isdigit() else "",
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


def _plan_form_page(request: HttpRequest, plan: Plan | None) -> HttpResponse:
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
def plan_create(request: HttpRequest) -> HttpResponse:
    return _plan_form_page(request, None)


@login_required
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
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
    for q in services.quota_for_plan(plan):
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
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
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
def plan_delete(request: HttpRequest, pk: int) -> HttpResponse:
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


def _plan_step(request: HttpRequest, pk: int, *, may, service, done: str) -> HttpResponse:
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
def plan_submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _plan_step(
        request,
        pk,
        may=_can_edit_plan,
        service=services.plan_submit,
        done=_("The plan was submitted for approval."),
    )


@login_required
@require_POST
def plan_return(request: HttpRequest, pk: int) -> HttpResponse:
    plan = plan_get_for_user(user=request.user, pk=pk)
    if not _can_approve(request.user, plan.organisation_id):
        raise PermissionDenied
    form = ReturnForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
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
def plan_allow_early_draw(request: HttpRequest, pk: int) -> HttpResponse:
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
def plan_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _plan_step(
        request,
        pk,
        may=_may_approve,
        service=services.plan_approve,
        done=_("The plan is approved."),
    )


@login_required
@require_POST
def plan_publish(request: HttpRequest, pk: int) -> HttpResponse:
    return _plan_step(
        request,
        pk,
        may=_may_approve,
        service=services.plan_publish,
        done=_("The plan is published."),
    )


@login_required
@require_POST
def draw_prepare(request: HttpRequest, pk: int) -> HttpResponse:
    plan = plan_get_for_user(user=request.user, pk=pk)
    if not _can_operate_plan(request.user, plan):
        raise PermissionDenied
    form = PrepareForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect("lottery:plan_detail", pk=plan.pk)
    try:
        draw = services.draw_prepare(
            actor=request.user,
            plan=plan,
            witnesses=form.cleaned_data["witnesses"],
            public_value_spec=form.cleaned_data["public_value_spec"].strip(),
            digits=form.cleaned_data["digits"] or 6,
            public_value_digits=form.cleaned_data["public_value_digits"] or 0,
            max_team_share=form.cleaned_data["max_team_share"],
        )
    except ServiceError as exc:
        _refused(request, exc)
        return redirect("lottery:plan_detail", pk=plan.pk)
    messages.success(request, _("The pools are frozen. Check them, then commit the manifest hash."))
    return redirect("lottery:draw_detail", pk=draw.pk)


# --- draws -------------------------------------------------------------------------------------


@login_required
def draw_list(request: HttpRequest) -> HttpResponse:
    _require_draws(request)
    qs = draw_list_for_user(user=request.user).order_by("-prepared_at")
    status = request.GET.get("status", "")
    if status in Draw.Status.values:
        qs = qs.filter(status=status)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "lottery/draw_list.html",
        {
            "page": page,
            "status": status,
            "statuses": Draw.Status.choices,
            "extra_query": f"status={status}" if status else "",
        },
    )


def _entropy_context(request: HttpRequest, draw: Draw, **forms) -> dict:
    entropy = list(draw.entropy.all())
    operate = can_operate_draw(request.user, draw)
    return {
        "draw": draw,
        "entropy": entropy,
        # Manifest + witness values *are* the drawn list: until disclosure the values are as
        # confidential as the list (docs/draw-algorithm.md, §1).
        "show_values": operate or can_see_full_result(request.user, draw),
        "still_needed": max(0, draw.witnesses_required - len(entropy)),
        "operate": operate,
        "entropy_form": forms.get("entropy_form") or EntropyForm(),
        "execute_form": forms.get("execute_form") or ExecuteForm(),
    }


def _result_context(request: HttpRequest, draw: Draw, via: str, **extra) -> dict:
    """The drawn list (for those who may see it; the view is audited) and its change forms."""
    # The filter and page travel with the page links (GET) and, so a change request keeps
    # the list where it was, with the forms that swap the result in place (POST).
    params = request.GET if request.method == "GET" else request.POST
    result = readers.draw_result_for_user(
        user=request.user,
        draw=draw,
        via=via,
        page=params.get("page") or 1,
        stratum=params.get("class", ""),
        query=params.get("q", "")[:100],
    )
    context = {
        "draw": draw,
        "result_visible": result is not None,
        "operate": can_operate_draw(request.user, draw),
        "can_decide": _can_approve(request.user, draw.organisation_id),
        **extra,
    }
    if result is not None:
        context["result"] = result
    return context


@login_required
def draw_detail(request: HttpRequest, pk: int) -> HttpResponse:
    draw = draw_get_for_user(user=request.user, pk=pk)
    _require_draws(request)
    if draw.status == Draw.Status.EXECUTED and _is_htmx(request):
        # Another page of the list, or a filter: only the result card.
        return render(request, "lottery/_result.html", _result_context(request, draw, "page"))
    confidential = confidential_earlier_draws(draw)
    manifest_visible = can_see_manifest(request.user, draw, confidential=confidential)
    # Frequency-cap exclusions say which sources earlier draws took: part of the manifest.
    hidden = () if manifest_visible else EARLIER_RESULT_REASONS
    exclusions = exclusion_rows(draw, limit=EXCLUSIONS_SHOWN, hide_reasons=hidden)
    if any(e.reason in EARLIER_RESULT_REASONS for e in exclusions):
        services.draw_log_manifest_view(
            actor=request.user, draw=draw, confidential=confidential, via="page"
        )
    summary = manifest_summary(draw)
    context = {
        **_entropy_context(request, draw),
        "summary": summary,
        "exclusions": exclusions,
        "exclusions_shown": EXCLUSIONS_SHOWN,
        "exclusions_hidden": sum(summary.exclusions_by_reason.get(r, 0) for r in hidden),
        "manifest_visible": manifest_visible,
        "discard_form": DiscardForm(),
        "abandon_form": AbandonForm(),
        "can_abandon": draw.status == Draw.Status.COMMITTED
        and _can_approve(request.user, draw.organisation_id),
    }
    if draw.status == Draw.Status.EXECUTED:
        context.update(_result_context(request, draw, "page"))
    else:
        context["operate"] = can_operate_draw(request.user, draw)
    return render(request, "lottery/draw_detail.html", context)


def _operable(request: HttpRequest, pk: int) -> Draw:
    """The draw (404 outside the user's scope) if the user may operate it (403 otherwise)."""
    draw = draw_get_for_user(user=request.user, pk=pk)
    if not can_operate_draw(request.user, draw):
        raise PermissionDenied
    return draw


@login_required
@require_POST
def draw_commit(request: HttpRequest, pk: int) -> HttpResponse:
    draw = _operable(request, pk)
    try:
        services.draw_commit(actor=request.user, draw=draw)
    except ServiceError as exc:
        _refused(request, exc)
    else:
        messages.success(
            request, _("Committed: the manifest hash is recorded. Now the witnesses give values.")
        )
    return redirect("lottery:draw_detail", pk=draw.pk)


@login_required
@require_POST
def draw_discard(request: HttpRequest, pk: int) -> HttpResponse:
    draw = _operable(request, pk)
    form = DiscardForm(request.POST)
    try:
        services.draw_discard(
            actor=request.user,
            draw=draw,
            reason=form.cleaned_data["reason"] if form.is_valid() else "",
        )
    except ServiceError as exc:
        _refused(request, exc)
        return redirect("lottery:draw_detail", pk=draw.pk)
    messages.success(request, _("The prepared draw was discarded."))
    return redirect("lottery:plan_detail", pk=draw.plan_id)


@login_required
@require_POST
def draw_abandon(request: HttpRequest, pk: int) -> HttpResponse:
    """A leader gives up a committed draw that cannot execute; the reason is published."""
    draw = draw_get_for_user(user=request.user, pk=pk)
    if not _can_approve(request.user, draw.organisation_id):
        raise PermissionDenied
    form = AbandonForm(request.POST)
    try:
        services.draw_abandon(
            actor=request.user,
            draw=draw,
            reason=form.cleaned_data["reason"] if form.is_valid() else "",
        )
    except ServiceError as exc:
        _refused(request, exc)
        return redirect("lottery:draw_detail", pk=draw.pk)
    messages.success(
        request,
        _(
            "The committed draw was abandoned. Its commitment and your reason stay public; "
            "the plan can now be drawn again."
        ),
    )
    return redirect("lottery:plan_detail", pk=draw.plan_id)


@login_required
@require_POST
def draw_entropy(request: HttpRequest, pk: int) -> HttpResponse:
    """A witness's value; with htmx the entropy panel (list, count, forms) is swapped in place."""
    draw = _operable(request, pk)
    form = EntropyForm(request.POST)
    if form.is_valid():
        try:
            services.draw_add_entropy(actor=request.user, draw=draw, **form.cleaned_data)
        except ServiceError as exc:
            form.add_service_error(exc)
        else:
            form = EntropyForm()
    if not _is_htmx(request):
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect("lottery:draw_detail", pk=draw.pk)
    draw.refresh_from_db()
    return render(
        request, "lottery/_entropy.html", _entropy_context(request, draw, entropy_form=form)
    )


@login_required
@require_POST
def draw_execute(request: HttpRequest, pk: int) -> HttpResponse:
    draw = _operable(request, pk)
    form = ExecuteForm(request.POST)
    public_value = form.cleaned_data["public_value"] if form.is_valid() else ""
    try:
        services.draw_execute(actor=request.user, draw=draw, public_value=public_value)
    except ServiceError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("The draw is executed. The list is confidential."))
    return redirect("lottery:draw_detail", pk=draw.pk)


def _selection_for(request: HttpRequest, pk: int) -> DrawSelection:
    try:
        return DrawSelection.objects.select_related("draw__organisation", "source").get(
            pk=pk, draw__in=draw_list_for_user(user=request.user)
        )
    except DrawSelection.DoesNotExist as exc:
        raise Http404 from exc


def _result_response(request: HttpRequest, draw: Draw, **extra) -> HttpResponse:
    if not _is_htmx(request):
        return redirect("lottery:draw_detail", pk=draw.pk)
    return render(request, "lottery/_result.html", _result_context(request, draw, "page", **extra))


@login_required
@require_POST
def substitution_request(request: HttpRequest, pk: int) -> HttpResponse:
    selection = _selection_for(request, pk)
    draw = selection.draw
    if not can_operate_draw(request.user, draw):
        raise PermissionDenied
    form = SubstitutionRequestForm(request.POST, team=_team_choices(selection))
    errors: list[str] = []
    if form.is_valid():
        inspector_id = form.cleaned_data["inspector"]
        try:
            services.substitution_request(
                actor=request.user,
                selection=selection,
                reason=form.cleaned_data["reason"],
                inspector=Inspector.objects.filter(pk=inspector_id).first()
                if inspector_id
                else None,
            )
        except ServiceError as exc:
            errors = exc.messages
        else:
            if not _is_htmx(request):
                messages.success(request, _("The change is waiting for the leader's approval."))
    else:
        errors = [m for field_errors in form.errors.values() for m in field_errors]
    if errors and not _is_htmx(request):
        for message in errors:
            messages.error(request, message)
    return _result_response(
        request, draw, form_error={"selection": selection.pk, "messages": errors}
    )


def _team_choices(selection: DrawSelection):
    return [team_member(a) for a in effective_teams([selection])[selection.pk]]


@login_required
@require_POST
def substitution_decide(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        substitution = Substitution.objects.select_related("draw__organisation").get(
            pk=pk, draw__in=draw_list_for_user(user=request.user)
        )
    except Substitution.DoesNotExist as exc:
        raise Http404 from exc
    draw = substitution.draw
    if not _can_approve(request.user, draw.organisation_id):
        raise PermissionDenied
    form = SubstitutionDecideForm(request.POST)
    errors: list[str] = []
    if form.is_valid():
        try:
            services.substitution_decide(
                actor=request.user,
                substitution=substitution,
                approve=form.cleaned_data["decision"] == "approve",
                note=form.cleaned_data["note"],
            )
        except ServiceError as exc:
            errors = exc.messages
        else:
            if not _is_htmx(request):
                messages.success(request, _("The decision is recorded."))
    else:
        errors = [m for field_errors in form.errors.values() for m in field_errors]
    if errors and not _is_htmx(request):
        for message in errors:
            messages.error(request, message)
    return _result_response(
        request, draw, decide_error={"substitution": substitution.pk, "messages": errors}
    )


# --- downloads ---------------------------------------------------------------------------------


def _json_download(data: dict, filename: str) -> HttpResponse:
    body = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True)
    response = HttpResponse(body.encode("utf-8"), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@login_required
def draw_record_json(request: HttpRequest, pk: int) -> HttpResponse:
    """The full record (manifest, entropy, seed, result): what ``verify_draw.py`` checks.
    As confidential as the drawn list."""
    draw = draw_get_for_user(user=request.user, pk=pk)
    _require_draws(request)
    record = readers.draw_record_for_user(user=request.user, draw=draw, via="record.json")
    if record is None:
        raise PermissionDenied
    return _json_download(record, f"draw-{draw.number}-record.json")


@login_required
def draw_manifest_json(request: HttpRequest, pk: int) -> HttpResponse:
    """The frozen manifest: no randomness in it, but earlier draws' results (coverage tiers,
    previous inspectors): as confidential as the earliest of those (``can_see_manifest``)."""
    draw = draw_get_for_user(user=request.user, pk=pk)
    _require_draws(request)
    manifest = readers.draw_manifest_for_user(user=request.user, draw=draw, via="manifest.json")
    if manifest is None:
        raise PermissionDenied
    response = HttpResponse(
        manifest.encode("utf-8"), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = content_disposition_header(
        True, f"draw-{draw.number}-manifest.json"
    )
    return response


@login_required
def draw_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The signed paper record of the ceremony (A4, Chinese). A large draw's record is laid
    out by a worker; meanwhile the page says so and updates itself (lottery.records)."""
    draw = _record_draw(request, pk)
    try:
        status = records.record_pdf_request(draw)
    except records.FontMissing as exc:
        _refused(request, exc)
        return redirect("lottery:draw_detail", pk=draw.pk)
    if status == "queued":
        return render(request, "lottery/record_wait.html", _record_wait_context(draw))
    if not readers.draw_secrets_for_user(user=request.user, draw=draw, via="pdf"):
        raise PermissionDenied
    return FileResponse(
        draw.record_pdf.open("rb"),
        as_attachment=True,
        filename=f"摇号记录-{draw.number}.pdf",
        content_type="application/pdf",
    )


@login_required
def draw_pdf_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Polled by the waiting page (htmx): still being prepared, or a download link."""
    draw = _record_draw(request, pk)
    return render(request, "lottery/_record_status.html", _record_wait_context(draw))


def _record_draw(request: HttpRequest, pk: int) -> Draw:
    draw = draw_get_for_user(user=request.user, pk=pk)
    _require_draws(request)
    if not can_see_full_result(request.user, draw):
        raise PermissionDenied
    return draw


def _record_wait_context(draw: Draw) -> dict:
    return {
        "draw": draw,
        "ready": records.record_pdf_ready(draw),
        "rows": DrawSelection.objects.filter(draw=draw).count(),
    }


def verify_script(request: HttpRequest) -> FileResponse:
    """The verification script: ``lottery/engine.py`` itself, standard library only."""
    return FileResponse(
        Path(engine.__file__).open("rb"),
        as_attachment=True,
        filename="verify_draw.py",
        content_type="text/x-python; charset=utf-8",
    )


# --- the city reviewer's overview --------------------------------------------------------------


@login_required
def quota_overview(request: HttpRequest) -> HttpResponse:
    """Each county (and the city team) of the reviewer's scope: this quarter's plan, its draw,
    quotas against what was drawn, and whether the draw met its deadline. Four queries."""
    if not user_can(request.user, Cap.REVIEW_COUNTIES):
        raise PermissionDenied
    today = timezone.localdate()
    year, quarter = quarter_of(today)
    form = QuarterForm(request.GET or None)
    if form.is_valid():
        year = form.cleaned_data["year"] or year
        quarter = form.cleaned_data["quarter"] or quarter
    rows = []
    for standing in quarter_standings_for_user(user=request.user, year=year, quarter=quarter):
        draw = standing.draw
        quotas = [
            {
                "label": class_label(q["class"]),
                "required": q["required"],
                "drawn": standing.drawn.get(q["class"], 0) if standing.executed else None,
            }
            for q in (draw.quotas if draw else [])
        ]
        rows.append(
            {
                "organisation": standing.organisation,
                "plan": standing.plan,
                "draw": draw,
                "quotas": quotas,
                "required": sum(q["required"] for q in quotas),
                "drawn": sum(q["drawn"] or 0 for q in quotas),
                "deadline": deadline_status(standing, today),
            }
        )
    previous = (year - 1, 4) if quarter == 1 else (year, quarter - 1)
    following = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    return render(
        request,
        "lottery/quota_overview.html",
        {
            "rows": rows,
            "year": year,
            "quarter": quarter,
            "today": today,
            "previous": previous,
            "following": following,
            "late_count": sum(1 for r in rows if r["deadline"]["late"]),
        },
    )


# --- a leader's pending decisions --------------------------------------------------------------


@login_required
def approvals(request: HttpRequest) -> HttpResponse:
    """Everything waiting for this leader's decision across the bureau: draft plans and the
    substitutions requested on any of its draws, each linked to where it is decided."""
    if not user_can(request.user, Cap.APPROVE):
        raise PermissionDenied
    pending = decisions_pending_for_user(user=request.user)
    return render(request, "lottery/approvals.html", {"pending": pending})
