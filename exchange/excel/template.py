"""The blank import template of a spec, and the Excel error report of a dry run."""

from __future__ import annotations

import io
from datetime import date

from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from exchange.excel.reader import column_letter
from exchange.excel.spec import ImportSpec, chinese_labels

INSTRUCTIONS_SHEET = "填写说明"
OPTIONS_SHEET = "选项"
TEMPLATE_ROWS = 5000  # rows that carry the drop-downs and formats

HEADER_FILL = PatternFill("solid", fgColor="E2EFDA")
REQUIRED_FONT = Font(bold=True, color="C00000")
HEADER_FONT = Font(bold=True)
EXAMPLE_FONT = Font(italic=True, color="808080")

KIND_HINTS = {
    "text": "文本",
    "code": "文本（编码，请勿写成数字）",
    "date": "日期，如 2024-01-31、2024/1/31 或 2024年1月31日",
    "integer": "整数",
    "decimal": "数字",
    "boolean": "是 / 否",
    "choice": "从下拉列表中选择一项",
    "multi": "可填多项，用顿号“、”或逗号分隔",
    "tags": "可填多个标签，用顿号“、”或逗号分隔",
}


def _general_notes(spec: ImportSpec) -> list[str]:
    notes = [
        _("Fill in one record per row on the sheet “%(sheet)s”, starting on row 2.")
        % {"sheet": spec.sheet_name},
        _(
            "Do not rename, reorder or add headers in row 1. Headers in red are required. A column "
            "that is not required may be deleted: the registry then keeps its current value."
        ),
        _("Delete the grey example in row 2 before importing."),
        _(
            "No formulas and no merged cells: paste values only. Codes (credit codes, source codes) "
            "must be text, or leading zeros are lost."
        ),
        _(
            "An empty cell in a column that is present clears the value (or sets the default shown "
            "below)."
        ),
        _(
            "Dates may be written 2024-01-31, 2024/1/31 or 2024年1月31日, or entered as Excel "
            "dates."
        ),
        _(
            "Importing is all or nothing: the system first checks every row and shows what would "
            "be created or changed; nothing is written until you confirm, and nothing at all if "
            "any row has an error."
        ),
    ]
    notes.extend(str(n) for n in spec.notes)
    return notes


def template_workbook(spec: ImportSpec) -> bytes:
    """The import template: Chinese headers, drop-downs, an example row and the instructions."""
    with translation.override("zh-hans"):
        return _template_workbook(spec)


def _template_workbook(spec: ImportSpec) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = spec.sheet_name
    options = workbook.create_sheet(OPTIONS_SHEET)
    options.sheet_state = "hidden"
    option_column = 0
    last = TEMPLATE_ROWS + 1
    for index, column in enumerate(spec.columns):
        letter = column_letter(index)
        cell = sheet.cell(row=1, column=index + 1, value=column.header)
        cell.font = REQUIRED_FONT if column.required else HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        if column.help:
            cell.comment = Comment(str(column.help), "模板", width=260, height=120)
        sheet.column_dimensions[letter].width = max(column.width, len(column.header) * 2 + 2)
        example = sheet.cell(row=2, column=index + 1, value=_example(column))
        example.font = EXAMPLE_FONT
        cell_range = f"{letter}2:{letter}{last}"
        if column.kind in ("text", "code", "multi", "tags"):
            sheet.column_dimensions[letter].number_format = "@"
            example.number_format = "@"
        if column.kind == "date":
            sheet.column_dimensions[letter].number_format = "yyyy-mm-dd"
            example.number_format = "yyyy-mm-dd"
            validation = DataValidation(
                type="date",
                operator="between",
                formula1="DATE(1950,1,1)",
                formula2="DATE(2100,12,31)",
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="日期",
                error="请填写日期，如 2024-01-31",
            )
            validation.add(cell_range)
            sheet.add_data_validation(validation)
        elif column.kind == "integer":
            validation = DataValidation(
                type="whole",
                operator="greaterThanOrEqual",
                formula1="0",
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="整数",
                error="请填写不小于 0 的整数",
            )
            validation.add(cell_range)
            sheet.add_data_validation(validation)
        elif column.kind in ("choice", "boolean", "multi"):
            labels = chinese_labels(column.choices)
            option_letter = column_letter(option_column)
            option_column += 1
            options.cell(row=1, column=option_column, value=column.header)
            for row, label in enumerate(labels, start=2):
                options.cell(row=row, column=option_column, value=label)
            source = f"'{OPTIONS_SHEET}'!${option_letter}$2:${option_letter}${len(labels) + 1}"
            # Several choices in one cell are typed by hand, so the list only offers them.
            strict = column.kind != "multi"
            validation = DataValidation(
                type="list",
                formula1=source,
                allow_blank=True,
                showErrorMessage=strict,
                errorTitle=column.header,
                error="请从下拉列表中选择",
            )
            validation.add(cell_range)
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"
    sheet.row_dimensions[1].height = 30
    _instructions(workbook.create_sheet(INSTRUCTIONS_SHEET, 1), spec)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _example(column):
    example = column.example
    if isinstance(example, date):
        return example
    if example is None:
        return None
    return column.to_cell(example) if column.kind in ("choice", "multi") else example


def _instructions(sheet, spec: ImportSpec) -> None:
    sheet.column_dimensions["A"].width = 22
    sheet.column_dimensions["B"].width = 8
    sheet.column_dimensions["C"].width = 30
    sheet.column_dimensions["D"].width = 60
    sheet.column_dimensions["E"].width = 40
    sheet.column_dimensions["F"].width = 24
    sheet.cell(row=1, column=1, value=f"{spec.title}导入模板 · 填写说明").font = Font(
        bold=True, size=14
    )
    row = 2
    for number, note in enumerate(_general_notes(spec), start=1):
        sheet.cell(row=row, column=1, value=f"{number}. {note}")
        row += 1
    row += 1
    for col, title in enumerate(["列名", "必填", "填写方式", "说明", "可选值", "示例"], start=1):
        cell = sheet.cell(row=row, column=col, value=title)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
    for column in spec.columns:
        row += 1
        values = [
            column.header,
            "是" if column.required else "",
            KIND_HINTS.get(column.kind, ""),
            str(column.help),
            "、".join(chinese_labels(column.choices)) if column.choices else "",
            _example_text(column),
        ]
        for col, value in enumerate(values, start=1):
            cell = sheet.cell(row=row, column=col, value=value)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if col == 1 and column.required:
                cell.font = REQUIRED_FONT


def _example_text(column) -> str:
    example = _example(column)
    if example is None:
        return ""
    if isinstance(example, date):
        return example.isoformat()
    return str(example)


def error_report_workbook(result) -> bytes:
    """Every error and warning of a dry run, one per line, for the user to work through."""
    from exchange.excel.export import export_workbook

    with translation.override("zh-hans"):
        level = {"error": _("Error"), "warning": _("Warning")}
        rows = (
            (issue.row, issue.column, level[issue.level], issue.message)
            for issue in sorted(result.issues(), key=lambda i: (i.row, i.level))
        )
        return export_workbook(
            ["行号", "列", "类型", "说明"], rows, sheet_name="错误报告", widths=[8, 22, 8, 80]
        )
