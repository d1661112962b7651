"""Whole-file refusals: each with a clear Chinese reason, before any row is looked at."""

from __future__ import annotations

import io
import os
import zipfile

import pytest

from exchange.excel import StructureError, validate
from exchange.excel import reader as reader_module
from tests.imports.conftest import TOY_HEADERS, csv_bytes, xlsx_bytes

pytestmark = pytest.mark.smoke


def refusal(spec, data: bytes) -> str:
    with pytest.raises(StructureError) as refused:
        validate(spec, data, actor=None, organisation=None)
    return " ".join(refused.value.messages)


def test_it_refuses_an_empty_file(toy):
    assert refusal(toy, b"") == "文件是空的。"
    assert refusal(toy, b"   \r\n ") == "文件是空的。"


def test_it_refuses_a_file_with_headers_only(toy):
    assert refusal(toy, xlsx_bytes([TOY_HEADERS])) == "文件只有表头，没有数据行。"
    assert refusal(toy, csv_bytes([TOY_HEADERS, [], []])) == "文件只有表头，没有数据行。"


def test_it_refuses_random_bytes(toy):
    message = refusal(toy, os.urandom(4096))
    assert "不是 Excel 工作簿（.xlsx）" in message


def test_it_refuses_ten_megabytes_of_junk_quickly(toy):
    message = refusal(toy, os.urandom(10 * 1024 * 1024))
    assert "不是 Excel 工作簿（.xlsx）" in message


def test_it_refuses_a_renamed_pdf(toy):
    message = refusal(toy, b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n")
    assert message == "这是 PDF 文件，不是 Excel 工作簿（.xlsx）或 CSV 文件。请下载导入模板填写。"


def test_it_refuses_an_old_xls_or_encrypted_workbook(toy):
    message = refusal(toy, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    assert "另存为 .xlsx" in message


def test_it_refuses_a_zip_that_is_not_a_workbook(toy):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
        archive.writestr("[Content_Types].xml", "<Types/>")
    assert refusal(toy, buffer.getvalue()) == (
        "这是一个 zip 压缩包，不是 Excel 工作簿（.xlsx）。请下载导入模板填写。"
    )


def test_it_refuses_a_zip_bomb_before_inflating_it(toy):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * (64 * 1024 * 1024))
    data = buffer.getvalue()
    assert len(data) < 200 * 1024  # 64 MB of zeros deflates to ~64 KB
    assert "压缩比异常" in refusal(toy, data)


def test_it_refuses_a_truncated_workbook(toy):
    data = xlsx_bytes([TOY_HEADERS, ["A1", "甲"]])
    message = refusal(toy, data[: len(data) // 2])
    assert "损坏" in message


def test_it_refuses_a_file_over_the_size_limit(toy, monkeypatch):
    monkeypatch.setattr(reader_module, "MAX_UPLOAD_BYTES", 1024 * 1024)
    data = csv_bytes([TOY_HEADERS] + [["A1", "甲" * 10]] * 60000)
    assert "超过 1 MB 的上限" in refusal(toy, data)


def test_it_names_the_sheets_that_exist_when_the_sheet_is_wrong(toy):
    message = refusal(toy, xlsx_bytes([TOY_HEADERS, ["A1", "甲"]], sheet="Sheet1"))
    assert message == "工作簿中没有名为“玩具”的工作表。现有工作表：“Sheet1”。"


def test_it_names_missing_unknown_and_duplicated_headers(toy):
    message = refusal(
        toy, xlsx_bytes([["编码", "名 称", "单位名称", "日期", "日期"], ["A1", "甲", "x", "", ""]])
    )
    assert "列“日期”重复出现（第 D 列和第 E 列）。" in message
    assert "无法识别的列：“单位名称”（C 列）。" in message
    assert "缺少必填列" not in message  # “名 称” is 名称 once spaces are ignored

    message = refusal(toy, xlsx_bytes([["名称", "日期"], ["甲", ""]]))
    assert message == "缺少必填列：“编码”。"


def test_headers_marked_required_with_an_asterisk_are_recognised(toy):
    data = xlsx_bytes([["编码*", "*名称", "日期（必填）"], ["A1", "甲", ""]])
    # 日期（必填） is 日期 with a required marker
    result = validate(toy, data, actor=None, organisation=None)
    assert result.rows[0].values["code"] == "A1"


def test_it_refuses_formulas_and_names_the_cell(toy):
    def setup(wb, ws):
        ws["H3"] = "=1+2"

    data = xlsx_bytes([TOY_HEADERS, ["A1", "甲"], ["A2", "乙"]], setup=setup)
    assert refusal(toy, data) == (
        "单元格 H3 含有公式。公式不能导入：请复制工作表并“选择性粘贴为数值”后重新上传。"
    )


def test_it_refuses_merged_cells_and_names_them(toy):
    def setup(wb, ws):
        ws.merge_cells("A3:B3")

    data = xlsx_bytes([TOY_HEADERS, ["A1", "甲"], ["A2", "乙"]], setup=setup)
    assert refusal(toy, data) == (
        "单元格 A3:B3 是合并单元格。请取消所有合并单元格并把每一行填写完整后重新上传。"
    )


def test_a_formula_on_another_sheet_does_not_matter(toy):
    def setup(wb, ws):
        other = wb.create_sheet("计算")
        other["A1"] = "=SUM(1,2)"
        other.merge_cells("A2:B2")

    data = xlsx_bytes([TOY_HEADERS, ["A1", "甲"]], setup=setup)
    assert validate(toy, data, actor=None, organisation=None).rows[0].values["name"] == "甲"


def test_a_title_row_above_the_header_is_not_the_header(toy):
    data = xlsx_bytes([[None], TOY_HEADERS, ["A1", "甲"]])
    result = validate(toy, data, actor=None, organisation=None)
    assert [r.number for r in result.rows] == [3]


def test_estimate_rows_is_cheap_and_close(toy):
    rows = [TOY_HEADERS] + [[f"A{i}", "甲"] for i in range(3000)]
    assert reader_module.estimate_rows(xlsx_bytes(rows)) == 3001
    assert reader_module.estimate_rows(csv_bytes(rows)) == 3001


def test_a_table_that_starts_in_column_c_still_names_excel_columns(toy):
    # calamine hands over cells from the first used column: messages must not shift.
    data = xlsx_bytes([[None, None, *TOY_HEADERS, None], [None, None, "A1", "甲", *[""] * 7, "x"]])
    result = validate(toy, data, actor=None, organisation=None)
    assert [i.text() for i in result.issues()] == ["第 2 行，第 L 列：该列没有表头，数据无法导入"]
    message = refusal(toy, xlsx_bytes([[None, "编码", "名称", "怪列"], [None, "A1", "甲", ""]]))
    assert message == "无法识别的列：“怪列”（D 列）。请使用模板中的表头。"


def test_formulas_are_found_in_sheets_written_with_a_namespace_prefix(toy):
    # Some writers (the .NET Open XML SDK, some WPS versions) prefix every element: <x:f>.
    data = xlsx_bytes([TOY_HEADERS, ["A1", "甲"], ["A2", "乙"]])
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = (
                    content.replace(b"<worksheet xmlns=", b"<x:worksheet xmlns:x=")
                    .replace(b"</worksheet>", b"</x:worksheet>")
                    .replace(b"<", b"<x:")
                    .replace(b"<x:/", b"</x:")
                    .replace(b"<x:x:", b"<x:")
                    .replace(b"</x:x:", b"</x:")
                    .replace(b"<x:?xml", b"<?xml")
                )
                content = content.replace(
                    b'<x:c r="B3" t="inlineStr"><x:is><x:t>\xe4\xb9\x99</x:t></x:is></x:c>',
                    b'<x:c r="B3"><x:f>A2&amp;"x"</x:f><x:v>A2x</x:v></x:c>',
                )
                assert b"<x:f>" in content
            target.writestr(item, content)
    assert refusal(toy, buffer.getvalue()).startswith("单元格 B3 含有公式")
