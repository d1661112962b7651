"""The oversight pages: the dashboard (served at the quota overview's path), its drill-downs,
the province's cities and a bureau's own figures."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.paging import page_for_request
from core.request_types import AuthenticatedHttpRequest
from lottery.selectors import can_see_full_result, draw_due_date
from oversight import charts
from oversight import selectors as sel
from oversight.regimes import regime_for

CITY_DIGITS = 4


def _period(request: HttpRequest):
    return sel.parse_period(request.GET, timezone.localdate())


def _drill_url(period):
    def url(org, metric, klass=""):
        query = period.query() + (f"&klass={klass}" if klass else "")
        return reverse("oversight:drill", args=[org.pk, metric]) + "?" + query

    return url


def _city_param(request: HttpRequest) -> str:
    city = request.GET.get("city", "")
    if city and not (len(city) == CITY_DIGITS and city.isascii() and city.isdigit()):
        messages.warning(
            request,
            _("These filters made no sense and were ignored: %(names)s.") % {"names": "city"},
        )
        return ""
    return city


@login_required
def index(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Where "Oversight" leads: the province to its cities, everyone else to the dashboard."""
    if sel.is_province_level(request.user):
        return redirect("oversight:province")
    if not sel.can_oversee(request.user):
        raise PermissionDenied
    return redirect("lottery:quota_overview")


@login_required
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    """One row per county bureau and city team of the user's scope (``?city=`` narrows the
    province's view to one city): every figure of the quarter, coloured against its rule."""
    if not sel.can_oversee(request.user):
        raise PermissionDenied
    period, message = _period(request)
    city = _city_param(request)
    units = sel.units_for_user(user=request.user, city=city)
    rows = sel.bureau_rows(units=units, period=period, drill=_drill_url(period))
    return render(
        request,
        "oversight/dashboard.html",
        {
            "rows": rows,
            "period": period,
            "year": period.year,
            "quarter": period.quarter,
            "message": message,
            "city": city,
            "city_query": f"&city={city}" if city else "",
            "due": draw_due_date(period.year, period.quarter),
            "today": period.today,
            "late_count": sum(1 for r in rows if r.deadline["late"]),
            "red_count": sum(1 for r in rows if r.tone == sel.RED),
            "chart": charts.dashboard_chart(
                rows,
                sel.result_mix(units=units, period=period),
                sel.disclosure_by_quarter(units=units, period=period, rows=rows),
            ),
        },
    )


@login_required
def province(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The province: its cities (the dashboard's rows added up), each leading to its counties."""
    if not sel.is_province_level(request.user):
        raise PermissionDenied
    period, message = _period(request)
    rows = sel.bureau_rows(units=sel.units_for_user(user=request.user), period=period)
    cities = sel.city_summaries(rows)
    return render(
        request,
        "oversight/province.html",
        {"cities": cities, "period": period, "message": message},
    )


@login_required
def bureau(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A bureau's own row and what falls due in the next ten working days."""
    user = request.user
    if not sel.can_see_bureau(user):
        raise PermissionDenied
    org = user.organisation
    if org is None or org.kind not in ("county_bureau", "city_team"):
        if sel.can_oversee(user):
            return redirect("oversight:index")
        raise PermissionDenied
    period, message = _period(request)
    rows = sel.bureau_rows(units=[org], period=period, drill=_drill_url(period))
    return render(
        request,
        "oversight/bureau.html",
        {
            "rows": rows,
            "row": rows[0],
            "period": period,
            "message": message,
            "soon": sel.due_soon(organisation=org, today=period.today),
        },
    )


TASK_METRICS = set(sel.TASK_METRIC_LABELS)
COVERAGE_METRICS = {"key_coverage", "general_coverage", "staff_ratio"}
OTHER_METRICS = {"pool", "substitutions"}
DRILL_LABELS = {
    "key_coverage": _("Key objects checked in the cycle"),
    "general_coverage": _("General objects checked in the three-year cycle"),
    "staff_ratio": _("General objects checked this year"),
    "pool": _("Active sources of the class"),
    "substitutions": _("Approved substitutions and recusals"),
}


@login_required
def drill(request: AuthenticatedHttpRequest, pk: int, metric: str) -> HttpResponse:
    """The list behind one figure of one unit. A unit outside the user's scope is a 404; a
    drawn source's name is shown only to whom ``can_see_full_result`` allows."""
    if not sel.can_see_bureau(request.user):
        raise PermissionDenied
    if metric not in TASK_METRICS | COVERAGE_METRICS | OTHER_METRICS:
        raise Http404
    org = sel.unit_get_for_user(user=request.user, pk=pk)
    if not sel.can_oversee(request.user) and org.pk != request.user.organisation_id:
        raise Http404
    period, message = _period(request)
    klass = request.GET.get("klass", "")
    if klass not in sel.CLASSES:
        klass = ""
    context = {
        "organisation": org,
        "metric": metric,
        "period": period,
        "message": message,
        "klass": klass,
        "klass_label": sel.CLASS_LABELS.get(klass, ""),
        "kind": "tasks",
    }
    if metric in TASK_METRICS:
        items = sel.drill_tasks(organisation=org, period=period, metric=metric, klass=klass)
        context["label"] = sel.TASK_METRIC_LABELS[metric]
    elif metric in COVERAGE_METRICS:
        plan = _plan_of(org, period)
        regime = regime_for(organisation=org, plan=plan)
        items = sel.drill_coverage(organisation=org, period=period, metric=metric, regime=regime)
        context |= dict(label=DRILL_LABELS[metric], kind="sources")
    elif metric == "pool":
        items = sel.drill_pool(organisation=org, klass=klass or "key")
        context |= dict(label=DRILL_LABELS[metric], kind="sources")
    else:
        items = sel.drill_substitutions(organisation=org, period=period)
        context |= dict(label=DRILL_LABELS[metric], kind="substitutions")
    page = page_for_request(request, items, 50)
    rows = list(page.object_list)
    if context["kind"] == "tasks":
        # The drawn list is confidential until disclosed: one decision per draw on the page.
        draws = {t.selection.draw_id: t.selection.draw for t in rows if t.selection_id}
        visible = {pk: can_see_full_result(request.user, d) for pk, d in draws.items()}
        for task in rows:
            task.hidden = bool(task.selection_id) and not visible[task.selection.draw_id]
    context |= dict(
        page=page,
        rows=rows,
        count=page.paginator.count,
        can_mark=_can_issue(request.user),
        here=request.get_full_path(),
        # A bureau's own people came from their row, not from the dashboard they may not see.
        back_to_bureau=not sel.can_oversee(request.user),
    )
    return render(request, "oversight/drill.html", context)


def _plan_of(org, period):
    from lottery.models import Plan

    return Plan.objects.filter(
        organisation=org, kind=Plan.Kind.QUARTERLY, year=period.year, quarter=period.quarter
    ).first()


# --- reports ---------------------------------------------------------------------------------------


def _can_issue(user) -> bool:
    """The city team's reports and typical cases."""
    org = getattr(user, "organisation", None)
    return sel.can_oversee(user) and org is not None and org.kind == "city_team"


@login_required
def reports(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The reports the user may read, newest first; the city team asks for new ones here."""
    from oversight.models import Report
    from oversight.reports import annual_report_due
    from oversight.services import report_kinds_for

    if not sel.can_see_bureau(request.user):
        raise PermissionDenied
    period, message = _period(request)
    issuable = report_kinds_for(request.user)
    listed = sel.reports_for_user(user=request.user).order_by("-requested_at", "-pk")[:200]
    return render(
        request,
        "oversight/reports.html",
        {
            "reports": listed,
            "period": period,
            "message": message,
            "can_issue": bool(issuable),
            "kinds": [(k, label) for k, label in Report.Kind.choices if k in issuable],
            "annual_due": annual_report_due(period.year) if "annual" in issuable else None,
        },
    )


@login_required
def report_request(request: AuthenticatedHttpRequest) -> HttpResponse:
    from core.errors import ServiceError
    from oversight import services
    from oversight.models import Report
    from oversight.services import report_kinds_for

    if request.method != "POST":
        return redirect("oversight:reports")
    issuable = report_kinds_for(request.user)
    kind = request.POST.get("kind", "")
    if not issuable or (kind in Report.Kind.values and kind not in issuable):
        raise PermissionDenied
    try:
        year = int(request.POST.get("year", ""))
        quarter = int(request.POST.get("quarter", "0") or 0)
    except ValueError:
        messages.error(request, _("Give a year and a quarter."))
        return redirect("oversight:reports")
    try:
        report, created = services.report_request(
            actor=request.user, kind=kind, year=year, quarter=quarter
        )
    except ServiceError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("oversight:reports")
    if not created:
        messages.info(request, _("This report is already being built: here is its progress."))
    return redirect("oversight:report_detail", pk=report.pk)


@login_required
def report_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    report = sel.report_get_for_user(user=request.user, pk=pk)
    return render(request, "oversight/report.html", {"report": report})


@login_required
def report_status(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Polled by the report's page (htmx) while the worker builds it."""
    report = sel.report_get_for_user(user=request.user, pk=pk)
    return render(request, "oversight/_report_status.html", {"report": report})


def report_file_response(*, user, report, what: str) -> FileResponse:
    """A finished report's PDF or Excel file, its download audited: the reports page's link
    and the API's (``oversight.api``) serve it the same way."""
    from oversight import services

    field = {"pdf": report.pdf, "xlsx": report.xlsx}.get(what)
    if field is None or not field.name or report.status != "done":
        raise Http404
    services.report_record_download(actor=user, report=report, what=what)
    period = f"{report.year}Q{report.quarter}" if report.quarter else f"{report.year}"
    filename = f"{report.get_kind_display()}-{period}-v{report.version}.{what}"
    response = FileResponse(field.open("rb"), as_attachment=True, filename=filename)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def report_download(request: AuthenticatedHttpRequest, pk: int, what: str) -> FileResponse:
    report = sel.report_get_for_user(user=request.user, pk=pk)
    return report_file_response(user=request.user, report=report, what=what)


# --- filing draws with the city team ------------------------------------------------------------


@login_required
def filings(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Draws filed with the city team: number, time, who, digest (never the list)."""
    if not sel.can_see_bureau(request.user):
        raise PermissionDenied
    listed = sel.filings_for_user(user=request.user).order_by("-filed_at")[:500]
    org = request.user.organisation
    to_file = (
        sel.draws_to_file(organisation=org)
        if org is not None and org.kind in ("county_bureau", "city_team")
        else []
    )
    return render(request, "oversight/filings.html", {"filings": listed, "to_file": to_file})


@login_required
def draw_file(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    from core.errors import ServiceError
    from lottery.selectors import draw_get_for_user
    from oversight import services

    if request.method != "POST":
        return redirect("oversight:filings")
    draw = draw_get_for_user(user=request.user, pk=pk)
    try:
        services.draw_file(actor=request.user, draw=draw)
        messages.success(request, _("The draw was filed with the city enforcement team."))
    except ServiceError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("oversight:filings")


# --- archives --------------------------------------------------------------------------------------


@login_required
def archives(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not sel.can_see_bureau(request.user):
        raise PermissionDenied
    period, message = _period(request)
    org = request.user.organisation
    units = (
        sel.units_for_user(user=request.user)
        if org is not None and org.kind == "city_team" and sel.can_oversee(request.user)
        else ([org] if org is not None and org.kind in ("county_bureau", "city_team") else [])
    )
    return render(
        request,
        "oversight/archives.html",
        {
            "archives": sel.archives_for_user(user=request.user).order_by("-requested_at")[:200],
            "units": units,
            "period": period,
        },
    )


@login_required
def archive_request(request: AuthenticatedHttpRequest) -> HttpResponse:
    from core.errors import ServiceError
    from oversight import services

    if request.method != "POST":
        return redirect("oversight:archives")
    try:
        unit_pk = int(request.POST.get("organisation", ""))
        year = int(request.POST.get("year", ""))
    except ValueError:
        messages.error(request, _("Choose a unit and give a year."))
        return redirect("oversight:archives")
    org = sel.unit_get_for_user(user=request.user, pk=unit_pk)  # outside the scope: 404
    try:
        archive, created = services.archive_request(actor=request.user, organisation=org, year=year)
    except ServiceError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("oversight:archives")
    if not created:
        messages.info(request, _("This archive is already being built: here is its progress."))
    else:
        messages.success(request, _("The archive is being built."))
    return redirect("oversight:archives")


@login_required
def archive_download(request: AuthenticatedHttpRequest, pk: int) -> FileResponse:
    from oversight import services

    archive = sel.archive_get_for_user(user=request.user, pk=pk)
    if archive.status != "done" or not archive.file.name:
        raise Http404
    services.archive_record_download(actor=request.user, archive=archive)
    filename = f"{archive.organisation.division_code}-{archive.year}-v{archive.version}.zip"
    response = FileResponse(archive.file.open("rb"), as_attachment=True, filename=filename)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def typical_case_mark(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The city team marks an approved inspection of its city as a typical case."""
    from core.errors import ServiceError
    from inspections.models import InspectionTask
    from oversight import services

    if request.method != "POST" or not _can_issue(request.user):
        raise PermissionDenied
    units = sel.units_for_user(user=request.user)
    try:
        task = InspectionTask.objects.select_related("organisation", "selection__draw").get(
            pk=pk, organisation__in=units
        )
    except InspectionTask.DoesNotExist:
        raise Http404 from None
    if task.selection is not None and not can_see_full_result(request.user, task.selection.draw):
        raise Http404  # a drawn source the team may not see yet is no case to pick
    try:
        services.typical_case_mark(actor=request.user, task=task, note=request.POST.get("note", ""))
        messages.success(request, _("Marked as a typical case for the quarterly report."))
    except ServiceError as exc:
        messages.error(request, " ".join(exc.messages))
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/oversight/") else "oversight:reports")
