"""Helpers for the import tests: a toy spec, workbook and CSV builders, browser fixtures."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest
from openpyxl import Workbook

from core.vocab import Expertise, SupervisionClass
from exchange.excel import (
    ImportSpec,
    RowResult,
    boolean_column,
    choice_column,
    code_column,
    date_column,
    integer_column,
    multi_choice_column,
    tags_column,
    text_column,
)
from exchange.excel.spec import Column, parse_uscc


class ToySpec(ImportSpec):
    """A small spec exercising every column kind, with an in-memory “registry”."""

    kind = "toy"
    title = "玩具"
    sheet_name = "玩具"
    key = "code"
    columns = (
        code_column("编码", "code", max_length=12, required=True, example="EX-001"),
        text_column("名称", "name", max_length=20, required=True, example="示例名称"),
        Column("统一社会信用代码", "uscc", parse_uscc, "code", example="91410823MA3X9BKD5P"),
        date_column("日期", "day", example=date(2024, 1, 31)),
        choice_column(
            "监管类别", "cls", SupervisionClass.choices, default="general", example="key"
        ),
        multi_choice_column("专长", "skills", Expertise.choices),
        boolean_column("正面清单", "positive"),
        integer_column("投诉次数", "complaints"),
        tags_column("标签", "tags"),
    )

    def __init__(self, registry: dict[str, dict[str, Any]] | None = None):
        self.registry = registry or {}
        self.committed: list[list[RowResult]] = []

    def check_row(self, row, ctx):
        if row.values.get("cls") == "special" and not row.values.get("name", "").startswith("特"):
            row.error("监管类别", "特殊监管对象的名称须以“特”开头")

    def existing(self, keys, ctx):
        return {k: self.registry[k] for k in keys if k in self.registry}

    def commit(self, *, actor, rows, ctx, accept_warnings):
        self.committed.append(rows)
        created = sum(1 for r in rows if r.action == "create")
        updated = sum(1 for r in rows if r.action == "update")
        return created, updated, len(rows) - created - updated


TOY_HEADERS = [
    "编码",
    "名称",
    "统一社会信用代码",
    "日期",
    "监管类别",
    "专长",
    "正面清单",
    "投诉次数",
    "标签",
]


@pytest.fixture
def toy():
    return ToySpec()


def xlsx_bytes(rows: list[list[Any]], sheet: str = "玩具", *, setup=None) -> bytes:
    """A workbook whose sheet holds ``rows`` (the first is the header row)."""
    workbook = Workbook()
    ws = workbook.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    if setup is not None:
        setup(workbook, ws)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[list[Any]], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


@pytest.fixture(autouse=True)
def media_root(tmp_path, settings):
    """Uploads and error reports of each test go to its own folder."""
    root = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": {"location": str(root)}},
    }
    settings.MEDIA_ROOT = str(root)
    return root


def stored_files(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


INSPECTOR_HEADERS = [
    "姓名",
    "人员类别",
    "执法证号",
    "执法证有效期至",
    "所属单位代码",
    "科室（单位）",
    "职务",
    "在编在岗",
    "性别",
    "工作年限",
    "业务专长",
]


def inspector_rows(n: int, *, prefix: str = "豫环执", start: int = 1) -> list[list[Any]]:
    return [
        [
            f"检查员{i}",
            "执法人员",
            f"{prefix}{i:07d}",
            "2027-12-31",
            "",
            "执法一中队",
            "科员",
            "是",
            "男" if i % 2 else "女",
            i % 30,
            "水、大气",
        ]
        for i in range(start, start + n)
    ]


def inspectors_xlsx(rows: list[list[Any]]) -> bytes:
    return xlsx_bytes([INSPECTOR_HEADERS, *rows], sheet="执法检查人员")


def source_headers() -> list[str]:
    from registry.imports import COLUMNS

    return [c.header for c in COLUMNS]


def source_row(code: str, **values: Any) -> list[Any]:
    """A row of the sources template: field name -> value, everything else empty."""
    from registry.imports import COLUMNS

    defaults = {"source_code": code, "name": f"{code} 点位", "company_name": f"{code} 公司"}
    defaults.update(values)
    return [defaults.get(c.field, "") for c in COLUMNS]


def sources_xlsx(rows: list[list[Any]], headers: list[str] | None = None) -> bytes:
    return xlsx_bytes([headers or source_headers(), *rows], sheet="污染源")
