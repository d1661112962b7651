"""Row validation and the dry run of the generic engine, on a toy spec (no database)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from exchange.excel import ImportBlocked, commit, validate
from exchange.excel.spec import (
    CellError,
    Warned,
    parse_boolean,
    parse_date,
    parse_decimal,
    parse_integer,
    parse_uscc,
)
from tests.imports.conftest import TOY_HEADERS, ToySpec, csv_bytes, xlsx_bytes

GOOD_USCC = "911411817515053410"  # 孝义市天威工程机械有限公司, valid
BAD_CHECK = "913101167800233824"  # real, published, wrong check digit (should be U)


def run(spec, rows, **kw):
    return validate(spec, xlsx_bytes([TOY_HEADERS, *rows]), actor=None, organisation=None, **kw)


def texts(result, level="error"):
    return [i.text() for i in result.issues(level)]


@pytest.mark.parametrize(
    "raw",
    [
        "2024-01-31",
        "2024/1/31",
        "2024年1月31日",
        "2024.1.31",
        "20240131",
        45322,  # Excel serial number
        45322.0,
        "45322",
        date(2024, 1, 31),
        "2024-01-31 00:00:00",
    ],
)
def test_it_reads_every_date_spelling_bureaus_use(raw):
    assert parse_date(raw) == date(2024, 1, 31)


@pytest.mark.parametrize("raw", ["2024-02-30", "31/01/2024", "明天", "1900-01-01", 3.0])
def test_it_refuses_what_is_not_a_plausible_date(raw):
    with pytest.raises(CellError):
        parse_date(raw)


def test_it_reads_excel_date_cells_and_serials_from_a_real_workbook(toy):
    def setup(wb, ws):
        ws["D3"].number_format = "yyyy-mm-dd"

    data = xlsx_bytes(
        [
            TOY_HEADERS,
            ["A1", "甲", "", "2024/1/31"],
            ["A2", "乙", "", date(2024, 2, 29)],
            ["A3", "丙", "", 45322],
        ],
        setup=setup,
    )
    result = validate(toy, data, actor=None, organisation=None)
    assert [r.values["day"] for r in result.rows] == [
        date(2024, 1, 31),
        date(2024, 2, 29),
        date(2024, 1, 31),
    ]
    assert result.error_count == 0


def test_it_phrases_each_error_with_row_number_and_column_in_chinese(toy):
    result = run(
        toy,
        [
            ["A1", "甲", GOOD_USCC, "2024-01-31", "重点监管对象"],
            ["A2", "乙", "not-a-code", "2024-13-01", "很重要", "", "也许", -2],
        ],
    )
    errors = texts(result)
    assert (
        "第 3 行，统一社会信用代码：“NOT-A-CODE”不是统一社会信用代码（18 位，GB 32100-2015）"
        in errors
    )
    assert "第 3 行，日期：“2024-13-01”不是有效日期" in errors
    assert any(e.startswith("第 3 行，监管类别：“很重要”不是可选值之一") for e in errors)
    assert "第 3 行，正面清单：请填写“是”或“否”，而不是“也许”" in errors
    assert "第 3 行，投诉次数：-2 小于 0" in errors
    assert not [e for e in errors if e.startswith("第 2 行")]
    assert result.report()["error_rows"] == 1


def test_it_requires_required_columns_per_row(toy):
    result = run(toy, [["A1", ""], ["", "乙"]])
    assert texts(result) == ["第 2 行，名称：此项为必填项。", "第 3 行，编码：此项为必填项。"]


def test_it_accepts_enumerations_by_chinese_label_english_label_or_code(toy):
    result = run(
        toy,
        [
            ["A1", "甲", "", "", "重点监管对象", "水、大气"],
            ["A2", "乙", "", "", "key", "water,air"],
            ["A3", "丙", "", "", "Key object", "Air；Water"],
            ["A4", "丁", "", "", "", ""],
        ],
    )
    assert result.error_count == 0
    assert [r.values["cls"] for r in result.rows] == ["key", "key", "key", "general"]
    # several choices come back in the vocabulary's order, whatever order they were typed in
    assert [r.values["skills"] for r in result.rows] == [
        ["air", "water"],
        ["air", "water"],
        ["air", "water"],
        [],
    ]


def test_it_upper_cases_lower_case_credit_codes(toy):
    # as published: 91141128MA0H7GNHx0 (方山县百货纺织公司峪口门市部)
    result = run(toy, [["A1", "甲", GOOD_USCC.lower()], ["A2", "乙", " 91141128MA0H7GNHx0 "]])
    assert result.error_count == 0 and result.warning_count == 0
    assert [r.values["uscc"] for r in result.rows] == [GOOD_USCC, "91141128MA0H7GNHX0"]


def test_a_wrong_check_digit_is_a_warning_not_an_error_nor_a_silent_drop(toy):
    result = run(toy, [["A1", "甲", BAD_CHECK]])
    assert result.error_count == 0
    assert texts(result, "warning") == [
        "第 2 行，统一社会信用代码：校验位错误（按 GB 32100 最后一位应为 U），请对照营业执照核实。"
        "如需按原样保存，请接受警告，该记录将被标记。"
    ]
    # the row is kept, with the code exactly as written
    assert result.rows[0].values["uscc"] == BAD_CHECK
    assert result.count("create") == 1


def test_it_names_both_rows_of_a_key_repeated_in_the_file(toy):
    result = run(toy, [["A1", "甲"], ["B1", "乙"], ["a1", "丙"]])
    errors = texts(result)
    assert "第 2 行，编码：“A1”在文件中出现了多次（另见第 4 行）" in errors
    assert "第 4 行，编码：“A1”在文件中出现了多次（另见第 2 行）" in errors
    assert result.count("create") == 1  # B1 only: rows with errors are not counted as creations


def test_it_compares_with_the_registry_field_by_field():
    spec = ToySpec(
        registry={
            "A1": {
                "code": "A1",
                "name": "甲",
                "day": date(2024, 1, 31),
                "cls": "key",
                "tags": ["y", "x"],
            },
            "A2": {"code": "A2", "name": "旧名", "day": None, "cls": "general", "tags": []},
            "F1": {"_foreign": True},
        }
    )
    result = run(
        spec,
        [
            ["A1", "甲", "", "2024年1月31日", "重点监管对象", "", "", "", "y、x"],
            ["A2", "新名", "", "", "", "", "", "", ""],
            ["N1", "新", "", "", "", "", "", "", ""],
            ["F1", "别人的", "", "", "", "", "", "", ""],
        ],
    )
    actions = {r.values["code"]: r.action for r in result.rows}
    assert actions == {"A1": "unchanged", "A2": "update", "N1": "create", "F1": "foreign"}
    assert result.rows[1].changes == {"name": ("旧名", "新名")}
    assert texts(result) == ["第 5 行，编码：“F1”已由其他单位登记"]
    report = result.report()
    assert (report["create"], report["update"], report["unchanged"]) == (1, 1, 1)
    update = next(c for c in report["changes"] if c["action"] == "update")
    assert update == {
        "row": 3,
        "key": "A2",
        "action": "update",
        "fields": [["名称", "旧名", "新名"]],
    }


def test_it_skips_blank_rows_and_keeps_excel_row_numbers(toy):
    result = run(toy, [["A1", "甲"], [None, None], ["", "   "], ["A2", ""]])
    assert [r.number for r in result.rows] == [2, 5]
    assert texts(result) == ["第 5 行，名称：此项为必填项。"]


def test_it_refuses_the_templates_example_row(toy):
    result = run(toy, [["EX-001", "示例名称"]])
    assert texts(result) == ["第 2 行，编码：这是模板中的示例行，请删除后再导入"]


def test_cross_column_checks_of_the_spec_are_reported_per_row(toy):
    result = run(toy, [["A1", "普通", "", "", "特殊监管对象"], ["A2", "特别", "", "", "special"]])
    assert texts(result) == ["第 2 行，监管类别：特殊监管对象的名称须以“特”开头"]


def test_data_under_a_column_without_header_is_an_error_not_ignored(toy):
    data = xlsx_bytes([[*TOY_HEADERS, None], ["A1", "甲", "", "", "", "", "", "", "", "多余"]])
    result = validate(toy, data, actor=None, organisation=None)
    assert texts(result) == ["第 2 行，第 J 列：该列没有表头，数据无法导入"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_it_reads_csv_in_utf8_with_or_without_bom_and_gb18030(toy, encoding):
    data = csv_bytes(
        [TOY_HEADERS, ["A1", "河南省焦作市武陟县", GOOD_USCC, "2024/1/31", "重点监管对象"]],
        encoding,
    )
    result = validate(toy, data, actor=None, organisation=None)
    assert result.error_count == 0
    assert result.rows[0].values["name"] == "河南省焦作市武陟县"
    assert result.rows[0].values["cls"] == "key"


def test_a_partial_file_only_compares_the_columns_it_has():
    spec = ToySpec(
        registry={"A1": {"code": "A1", "name": "甲", "cls": "key", "day": date(2020, 1, 1)}}
    )
    data = xlsx_bytes([["编码", "名称"], ["A1", "甲"]])
    result = validate(spec, data, actor=None, organisation=None)
    assert result.rows[0].values == {"code": "A1", "name": "甲"}
    assert result.rows[0].action == "unchanged"


@pytest.mark.django_db
def test_commit_refuses_errors_and_unaccepted_warnings_and_writes_nothing(toy):
    data = xlsx_bytes([TOY_HEADERS, ["A1", "甲", BAD_CHECK]])
    with pytest.raises(ImportBlocked) as blocked:
        commit(toy, data, actor=None, organisation=None, accept_warnings=False)
    assert "1 个警告" in blocked.value.messages[0]
    assert toy.committed == []
    result, counts = commit(toy, data, actor=None, organisation=None, accept_warnings=True)
    assert counts == (1, 0, 0) and len(toy.committed) == 1

    bad = xlsx_bytes([TOY_HEADERS, ["A1", "甲"], ["A2", ""]])
    with pytest.raises(ImportBlocked):
        commit(toy, bad, actor=None, organisation=None, accept_warnings=True)
    assert len(toy.committed) == 1


def test_progress_is_reported_while_rows_are_read(toy):
    seen = []
    rows = [[f"K{i}", "名"] for i in range(2500)]
    run(toy, rows, progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (1000, 2500)
    assert seen[-1] == (2500, 2500)


def test_small_parsers():
    assert parse_integer()(3.0) == 3
    assert parse_integer()("1,234") == 1234
    with pytest.raises(CellError):
        parse_integer()(2.5)
    assert parse_boolean()("是") is True and parse_boolean()("否") is False
    assert parse_boolean(default=True)("") is True
    assert parse_decimal(places=6, min_value=-180, max_value=180)("121.4117570") == Decimal(
        "121.411757"
    )
    with pytest.raises(CellError):
        parse_decimal(places=6, min_value=-180, max_value=180)("200")
    assert isinstance(parse_uscc(BAD_CHECK), Warned)
    assert parse_uscc("") == ""


def test_the_fast_credit_code_check_agrees_with_core_uscc():
    import csv
    import random

    from core import uscc
    from exchange.excel.spec import uscc_status
    from tests.conftest import realdata

    codes = []
    with open(realdata("uscc/uscc_test_vectors.csv"), encoding="utf-8") as handle:
        codes += [uscc.normalise(r["code"]) for r in csv.DictReader(handle)]
    with open(
        realdata("uscc/real_company_uscc_luliang_benxi_hengshui_jiaozuo.csv"), encoding="utf-8"
    ) as handle:
        codes += [uscc.normalise(r["uscc"]) for r in csv.DictReader(handle)]
    rng = random.Random(4)
    alphabet = uscc.ALPHABET + "IOZSV a-"
    for code in list(codes[:2000]):
        position = rng.randrange(18)
        codes.append(code[:position] + rng.choice(alphabet) + code[position + 1 :])
        codes.append(code[: rng.randrange(19)])
    assert len(codes) > 10000
    for code in codes:
        assert uscc_status(uscc.normalise(code)) is uscc.uscc_status(code), code
