"""An inspection on a phone, in a real Chromium at 375×812: the inspector opens the task,
records two items, attaches a photo, picks result 5 and submits; the leader approves; the
problem is verified with evidence and closed; the PDF names the source and both certificates."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from guardian.shortcuts import assign_perm
from PIL import Image

from inspections.models import Evidence, InspectionRecord, InspectionTask, Problem
from inspections.selectors import task_team
from inspections.services import tasks_create_for_draw
from inspectors.models import Inspector
from tests.conftest import PASSWORD
from tests.lottery.factories import make_check_item
from tests.lottery.scenario import build_world, make_draw, make_plan, publish

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}


def phone(browser, live_server, user):
    context = browser.new_context(
        locale="zh-CN",
        base_url=live_server.url,
        accept_downloads=True,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector('[data-testid="whoami"]', state="attached")
    return context, page


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the page is {width}px wide on a 375px phone"


def test_an_inspection_from_the_phone_to_a_closed_loop(
    browser,
    live_server,
    settings,
    county,
    county_clerk,
    county_leader,
    inspector_a,
    inspector_b,
    calendar_loaded,
    tmp_path,
):
    settings.DEBUG = True  # static files from the finders
    build_world(county)
    make_check_item(county, "01", name="废水排放检查")
    second = make_check_item(county, "02", name="固体废物贮存检查")
    plan = make_plan(county, county_clerk)
    plan.check_items.add(second)
    publish(plan, county_clerk, county_leader)
    draw = make_draw(plan, county_clerk)
    tasks_create_for_draw(draw=draw)
    task = InspectionTask.objects.filter(selection__draw=draw, mode="on_site").first()
    team = [a.inspector for a in task_team(task)]
    Inspector.objects.filter(pk=team[0].pk).update(user=inspector_a)
    Inspector.objects.filter(pk=team[1].pk).update(user=inspector_b)
    for user in (inspector_a, inspector_b):
        assign_perm("lottery.view_drawn_task", user, task.selection)
    assert task.check_items.count() == 2

    context, page = phone(browser, live_server, inspector_a)
    page.goto("/inspections/mine/")
    card = page.locator(f'[data-testid="task-row"][data-task="{task.pk}"]')
    assert card.bounding_box()["height"] >= 44  # a large touch target
    no_sideways_scroll(page)
    card.click()
    page.wait_for_selector('[data-testid="task-title"]')
    no_sideways_scroll(page)
    page.click('[data-testid="task-start"]')
    page.wait_for_selector('[data-testid="task-state"][data-state="in_progress"]')

    page.click('[data-testid="record-edit"]')
    page.wait_for_selector('[data-testid="record-form"]')
    no_sideways_scroll(page)
    page.fill("#id_checked_at", "2026-03-12T09:30")
    for inspector in team[:2]:
        page.check(f'input[name="members"][value="{inspector.pk}"]')
        page.check(f"#id_shown_{inspector.pk}")
    page.fill("#id_body_camera_refs", "DSJ-20260312-01")
    page.fill("#id_representative", "王经理")
    items = list(task.check_items.order_by("code"))
    page.select_option(f"#id_outcome_{items[0].pk}", "compliant")
    page.select_option(f"#id_outcome_{items[1].pk}", "problem")
    page.fill(f"#id_note_{items[1].pk}", "危废暂存间未设置标识")
    # the draft is kept by the server as the inspector goes
    page.wait_for_selector('[data-testid="draft-saved"]', timeout=10_000)
    page.check("#id_result_type_5")
    page.fill("#id_summary", "发现危废贮存不规范，需进一步处理")
    page.fill("#id_handling_ended_on", "2026-03-12")
    page.click('[data-testid="record-save"]')
    page.wait_for_selector('[data-testid="task-state"][data-state="recorded"]')
    record = InspectionRecord.objects.get(task=task)
    assert record.result_type == 5 and record.findings.count() == 2

    # a photo of the site
    photo = tmp_path / "现场照片.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 80, 20)).save(buffer, "JPEG")
    photo.write_bytes(buffer.getvalue())
    page.set_input_files('[data-testid="evidence-form"] input[type=file]', str(photo))
    page.click('[data-testid="evidence-upload"]')
    page.wait_for_selector('[data-testid="evidence"] a')
    assert Evidence.objects.get(task=task).content_type == "image/jpeg"

    # the problem into the ledger
    page.click('[data-testid="problem-add-open"]')
    page.fill("#id_description", "危废暂存间未设置标识")
    page.select_option("#id_handling", "order")
    page.fill("#id_rectification_due", "2026-03-31")
    page.click('[data-testid="problem-add"]')
    page.wait_for_selector('[data-testid="problem"][data-state="open"]')

    page.click('[data-testid="task-submit"]')
    page.wait_for_selector('[data-testid="task-state"][data-state="submitted"]')

    # the leader approves (on a phone too)
    leader_context, leader = phone(browser, live_server, county_leader)
    leader.goto(f"/inspections/{task.pk}/")
    leader.click('[data-testid="task-approve"]')
    leader.wait_for_selector('[data-testid="task-state"][data-state="approved"]')

    # the inspector verifies the rectification with evidence; the leader closes the loop
    page.goto(f"/inspections/{task.pk}/")
    page.click('[data-testid="problem"] summary')
    page.fill('[data-testid="problem"] textarea[name="evidence"]', "已设置危废标识，见整改照片")
    page.click('[data-testid="problem-verify"]')
    page.wait_for_selector('[data-testid="problem"][data-state="verified"]')
    leader.goto(f"/inspections/{task.pk}/")
    leader.click('[data-testid="problem-close"]')
    leader.wait_for_selector('[data-testid="problem"][data-state="closed"]')
    assert Problem.objects.get(task=task).state == Problem.State.CLOSED

    # the record PDF, for signatures
    page.goto(f"/inspections/{task.pk}/")
    page.click('[data-testid="pdf-menu"]')
    with page.expect_download() as info:
        page.click('[data-testid="pdf-record"]')
    path = tmp_path / "record.pdf"
    info.value.save_as(path)
    assert path.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
        ).stdout.decode()
        compact = "".join(text.split())
        source = task.source
        assert "".join((source.company_name or source.name).split()) in compact
        for inspector in team[:2]:
            assert inspector.certificate_number in compact
    leader_context.close()
    context.close()
