"""An anonymous visitor in a real Chromium: searches a company, opens its result (both
certificate numbers), sees the withheld notice on another, downloads the CSV, and from the
result's draw downloads the record and ``verify_draw.py``, which says "matches"."""

from __future__ import annotations

import csv
import subprocess
import sys
from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone
from guardian.shortcuts import assign_perm

from inspections.models import InspectionTask
from inspections.selectors import task_team
from inspections.services import record_save, task_approve, task_submit, tasks_create_for_draw
from inspectors.models import Inspector
from lottery.services import draws_disclose_due
from publication.services import result_publish, withholding_decide
from tests.lottery.scenario import build_world, make_draw, make_plan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _approve(task, a, b, leader):
    team = [x.inspector for x in task_team(task)][:2]
    Inspector.objects.filter(user__in=[a, b]).update(user=None)
    Inspector.objects.filter(pk=team[0].pk).update(user=a)
    Inspector.objects.filter(pk=team[1].pk).update(user=b)
    for user in (a, b):
        assign_perm("lottery.view_drawn_task", user, task.selection)
    record_save(
        actor=a,
        task=task,
        expected_version=0,
        members=team,
        result_type=1,
        checked_at=timezone.make_aware(datetime(2026, 3, 12, 10, 0)),
        handling_ended_on=date(2026, 3, 12),
        body_camera_refs="DSJ-1",
    )
    task_submit(actor=b, task=task)
    task_approve(actor=leader, task=task)
    return team


def test_a_visitor_finds_a_result_and_verifies_its_draw(
    browser,
    live_server,
    settings,
    tmp_path,
    county,
    county_clerk,
    county_leader,
    inspector_a,
    inspector_b,
    calendar_loaded,
):
    settings.DEBUG = True
    build_world(county)
    plan = make_plan(county, county_clerk, county_leader)
    draw = make_draw(plan, county_clerk)
    tasks_create_for_draw(draw=draw)
    first, second = InspectionTask.objects.filter(selection__draw=draw, mode="on_site")[:2]
    team = _approve(first, inspector_a, inspector_b, county_leader)
    _approve(second, inspector_a, inspector_b, county_leader)
    shown = result_publish(actor=county_leader, task=first)
    withholding_decide(
        actor=county_leader,
        task=second,
        reason="trade_secret",
        detail="涉及企业核心工艺",
        scope="whole",
    )
    hidden = result_publish(actor=county_leader, task=second)
    draws_disclose_due(today=plan.planned_end + timedelta(days=1))

    visitor = browser.new_context(locale="zh-CN", base_url=live_server.url, accept_downloads=True)
    visitor.set_default_timeout(15_000)
    page = visitor.new_page()
    page.goto("/public/results/")
    page.fill('[data-testid="result-q"]', shown.company_name[:6])
    page.click('[data-testid="result-search-submit"]')
    page.click(f'[data-testid="result-row"]:has-text("{shown.company_name}")')
    inspectors = page.locator('[data-testid="result-inspectors"]').inner_text()
    for inspector in team:
        assert inspector.certificate_number in inspectors
    assert "未发现问题" in page.locator('[data-testid="result-label"]').inner_text()

    page.goto(f"/public/results/{hidden.pk}/")
    assert page.locator('[data-testid="withheld-notice"]').is_visible()
    assert second.source.company_name not in page.content()

    page.goto("/public/results/")
    with page.expect_download() as download:
        page.click('[data-testid="results-csv"]')
    download.value.save_as(tmp_path / "results.csv")
    rows = list(csv.reader((tmp_path / "results.csv").open(encoding="utf-8-sig")))
    assert any(shown.company_name in row for row in rows[1:])
    assert not any(second.source.company_name in ",".join(row) for row in rows)

    page.goto(f"/public/results/{shown.pk}/")
    page.click('[data-testid="result-draw-link"]')
    for testid, name in (
        ("public-record-download", "record.json"),
        ("public-verify-script", "verify_draw.py"),
    ):
        with page.expect_download() as download:
            page.click(f'[data-testid="{testid}"]')
        download.value.save_as(tmp_path / name)
    visitor.close()
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
