"""The draw ceremony in a real Chromium: a clerk prepares and commits a quarterly draw, two
witnesses' values are entered one after another (htmx updates the list in place; full-width
digits and spaces as people type them), the draw executes, the signed-record PDF downloads,
and a second clerk who still has the page open before the execution is refused when trying to
execute it again. After disclosure a visitor downloads the public record and verify_draw.py,
and the script says “matches”. Then a substitution is
requested and approved, each in place."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from core.models import Role
from core.services import user_create
from lottery.models import Draw, DrawSelection
from lottery.services import draws_disclose_due
from tests.conftest import PASSWORD
from tests.lottery.scenario import build_world, make_draw, make_plan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector('[data-testid="whoami"]')


def test_a_clerk_runs_the_ceremony_and_a_second_clerk_cannot_redo_it(
    browser, page, login, live_server, county, county_clerk, county_leader, tmp_path
):
    build_world(county)
    plan = make_plan(county, county_clerk, county_leader)
    second_clerk = user_create(
        actor=None,
        username="clerk2",
        password=PASSWORD,
        role=Role.CLERK,
        organisation=county,
        display_name="第二操作员",
    )

    # Prepare: the clerk finds the approved plan and freezes the pools.
    login(county_clerk)
    page.click('[data-nav="plans"]')
    page.click(f'[data-testid="plan-link"]:has-text("{plan.title}")')
    assert page.locator('[data-testid="quota-table"]').is_visible()
    page.click('[data-testid="prepare"]')
    page.wait_for_selector('[data-testid="draw-status"][data-status="prepared"]')
    draw = Draw.objects.get(plan=plan)
    pools = page.locator('[data-testid="pool-row"]')
    assert pools.count() == 3
    assert page.locator('[data-testid="exclusions-total"]').inner_text() == "3"
    assert page.locator('[data-testid="inspector-certified"]').inner_text() == "8"

    # Commit: the manifest hash, recorded before any randomness exists.
    # Committing asks first, like publishing: dismissed, nothing happens; accepted, it commits.
    questions = []
    page.once("dialog", lambda d: (questions.append(d.message), d.dismiss()))
    page.click('[data-testid="commit"]')
    assert questions and "永远不能重做" in questions[0]
    assert page.locator('[data-testid="draw-status"][data-status="prepared"]').count() == 1
    page.once("dialog", lambda d: d.accept())
    page.click('[data-testid="commit"]')
    page.wait_for_selector('[data-testid="draw-status"][data-status="committed"]')
    assert page.locator('[data-testid="manifest-hash"]').inner_text() == draw.manifest_hash
    assert page.locator('[data-testid="committed-at"]').is_visible()
    assert page.locator('[data-testid="execute"]').is_disabled()

    # Two witnesses, one after the other; the list updates in place (no page load).
    page.evaluate("window.__same_page = true")
    for n, (name, role, value) in enumerate(
        [("张纪检", "纪检监察干部", "3 5 1 6 2 4"), ("李代表", "群众代表", "６６１２３４")], start=1
    ):
        page.fill('[data-testid="entropy-witness_name"]', name)
        page.fill('[data-testid="entropy-witness_role"]', role)
        page.fill('[data-testid="entropy-value"]', value)
        page.click('[data-testid="entropy-add"]')
        page.wait_for_function(
            "n => document.querySelectorAll('[data-testid=entropy-row]').length === n", arg=n
        )
        needed = page.locator('[data-testid="entropy-needed"]').get_attribute("data-needed")
        assert needed == str(2 - n)
    assert page.evaluate("window.__same_page") is True
    # Both values are in: the form is gone, so a third value cannot lock the draw.
    assert page.locator('[data-testid="entropy-form"]').count() == 0
    assert page.locator('[data-testid="entropy-complete"]').is_visible()

    # The second clerk opens the same draw before it is executed.
    other = browser.new_context(
        locale="zh-CN", base_url=live_server.url, viewport={"width": 1400, "height": 900}
    )
    other.set_default_timeout(15_000)
    stale = other.new_page()
    sign_in(stale, second_clerk.username)
    stale.goto(f"/lottery/draws/{draw.pk}/")
    assert stale.locator('[data-testid="execute"]').is_enabled()

    # Execute: the result, per class, with teams.
    page.click('[data-testid="execute"]')
    page.wait_for_selector('[data-testid="draw-status"][data-status="executed"]')
    rows = page.locator('[data-testid="result-row"]')
    assert rows.count() == DrawSelection.objects.filter(draw=draw).count() == 26
    assert page.locator('[data-testid="team-member"][data-role="leader"]').count() == 26
    assert page.locator('[data-testid="confidential-badge"]').is_visible()

    # The signed record downloads as a PDF.
    with page.expect_download() as download:
        page.click('[data-testid="download-pdf"]')
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF-") and len(pdf) > 10_000
    assert download.value.suggested_filename.endswith(".pdf")

    # The second clerk's stale page: executing again is refused, and the page says why.
    stale.click('[data-testid="execute"]')
    stale.wait_for_selector(".alert-danger")
    assert "永远不能重做" in stale.locator(".alert-danger").inner_text()
    assert stale.locator('[data-testid="draw-status"]').get_attribute("data-status") == "executed"
    other.close()
    draw.refresh_from_db()
    assert draw.executed_by == county_clerk
    assert DrawSelection.objects.filter(draw=draw).count() == 26

    # After the inspections the list is disclosed; a visitor (no login) downloads the record
    # and the script from the public page, and the script says the draw matches.
    draws_disclose_due(today=plan.planned_end + timedelta(days=1))
    visitor = browser.new_context(locale="zh-CN", base_url=live_server.url, accept_downloads=True)
    visitor.set_default_timeout(15_000)
    public = visitor.new_page()
    public.goto("/public/draws/")
    public.click(f'[data-testid="public-draw-link"]:has-text("{plan.title}")')
    files = {}
    for testid, name in (
        ("public-record-download", "record.json"),
        ("public-verify-script", "verify_draw.py"),
    ):
        with public.expect_download() as download:
            public.click(f'[data-testid="{testid}"]')
        download.value.save_as(tmp_path / name)
        files[name] = tmp_path / name
    visitor.close()
    record = json.loads(files["record.json"].read_text(encoding="utf-8"))
    assert [e["value"] for e in record["entropy"]] == ["351624", "661234"]
    run = subprocess.run(
        [
            sys.executable,
            "verify_draw.py",
            "verify",
            "record.json",
            "--manifest-hash",
            draw.manifest_hash,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0 and run.stdout.strip() == "matches", run.stdout + run.stderr


def test_a_substitution_is_requested_and_approved_in_place(
    page, login, county, county_clerk, county_leader
):
    build_world(county)
    draw = make_draw(make_plan(county, county_clerk, county_leader), county_clerk)
    first = DrawSelection.objects.filter(draw=draw, stratum="key", position=1).get()

    login(county_clerk)
    page.goto(f"/lottery/draws/{draw.pk}/")
    page.evaluate("window.__same_page = true")
    row = page.locator(f'[data-testid="result-row"][data-source="{first.source.source_code}"]')
    row.locator('[data-testid="substitute-open"]').click()
    row.locator('[data-testid="substitute-reason"]').fill("企业已停产")
    row.locator('[data-testid="substitute-submit"]').click()
    page.wait_for_selector('[data-testid="row-pending"]')
    assert page.evaluate("window.__same_page") is True
    page.click('[data-testid="user-menu"]')
    page.click('[data-testid="logout"]')

    login(county_leader)
    page.goto(f"/lottery/draws/{draw.pk}/")
    page.evaluate("window.__same_page = true")
    page.fill('[data-testid="decide-form"] input[name="note"]', "同意")
    page.click('[data-testid="decide-approve"]')
    page.wait_for_selector('[data-testid="row-replacement"]')
    assert page.evaluate("window.__same_page") is True
    replacement = DrawSelection.objects.get(draw=draw, substitution__isnull=False)
    assert page.locator(
        f'[data-testid="result-row"][data-source="{replacement.source.source_code}"]'
    ).is_visible()
    status = page.locator('[data-testid="substitution-row"]').get_attribute("data-status")
    assert status == "approved"
