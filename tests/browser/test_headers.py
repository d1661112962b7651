"""Security headers: a strict Content-Security-Policy (no inline script anywhere) that the
pages people click through, the admin and the API docs live with; Permissions-Policy; and
nothing a logged-in user sees is stored by the browser or a proxy."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.lottery.scenario import build_world, make_draw, make_plan


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
