"""Playwright (Chromium): the city team reads the dashboard, the province its cities, a county
leader the own row."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest
from django.utils import translation
from openpyxl import load_workbook

from core.models import Organisation
from tests.oversight.conftest import PUBLISH_DUE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

Q1 = "?year=2026&quarter=1"


def test_the_city_team_finds_the_late_county_and_its_overdue_result(
    page, login, city_reviewer, city
):
    violations = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    login(city_reviewer)
    page.goto("/lottery/quotas/" + Q1)
    late = page.locator('[data-testid="overview-row"][data-division="410822"]')
    assert late.get_attribute("data-tone") == "red"
    publication = late.locator('[data-testid="fig-publication"]')
    assert publication.get_attribute("data-tone") == "red"
    assert "bg-danger-subtle" in publication.get_attribute("class")
    # The rule, on hover (the title attribute), in Chinese with its seed section.
    publication.hover()
    rule = publication.get_attribute("title")
    assert "20 个工作日" in rule and "000 §五(五)" in rule
    overdue = late.locator('[data-testid="fig-overdue"]')
    assert overdue.get_attribute("data-tone") == "red"
    overdue.hover()
    assert "000 §五" in overdue.get_attribute("title")
    ok = page.locator('[data-testid="overview-row"][data-division="410823"]')
    assert ok.get_attribute("data-tone") == "green"
    # The charts drew from the page's data (no inline script).
    page.wait_for_selector('.oversight-chart[data-rendered="1"]')
    # Drill down to the overdue result.
    late.locator('[data-testid="drill-overdue"]').click()
    page.wait_for_selector('[data-testid="drill-list"]')
    assert page.locator('[data-testid="drill-row"]').count() == 1
    assert PUBLISH_DUE.isoformat() in page.locator('[data-testid="drill-list"]').inner_text()
    assert violations == []


def test_the_province_sees_its_cities(page, login, province_viewer, city, orgs):
    province = orgs["province:410000"]
    bureau = Organisation.objects.create(
        division_code="410700",
        kind="city_bureau",
        name="新乡市生态环境局",
        short_name="新乡市",
        parent=province,
    )
    Organisation.objects.create(
        division_code="410721",
        kind="county_bureau",
        name="新乡县分局",
        short_name="新乡县",
        parent=bureau,
    )
    login(province_viewer)
    page.goto("/oversight/" + Q1)
    rows = page.locator('[data-testid="city-row"]')
    assert rows.count() == 2
    assert rows.nth(0).inner_text().startswith("新乡市")
    assert rows.nth(1).inner_text().startswith("焦作市")
    rows.nth(1).locator('[data-testid="city-link"]').click()
    page.wait_for_selector('[data-testid="quota-overview"]')
    assert page.locator('[data-testid="overview-row"]').count() == 12


def test_a_county_leader_sees_only_the_own_row(page, login, county_leader, city):
    login(county_leader)
    page.goto("/lottery/quotas/" + Q1)
    rows = page.locator('[data-testid="overview-row"]')
    assert rows.count() == 1
    assert rows.get_attribute("data-division") == "410823"
    text = page.locator("main").inner_text()
    assert "温县" not in text and "博爱" not in text


def test_the_city_team_downloads_the_quarterly_report(page, login, city_reviewer, city, worker):
    login(city_reviewer)
    page.goto("/oversight/reports/" + Q1)
    page.select_option("#r-kind", "quarterly")
    page.click('[data-testid="report-request"]')
    page.wait_for_selector('[data-testid="report-ready"]', timeout=90_000)
    with page.expect_download() as info:
        page.click('[data-testid="download-pdf"]')
    download = info.value
    assert download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as f:
        assert f.read(5) == b"%PDF-"
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", str(download.path()), "-"],
            capture_output=True,
            check=True,
        ).stdout.decode()
        assert "博爱" in re.sub(r"\s+", "", text)
    with page.expect_download() as info:
        page.click('[data-testid="download-xlsx"]')
    with open(info.value.path(), "rb") as f:
        sheet = load_workbook(io.BytesIO(f.read()), read_only=True).active
        table = [list(r) for r in sheet.iter_rows(values_only=True)]
    from oversight.reports import STATISTICS_COLUMNS

    with translation.override("zh-hans"):
        headers = [translation.gettext("Quarter")] + [str(t) for _k, t in STATISTICS_COLUMNS]
    assert table[0] == headers and "单位" in headers
    keys = ["quarter"] + [key for key, _label in STATISTICS_COLUMNS]
    boai = next(r for r in table[1:] if r[keys.index("division_code")] == "410822")
    # The one key result of 博爱县 never published (hand-counted in the fixture).
    assert boai[keys.index("publication_overdue")] == 1
