"""Validate every row, compare with the registry (the dry run), then commit all or nothing.

The dry run and the commit run the same validation: the commit re-reads the file and checks it
again against the registry as it is now, because it may have changed since the dry run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import ServiceError
from core.excel.reader import StructureError, open_table
from core.excel.spec import CellError, ImportSpec, RowResult, Warned

REPORT_LIMIT = 200  # issues and changes kept in the JSON report; the rest go to the Excel report
PROGRESS_EVERY = 1000
KEY_CHUNK = 20000

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Issue:
    row: int
    column: str
    message: str
    level: str  # "error" / "warning"

    def text(self) -> str:
        return _("Row %(row)s, %(column)s: %(message)s") % {
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


def canonical(value: Any) -> Any:
    """A form in which the file's value and the stored one compare equal when they mean the same."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal):
        return value.normalize()
    if isinstance(value, float):
        return Decimal(repr(value)).normalize()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        # Order counts, as it does for the services that write lists (tags keep the order
        # typed; choice lists are kept in their vocabulary's order by the parser and services).
        return tuple(str(v) for v in value)
    return value


def _display(column, value: Any) -> str:
    cell = column.to_cell(value)
    if cell is None:
        return ""
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


@dataclass
class ValidationResult:
    spec: ImportSpec
    rows: list[RowResult]
    ctx: Any

    @property
    def error_count(self) -> int:
        return sum(len(r.errors) for r in self.rows)

    @property
    def warning_count(self) -> int:
        return sum(len(r.warnings) for r in self.rows)

    def count(self, action: str) -> int:
        """Rows that would be created / updated / left unchanged (rows with errors excluded)."""
        return sum(1 for r in self.rows if r.action == action and not r.errors)

    def issues(self, level: str | None = None) -> list[Issue]:
        out = []
        for row in self.rows:
            if level in (None, "error"):
                out.extend(Issue(row.number, c, m, "error") for c, m in row.errors)
            if level in (None, "warning"):
                out.extend(Issue(row.number, c, m, "warning") for c, m in row.warnings)
        return out

    def report(self, limit: int = REPORT_LIMIT) -> dict[str, Any]:
        """The dry-run report as JSON: counts, the first ``limit`` issues and changes."""
        changes = []
        for row in self.rows:
            if len(changes) >= limit:
                break
            if row.action not in ("create", "update") or row.errors:
                continue
            fields = []
            if row.action == "update":
                for field, (old, new) in row.changes.items():
                    column = self.spec.column(field)
                    fields.append([column.header, _display(column, old), _display(column, new)])
            changes.append(
                {
                    "row": row.number,
                    "key": self.spec.key_label(row)[1],
                    "action": row.action,
                    "fields": fields,
                }
            )
        errors = self.issues("error")
        warnings = self.issues("warning")
        return {
            "rows": len(self.rows),
            "create": self.count("create"),
            "update": self.count("update"),
            "unchanged": self.count("unchanged"),
            "error_rows": sum(1 for r in self.rows if r.errors),
            "errors": len(errors),
            "warnings": len(warnings),
            "error_list": [i.as_dict() for i in errors[:limit]],
            "warning_list": [i.as_dict() for i in warnings[:limit]],
            "changes": changes,
        }


# Columns whose values repeat (choices, dates, flags, codes such as the county): each distinct
# text is parsed once per file. Unique columns (names, addresses) stop filling their memo early.
_MEMO_KINDS = frozenset(
    {"choice", "multi", "boolean", "date", "integer", "decimal", "tags", "code"}
)
_MEMO_LIMIT = 20_000
_ERROR = object()


def _parse_rows(spec: ImportSpec, table, progress: Progress | None) -> list[RowResult]:
    plan = []
    for index, field in sorted(table.fields.items()):
        column = spec.column(field)
        try:
            blank = column.parse("")
        except CellError:
            blank = None
        memo = {} if column.kind in _MEMO_KINDS and field != spec.key else None
        # Plain text within its length needs no parser call (the common case, inlined below).
        max_text = getattr(column.parse, "max_length", 0) if column.kind == "text" else 0
        plan.append(
            (index, field, column.header, column.parse, column.required, blank, memo, max_text)
        )
    required = _("required, but empty")
    no_header = _("this column has no header, so its data cannot be imported")
    example_key = ""
    if spec.key and spec.key_column.example:
        try:
            example_key = spec.key_column.parse(spec.key_column.example)
        except CellError:
            example_key = ""
    rows: list[RowResult] = []
    total = table.row_count
    seen = 0
    str_ = str
    for number, cells in table.rows:
        seen += 1
        if progress is not None and seen % PROGRESS_EVERY == 0:
            progress(seen, max(total, seen))
        width = len(cells)
        # Blank rows (formatting left below the data, a spacer line) are skipped, not errors.
        if all(c is None or c == "" or (c.__class__ is str_ and not c.strip()) for c in cells):
            continue
        if len(rows) >= spec.max_rows:
            raise StructureError(
                _("The file has more than %(max)s rows. Split it into several files.")
                % {"max": spec.max_rows}
            )
        values: dict[str, Any] = {}
        row = RowResult(number, values)
        for index, field, header, parse, is_required, blank, memo, max_text in plan:
            raw = cells[index] if index < width else None
            if raw is None or raw == "":
                if is_required:
                    row.error(header, required)
                    continue
                values[field] = list(blank) if blank.__class__ is list else blank
                continue
            if max_text and raw.__class__ is str_:
                text = raw.strip()
                if text and len(text) <= max_text and text[0] != "'" and text.isprintable():
                    values[field] = text
                    continue
            # Only text is memoised: 1, 1.0 and True are equal keys but not equal cells.
            if memo is not None and raw.__class__ is str_:
                value = memo.get(raw, _ERROR)
                if value is _ERROR:
                    try:
                        value = parse(raw)
                    except CellError as exc:
                        value = exc
                    if len(memo) < _MEMO_LIMIT:
                        memo[raw] = value
                if value.__class__ is CellError:
                    row.error(header, value.message)
                    continue
                if value.__class__ is list:
                    value = list(value)
            else:
                try:
                    value = parse(raw)
                except CellError as exc:
                    row.error(header, exc.message)
                    continue
            if value.__class__ is Warned:
                row.warn(header, value.message)
                value = value.value
            if is_required and (value is None or value == ""):
                row.error(header, required)
                continue
            values[field] = value
        for index in table.unmapped:
            if index < width and not (cells[index] is None or str_(cells[index]).strip() == ""):
                row.error(_("column %(letter)s") % {"letter": table.letter(index)}, no_header)
        if example_key and values.get(spec.key) == example_key:
            row.error(
                spec.key_column.header,
                _("this is the template's example row: delete it before importing"),
            )
        rows.append(row)
    if progress is not None:
        progress(seen, seen)
    return rows


def _group_by_key(spec: ImportSpec, rows: list[RowResult]) -> dict[str, list[RowResult]]:
    """Rows by key; a key found on several rows is an error on each, naming the others."""
    by_key: dict[str, list[RowResult]] = {}
    for row in rows:
        key = spec.row_key(row)
        if key:
            by_key.setdefault(key, []).append(row)
    for group in by_key.values():
        if len(group) < 2:
            continue
        for row in group:
            header, label = spec.key_label(row)
            others = "、".join(str(r.number) for r in group if r is not row)
            row.error(
                header,
                _("“%(key)s” appears more than once in the file (also on row %(rows)s)")
                % {"key": label, "rows": others},
            )
    return by_key


def _compare_with_registry(
    spec: ImportSpec, rows: list[RowResult], by_key: dict[str, list[RowResult]], ctx: Any
) -> None:
    """Mark each row create / update (with its changed fields) / unchanged, or refuse it.

    The registry is read one chunk of keys at a time and each chunk dropped once compared, so a
    100,000-row re-import never holds the whole registry in memory beside the file.
    """
    for row in rows:
        row.action = "create"  # until the registry says otherwise
    keys = sorted(by_key)
    for start in range(0, len(keys), KEY_CHUNK):
        chunk = keys[start : start + KEY_CHUNK]
        existing = spec.existing(chunk, ctx)
        for key in chunk:
            current = existing.get(key)
            if current is not None:
                for row in by_key[key]:
                    _compare_row(spec, row, current)


def _compare_row(spec: ImportSpec, row: RowResult, current: dict[str, Any] | None) -> None:
    if current is None:
        row.action = "create"
        return
    header, label = spec.key_label(row)
    if current.get("_error"):
        row.error(header, current["_error"])
        row.action = "foreign"
        return
    if current.get("_foreign"):
        row.error(
            header, _("“%(key)s” is already registered by another organisation") % {"key": label}
        )
        row.action = "foreign"
        return
    for field, value in row.values.items():
        if field in current:
            old = current[field]
            if old != value and canonical(old) != canonical(value):
                row.changes[field] = (old, value)
    row.action = "update" if row.changes else "unchanged"


def validate(
    spec: ImportSpec,
    data: bytes,
    *,
    actor,
    organisation,
    progress: Progress | None = None,
) -> ValidationResult:
    """The dry run: read, check every row and compare it with the registry. Writes nothing.

    Raises ``StructureError`` when the file as a whole cannot be imported.
    """
    table = open_table(data, spec)
    ctx = spec.begin(actor=actor, organisation=organisation)
    rows = _parse_rows(spec, table, progress)
    del table  # the workbook's cells (hundreds of MB for a large file) are no longer needed
    if not rows:
        raise StructureError(_("The file has headers but no data rows."))
    for row in rows:
        spec.check_row(row, ctx)
    by_key = _group_by_key(spec, rows) if spec.key else {}
    _compare_with_registry(spec, rows, by_key, ctx)
    spec.check_against_registry(rows, ctx)
    return ValidationResult(spec=spec, rows=rows, ctx=ctx)


class ImportBlocked(ServiceError):
    """The commit's re-validation found errors, or warnings the user has not accepted."""

    def __init__(self, message, result: ValidationResult):
        super().__init__(message)
        self.result = result


def commit(
    spec: ImportSpec,
    data: bytes,
    *,
    actor,
    organisation,
    accept_warnings: bool,
    progress: Progress | None = None,
    on_success: Callable[[ValidationResult, tuple[int, int, int]], None] | None = None,
) -> tuple[ValidationResult, tuple[int, int, int]]:
    """Validate again, then write the new and changed rows with one call of the app's bulk
    service. Returns the result and (created, updated, unchanged).

    All or nothing: any error (or an unaccepted warning) and nothing is written. ``on_success``
    runs inside the same transaction, so whatever it records (e.g. the job's status) commits
    or rolls back with the rows.
    """
    result = validate(spec, data, actor=actor, organisation=organisation, progress=progress)
    if result.error_count:
        raise ImportBlocked(
            _("The file has %(count)s errors: nothing was imported.")
            % {"count": result.error_count},
            result,
        )
    if result.warning_count and not accept_warnings:
        raise ImportBlocked(
            _(
                "The file has %(count)s warnings: accept them to import, or correct the file. "
                "Nothing was imported."
            )
            % {"count": result.warning_count},
            result,
        )
    # Rows equal to the registry are not sent: the service would only compare them again. (The
    # service locks and re-compares the rows it is sent; a row edited in the registry since the
    # comparison above keeps that edit, as if the import had run a moment earlier.)
    to_write = [row for row in result.rows if row.action in ("create", "update")]
    skipped = len(result.rows) - len(to_write)
    with transaction.atomic():
        created = updated = unchanged = 0
        if to_write:
            created, updated, unchanged = spec.commit(
                actor=actor, rows=to_write, ctx=result.ctx, accept_warnings=accept_warnings
            )
        counts = (created, updated, unchanged + skipped)
        if on_success is not None:
            on_success(result, counts)
    return result, counts
