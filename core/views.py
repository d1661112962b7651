from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache

from core.calendar import calendar_coverage
from core.errors import ServiceError
from core.fonts import cjk_font_available
from core.forms import CalendarImportForm
from core.home import home_cards
from core.models import AuditEntry, CalendarDay, CalendarYear, Role
from core.request_types import AuthenticatedHttpRequest
from core.roles import Cap, user_can
from core.selectors import organisations_visible_to
from core.services import calendar_import_csv

HOME_TEMPLATES: dict[str, str] = {
    Role.INSPECTOR: "core/home/inspector.html",
    Role.CLERK: "core/home/clerk.html",
    Role.LEADER: "core/home/leader.html",
    Role.CITY_REVIEWER: "core/home/city_reviewer.html",
    Role.PROVINCE_VIEWER: "core/home/province_viewer.html",
    Role.ADMIN: "core/home/admin.html",
}


@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Each role's own home page. Visitors who are not signed in see the public portal's
    (``publication.views.home``, which the site's front page points to)."""
    user = request.user
    context = {
        "organisation": user.organisation,
        "visible_organisations": organisations_visible_to(user).count(),
        "cards": home_cards(user),
    }
    return render(request, HOME_TEMPLATES.get(user.role, "core/home/clerk.html"), context)


@login_required
def calendar_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year", today.year))
    except ValueError:
        year = 0
    if not 2000 <= year <= 2100:
        if "year" in request.GET:
            messages.error(request, _("Choose a year from 2000 to 2100."))
        year = today.year
    days = CalendarDay.objects.filter(date__year=year)
    form = None
    if user_can(request.user, Cap.ADMINISTER):
        form = CalendarImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                years = calendar_import_csv(
                    actor=request.user,
                    text=form.cleaned_data["text"],
                    source=form.cleaned_data["file"].name,
                )
            except ServiceError as exc:
                for message in exc.messages:
                    form.add_error("file", message)
            else:
                messages.success(
                    request,
                    _("Loaded the official schedule for %(years)s.")
                    % {"years": ", ".join(map(str, years))},
                )
                return redirect(f"{request.path}?year={years[0]}")
    elif request.method == "POST":
        raise PermissionDenied
    return render(
        request,
        "core/calendar.html",
        {
            "year": year,
            "days": days,
            "years": CalendarYear.objects.all(),
            "covered": CalendarYear.objects.filter(year=year).first(),
            "form": form,
        },
    )


@login_required
def audit_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not user_can(request.user, Cap.ADMINISTER):
        raise PermissionDenied
    entries = AuditEntry.objects.all()[:200]
    return render(request, "core/audit.html", {"entries": entries})


def _check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True, "vendor": connection.vendor}
    except Exception as exc:  # noqa: BLE001 - a health check reports, never raises
        return {"ok": False, "error": str(exc)[:200]}


def _check_broker() -> dict:
    from celery import current_app as app  # config's app, without core importing config

    url = settings.CELERY_BROKER_URL
    transport = url.split("://", 1)[0]
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return {"ok": True, "transport": transport}
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "transport": transport, "error": str(exc)[:200]}


def _check_outbox() -> dict:
    from core.outbox import outbox_pending

    pending = outbox_pending()
    oldest = pending["oldest"]
    late = oldest is not None and timezone.now() - oldest > timedelta(minutes=5)
    return {
        "pending": pending["pending"],
        "oldest": timezone.localtime(oldest).isoformat(timespec="seconds") if oldest else None,
        "late": late,
    }


@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """Database, broker and calendar coverage of this year and the next.

    A missing calendar year is a warning (the app still serves), a dead database or broker
    an error (HTTP 503), so a load balancer and an administrator read the same page.
    """
    today = timezone.localdate()
    coverage = calendar_coverage([today.year, today.year + 1])
    database = _check_database()
    broker = _check_broker()
    warnings = [
        _("No official holiday schedule is loaded for %(year)s.") % {"year": year}
        for year, ok in coverage.items()
        if not ok
    ]
    fonts = {"cjk": cjk_font_available()}
    if not fonts["cjk"]:
        warnings.append(
            _(
                "No Chinese font is installed (Debian package fonts-noto-cjk): PDFs are refused "
                "until it is."
            )
        )
    outbox = _check_outbox() if database["ok"] else {}
    if outbox.get("late"):
        warnings.append(
            _(
                "%(n)s background jobs wait to be sent to the broker, the oldest since %(when)s: "
                "is the broker or celery beat (outbox-dispatch) running?"
            )
            % {"n": outbox["pending"], "when": outbox["oldest"]}
        )
    ok = database["ok"] and broker["ok"]
    body = {
        "outbox": outbox,
        "status": "ok" if ok and not warnings else ("warning" if ok else "error"),
        "database": database,
        "broker": broker,
        "calendar": {str(year): covered for year, covered in coverage.items()},
        "fonts": fonts,
        "warnings": warnings,
        "time": timezone.now().isoformat(),
    }
    return JsonResponse(body, status=200 if ok else 503, json_dumps_params={"ensure_ascii": False})


def error_403(request, exception=None):
    return render(request, "403.html", status=403)


def error_404(request, exception=None):
    return render(request, "404.html", status=404)


def error_500(request):
    return render(request, "500.html", status=500)


@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers and crawlers ask for /favicon.ico whatever the page says: send them to the
    SVG icon (its static URL carries a content hash in production, hence not permanent)."""
    return redirect(static("favicon.svg"))
