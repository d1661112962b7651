"""A change to an executed draw's result: the request and the leader's decision, both
answered with the result card in place (htmx) or back on the draw's page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import ServiceError
from core.request_types import AuthenticatedHttpRequest
from inspectors.models import Inspector
from lottery import services
from lottery.display import team_member
from lottery.forms import SubstitutionDecideForm, SubstitutionRequestForm
from lottery.models import Draw, DrawSelection, Substitution
from lottery.selectors import can_operate_draw, draw_list_for_user, effective_teams
from lottery.views._common import _can_approve, _is_htmx
from lottery.views.ceremony import _result_context


def _selection_for(request: AuthenticatedHttpRequest, pk: int) -> DrawSelection:
    try:
        return DrawSelection.objects.select_related("draw__organisation", "source").get(
            pk=pk, draw__in=draw_list_for_user(user=request.user)
        )
    except DrawSelection.DoesNotExist as exc:
        raise Http404 from exc


def _result_response(request: AuthenticatedHttpRequest, draw: Draw, **extra) -> HttpResponse:
    if not _is_htmx(request):
        return redirect("lottery:draw_detail", pk=draw.pk)
    return render(request, "lottery/_result.html", _result_context(request, draw, "page", **extra))


@login_required
@require_POST
def substitution_request(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
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
        errors = [str(m) for field_errors in form.errors.values() for m in field_errors]
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
def substitution_decide(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
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
        errors = [str(m) for field_errors in form.errors.values() for m in field_errors]
    if errors and not _is_htmx(request):
        for message in errors:
            messages.error(request, message)
    return _result_response(
        request, draw, decide_error={"substitution": substitution.pk, "messages": errors}
    )
