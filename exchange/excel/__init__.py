"""Excel and CSV import and export, shared by every registry.

- ``ImportSpec`` and the column helpers describe a file (``exchange.excel.spec``);
- ``template_workbook(spec)`` is the blank template with drop-downs and instructions;
- ``validate(spec, data, ...)`` is the dry run, ``commit(...)`` the all-or-nothing write
  (``exchange.excel.engine``); ``open_table`` refuses unusable files (``exchange.excel.reader``);
- ``export_workbook(columns, rows)`` / ``export_response(...)`` write safe exports
  (``exchange.excel.export``).
"""

from exchange.excel.engine import ImportBlocked, Issue, ValidationResult, commit, validate
from exchange.excel.export import (
    cell_value,
    export_response,
    export_rows_response,
    export_workbook,
    neutralise,
    spec_export,
)
from exchange.excel.reader import StructureError, estimate_rows, open_table
from exchange.excel.spec import (
    CellError,
    Column,
    ImportSpec,
    RowResult,
    RowWriter,
    Warned,
    boolean_column,
    choice_column,
    code_column,
    date_column,
    decimal_column,
    integer_column,
    multi_choice_column,
    tags_column,
    text_column,
)
from exchange.excel.template import error_report_workbook, template_workbook

__all__ = [
    "CellError",
    "Column",
    "ImportBlocked",
    "ImportSpec",
    "Issue",
    "RowResult",
    "RowWriter",
    "StructureError",
    "ValidationResult",
    "Warned",
    "boolean_column",
    "cell_value",
    "choice_column",
    "code_column",
    "commit",
    "date_column",
    "decimal_column",
    "error_report_workbook",
    "estimate_rows",
    "export_response",
    "export_rows_response",
    "export_workbook",
    "integer_column",
    "multi_choice_column",
    "neutralise",
    "open_table",
    "spec_export",
    "tags_column",
    "template_workbook",
    "text_column",
    "validate",
]
