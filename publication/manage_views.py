"""The bureau's publishing desk (login, leaders): approved results, when each is published,
publish now, withhold with a reason, withdraw by a correction, and the national exports."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import ServiceError
from core.paging import page_for_request
from core.request_types import AuthenticatedHttpRequest
from core.roles import Cap, user_can
from inspections.models import InspectionTask
from inspections.selectors import task_get_for_user, task_list_for_user
from publication import services
from publication.forms import NationalExportForm, WithdrawForm, WithholdForm
from publication.models import NationalExport, PublishedResult, Withholding


def _require_leader(request: AuthenticatedHttpRequest) -> int:
    """Refuse all but a leader of an organisation; returns that organisation's id."""
    organisation_id = request.user.organisation_id
    if not user_can(request.user, Cap.APPROVE) or organisation_id is None:
        raise PermissionDenied
    return organisation_id


def _refused(request: HttpRequest, exc: ServiceError) -> None:
    for message in exc.messages:
        messages.error(request, message)


@login_required
def manage(request: AuthenticatedHttpRequest) -> HttpResponse:
    organisation_id = _require_leader(request)
    tasks = (
        task_list_for_user(user=request.user)
        .filter(state=InspectionTask.State.APPROVED, organisation_id=organisation_id)
        .select_related("source", "pending_publication")
        .prefetch_related(
            Prefetch(
                "published",
                queryset=PublishedResult.objects.filter(is_current=True),
                to_attr="current_entries",
            ),
            Prefetch(
                "withholdings",
                queryset=Withholding.objects.filter(revoked_at__isnull=True),
                to_attr="active_withholdings",
            ),
        )
        .order_by("-approved_at", "-pk")
    )
    page = page_for_request(request, tasks, 30)
    rows = []
    for task in page.object_list:
        pending = getattr(task, "pending_publication", None)
        rows.append(
            {
                "task": task,
                # Prefetched lists (to_attr above).
                "entry": task.current_entries[0] if task.current_entries else None,
                "withholding": task.active_withholdings[0] if task.active_withholdings else None,
                "pending": pending,
                "due": services.publication_due(task),
            }
        )
    exports = NationalExport.objects.filter(organisation_id=organisation_id)[:20]
    return render(
        request,
        "publication/manage.html",
        {
            "page": page,
            "rows": rows,
            "withhold_form": WithholdForm(),
            "withdraw_form": WithdrawForm(),
            "export_form": NationalExportForm(),
            "exports": exports,
        },
    )


def _task(request: AuthenticatedHttpRequest, pk: int) -> InspectionTask:
    _require_leader(request)
    task = task_get_for_user(user=request.user, pk=pk)
    if task.organisation_id != request.user.organisation_id:
        raise Http404
    return task


@login_required
@require_POST
def publish(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    task = _task(request, pk)
    try:
        entry = services.result_publish(actor=request.user, task=task)
    except ServiceError as exc:
        _refused(request, exc)
    else:
        if entry is None:
            messages.info(request, _("The published result is already up to date."))
        else:
            messages.success(request, _("The result was published."))
    return redirect("publication:manage")


@login_required
@require_POST
def withhold(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    task = _task(request, pk)
    form = WithholdForm(request.POST)
    data = form.cleaned_data if form.is_valid() else {}
    try:
        services.withholding_decide(
            actor=request.user,
            task=task,
            reason=data.get("reason", request.POST.get("reason", "")),
            detail=data.get("detail", ""),
            scope=data.get("scope", ""),
            fields=data.get("fields", []),
        )
    except ServiceError as exc:
        _refused(request, exc)
    else:
        messages.success(
            request, _("The decision to withhold (or narrow) the result was recorded.")
        )
    return redirect("publication:manage")


@login_required
@require_POST
def withdraw(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    task = _task(request, pk)
    form = WithdrawForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.result_withdraw(actor=request.user, task=task, reason=reason)
    except ServiceError as exc:
        _refused(request, exc)
    else:
        messages.success(
            request, _("The withdrawal was published as a correction; the original stays readable.")
        )
    return redirect("publication:manage")


@login_required
@require_POST
def national_export(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_leader(request)
    form = NationalExportForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, str(message))
        return redirect("publication:manage")
    try:
        export = services.national_export_make(
            actor=request.user, organisation=request.user.organisation, **form.cleaned_data
        )
    except ServiceError as exc:
        _refused(request, exc)
        return redirect("publication:manage")
    messages.success(
        request, _("The export batch was made: %(rows)s results.") % {"rows": export.rows}
    )
    return redirect("publication:manage")


@login_required
def national_export_download(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    organisation_id = _require_leader(request)
    export = NationalExport.objects.filter(pk=pk, organisation_id=organisation_id).first()
    if export is None:
        raise Http404
    response = HttpResponse(bytes(export.content), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="national-{export.organisation.division_code}-'
        f'{export.period_start:%Y%m%d}-{export.period_end:%Y%m%d}-{export.pk}.csv"'
    )
    return response
