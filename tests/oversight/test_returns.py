"""The returns and the year-end report (003 §七(六), §八(一)) and the self-check sheet (004
§四(二)): built by the same job, with the layouts of ``oversight.reports.LAYOUTS``; the Excel
file (openpyxl) and the PDF (pdftotext) give the dashboard's totals."""

from __future__ import annotations

import io
import subprocess

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from core.errors import ServiceError
from oversight import reports
from oversight import selectors as sel
from oversight.services import report_build, report_request
from tests.oversight.conftest import QUARTER, YEAR

pytestmark = pytest.mark.django_db


def _build(actor, kind, year=YEAR, quarter=QUARTER):
    report, created = report_request(actor=actor, kind=kind, year=year, quarter=quarter)
    assert created
    built = report_build(report_id=report.pk)
    assert built.status == "done", built.message
    assert built.data_sha256 == reports.digest(built.data)
    return built


def _sheet(report) -> list[list]:
    sheet = load_workbook(io.BytesIO(report.xlsx.open("rb").read())).active
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def _pdf_text(report) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"],
        input=report.pdf.open("rb").read(),
        capture_output=True,
        check=True,
    ).stdout.decode()


def _dashboard_rows(user, units=None):
    period = sel.Period(YEAR, QUARTER, timezone.localdate())
    return sel.bureau_rows(units=units or sel.units_for_user(user=user), period=period)


def _total_line(text: str) -> list[str]:
    """The numbers of the totals row (合计; a narrow first column wraps it as 合 / 计)."""
    (line,) = [line for line in text.splitlines() if line.strip().split()[:1] in (["合计"], ["合"])]
    return line.split()[1:]


def test_the_city_return_gives_the_dashboards_totals(city_reviewer, city, county_clerk):
    # 武陟县 returned its results first: the city's return says when.
    results = _build(county_clerk, "results_return")
    built = _build(city_reviewer, "city_return")
    rows = _dashboard_rows(city_reviewer)
    assert len(built.data["rows"]) == len(rows) == 12
    expected = {k: sum(r.counts[k] for r in rows) for k in ("tasks", "inspected", "open")}
    expected["published_on_time"] = sum(r.counts["published_on_time"] for r in rows)
    expected["drawn"] = sum(r.drawn for r in rows)
    assert expected["tasks"] > 0 and expected["published_on_time"] > 0
    for key, value in expected.items():
        assert built.data["totals"][key] == value, key
    # Excel: Chinese headers, one row per unit and the totals row, equal to the dashboard.
    table = _sheet(built)
    headers, body, total = table[0], table[1:-1], table[-1]
    assert headers[:3] == ["排名", "单位", "行政区划代码"] and headers[-2:] == [
        "计划报送日期",
        "结果报送日期",
    ]
    keys = [k for k, _label in reports.CITY_RETURN_COLUMNS]
    assert len(body) == 12 and total[0] == "合计"
    for key, value in expected.items():
        assert total[keys.index(key)] == value, key
        assert sum(r[keys.index(key)] for r in body) == value, key
    wuzhi = next(r for r in body if r[keys.index("division_code")] == "410823")
    assert wuzhi[keys.index("results_returned_on")] == (
        timezone.localtime(results.finished_at).date().isoformat()
    )
    assert wuzhi[keys.index("plans_returned_on")] is None  # no plans return yet
    # PDF: the totals line reads the same numbers, in the layout's order.
    numbers = [str(built.data["totals"][k]) for k in keys if k in built.data["totals"]]
    assert _total_line(_pdf_text(built)) == numbers


def test_a_bureaus_results_return_is_its_own_dashboard_row(county_clerk, county, city):
    built = _build(county_clerk, "results_return")
    (row,) = _dashboard_rows(county_clerk, units=[county])
    assert built.organisation == county
    (only,) = built.data["rows"]
    assert only["division_code"] == "410823" and "rank" not in only
    for key in ("tasks", "inspected", "published_on_time", "open", "entered_on_time"):
        assert only[key] == row.counts[key] == built.data["totals"][key], key
    assert built.data["totals"]["open"] == 0 and row.counts["tasks"] > 0
    table = _sheet(built)
    keys = [k for k, _label in reports.RESULTS_COLUMNS]
    assert table[0][0] == "单位" and table[-1][0] == "合计"
    assert table[1][keys.index("tasks")] == row.counts["tasks"]
    text = _pdf_text(built)
    assert "季度检查结果报送" in text or "结果报送" in text
    assert _total_line(text)[0] == str(row.required)


def test_the_plans_return_names_the_plan_and_the_draw(county_clerk, county, city):
    built = _build(county_clerk, "plans_return")
    (row,) = built.data["rows"]
    draw = city["draws"]["on_time"]
    assert row["plan_title"] == draw.plan.title and built.data["plan"]["status"] == "published"
    assert row["draw_number"] == draw.number and row["drawn"] > 0
    table = _sheet(built)
    assert table[0][3] == "季度计划" and table[1][3] == draw.plan.title
    assert draw.number in _pdf_text(built)


def test_the_year_end_report_sums_the_four_quarters(county_clerk, county, city):
    built = _build(county_clerk, "year_end", quarter=1)
    assert built.quarter == 0  # a report of the year
    quarters = [r["quarter"] for r in built.data["rows"]]
    assert quarters == [1, 2, 3, 4]
    today = timezone.localdate()
    tasks = sum(
        sel.bureau_rows(units=[county], period=sel.Period(YEAR, q, today))[0].counts["tasks"]
        for q in (1, 2, 3, 4)
    )
    assert tasks > 0 and built.data["totals"]["tasks"] == tasks
    keys = [k for k, _label in reports.YEAR_END_COLUMNS]
    assert _sheet(built)[-1][keys.index("tasks")] == tasks


def test_the_self_check_sheet_is_the_dashboards_figures_against_their_rules(
    county_clerk, county, city
):
    built = _build(county_clerk, "self_check")
    (row,) = _dashboard_rows(county_clerk, units=[county])
    assert [r["item"] for r in built.data["rows"]] == [str(f.label) for f in row.figures]
    assert built.data["summary"]["red"] == sum(1 for f in row.figures if f.tone == sel.RED)
    table = _sheet(built)
    assert table[0] == ["检查项目", "要求", "情况", "结论"]
    assert len(table) == 1 + len(row.figures)
    assert str(row.figures[0].label) in _pdf_text(built)


def test_who_asks_for_which_report(county_clerk, city_reviewer, province_viewer, city):
    # A county makes its own returns, not the city's reports; the province makes none.
    with pytest.raises(ServiceError):
        report_request(actor=county_clerk, kind="city_return", year=YEAR, quarter=QUARTER)
    with pytest.raises(ServiceError):
        report_request(actor=province_viewer, kind="results_return", year=YEAR, quarter=QUARTER)
    # The city team makes its own returns too (it is a drawing unit of the city).
    report, created = report_request(
        actor=city_reviewer, kind="plans_return", year=YEAR, quarter=QUARTER
    )
    assert created and report.organisation == city_reviewer.organisation
    with pytest.raises(ServiceError):
        report_request(actor=county_clerk, kind="self_check", year=YEAR, quarter=0)
