"""The real Shanghai key-polluter list (1,101 sites, 2020) through the sources import.

Read from ../shared/realdata (skipped where absent). Shanghai is not in our organisation tree,
so the test builds a 上海 province / city bureau / city enforcement team and imports every
row as a city-managed source of the team, with the district as the county code.
"""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from core.errors import ServiceError
from core.models import Organisation, Role
from exchange.imports import import_job_create, import_job_request_commit
from registry.models import PollutionSource, SourceChange
from tests.conftest import _make_user, realdata
from tests.imports.conftest import source_headers, source_row, sources_xlsx

pytestmark = pytest.mark.django_db

SHANGHAI_CSV = "shanghai_2020/shanghai_key_pollutant_units_2020.csv"
BAD_CHECK = "913101167800233824"  # 上海绘兰材料科技有限公司: the check digit should be U
# GB/T 2260 codes of the districts; the list's other “districts” are zones (化工区, 自贸区 …).
DISTRICTS = {
    "黄浦区": "310101",
    "徐汇区": "310104",
    "长宁区": "310105",
    "静安区": "310106",
    "普陀区": "310107",
    "虹口区": "310109",
    "杨浦区": "310110",
    "闵行区": "310112",
    "宝山区": "310113",
    "嘉定区": "310114",
    "浦东新区": "310115",
    "金山区": "310116",
    "松江区": "310117",
    "青浦区": "310118",
    "奉贤区": "310120",
    "崇明区": "310151",
}


def read_csv() -> list[dict[str, str]]:
    with open(realdata(SHANGHAI_CSV), encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def to_template(records: list[dict[str, str]]) -> list[list]:
    """The published columns, as a bureau would copy them into our template."""
    rows = []
    for r in records:
        district = r["district"]
        rows.append(
            source_row(
                r["pollution_source_code"],
                name=r["pollution_source_name"],
                company_name=r["unit_name"],
                uscc=r["uscc_or_regno"],
                organisation="310100",
                county_code=DISTRICTS.get(district, ""),
                address=r["address"],
                industry_name=r["industry_class"] or r["industry_division"],
                supervision_class="重点监管对象",  # 重点排污单位
                pollution_types=r["pollution_types"],
                tags="" if district in DISTRICTS else district,
                longitude=r["lon"],
                latitude=r["lat"],
            )
        )
    return rows


@pytest.fixture
def shanghai_clerk(db):
    province = Organisation.objects.create(
        division_code="310000", kind=Organisation.Kind.PROVINCE, name="上海市（测试）"
    )
    bureau = Organisation.objects.create(
        division_code="310100",
        kind=Organisation.Kind.CITY_BUREAU,
        name="上海市生态环境局（测试）",
        parent=province,
    )
    team = Organisation.objects.create(
        division_code="310100",
        kind=Organisation.Kind.CITY_TEAM,
        name="上海市生态环境局执法总队（测试）",
        short_name="上海执法总队",
        parent=bureau,
    )
    return _make_user("sh_clerk", Role.CLERK, team)


def upload(actor, data: bytes):
    return import_job_create(
        actor=actor, kind="sources", filename="上海重点排污单位.xlsx", data=data
    )


def test_the_shanghai_list_comes_in_whole_and_stays_put(shanghai_clerk):
    records = read_csv()
    assert len(records) == 1101
    rows = to_template(records)
    data = sources_xlsx(rows)

    # The dry run: every row a new source, one warning, no error.
    job = upload(shanghai_clerk, data)
    report = job.report
    assert (report["rows"], report["create"], report["errors"], report["warnings"]) == (
        1101,
        1101,
        0,
        1,
    )
    bad_row = next(i for i, r in enumerate(records, start=2) if r["uscc_or_regno"] == BAD_CHECK)
    [warning] = report["warning_list"]
    assert (warning["row"], warning["column"]) == (bad_row, "统一社会信用代码")
    assert warning["message"].startswith("校验位错误（按 GB 32100 最后一位应为 U）")

    # Not accepted: nothing is written, not even the 1,100 good rows.
    with pytest.raises(ServiceError):
        import_job_request_commit(actor=shanghai_clerk, job=job, accept_warnings=False)
    assert PollutionSource.objects.count() == 0

    job = import_job_request_commit(actor=shanghai_clerk, job=job, accept_warnings=True)
    assert job.result == {"created": 1101, "updated": 0, "unchanged": 0}
    assert PollutionSource.objects.count() == 1101
    assert PollutionSource.objects.filter(managed_by="city").count() == 1101

    # The 26 credit codes shared by several sites stay separate sources, one per source code.
    per_code = Counter(r["uscc_or_regno"] for r in records)
    shared = {code: n for code, n in per_code.items() if n > 1}
    assert len(shared) == 26
    stored = Counter(PollutionSource.objects.filter(uscc__in=shared).values_list("uscc", flat=True))
    assert stored == shared
    # The wrong check digit was kept as published, and flagged: never dropped or corrected.
    flagged = PollutionSource.objects.get(uscc=BAD_CHECK)
    assert flagged.uscc_checksum_ok is False
    assert flagged.company_name == "上海绘兰材料科技有限公司"
    assert PollutionSource.objects.filter(uscc_checksum_ok=False).count() == 1
    # Districts became county codes; the chemical park and free-trade zones are tags.
    assert PollutionSource.objects.filter(county_code="310116").count() == 175
    assert PollutionSource.objects.filter(tags__contains=["上海化工区"]).count() == 15

    # The same file again: nothing to do, and no new warning to accept.
    history = SourceChange.objects.count()
    again = upload(shanghai_clerk, data)
    assert (again.report["unchanged"], again.report["warnings"], again.report["errors"]) == (
        1101,
        0,
        0,
    )
    again = import_job_request_commit(actor=shanghai_clerk, job=again, accept_warnings=False)
    assert again.result == {"created": 0, "updated": 0, "unchanged": 1101}
    assert SourceChange.objects.count() == history

    # A few edits: only those rows change, each with its history.
    column = {header: i for i, header in enumerate(source_headers())}
    typed = next(
        i for i in range(20, 1101) if _types(records[i]["pollution_types"]) != ["water", "air"]
    )
    rows[0][column["污染源名称"]] = "3M中国有限公司（徐汇）"
    rows[10][column["详细地址"]] = "上海市某区某路 1 号"
    rows[typed][column["污染类型"]] = "废水、废气"
    edited = upload(shanghai_clerk, sources_xlsx(rows))
    assert (edited.report["update"], edited.report["unchanged"], edited.report["create"]) == (
        3,
        1098,
        0,
    )
    edited = import_job_request_commit(actor=shanghai_clerk, job=edited, accept_warnings=False)
    assert edited.result == {"created": 0, "updated": 3, "unchanged": 1098}
    changes = {
        c.source.source_code: c.changes
        for c in SourceChange.objects.filter(action="update").select_related("source")
    }
    assert changes == {
        records[0]["pollution_source_code"]: {
            "name": [records[0]["pollution_source_name"], "3M中国有限公司（徐汇）"]
        },
        records[10]["pollution_source_code"]: {
            "address": [records[10]["address"], "上海市某区某路 1 号"]
        },
        records[typed]["pollution_source_code"]: {
            "pollution_types": [_types(records[typed]["pollution_types"]), ["water", "air"]]
        },
    }
    assert all(c.actor == shanghai_clerk for c in SourceChange.objects.filter(action="update"))


def _types(published: str) -> list[str]:
    names = {
        "废水": "water",
        "废气": "air",
        "危废": "hazardous_waste",
        "土壤": "soil",
        "其他": "other",
    }
    order = ["water", "air", "hazardous_waste", "soil", "noise", "solid_waste", "other"]
    codes = {names[p] for p in published.split(",") if p}
    return [c for c in order if c in codes]
