"""Pages of the Excel import: upload, dry-run report, commit; templates and exports.

Thin: every decision is in ``exchange.imports`` (services and selectors) and ``exchange.excel``.
"""

from __future__ import annotations

from pathlib import PurePath

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.errors import ServiceError
from core.paging import page_for_request
from core.request_types import AuthenticatedHttpRequest
from core.roles import Cap, user_can
from exchange.excel import template_workbook
from exchange.excel.export import XLSX_CONTENT_TYPE
from exchange.excel.reader import MAX_UPLOAD_BYTES
from exchange.imports import (
    import_job_create,
    import_job_get_for_user,
    import_job_list_for_user,
    import_job_request_commit,
    registry_export_get_for_user,
    registry_export_record_download,
    registry_export_request,
    user_can_commit,
    user_can_import,
)
from exchange.specs import IMPORT_SPECS, available_kinds, registry_page, spec_for


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("What to import"),
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy("An Excel workbook (.xlsx) made from the template, or a CSV file."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv", "class": "form-control"}),
    )

    def __init__(self, *args, kinds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds
        if len(kinds) == 1:
            self.fields["kind"].initial = kinds[0][0]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(limit)s MB. Split it into several files.")
                % {"limit": MAX_UPLOAD_BYTES // (1024 * 1024)}
            )
        return upload


def _require_view(user) -> None:
    if not user_can(user, Cap.VIEW_REGISTRY):
        raise PermissionDenied


@login_required
def import_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_view(request.user)
    page = page_for_request(request, import_job_list_for_user(user=request.user), 30)
    return render(
        request,
        "exchange/imports/list.html",
        {"page": page, "kinds": available_kinds(), "can_import": user_can_import(request.user)},
    )


@login_required
def import_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not user_can_import(request.user):
        raise PermissionDenied
    kinds = available_kinds()
    form = ImportUploadForm(request.POST or None, request.FILES or None, kinds=kinds)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = import_job_create(
                actor=request.user,
                kind=form.cleaned_data["kind"],
                filename=PurePath(upload.name).name,
                data=upload.read(),
            )
        except ServiceError as exc:
            for message in exc.messages:
                form.add_error("file", message)
        else:
            return redirect("exchange:import_detail", pk=job.pk)
    return render(
        request,
        "exchange/imports/new.html",
        {"form": form, "kinds": kinds, "organisation": request.user.organisation},
    )


def _detail_context(request: AuthenticatedHttpRequest, job) -> dict:
    report = job.report or {}
    return {
        "job": job,
        "report": report,
        "can_commit": user_can_commit(request.user, job) and job.can_commit,
        "may_commit": user_can_commit(request.user, job),
        "more_errors": max(0, report.get("errors", 0) - len(report.get("error_list", []))),
        "more_warnings": max(0, report.get("warnings", 0) - len(report.get("warning_list", []))),
        "message_lines": [line for line in job.message.splitlines() if line.strip()],
        "registry_page": registry_page(job.kind),
    }


@login_required
def import_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _require_view(request.user)
    job = import_job_get_for_user(user=request.user, pk=pk)
    return render(request, "exchange/imports/detail.html", _detail_context(request, job))


@login_required
def import_progress(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The progress bar, polled by htmx every second; reloads the page once the job is done."""
    _require_view(request.user)
    job = import_job_get_for_user(user=request.user, pk=pk)
    response = render(request, "exchange/imports/_progress.html", {"job": job})
    if not job.is_running:
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def import_commit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    job = import_job_get_for_user(user=request.user, pk=pk)
    if not user_can_commit(request.user, job):
        raise PermissionDenied
    try:
        job = import_job_request_commit(
            actor=request.user, job=job, accept_warnings=request.POST.get("accept_warnings") == "1"
        )
    except ServiceError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        if job.status == job.Status.COMMITTED:
            messages.success(request, _("Imported."))
    return redirect("exchange:import_detail", pk=job.pk)


@login_required
def import_template(request: AuthenticatedHttpRequest, kind: str) -> HttpResponse:
    _require_view(request.user)
    if kind not in IMPORT_SPECS:
        raise Http404
    spec = spec_for(kind)
    response = HttpResponse(template_workbook(spec), content_type=XLSX_CONTENT_TYPE)
    filename = f"{spec.title}导入模板.xlsx"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@login_required
def import_error_report(request: AuthenticatedHttpRequest, pk: int) -> FileResponse:
    _require_view(request.user)
    job = import_job_get_for_user(user=request.user, pk=pk)
    if not job.error_report:
        raise Http404
    stem = PurePath(job.original_name).stem
    return FileResponse(
        job.error_report.open("rb"),
        as_attachment=True,
        filename=f"错误报告-{stem}.xlsx",
        content_type=XLSX_CONTENT_TYPE,
    )


@login_required
@require_POST
def registry_export_new(request: AuthenticatedHttpRequest, kind: str) -> HttpResponse:
    """Ask for a copy of one registry: a worker writes it, the next page waits for it."""
    _require_view(request.user)
    if kind not in IMPORT_SPECS:
        raise Http404
    export = registry_export_request(actor=request.user, kind=kind)
    return redirect("exchange:registry_export_detail", pk=export.pk)


@login_required
def registry_export_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    export = registry_export_get_for_user(user=request.user, pk=pk)
    return render(
        request,
        "exchange/imports/export.html",
        {"export": export, "title": spec_for(export.kind).title},
    )


@login_required
def registry_export_status(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The export's state, polled by htmx every 3 s until the file is ready (or failed)."""
    export = registry_export_get_for_user(user=request.user, pk=pk)
    return render(request, "exchange/imports/_export_status.html", {"export": export})


@login_required
def registry_export_download(request: AuthenticatedHttpRequest, pk: int) -> FileResponse:
    """The file, for the user who asked for it (anybody else gets 404)."""
    export = registry_export_get_for_user(user=request.user, pk=pk)
    if export.status != export.Status.READY or not export.file:
        raise Http404
    handle = export.file.open("rb")
    registry_export_record_download(actor=request.user, export=export)
    stamp = timezone.localtime(export.finished_at).strftime("%Y%m%d")
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"{spec_for(export.kind).title}-{stamp}.xlsx",
        content_type=XLSX_CONTENT_TYPE,
    )
