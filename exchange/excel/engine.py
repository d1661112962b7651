"""Validate every row, compare with the registry (the dry run), then commit all or nothing.

The dry run and the commit run the same validation, a chunk of rows at a time: the commit
re-reads the file and checks it again against the registry as it is now, because it may have
changed since the dry run, and hands each clean chunk to the spec's writer while it reads the
next one. One transaction holds the whole commit: an error anywhere rolls back everything.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.utils.translation import gettext as _

from core import fields
from core.batch import gc_paused
from core.bulk import SideJob
from core.errors import ServiceError
from exchange.excel.reader import StructureError, open_table
from exchange.excel.spec import CellError, ImportSpec, RowResult, RowWriter, Warned

if TYPE_CHECKING:
    from core.models import User

REPORT_LIMIT = 200  # issues and changes kept in the JSON report; the rest go to the Excel report
PROGRESS_EVERY = 1000
CHUNK_ROWS = 5000  # rows parsed, compared and written together
# The first chunk, and the last ones, are smaller: the database starts writing sooner, and
# has less left to write once the last row is read.
CHUNK_ROWS_MIN = 1000

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
        out: list[Issue] = []
        for row in self.rows:
            if level in (None, "error"):
                out.extend(Issue(row.number, c, m, "error") for c, m in row.errors)
            if level in (None, "warning"):
                out.extend(Issue(row.number, c, m, "warning") for c, m in row.warnings)
        return out

    def report(self, limit: int = REPORT_LIMIT) -> dict[str, Any]:
        """The dry-run report as JSON: counts, the first ``limit`` issues and changes."""
        changes: list[dict[str, Any]] = []
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
# Only these cells are memoised: 1, 1.0 and True are equal keys but not equal cells.
_MEMO_TYPES = frozenset({str, date, datetime})
_REQUIRED = object()  # a cell's outcome: required, but empty
_ABSENT = object()  # in a column of values: the field is left out of the row (it had an error)
_first = itemgetter(0)


class _Column:
    """How one column of the file is read, a chunk of rows at a time.

    A column whose parser offers ``many`` (plain text, codes, numbers) is read in one go when
    every cell is plain. Otherwise each cell's outcome is ``(value,)``, a ``CellError``, a
    ``Warned`` or ``_REQUIRED``, and the outcome of a repeated text is memoised.
    """

    def __init__(self, spec: ImportSpec, index: int, field: str):
        column = spec.column(field)
        self.index = index
        self.field = field
        self.header = column.header
        self.parse = column.parse
        self.required = column.required
        try:
            self.blank = column.parse("")
        except CellError:
            self.blank = None
        self.is_list = self.blank.__class__ is list or column.kind in ("multi", "tags")
        self.memo: dict[Any, Any] | None = (
            {} if column.kind in _MEMO_KINDS and field != spec.key else None
        )
        # Plain text within its length needs no parser call.
        self.max_text = getattr(column.parse, "max_length", 0) if column.kind == "text" else 0
        self.many: Callable[[list[Any]], list[Any] | None] | None = getattr(
            column.parse, "many", None
        )

    def outcome(self, raw: Any) -> Any:
        """One cell, the general way."""
        if raw is None or raw == "":
            return _REQUIRED if self.required else (self.blank,)
        if self.max_text and raw.__class__ is str:
            text = raw.strip()
            if text and len(text) <= self.max_text and text[0] != "'" and text.isprintable():
                return (text,)
        try:
            value = self.parse(raw)
        except CellError as exc:
            return exc
        if value.__class__ is Warned:
            return value
        if self.required and (value is None or value == ""):
            return _REQUIRED
        return (value,)

    def _read_plain(self, cells: list[Any]) -> list[Any] | None:
        if self.required and (None in cells or "" in cells):
            return None
        assert self.many is not None  # called only for a column that reads whole columns
        values = self.many(cells)
        if values is None or (self.required and (None in values or "" in values)):
            return None
        return list(map(list, values)) if self.is_list else values

    def read(self, cells: list[Any], rows: list[RowResult], required: str) -> list[Any]:
        """The values of ``cells`` (one per row, ``_ABSENT`` where the cell has an error);
        errors and warnings go to ``rows``."""
        if self.many is not None:
            values = self._read_plain(cells)
            if values is not None:
                return values
        memo = self.memo
        if memo is None:
            outcomes = list(map(self.outcome, cells))
        else:
            outcomes = list(map(memo.get, cells))
            if None in outcomes:
                outcome = self.outcome
                for i, result in enumerate(outcomes):
                    if result is None:
                        raw = cells[i]
                        result = outcomes[i] = outcome(raw)
                        if raw.__class__ in _MEMO_TYPES and len(memo) < _MEMO_LIMIT:
                            memo[raw] = result
        if set(map(type, outcomes)) == {tuple}:
            values = list(map(_first, outcomes))
            return list(map(list, values)) if self.is_list else values
        values = []
        header = self.header
        for row, result in zip(rows, outcomes, strict=True):
            if result.__class__ is tuple:
                value = result[0]
            elif result is _REQUIRED:
                row.error(header, required)
                value = _ABSENT
            elif result.__class__ is Warned:
                row.warn(header, result.message)
                value = result.value
                if self.required and (value is None or value == ""):
                    row.error(header, required)
                    value = _ABSENT
            else:
                row.error(header, result.message)
                value = _ABSENT
            if value.__class__ is list:
                value = list(value)
            values.append(value)
        return values


def _is_blank_row(cells: list[Any]) -> bool:
    for c in cells:
        if c is None or c == "" or (c.__class__ is str and not c.strip()):
            continue
        return False
    return True


class _Parser:
    """Turns the file's raw rows into ``RowResult``s, a chunk at a time, column by column."""

    def __init__(self, spec: ImportSpec, table):
        self.spec = spec
        self.table = table
        self.columns = [_Column(spec, i, f) for i, f in sorted(table.fields.items())]
        self.fields = [c.field for c in self.columns]
        self.width = max([c.index for c in self.columns] + table.unmapped, default=-1) + 1
        self.required = fields.required_message()
        self.no_header = _("this column has no header, so its data cannot be imported")
        self.example_key = ""
        if spec.key and spec.key_column.example:
            try:
                self.example_key = spec.key_column.parse(spec.key_column.example)
            except CellError:
                self.example_key = ""

    def chunks(
        self, progress: Progress | None, size: int, smallest: int
    ) -> Iterator[list[RowResult]]:
        """The non-blank rows, parsed, in chunks of up to ``size`` rows: ``smallest`` first,
        and shrinking to it again as the end of the sheet (as far as it is known) nears."""
        total = self.table.row_count
        seen = kept = 0
        limit = min(size, smallest)
        numbers: list[int] = []
        raw: list[list[Any]] = []
        max_rows = self.spec.max_rows
        for number, cells in self.table.rows:
            seen += 1
            if progress is not None and seen % PROGRESS_EVERY == 0:
                progress(seen, max(total, seen))
            # Blank rows (formatting left below the data, a spacer line) are skipped.
            if _is_blank_row(cells):
                continue
            kept += 1
            if kept > max_rows:
                raise StructureError(
                    _("The file has more than %(max)s rows. Split it into several files.")
                    % {"max": max_rows}
                )
            numbers.append(number)
            raw.append(cells)
            if len(raw) >= limit:
                yield self.parse(numbers, raw)
                numbers, raw = [], []
                limit = min(size, max(smallest, (total - seen) // 2))
        if raw:
            yield self.parse(numbers, raw)
        if progress is not None:
            progress(seen, seen)

    def parse(self, numbers: list[int], raw: list[list[Any]]) -> list[RowResult]:
        width = self.width
        if any(len(cells) < width for cells in raw):  # CSV lines may be short
            raw = [cells + [None] * (width - len(cells)) for cells in raw]
        columns = list(zip(*raw, strict=False)) if width else []
        rows = [RowResult(number, {}) for number in numbers]
        required = self.required
        values = [
            column.read(list(columns[column.index]), rows, required) for column in self.columns
        ]
        fields = self.fields
        for row, row_values in zip(rows, zip(*values, strict=True), strict=True):
            # A cell with an error left ``_ABSENT`` in its column (and an error on its row).
            if row.errors:
                row.values = {
                    f: v for f, v in zip(fields, row_values, strict=True) if v is not _ABSENT
                }
            else:
                row.values = dict(zip(fields, row_values, strict=True))
        letter = self.table.letter
        for index in self.table.unmapped:
            for row, cell in zip(rows, columns[index], strict=True):
                if not (cell is None or str(cell).strip() == ""):
                    row.error(_("column %(letter)s") % {"letter": letter(index)}, self.no_header)
        example_key = self.example_key
        if example_key:
            key = self.spec.key
            for row in rows:
                if row.values.get(key) == example_key:
                    row.error(
                        self.spec.key_column.header,
                        _("this is the template's example row: delete it before importing"),
                    )
        return rows


def _duplicate_errors(spec: ImportSpec, group: list[RowResult]) -> None:
    for row in group:
        header, label = spec.key_label(row)
        others = "、".join(str(r.number) for r in group if r is not row)
        message = _("“%(key)s” appears more than once in the file (also on row %(rows)s)") % {
            "key": label,
            "rows": others,
        }
        if row.action == "foreign":
            # Compared with the registry already: its refusal (always the last error) stays
            # last, as when the file is checked in one piece.
            row.errors.insert(len(row.errors) - 1, (header, message))
        else:
            row.error(header, message)


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


class _Check:
    """One pass over a file: parse and check each chunk of rows (on the calling thread), then
    compare it with the registry and, for a commit, hand it to the spec's writer.

    The second step needs the database. When the writer streams and the database is
    PostgreSQL it runs on a second thread that borrows the calling thread's connection (and
    so its transaction), one chunk behind: the database files chunk n while Python reads
    chunk n + 1. The calling thread does not touch the database meanwhile.
    """

    def __init__(self, spec: ImportSpec, ctx: Any, sink: RowWriter | None, accept_warnings: bool):
        self.spec = spec
        self.ctx = ctx
        self.sink = sink
        self.accept_warnings = accept_warnings
        self.rows: list[RowResult] = []
        self.first: dict[str, RowResult] = {}  # key -> its first row
        self.repeated: dict[str, list[RowResult]] = {}  # key -> every row, for repeated keys
        self.created: set[str] = set()  # keys compared as new: not looked up again
        self.blocked = False  # an error, or an unaccepted warning: nothing more is written
        # The registry's own key lookup, when the spec keeps the base one (a fast path).
        self.plain_key = type(spec).row_key is ImportSpec.row_key and spec.key

    # -- step 1: parse and check (no database) --------------------------------------------

    def check_rows(self, chunk: list[RowResult]) -> tuple[list[RowResult], list[str], bool]:
        """Cross-column checks and repeated keys: (the rows, their keys, whether a key repeats
        so far)."""
        spec, ctx = self.spec, self.ctx
        check_row = spec.check_row
        for row in chunk:
            check_row(row, ctx)
        first, repeated = self.first, self.repeated
        if self.plain_key:
            key = self.plain_key
            keys = [row.values.get(key) or "" for row in chunk]
        else:
            keys = [spec.row_key(row) for row in chunk]
        for key, row in zip(keys, chunk, strict=True):
            if not key:
                continue
            seen = first.setdefault(key, row)
            if seen is not row:
                group = repeated.get(key)
                if group is None:
                    repeated[key] = [seen, row]
                else:
                    group.append(row)
        self.rows.extend(chunk)
        return chunk, keys, bool(repeated)

    # -- step 2: the registry and the writer (database) ------------------------------------

    def against_registry(self, chunk: list[RowResult], keys: list[str], repeated: bool) -> None:
        spec, ctx = self.spec, self.ctx
        by_key: dict[str, list[RowResult]] = {}
        created = self.created
        for row, key in zip(chunk, keys, strict=True):
            row.action = "create"  # until the registry says otherwise
            if key and key not in created:
                by_key.setdefault(key, []).append(row)
        wanted = sorted(by_key)
        # A writer that locks what it will write may answer for the registry itself.
        lookup = getattr(self.sink, "existing", None)
        if not wanted:
            existing = {}
        elif lookup is not None:
            existing = lookup(wanted)
        else:
            existing = spec.existing(wanted, ctx)
        for key in wanted:
            current = existing.get(key)
            if current is None:
                created.add(key)
            else:
                for row in by_key[key]:
                    _compare_row(spec, row, current)
        spec.check_against_registry(chunk, ctx)
        if self.sink is None or self.blocked:
            return
        if (
            repeated
            or any(row.errors for row in chunk)
            or (not self.accept_warnings and any(row.warnings for row in chunk))
        ):
            self.blocked = True
            return
        to_write = [row for row in chunk if row.action in ("create", "update")]
        if to_write:
            self.sink.write(to_write)

    # -- the pass ------------------------------------------------------------------------

    def run(self, table, progress: Progress | None) -> list[RowResult]:
        chunks = _Parser(self.spec, table).chunks(progress, CHUNK_ROWS, CHUNK_ROWS_MIN)
        if self.sink is not None and self.sink.streams and connection.vendor == "postgresql":
            self._run_beside(chunks)
        else:
            for chunk in chunks:
                self.against_registry(*self.check_rows(chunk))
        for group in self.repeated.values():
            _duplicate_errors(self.spec, group)
        return self.rows

    def _run_beside(self, chunks: Iterator[list[RowResult]]) -> None:
        handoff: queue.Queue = queue.Queue(maxsize=2)
        failed = threading.Event()

        def database_side() -> None:
            try:
                while (item := handoff.get()) is not None:
                    self.against_registry(*item)
            except BaseException:
                failed.set()
                while handoff.get() is not None:  # let the reader's put() calls return
                    pass
                raise

        side = SideJob(database_side, name="import-database")
        try:
            for chunk in chunks:
                if failed.is_set():
                    break
                handoff.put(self.check_rows(chunk))
        except BaseException:
            handoff.put(None)
            with contextlib.suppress(BaseException):  # the reader's own error comes first
                side.wait()
            raise
        handoff.put(None)
        side.wait()


def validate(
    spec: ImportSpec,
    data: bytes,
    *,
    actor: User | None,
    organisation,
    progress: Progress | None = None,
) -> ValidationResult:
    """The dry run: read, check every row and compare it with the registry. Writes nothing.

    Raises ``StructureError`` when the file as a whole cannot be imported.
    """
    table = open_table(data, spec)
    ctx = spec.begin(actor=actor, organisation=organisation)
    # A 100,000-row file becomes millions of small objects that live until the end: the
    # cyclic collector would walk them again and again (``core.batch.gc_paused``).
    with gc_paused():
        rows = _Check(spec, ctx, None, accept_warnings=False).run(table, progress)
    del table  # the workbook's cells (hundreds of MB for a large file) are no longer needed
    if not rows:
        raise StructureError(_("The file has headers but no data rows."))
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
    actor: User | None,
    organisation,
    accept_warnings: bool,
    progress: Progress | None = None,
    on_success: Callable[[ValidationResult, tuple[int, int, int]], None] | None = None,
) -> tuple[ValidationResult, tuple[int, int, int]]:
    """Check the file again, against the registry as it is now, and write its new and
    changed rows through the spec's writer. Returns the result and (created, updated,
    unchanged).

    All or nothing, in one transaction: rows are handed to the writer while the rest of the
    file is still being read, but any error (or an unaccepted warning) anywhere raises
    ``ImportBlocked`` with the full report, and the transaction rolls back whatever was
    written. ``on_success`` runs inside the same transaction, so whatever it records (e.g.
    the job's status) commits or rolls back with the rows.
    """
    table = open_table(data, spec)
    ctx = spec.begin(actor=actor, organisation=organisation)
    with gc_paused(), transaction.atomic():
        with spec.writer(actor=actor, ctx=ctx, accept_warnings=accept_warnings) as sink:
            check = _Check(spec, ctx, sink, accept_warnings=accept_warnings)
            rows = check.run(table, progress)
            del table
            if not rows:
                raise StructureError(_("The file has headers but no data rows."))
            result = ValidationResult(spec=spec, rows=rows, ctx=ctx)
            if result.error_count:
                raise ImportBlocked(
                    _("The file has %(count)s errors: nothing was imported.")
                    % {"count": result.error_count},
                    result,
                )
            if result.warning_count and not accept_warnings:
                raise ImportBlocked(
                    _(
                        "The file has %(count)s warnings: accept them to import, or correct "
                        "the file. Nothing was imported."
                    )
                    % {"count": result.warning_count},
                    result,
                )
        # Rows equal to the registry were not sent: the writer would only compare them again.
        # (The writer locks and re-compares the rows it is sent; a row edited in the registry
        # since the comparison keeps that edit, as if the import had run a moment earlier.)
        assert sink.counts is not None
        created, updated, unchanged = sink.counts
        sent = sum(1 for row in rows if row.action in ("create", "update"))
        counts = (created, updated, unchanged + len(rows) - sent)
        if on_success is not None:
            on_success(result, counts)
    return result, counts
