"""Each role logs in through a real browser and is offered exactly what it may do."""

import pytest
from django.urls import NoReverseMatch, reverse

from core.navigation import NAV_ITEMS
from core.roles import ROLE_CAPABILITIES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PERSONAS = [
    "county_clerk",
    "county_leader",
    "inspector_a",
    "city_reviewer",
    "province_viewer",
    "sysadmin",
]


def expected_nav(role: str) -> set[str]:
    """Navigation keys the role's capabilities allow, among the pages that exist."""
    keys = set()
    for item in NAV_ITEMS:
        if item.capability is not None and item.capability not in ROLE_CAPABILITIES[role]:
            continue
        try:
            reverse(item.url_name)
        except NoReverseMatch:
            continue
        keys.add(item.key)
    return keys


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_role_logs_in_and_sees_its_navigation_in_chinese(request, page, login, persona):
    user = request.getfixturevalue(persona)
    login(user)
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    offered = set(page.locator("[data-nav]").evaluate_all("els => els.map(e => e.dataset.nav)"))
    assert offered == expected_nav(user.role)
    assert "home" in offered and "calendar" in offered
    if user.role != "admin":
        assert not offered & {"admin", "audit", "api"}
    home = page.locator(
        '[data-testid^="home-"]:not([data-testid="home-title"]):not([data-testid="home-cards"])'
    )
    assert home.get_attribute("data-testid") == f"home-{user.role}"
    # Bootstrap is served by the app itself: the navbar is styled, not raw HTML.
    navbar_display = page.locator('[data-testid="navbar"]').evaluate(
        "el => getComputedStyle(el).display"
    )
    assert navbar_display == "flex"


def test_a_wrong_password_is_refused_in_chinese(page, county_clerk):
    page.goto("/accounts/login/")
    page.fill("#id_username", county_clerk.username)
    page.fill("#id_password", "wrong-password")
    page.click("button[type=submit]")
    assert "用户名" in page.locator('[data-testid="login-error"]').inner_text()


def test_logout_returns_to_the_public_portal(page, login, county_clerk):
    login(county_clerk)
    page.click('[data-testid="user-menu"]')
    page.click('[data-testid="logout"]')
    page.wait_for_selector('[data-testid="home-public"]')
    assert page.locator('[data-testid="login-link"]').is_visible()


@pytest.mark.parametrize("persona", ["county_clerk", "sysadmin"])
def test_the_top_bar_fits_a_1366_pixel_screen_in_english_too(request, page, login, persona):
    """English labels are longer: they wrap to a second row rather than push the language
    and user menus off the screen (seen at 1366 px, the commonest office resolution)."""
    login(request.getfixturevalue(persona))
    page.set_viewport_size({"width": 1366, "height": 800})
    page.select_option('[data-testid="language"]', "en")
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    menu = page.locator('[data-testid="user-menu"]').bounding_box()
    assert menu["x"] + menu["width"] <= 1366
