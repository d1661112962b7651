"""A clerk imports sources through a real Chromium: template, errors, fix, commit, registry."""

from __future__ import annotations

import io
import os

import pytest
from openpyxl import load_workbook

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fill_template(template: bytes, *, valid_from: str) -> bytes:
    """The downloaded template with its example row replaced by one source."""
    workbook = load_workbook(io.BytesIO(template))
    sheet = workbook["污染源"]
    column = {cell.value: cell.column for cell in sheet[1]}
    for cell in sheet[2]:
        cell.value = None
    values = {
        "污染源编码": "WZ-浏览器-001",
        "污染源名称": "武陟县浏览器测试化工厂（一厂区）",
        "单位名称": "武陟县浏览器测试化工有限公司",
        "统一社会信用代码": "911411817515053410",
        "监管类别": "重点监管对象",
        "污染类型": "废水、废气",
        "许可证有效期起": valid_from,
        "许可证有效期止": "2028-12-31",
    }
    for header, value in values.items():
        sheet.cell(row=2, column=column[header], value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(page, path) -> None:
    page.goto("/core/imports/new/")
    page.check("input[name=kind][value=sources]")
    page.set_input_files('[data-testid="import-file"]', str(path))
    page.click('[data-testid="import-upload"]')
    page.wait_for_selector('[data-testid="job-status"]')


def test_a_clerk_imports_a_source_after_fixing_the_file(page, login, county_clerk, tmp_path):
    login(county_clerk)
    page.click('[data-nav="imports"]')
    page.wait_for_selector('[data-testid="template-sources"]')

    with page.expect_download() as download_info:
        page.click('[data-testid="template-sources"]')
    download = download_info.value
    assert download.suggested_filename == "污染源导入模板.xlsx"
    download.save_as(tmp_path / "template.xlsx")
    template = (tmp_path / "template.xlsx").read_bytes()
    assert load_workbook(io.BytesIO(template)).sheetnames[:2] == ["污染源", "填写说明"]

    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(fill_template(template, valid_from="2024-02-30"))
    upload(page, broken)
    errors = page.locator('[data-testid="error-list"] li')
    assert errors.first.inner_text() == "第 2 行，许可证有效期起：“2024-02-30”不是有效日期"
    assert page.locator('[data-testid="commit"]').is_disabled()

    fixed = tmp_path / "fixed.xlsx"
    fixed.write_bytes(fill_template(template, valid_from="2024/2/29"))
    upload(page, fixed)
    assert page.locator('[data-testid="count-create"]').inner_text() == "1"
    assert page.locator('[data-testid="error-list"]').count() == 0
    page.click('[data-testid="commit"]')
    page.wait_for_selector('[data-testid="job-status"][data-status="committed"]')

    page.click('[data-testid="to-registry"]')
    page.wait_for_selector('[data-testid="source-table"]')
    row = page.locator('[data-testid="source-row"]', has_text="WZ-浏览器-001")
    assert row.count() == 1
    assert "武陟县浏览器测试化工厂（一厂区）" in row.inner_text()
