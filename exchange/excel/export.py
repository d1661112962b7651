"""Safe Excel exports: write-only workbooks (constant memory) with formula injection neutralised.

A text cell that starts with = + - @ or a tab/carriage return would be taken for a formula by
a spreadsheet (“CSV/formula injection”: a source named ``=HYPERLINK(...)`` typed by anyone
becomes a live link in a clerk's Excel). Such text gets a leading apostrophe, so it stays
readable and inert; the importer strips that apostrophe again, so an export can be re-imported.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import FileResponse
from django.utils import timezone, translation
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font, PatternFill

from exchange.excel.reader import column_letter
from exchange.excel.spec import FORMULA_TRIGGERS, ImportSpec

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="E2EFDA")


def neutralise(text: str) -> str:
    """Text that a spreadsheet would evaluate gets a leading apostrophe; other text is unchanged."""
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    if text and text[0] in FORMULA_TRIGGERS:
        return "'" + text
    return text


def cell_value(value: Any) -> Any:
    """A Python value as a safe cell value."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (int, float, Decimal)):
        return value
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return value
    if isinstance(value, (list, tuple, set)):
        return neutralise("、".join(str(v) for v in value))
    return neutralise(str(value))


def write_workbook(
    target,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    sheet_name: str = "导出",
    widths: Sequence[int] | None = None,
) -> int:
    """Write a one-sheet workbook to a binary file object; returns the number of data rows."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_name[:31])
    for index, header in enumerate(columns):
        width = widths[index] if widths else max(10, min(40, len(str(header)) * 2 + 4))
        sheet.column_dimensions[column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    header_cells = []
    for header in columns:
        cell = WriteOnlyCell(sheet, value=cell_value(str(header)))
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        header_cells.append(cell)
    sheet.append(header_cells)
    count = 0
    for row in rows:
        sheet.append([cell_value(v) for v in row])
        count += 1
    workbook.save(target)
    return count


def export_workbook(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    sheet_name: str = "导出",
    widths: Sequence[int] | None = None,
) -> bytes:
    """A workbook as bytes: ``columns`` are the header texts, each row a sequence of values."""
    buffer = io.BytesIO()
    write_workbook(buffer, columns, rows, sheet_name=sheet_name, widths=widths)
    return buffer.getvalue()


def export_response(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    filename: str,
    sheet_name: str = "导出",
    widths: Sequence[int] | None = None,
) -> FileResponse:
    """A download of any filtered list. The workbook is built in a temporary file, not in
    memory, so a 100,000-row export costs disk, not RAM; the file is deleted once sent."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes (deletes) it
    write_workbook(spool, columns, rows, sheet_name=sheet_name, widths=widths)
    spool.seek(0)
    if not filename.endswith(".xlsx"):
        filename += ".xlsx"
    return FileResponse(
        spool, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE
    )


# The name the registry and inspector list pages were told to expect.
export_rows_response = export_response


def spec_rows(spec: ImportSpec, records: Iterable[dict[str, Any]]) -> Iterable[list[Any]]:
    """Records (dicts of the spec's fields) as rows of the spec's template, for re-import."""
    columns = spec.columns
    for record in records:
        yield [column.to_cell(record.get(column.field)) for column in columns]


def spec_export(spec: ImportSpec, records: Iterable[dict[str, Any]], target) -> int:
    """Write records in the import template's layout: edit the file, import it back.

    Choice labels are written in Chinese whatever the user's language, like the template.
    """
    with translation.override("zh-hans"):
        return write_workbook(
            target,
            [c.header for c in spec.columns],
            spec_rows(spec, records),
            sheet_name=spec.sheet_name,
            widths=[max(c.width, len(c.header) * 2 + 2) for c in spec.columns],
        )
