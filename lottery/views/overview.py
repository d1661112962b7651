"""The city reviewer's quota overview, and a leader's pending decisions."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from core.request_types import AuthenticatedHttpRequest
from core.roles import Cap, user_can
from lottery.display import class_label, deadline_status
from lottery.forms import QuarterForm
from lottery.periods import quarter_of
from lottery.selectors import decisions_pending_for_user, quarter_standings_for_user


@login_required
def quota_overview(request: AuthenticatedHttpRequest) -> HttpResponse:
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


@login_required
def approvals(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Everything waiting for this leader's decision across the bureau: draft plans and the
    substitutions requested on any of its draws, each linked to where it is decided."""
    if not user_can(request.user, Cap.APPROVE):
        raise PermissionDenied
    pending = decisions_pending_for_user(user=request.user)
    return render(request, "lottery/approvals.html", {"pending": pending})
