"""What each role may do. One table, read by navigation, views and services alike."""

from __future__ import annotations

from core.models import Role


class Cap:
    """Capability names. A role has a fixed set; views and services ask ``user_can``."""

    VIEW_REGISTRY = "view_registry"
    EDIT_REGISTRY = "edit_registry"
    VIEW_PLANS = "view_plans"
    EDIT_PLANS = "edit_plans"
    APPROVE = "approve"  # plans, substitutions, publication
    OPERATE_DRAW = "operate_draw"
    VIEW_DRAWS = "view_draws"
    OWN_TASKS = "own_tasks"
    ENTER_RESULTS = "enter_results"
    REVIEW_COUNTIES = "review_counties"
    VIEW_REPORTS = "view_reports"
    ADMINISTER = "administer"


ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    Role.INSPECTOR: frozenset({Cap.OWN_TASKS, Cap.ENTER_RESULTS, Cap.VIEW_REGISTRY}),
    Role.CLERK: frozenset(
        {
            Cap.VIEW_REGISTRY,
            Cap.EDIT_REGISTRY,
            Cap.VIEW_PLANS,
            Cap.EDIT_PLANS,
            Cap.OPERATE_DRAW,
            Cap.VIEW_DRAWS,
            Cap.ENTER_RESULTS,
        }
    ),
    Role.LEADER: frozenset(
        {
            Cap.VIEW_REGISTRY,
            Cap.VIEW_PLANS,
            Cap.EDIT_PLANS,
            Cap.APPROVE,
            Cap.OPERATE_DRAW,
            Cap.VIEW_DRAWS,
            Cap.VIEW_REPORTS,
        }
    ),
    Role.CITY_REVIEWER: frozenset(
        {
            Cap.VIEW_REGISTRY,
            Cap.VIEW_PLANS,
            Cap.REVIEW_COUNTIES,
            Cap.VIEW_REPORTS,
        }
    ),
    Role.PROVINCE_VIEWER: frozenset({Cap.VIEW_REGISTRY, Cap.VIEW_PLANS, Cap.VIEW_REPORTS}),
    Role.ADMIN: frozenset({Cap.ADMINISTER, Cap.VIEW_REGISTRY, Cap.VIEW_PLANS, Cap.VIEW_REPORTS}),
}


def user_can(user, capability: str) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return capability in ROLE_CAPABILITIES.get(user.role, frozenset())
