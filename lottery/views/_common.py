"""What the staff pages of plans and draws share: who may do what, and how a refusal shows."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from core.errors import ServiceError
from core.roles import Cap, user_can
from lottery.models import Plan

PAGE_SIZE = 50
EXCLUSIONS_SHOWN = 500


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
