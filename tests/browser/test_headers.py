"""Security headers: a strict Content-Security-Policy (no inline script anywhere) that the
pages people click through, the admin and the API docs live with; Permissions-Policy; and
nothing a logged-in user sees is stored by the browser or a proxy."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.lottery.scenario import build_world, make_draw, make_plan
from tests.oversight.conftest import city  # noqa: F401 (a fixture)


@pytest.mark.django_db
def test_headers_on_public_and_private_responses(client, county, county_clerk, county_leader):
    build_world(county)
    draw = make_draw(make_plan(county, county_clerk, county_leader), county_clerk)
    public = client.get("/")
    csp = public["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "object-src 'none'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "camera=()" in public["Permissions-Policy"]
    assert "no-store" not in public.get("Cache-Control", "")  # public pages may be cached

    client.force_login(county_leader)
    for url in (
        reverse("lottery:draw_detail", args=[draw.pk]),
        reverse("lottery:draw_pdf", args=[draw.pk]),
        f"/api/v1/draws/{draw.pk}/record.json",
        reverse("lottery:draw_manifest_json", args=[draw.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
        assert "private" in response["Cache-Control"], url


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_no_page_breaks_the_content_security_policy(page, login, admin_user, county_clerk):
    violations = []
    page.on(
        "console",
        lambda m: (
            violations.append(f"{page.url}: {m.text}")
            if "Content Security Policy" in m.text
            else None
        ),
    )
    page.goto("/")
    login(county_clerk)
    for url in ("/lottery/plans/new/", "/lottery/plans/", "/public/draws/"):
        page.goto(url)
        page.wait_for_load_state("networkidle")
    page.click('[data-testid="user-menu"]')
    page.click('[data-testid="logout"]')
    login(admin_user, "password")
    for url in (
        "/admin/",
        "/admin/core/user/",
        f"/admin/core/user/{admin_user.pk}/change/",
        "/api/docs/",
    ):
        page.goto(url)
        page.wait_for_load_state("networkidle")
    assert violations == []


def _html_pages() -> list[str]:
    """Every page of the URLconf without parameters that a browser opens as a page (not the
    API, downloads, the admin's or the logout), read from the URLconf itself."""
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(resolver, prefix=""):
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern) and entry.name:
                yield entry.name, prefix + str(entry.pattern)

    pages = []
    for name, raw in walk(get_resolver()):
        if "<" in raw or "(?P" in raw or "^" in raw or raw.startswith(("api/", "admin/")):
            continue
        if name in ("logout", "set_language") or not (raw == "" or raw.endswith("/")):
            continue  # downloads (.xlsx, .json, .csv, .py, .ico) are not pages
        pages.append("/" + raw)
    return sorted(set(pages))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("city")  # 焦作's three counties in 2026 Q1: the charts have data
def test_every_page_and_its_charts_live_with_the_policy(
    page, login, city_reviewer, county_clerk, province_viewer
):
    """Each persona opens every page: no script refused by the policy, no script error, and
    every chart of the dashboard drawn (its data read from a JSON script element)."""
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(f"{page.url}: {m.text}")
            if m.type == "error" and ("Content Security Policy" in m.text or "Refused" in m.text)
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"{page.url}: {error}"))
    pages = _html_pages()
    assert "/oversight/reports/" in pages and "/lottery/quotas/" in pages
    for user in (county_clerk, city_reviewer, province_viewer):
        login(user)
        for url in pages:
            url += "?year=2026&quarter=1"
            answer = page.request.get(url)  # with the page's cookies
            assert answer.status < 500, (url, answer.status)
            if (
                answer.status == 405
                or "text/html" not in answer.headers.get("content-type", "")
                or "attachment" in answer.headers.get("content-disposition", "")
            ):
                continue  # a download, or an empty error (POST only: 405)
            page.goto(url)
            page.wait_for_load_state("networkidle")
            charts = page.locator(".oversight-chart")
            if charts.count():
                page.wait_for_function(
                    "document.querySelectorAll('.oversight-chart:not([data-rendered=\"1\"])')"
                    ".length === 0"
                )
                assert page.locator("canvas, svg").count() >= charts.count(), url
        page.context.clear_cookies()
    assert problems == [], "\n".join(problems[:40])
