"""The navigation each role sees. Apps add their entries here, next to the capability."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from core.roles import Cap, user_can


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    url_name: str
    capability: str | None  # None: everyone signed in


NAV_ITEMS: list[NavItem] = [
    NavItem("home", _("Home"), "home", None),
    NavItem("sources", _("Object registry"), "registry:source_list", Cap.VIEW_REGISTRY),
    NavItem("inspectors", _("Inspector registry"), "inspectors:inspector_list", Cap.VIEW_REGISTRY),
    NavItem("checkitems", _("Check-item list"), "registry:checkitem_list", Cap.VIEW_REGISTRY),
    NavItem("imports", _("Excel import"), "core:import_list", Cap.EDIT_REGISTRY),
    NavItem("plans", _("Plans"), "lottery:plan_list", Cap.VIEW_PLANS),
    NavItem("draws", _("Draws"), "lottery:draw_list", Cap.VIEW_DRAWS),
    NavItem("approvals", _("Waiting for my approval"), "lottery:approvals", Cap.APPROVE),
    NavItem("tasks", _("My tasks"), "lottery:my_draw_tasks", Cap.OWN_TASKS),
    NavItem("review", _("County review"), "lottery:quota_overview", Cap.REVIEW_COUNTIES),
    NavItem("calendar", _("Working-day calendar"), "core:calendar", None),
    NavItem("audit", _("Audit trail"), "core:audit", Cap.ADMINISTER),
    NavItem("api", _("API"), "api-docs", Cap.ADMINISTER),
    NavItem("admin", _("Administration"), "admin:index", Cap.ADMINISTER),
]

# The public portal's navigation, for visitors who are not signed in.
PUBLIC_NAV_ITEMS: list[NavItem] = [
    NavItem("home", _("Public portal"), "home", None),
    NavItem("public_checkitems", _("Check-item list"), "publication:checkitem_list", None),
    NavItem("public_plans", _("Spot-check plans"), "publication:plan_list", None),
    NavItem("public_draws", _("Draw records"), "publication:draw_list", None),
]


def navigation_for(user) -> list[dict]:
    signed_in = user is not None and user.is_authenticated
    items = []
    for item in NAV_ITEMS if signed_in else PUBLIC_NAV_ITEMS:
        if item.capability is not None and not user_can(user, item.capability):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:  # an app whose pages are not built yet
            continue
        items.append({"key": item.key, "label": item.label, "url": url})
    return items
