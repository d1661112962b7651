"""The navigation each role sees. Each app contributes its own entries with `nav_register` in its
`AppConfig.ready()`, so `core` names no upper app's pages; `order` places them in the menu."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from core.roles import Cap, user_can


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str | Promise  # usually lazily translated
    url_name: str
    capability: str | None  # None: everyone signed in
    order: int = 0


# Filled by nav_register, kept sorted by order: the back office's, and the public portal's for
# visitors who are not signed in.
NAV_ITEMS: list[NavItem] = []
PUBLIC_NAV_ITEMS: list[NavItem] = []


def nav_register(*items: NavItem, public: bool = False) -> None:
    """Add an app's entries to the menu; registering the same key again replaces it."""
    registry = PUBLIC_NAV_ITEMS if public else NAV_ITEMS
    keys = {item.key for item in items}
    kept = [item for item in registry if item.key not in keys]
    registry[:] = sorted([*kept, *items], key=lambda item: item.order)


def core_nav_register() -> None:
    nav_register(
        NavItem("home", _("Home"), "home", None, order=0),
        NavItem("calendar", _("Working-day calendar"), "core:calendar", None, order=100),
        NavItem("audit", _("Audit trail"), "core:audit", Cap.ADMINISTER, order=110),
        NavItem("api", _("API"), "api-docs", Cap.ADMINISTER, order=120),
        NavItem("admin", _("Administration"), "admin:index", Cap.ADMINISTER, order=130),
    )
    nav_register(NavItem("home", _("Public portal"), "home", None, order=0), public=True)


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
