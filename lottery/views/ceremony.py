"""The draw ceremony's pages: prepare (from the plan) → commit → the witnesses' entropy →
execute, or discard / abandon; the draw list and a draw's page with its result."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import ServiceError
from core.paging import page_for_request
from core.request_types import AuthenticatedHttpRequest
from lottery import readers, services
from lottery.display import exclusion_rows, manifest_summary
from lottery.forms import AbandonForm, DiscardForm, EntropyForm, ExecuteForm, PrepareForm
from lottery.models import Draw
from lottery.selectors import (
    EARLIER_RESULT_REASONS,
    can_operate_draw,
    can_see_full_result,
    can_see_manifest,
    confidential_earlier_draws,
    draw_get_for_user,
    draw_list_for_user,
    plan_get_for_user,
)
from lottery.views._common import (
    EXCLUSIONS_SHOWN,
    PAGE_SIZE,
    _can_approve,
    _can_operate_plan,
    _is_htmx,
    _refused,
    _require_draws,
)


@login_required
@require_POST
def draw_prepare(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    plan = plan_get_for_user(user=request.user, pk=pk)
    if not _can_operate_plan(request.user, plan):
        raise PermissionDenied
    form = PrepareForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, str(message))
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


@login_required
def draw_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_draws(request)
    qs = draw_list_for_user(user=request.user).order_by("-prepared_at")
    status = request.GET.get("status", "")
    if status in Draw.Status.values:
        qs = qs.filter(status=status)
    page = page_for_request(request, qs, PAGE_SIZE)
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


def _entropy_context(request: AuthenticatedHttpRequest, draw: Draw, **forms) -> dict:
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


def _result_context(request: AuthenticatedHttpRequest, draw: Draw, via: str, **extra) -> dict:
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
        if request.method == "GET" and not _is_htmx(request):
            _warn_if_result_filters_ignored(request, params, result)
    return context


def _warn_if_result_filters_ignored(request: AuthenticatedHttpRequest, params, result) -> None:
    """A page number or a class the drawn list does not have: the list is shown (first or last
    page, every class) and says so, as the other lists do (``core.paging``)."""
    raw = (params.get("page") or "").strip()
    if raw and result.page is not None:
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 9 or int(raw) < 1:
            messages.warning(request, _("Unknown page; showing the first."))
        elif int(raw) > result.page.paginator.num_pages:
            messages.warning(
                request,
                _("There is no page %(asked)s; showing the last page, %(last)s.")
                % {"asked": int(raw), "last": result.page.paginator.num_pages},
            )
    if params.get("class", "") and not result.stratum:
        messages.warning(request, _("Some filters made no sense and were ignored."))


@login_required
def draw_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
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


def _operable(request: AuthenticatedHttpRequest, pk: int) -> Draw:
    """The draw (404 outside the user's scope) if the user may operate it (403 otherwise)."""
    draw = draw_get_for_user(user=request.user, pk=pk)
    if not can_operate_draw(request.user, draw):
        raise PermissionDenied
    return draw


@login_required
@require_POST
def draw_commit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
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
def draw_discard(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
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
def draw_abandon(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
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
def draw_entropy(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
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
                messages.error(request, str(message))
        return redirect("lottery:draw_detail", pk=draw.pk)
    draw.refresh_from_db()
    return render(
        request, "lottery/_entropy.html", _entropy_context(request, draw, entropy_form=form)
    )


@login_required
@require_POST
def draw_execute(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
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
