"""Safe exports: formula injection neutralised, values typed, files readable back."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from exchange.excel import export_response, export_workbook, neutralise
from exchange.excel.spec import as_text

pytestmark = pytest.mark.smoke

DANGEROUS = [
    '=HYPERLINK("http://evil.example","点我")',
    "+1+2",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C calc'!A0",
]


def read_back(data: bytes):
    return load_workbook(io.BytesIO(data))


def test_text_that_a_spreadsheet_would_evaluate_gets_a_leading_apostrophe():
    data = export_workbook(["名称"], [[text] for text in DANGEROUS])
    sheet = read_back(data).active
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    # (XML reads a carriage return back as a line feed)
    assert [c.value for c in cells] == ["'" + text.replace("\r", "\n") for text in DANGEROUS]
    assert all(c.data_type == "s" for c in cells)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in xml and b"<f " not in xml


def test_ordinary_values_keep_their_type_and_text():
    when = datetime(2024, 1, 31, 1, 30, tzinfo=UTC)
    data = export_workbook(
        ["文本", "负数", "日期", "时间", "小数", "是否", "列表", "空"],
        [
            [
                "武陟县-詹店镇",
                -5,
                date(2024, 1, 31),
                when,
                Decimal("113.381235"),
                True,
                ["水", "大气"],
                None,
            ]
        ],
    )
    row = next(read_back(data).active.iter_rows(min_row=2, values_only=True))
    assert row[0] == "武陟县-詹店镇"  # a dash inside text is harmless
    assert row[1] == -5  # a number is a number, not text
    assert row[2] == datetime(2024, 1, 31)
    assert row[3] == datetime(2024, 1, 31, 9, 30)  # Asia/Shanghai, without a zone
    assert row[4] == pytest.approx(113.381235)
    assert row[5:] == ("是", "水、大气", None)


def test_control_characters_are_dropped_instead_of_breaking_the_file():
    data = export_workbook(["名称"], [["甲\x00乙\x07丙"]])
    assert read_back(data).active["A2"].value == "甲乙丙"


def test_the_importer_strips_the_apostrophe_again():
    for text in DANGEROUS[:4]:
        assert as_text(neutralise(text)) == text
    assert as_text("'ordinary") == "'ordinary"  # an apostrophe the user typed stays


def test_the_streaming_response_is_a_named_attachment():
    response = export_response(["编码"], ([f"C{i}"] for i in range(5000)), filename="污染源导出")
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment" in response["Content-Disposition"]
    assert (
        "filename*=utf-8''%E6%B1%A1%E6%9F%93%E6%BA%90%E5%AF%BC%E5%87%BA.xlsx"
        in response["Content-Disposition"]
    )
    sheet = read_back(b"".join(response.streaming_content)).active
    assert sheet.max_row == 5001 and sheet["A5001"].value == "C4999"
