"""Notifications (the top bar's badge and its page) and the obligations of the bureaus."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import ServiceError
from core.paging import page_for_request
from core.request_types import AuthenticatedHttpRequest
from core.roles import Cap, user_can
from deadlines import selectors, services
from deadlines.models import Obligation

PAGE_SIZE = 50


@login_required
def notification_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    rows = selectors.notifications_for(request.user)
    unread_only = request.GET.get("unread") == "1"
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    page = page_for_request(request, rows, PAGE_SIZE)
    return render(
        request,
        "deadlines/notification_list.html",
        {
            "page": page,
            "unread_only": unread_only,
            "unread": selectors.unread_count(request.user),
            "can_see_obligations": user_can(request.user, Cap.VIEW_PLANS)
            or user_can(request.user, Cap.ADMINISTER),
        },
    )


@login_required
@require_POST
def notification_read(request: AuthenticatedHttpRequest) -> HttpResponse:
    raw = request.POST.getlist("id")
    ids = [int(v) for v in raw if v.isdigit() and len(v) < 12]
    try:
        n = services.notification_mark_read(
            actor=request.user, notification_ids=ids if raw else None
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(n)s marked as read.") % {"n": n})
    return redirect("deadlines:notification_list")


@login_required
def notification_badge(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The top bar's unread count, loaded after the page (the page itself makes no query)."""
    return render(
        request,
        "deadlines/_badge.html",
        {"unread": selectors.unread_count(request.user)},
    )


@login_required
def obligation_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    if not (user_can(user, Cap.VIEW_PLANS) or user_can(user, Cap.ADMINISTER)):
        raise PermissionDenied
    rows = selectors.obligations_for(user)
    state = request.GET.get("state", "")
    states = dict(Obligation.State.choices)
    if state and state not in states:
        messages.warning(request, _("Unknown state; showing all."))
        state = ""
    rows = rows.filter(state=state) if state else rows.exclude(state=Obligation.State.DONE)
    page = page_for_request(request, rows.order_by("due_on", "pk"), PAGE_SIZE)
    return render(
        request,
        "deadlines/obligation_list.html",
        {"page": page, "state": state, "states": states, "today": timezone.localdate()},
    )
