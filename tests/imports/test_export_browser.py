"""A clerk exports the whole object registry through a real Chromium while a real Celery worker
on Redis writes the file: the page waits, updates itself and offers the download."""

from __future__ import annotations

import io
import os

import pytest
from openpyxl import load_workbook

from tests.lottery.factories import make_sources

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop

pytestmark = [pytest.mark.browser, pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def test_a_clerk_exports_the_registry_and_downloads_it_when_ready(
    worker, page, login, county, county_clerk, tmp_path
):
    sources = make_sources(county, 12, klass="general")
    login(county_clerk)
    page.click('[data-nav="imports"]')
    page.click('[data-testid="export-sources"]')
    page.wait_for_selector('[data-testid="export-download"]', timeout=60_000)  # polled in place
    with page.expect_download() as download_info:
        page.click('[data-testid="export-download"]')
    download = download_info.value
    download.save_as(tmp_path / "export.xlsx")
    sheet = load_workbook(io.BytesIO((tmp_path / "export.xlsx").read_bytes())).worksheets[0]
    codes = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True) if row[0]}
    assert {s.source_code for s in sources} <= codes
