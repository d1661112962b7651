"""The object registry's import: template, per-row checks, scope, warnings, re-import, history."""

from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from core.errors import ServiceError
from core.models import AuditEntry
from exchange.excel import template_workbook
from exchange.imports import (
    import_job_create,
    import_job_request_commit,
    registry_export_build,
    registry_export_request,
)
from exchange.models import ImportJob
from registry.imports import SourceImportSpec
from registry.models import PollutionSource, SourceChange
from registry.services import source_create
from tests.imports.conftest import source_headers, source_row, sources_xlsx

pytestmark = pytest.mark.django_db

BAD_CHECK = "913101167800233824"
VALID = "911411817515053410"


def upload(actor, data: bytes) -> ImportJob:
    return import_job_create(actor=actor, kind="sources", filename="污染源.xlsx", data=data)


def issues(job: ImportJob, level: str = "error") -> list[str]:
    return [f"第 {i['row']} 行，{i['column']}：{i['message']}" for i in job.report[f"{level}_list"]]


def test_the_template_round_trips_its_own_example_as_an_error_only(county_clerk, county):
    data = template_workbook(SourceImportSpec())
    workbook = load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["污染源", "填写说明", "选项"]
    sheet = workbook["污染源"]
    assert [c.value for c in sheet[1]] == source_headers()
    assert sheet.freeze_panes == "A2"
    assert sheet["A2"].value == "410823-示例-001"
    letter = {c.value: c.column_letter for c in sheet[1]}
    assert sheet[f"{letter['监管类别']}2"].value == "重点监管对象"  # the Chinese label, not “key”
    validations = {str(dv.sqref).split(":")[0]: dv for dv in sheet.data_validations.dataValidation}
    choice = validations[f"{letter['监管类别']}2"]
    assert choice.type == "list" and choice.formula1.startswith("'选项'!")
    assert validations[f"{letter['许可证有效期起']}2"].type == "date"
    assert validations[f"{letter['近12个月投诉次数']}2"].type == "whole"
    instructions = [r[0] for r in workbook["填写说明"].iter_rows(values_only=True) if r[0]]
    assert "统一社会信用代码" in instructions and "监管单位代码" in instructions
    assert workbook["选项"].sheet_state == "hidden"
    options = [c.value for c in workbook["选项"]["B"] if c.value]
    assert "监管类别" in options and "特殊监管对象" in options

    job = upload(county_clerk, data)
    assert issues(job) == ["第 2 行，污染源编码：这是模板中的示例行，请删除后再导入"]


def test_a_full_row_is_imported_with_every_field(county_clerk, county):
    row = source_row(
        "WZ-001",
        uscc="91141100767130257k",  # 山西中山保险代理有限公司, published in lower case here
        organisation="410823",
        county_code="",
        town="詹店镇",
        address="詹店镇工业路 8 号",
        legal_representative="王某",
        phone="0391-7000000",
        industry_code="c2614",
        industry_name="有机化学原料制造",
        permit_number="914108231234567890001P",
        permit_category="重点管理",
        permit_valid_from="2023/1/1",
        permit_valid_until="2027年12月31日",
        supervision_class="特殊",
        special_reason="上年度被列入挂牌督办",
        pollution_types="废水、废气，危废",
        hazardous_waste_role="产生单位",
        positive_list="否",
        credit_rating="黄牌",
        market_risk_class="C",
        weather_grade="B级",
        violation_record="2023 年超标排放",
        last_penalty_date="2023-06-01",
        complaints_12m=3,
        status="正常",
        tags="化工园区、涉VOCs",
        longitude="113.3812346",
        latitude=35.0512,
    )
    job = upload(county_clerk, sources_xlsx([row]))
    assert job.report["errors"] == 0, job.report["error_list"]
    job = import_job_request_commit(actor=county_clerk, job=job, accept_warnings=False)
    assert job.result == {"created": 1, "updated": 0, "unchanged": 0}
    source = PollutionSource.objects.get(source_code="WZ-001")
    assert source.organisation == county and source.managed_by == "county"
    assert (source.uscc, source.uscc_checksum_ok) == ("91141100767130257K", True)
    assert source.county_code == "410823"  # empty: the county bureau's own code
    assert source.industry_code == "C2614"
    assert (source.permit_category, source.permit_valid_until) == ("key", date(2027, 12, 31))
    assert (source.supervision_class, source.special_reason) == ("special", "上年度被列入挂牌督办")
    assert source.pollution_types == ["water", "air", "hazardous_waste"]
    assert (source.credit_rating, source.market_risk_class, source.weather_grade) == (
        "yellow",
        "C",
        "B",
    )
    assert source.tags == ["化工园区", "涉VOCs"]
    assert source.longitude == Decimal("113.381235") and source.latitude == Decimal("35.051200")
    assert source.complaints_12m == 3 and source.hazardous_waste_role == "generator"
    assert SourceChange.objects.get(source=source).action == "create"


def test_it_reports_each_bad_cell_by_row_and_column(county_clerk):
    rows = [
        source_row("R-1"),
        source_row("R-2", uscc="91410823ABC", supervision_class="特殊"),
        source_row("R-3", permit_valid_from="2025-01-01", permit_valid_until="2024-01-01"),
        source_row("R-4", organisation="410825", county_code="141102"),
        source_row("R-5", industry_code="26", pollution_types="废水、辐射", credit_rating="紫牌"),
        source_row("R-1"),
    ]
    job = upload(county_clerk, sources_xlsx(rows))
    errors = issues(job)
    assert (
        "第 3 行，统一社会信用代码：“91410823ABC”不是统一社会信用代码（18 位，GB 32100-2015）"
        in errors
    )
    assert "第 3 行，特殊监管原因：特殊监管对象须填写列为特殊监管对象的原因。" in errors
    assert "第 4 行，许可证有效期止：许可证有效期止不能早于有效期起。" in errors
    assert any(e.startswith("第 5 行，监管单位代码：“410825”") for e in errors)
    assert any(e.startswith("第 6 行，行业代码：“26”不符合要求") for e in errors)
    assert any(e.startswith("第 6 行，污染类型：“辐射”不是可选值之一") for e in errors)
    assert any(e.startswith("第 6 行，环境信用评价：“紫牌”不是可选值之一") for e in errors)
    assert "第 2 行，污染源编码：“R-1”在文件中出现了多次（另见第 7 行）" in errors
    assert "第 7 行，污染源编码：“R-1”在文件中出现了多次（另见第 2 行）" in errors
    assert job.report["create"] == 0 and job.report["error_rows"] == 6
    with pytest.raises(ServiceError):
        import_job_request_commit(actor=county_clerk, job=job, accept_warnings=True)
    assert PollutionSource.objects.count() == 0


def test_whether_another_bureau_registered_a_code_does_not_show(
    county_clerk, outsider_clerk, other_county, county
):
    """Codes are unique per bureau (issue 10): the import of a code another bureau holds reads
    exactly like the import of a code nobody holds, and creates this bureau's own source."""
    source_create(
        actor=outsider_clerk,
        organisation=other_county,
        data={"source_code": "WX-9", "name": "温县点位", "company_name": "温县公司"},
    )
    taken = upload(county_clerk, sources_xlsx([source_row("WX-9", name="武陟点位")]))
    free = upload(county_clerk, sources_xlsx([source_row("WX-8", name="武陟点位")]))

    # The two reports differ by the code alone.
    assert json.dumps(taken.report, sort_keys=True) == json.dumps(
        free.report, sort_keys=True
    ).replace("WX-8", "WX-9")
    assert (taken.report["create"], taken.report["errors"]) == (1, 0)
    taken = import_job_request_commit(actor=county_clerk, job=taken, accept_warnings=False)
    assert taken.result["created"] == 1
    ours = PollutionSource.objects.get(source_code="WX-9", organisation=county)
    theirs = PollutionSource.objects.get(source_code="WX-9", organisation=other_county)
    assert (ours.name, theirs.name) == ("武陟点位", "温县点位")
    assert list(theirs.changes.values_list("action", flat=True)) == ["create"]
    assert list(ours.changes.values_list("action", flat=True)) == ["create"]

    # Imported again, the file updates this bureau's source only.
    again = upload(county_clerk, sources_xlsx([source_row("WX-9", name="武陟点位（新）")]))
    assert (again.report["create"], again.report["update"]) == (0, 1)
    import_job_request_commit(actor=county_clerk, job=again, accept_warnings=False)
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert (ours.name, theirs.name) == ("武陟点位（新）", "温县点位")


def test_a_wrong_check_digit_is_imported_only_once_the_warning_is_accepted(county_clerk):
    job = upload(
        county_clerk, sources_xlsx([source_row("BC-1", uscc=BAD_CHECK), source_row("OK-1")])
    )
    assert (job.report["errors"], job.report["warnings"]) == (0, 1)
    assert issues(job, "warning")[0].startswith(
        "第 2 行，统一社会信用代码：校验位错误（按 GB 32100 最后一位应为 U）"
    )
    with pytest.raises(ServiceError) as refused:
        import_job_request_commit(actor=county_clerk, job=job, accept_warnings=False)
    assert "接受警告" in refused.value.messages[0]
    assert PollutionSource.objects.count() == 0

    job = import_job_request_commit(actor=county_clerk, job=job, accept_warnings=True)
    assert job.result["created"] == 2 and job.accept_warnings
    flagged = PollutionSource.objects.get(source_code="BC-1")
    assert (flagged.uscc, flagged.uscc_checksum_ok) == (BAD_CHECK, False)
    # Importing it again unchanged raises no new warning: it was accepted when it came in.
    again = upload(
        county_clerk, sources_xlsx([source_row("BC-1", uscc=BAD_CHECK), source_row("OK-1")])
    )
    assert (again.report["warnings"], again.report["unchanged"]) == (0, 2)


def test_the_city_team_imports_its_city_managed_sources(orgs):
    from tests.conftest import _make_user

    team = orgs["city_team:410800"]
    clerk = _make_user("team_clerk", "clerk", team)
    job = upload(
        clerk,
        sources_xlsx(
            [
                source_row("CT-1", organisation="410800", county_code="410823"),
                source_row("CT-2", organisation="410823"),
            ]
        ),
    )
    assert [e.split("：")[0] for e in issues(job)] == ["第 3 行，监管单位代码"]
    job = upload(
        clerk, sources_xlsx([source_row("CT-1", organisation="410800", county_code="410823")])
    )
    job = import_job_request_commit(actor=clerk, job=job, accept_warnings=False)
    source = PollutionSource.objects.get(source_code="CT-1")
    assert (source.organisation, source.managed_by, source.county_code) == (team, "city", "410823")


def test_the_whole_registry_export_imports_back_unchanged(county_clerk, client_for):
    rows = [
        source_row(
            f"EX-{i}", uscc=VALID, pollution_types="废气、危废", tags="涉VOCs", longitude=113.1
        )
        for i in range(3)
    ]
    import_job_request_commit(
        actor=county_clerk, job=upload(county_clerk, sources_xlsx(rows)), accept_warnings=False
    )
    PollutionSource.objects.filter(source_code="EX-1").update(name='=HYPERLINK("http://x")')
    export = registry_export_request(actor=county_clerk, kind="sources")
    registry_export_build(export_id=export.pk)
    response = client_for(county_clerk).get(f"/core/exports/requests/{export.pk}/download/")
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(data))["污染源"]
    assert [c.value for c in sheet[1]] == source_headers()
    names = [r[1] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert names[1] == '\'=HYPERLINK("http://x")'  # neutralised, still readable
    assert AuditEntry.objects.filter(action="export.registry").count() == 1
    job = upload(county_clerk, data)
    assert (job.report["unchanged"], job.report["errors"], job.report["warnings"]) == (3, 0, 0)
