"""What an import file looks like: its columns, how each cell is read, and the hooks an app fills in.

A column's ``header`` is part of the file format, so it is a fixed Chinese string and never
translated: a template downloaded in English must still import. Help texts and messages are
translated like any other interface string.

A parser turns one raw cell (``str`` from CSV; ``str``/``float``/``int``/``bool``/``date``/
``datetime`` from Excel) into a value. It raises ``CellError`` for a value that cannot be
imported, and returns ``Warned(value, message)`` for a value that can be imported once the user
accepts the warning (e.g. a real credit code with a wrong check digit).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from operator import methodcaller
from typing import TYPE_CHECKING, Any

from django.utils import translation

from core import fields
from core import uscc as uscc_rules

if TYPE_CHECKING:
    from core.models import User

# A text cell starting with one of these is a formula in a spreadsheet; exports prefix such
# cells with an apostrophe (see exchange.excel.export), and the reader strips it again.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff"))
_SEPARATORS = re.compile(r"[,，、;；/|\n]+")


class CellError(Exception):
    """A cell value that cannot be imported. ``message`` is already translated."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Warned:
    """A value that is imported only when the user accepts ``message``."""

    value: Any
    message: str


def is_blank(raw: Any) -> bool:
    return raw is None or raw == "" or (isinstance(raw, str) and not raw.strip())


def as_text(raw: Any) -> str:
    """The cell as the user sees it: 12.0 → "12", a date → "2024-01-31", stripped."""
    if raw is None:
        return ""
    if raw.__class__ is str:
        text = raw.strip()
        if not text.isprintable():  # rare: zero-width characters, line breaks
            text = text.translate(_ZERO_WIDTH).strip()
        # An export neutralised a formula-like value with a leading apostrophe: undo it.
        if text[:1] == "'" and text[1:2] in FORMULA_TRIGGERS and len(text) > 1:
            text = text[1:]
        return text
    if isinstance(raw, bool):
        return "是" if raw else "否"
    if isinstance(raw, float):
        return str(int(raw)) if raw.is_integer() else repr(raw)
    if isinstance(raw, datetime):
        return raw.date().isoformat() if raw.time() == datetime.min.time() else raw.isoformat()
    if isinstance(raw, date):
        return raw.isoformat()
    return str(raw).strip()


# --- parsers --------------------------------------------------------------------------------
#
# A parser may also offer ``parse.many(cells)``: the values of a whole column at once when
# every cell is of the plain kind it expects (C-level checks, no call per cell), or None to
# have the engine parse cell by cell. Its values must be exactly what ``parse`` returns for
# each cell; blank cells are the engine's business (it only calls ``many`` when a required
# column has none, and rejects a blank value from ``many`` in a required column).


def _starts_with_apostrophe(text: str) -> bool:
    return text[:1] == "'"


def _plain_texts(cells: list[Any]) -> list[str] | None:
    """``as_text`` of every cell when all are text that needs nothing but stripping."""
    if set(map(type, cells)) != {str}:
        return None
    texts = list(map(str.strip, cells))
    if not all(map(str.isprintable, texts)) or any(map(_starts_with_apostrophe, texts)):
        return None
    return texts


def parse_text(*, max_length: int, required: bool = False) -> Callable[[Any], str]:
    def parse(raw: Any) -> str:
        text = as_text(raw)
        if len(text) > max_length:
            raise CellError(fields.too_long_message(max_length, len(text)))
        return text

    def many(cells: list[Any]) -> list[str] | None:
        texts = _plain_texts(cells)
        if texts is None or max(map(len, texts), default=0) > max_length:
            return None
        return texts

    parse.max_length = max_length  # type: ignore[attr-defined]  # the engine inlines short text
    parse.many = many  # type: ignore[attr-defined]  # a whole column at once
    return parse


def parse_code(
    *, max_length: int, pattern: str | None = None, pattern_help: str = "", upper: bool = True
) -> Callable[[Any], str]:
    """A code: spaces removed, upper-cased; optionally matched against ``pattern``."""
    compiled = re.compile(pattern) if pattern else None

    def parse(raw: Any) -> str:
        text = "".join(as_text(raw).split())
        if upper:
            text = text.upper()
        if len(text) > max_length:
            raise CellError(fields.too_long_message(max_length, len(text)))
        if text and compiled is not None and not compiled.fullmatch(text):
            raise CellError(fields.pattern_message(text, pattern_help))
        return text

    def many(cells: list[Any]) -> list[str] | None:
        texts = _plain_texts(cells)
        # Printable text holds no whitespace but the plain space, which a code drops.
        if texts is None or " " in "".join(texts):
            return None
        if upper:
            texts = list(map(str.upper, texts))
        if max(map(len, texts), default=0) > max_length:
            return None
        if compiled is not None and not all(map(compiled.fullmatch, filter(None, texts))):
            return None
        return texts

    parse.many = many  # type: ignore[attr-defined]  # a whole column at once
    return parse


# ``core.uscc.uscc_status`` for an already normalised code (the one implementation).
uscc_status = uscc_rules.status_of_normalised


def parse_uscc(raw: Any) -> str | Warned:
    """统一社会信用代码: normalised; malformed is an error, a wrong check digit a warning."""
    code = uscc_rules.normalise(as_text(raw))
    if not code:
        return ""
    status = uscc_status(code)
    if status is uscc_rules.UsccStatus.MALFORMED:
        raise CellError(fields.uscc_malformed_message(code))
    if status is uscc_rules.UsccStatus.BAD_CHECK_DIGIT:
        return Warned(code, fields.uscc_check_digit_message(code))
    return code


def _uscc_many(cells: list[Any]) -> list[str] | None:
    texts = _plain_texts(cells)
    if texts is None:
        return None
    codes = [uscc_rules.normalise(text) for text in texts]
    valid = uscc_rules.UsccStatus.VALID
    if any(uscc_status(code) is not valid for code in set(codes) if code):
        return None
    return codes


parse_uscc.many = _uscc_many  # type: ignore[attr-defined]  # a whole column at once


def parse_division(raw: Any) -> str:
    text = as_text(raw)
    if text and not re.fullmatch(r"[0-9]{6}", text):
        raise CellError(fields.division_message(text))
    return text


EXCEL_EPOCH = date(1899, 12, 30)
DATE_MIN, DATE_MAX = date(1950, 1, 1), date(2100, 12, 31)
_DATE_PATTERNS = (
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"),
    re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})"),
    re.compile(r"(\d{4})\.(\d{1,2})\.(\d{1,2})"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)
_TIME_SUFFIX = re.compile(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")


def _serial_to_date(serial: float) -> date:
    # Excel's 1900 date system (1 = 1900-01-01; the fictitious 1900-02-29 does not matter for
    # the dates a registry holds, all after 1950).
    return EXCEL_EPOCH + timedelta(days=int(serial))


def parse_date(raw: Any) -> date | None:
    """Excel dates and serial numbers, 2024-01-31, 2024/1/31, 2024.1.31, 2024年1月31日, 20240131."""
    if is_blank(raw):
        return None
    value: date | None = None
    if isinstance(raw, datetime):
        value = raw.date()
    elif isinstance(raw, date):
        value = raw
    elif isinstance(raw, (int, float)) and not isinstance(raw, bool):
        if 1 <= raw < 2958466:
            value = _serial_to_date(raw)
    else:
        text = _TIME_SUFFIX.sub("", as_text(raw)).replace(" ", "")
        if re.fullmatch(r"\d{5}(\.\d+)?", text):
            value = _serial_to_date(float(text))
        for pattern in _DATE_PATTERNS:
            match = pattern.fullmatch(text)
            if match:
                try:
                    value = date(*map(int, match.groups()))
                except ValueError:
                    raise CellError(fields.invalid_date_message(text)) from None
                break
    if value is None:
        raise CellError(fields.not_a_date_message(as_text(raw)))
    if not DATE_MIN <= value <= DATE_MAX:
        raise CellError(fields.implausible_date_message(value.isoformat()))
    return value


def parse_integer(
    *, min_value: int | None = 0, max_value: int | None = None, default: int | None = 0
) -> Callable:
    def parse(raw: Any) -> int | None:
        if is_blank(raw):
            return default
        if isinstance(raw, bool):
            raise CellError(fields.whole_number_message(as_text(raw)))
        if isinstance(raw, float):
            if not raw.is_integer():
                raise CellError(fields.whole_number_message(as_text(raw)))
            value = int(raw)
        elif isinstance(raw, int):
            value = raw
        else:
            text = as_text(raw).replace(",", "")
            if not re.fullmatch(r"[+-]?\d+(\.0+)?", text):
                raise CellError(fields.whole_number_message(text))
            value = int(float(text)) if "." in text else int(text)
        if (min_value is not None and value < min_value) or (
            max_value is not None and value > max_value
        ):
            if max_value is None:
                raise CellError(fields.less_than_message(value, min_value))
            raise CellError(fields.range_message(value, min_value, max_value))
        return value

    def many(cells: list[Any]) -> list[int] | None:
        kinds = set(map(type, cells))
        if kinds == {int}:
            values = list(cells)
        elif kinds == {float} and all(map(float.is_integer, cells)):
            values = list(map(int, cells))
        else:
            return None
        if values and min_value is not None and min(values) < min_value:
            return None
        if values and max_value is not None and max(values) > max_value:
            return None
        return values

    parse.many = many  # type: ignore[attr-defined]  # a whole column at once
    return parse


def parse_decimal(*, places: int, min_value: float, max_value: float) -> Callable:
    quantum = Decimal(1).scaleb(-places)

    def parse(raw: Any) -> Decimal | None:
        if is_blank(raw):
            return None
        text = as_text(raw)
        try:
            value = Decimal(text).quantize(quantum)
        except (InvalidOperation, ValueError):
            raise CellError(fields.number_message(text)) from None
        if not min_value <= value <= max_value:
            raise CellError(fields.range_message(text, min_value, max_value))
        return value

    to_quantum = methodcaller("quantize", quantum)

    def many(cells: list[Any]) -> list[Decimal] | None:
        # A float's repr and ``as_text``'s spelling (12.0 → "12") quantize to the same Decimal.
        if set(map(type, cells)) != {float}:
            return None
        try:
            values = list(map(to_quantum, map(Decimal, map(repr, cells))))
            if values and not (min_value <= min(values) and max(values) <= max_value):
                return None
        except (InvalidOperation, ValueError):
            return None
        return values

    parse.many = many  # type: ignore[attr-defined]  # a whole column at once
    return parse


TRUE_WORDS = {"是", "y", "yes", "true", "1", "√", "✓", "有"}
FALSE_WORDS = {"否", "n", "no", "false", "0", "×", "✗", "无", "不是"}


def parse_boolean(*, default: bool = False) -> Callable[[Any], bool]:
    def parse(raw: Any) -> bool:
        if is_blank(raw):
            return default
        if isinstance(raw, bool):
            return raw
        text = as_text(raw).lower()
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
        raise CellError(fields.boolean_message(as_text(raw)))

    return parse


def _choice_lookup(choices: Sequence[tuple[str, Any]], aliases: dict[str, str]) -> dict[str, str]:
    """Every spelling a user may type for a choice: the code, the Chinese and English labels."""
    lookup: dict[str, str] = {}
    for code, label in choices:
        lookup[str(code).lower()] = code
        for language in ("zh-hans", "en"):
            with translation.override(language):
                lookup[str(label).strip().lower()] = code
    for alias, code in aliases.items():
        lookup[alias.lower()] = code
    return lookup


def chinese_labels(choices: Sequence[tuple[str, Any]]) -> list[str]:
    with translation.override("zh-hans"):
        return [str(label) for _code, label in choices]


def _choices_hint(choices: Sequence[tuple[str, Any]]) -> str:
    return "、".join(chinese_labels(choices))


def parse_choice(
    choices: Sequence[tuple[str, Any]],
    *,
    default: str = "",
    aliases: dict[str, str] | None = None,
) -> Callable[[Any], str]:
    lookup = _choice_lookup(choices, aliases or {})

    def parse(raw: Any) -> str:
        if is_blank(raw):
            return default
        text = as_text(raw)
        code = lookup.get(text.lower()) or lookup.get(re.sub(r"\s+", "", text).lower())
        if code is None:
            raise CellError(fields.choice_message(text, _choices_hint(choices)))
        return code

    return parse


def parse_multi_choice(
    choices: Sequence[tuple[str, Any]], *, aliases: dict[str, str] | None = None
) -> Callable[[Any], list[str]]:
    """Several choices in one cell, separated by 、 , ， ; or new lines; kept in choice order."""
    lookup = _choice_lookup(choices, aliases or {})
    order = {code: i for i, (code, _label) in enumerate(choices)}

    def parse(raw: Any) -> list[str]:
        found: set[str] = set()
        for part in _SEPARATORS.split(as_text(raw)):
            part = part.strip()
            if not part:
                continue
            code = lookup.get(part.lower())
            if code is None:
                raise CellError(fields.choice_message(part, _choices_hint(choices)))
            found.add(code)
        return sorted(found, key=order.__getitem__)

    return parse


def parse_tags(*, max_length: int = 20, max_count: int = 20) -> Callable[[Any], list[str]]:
    def parse(raw: Any) -> list[str]:
        tags: list[str] = []
        for part in _SEPARATORS.split(as_text(raw)):
            part = part.strip()
            if not part or part in tags:
                continue
            if len(part) > max_length:
                raise CellError(fields.tag_too_long_message(part, max_length))
            tags.append(part)
        if len(tags) > max_count:
            raise CellError(fields.too_many_tags_message(max_count))
        return tags

    return parse


# --- columns and specs ----------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of an import file.

    ``kind`` drives the template (drop-downs, date validation, text format) and how a stored
    value is written back into a cell for exports: text, code, date, integer, decimal, boolean,
    choice, multi (several choices) or tags.
    """

    header: str
    field: str
    parse: Callable[[Any], Any]
    kind: str = "text"
    required: bool = False
    help: Any = ""
    example: Any = ""
    choices: tuple[tuple[str, Any], ...] = ()
    width: int = 16

    def to_cell(self, value: Any) -> Any:
        """A stored value as the template expects it, so an export can be imported back."""
        if value is None:
            return None
        if self.kind == "choice":
            labels = dict(self.choices)
            return str(labels[value]) if value in labels else value
        if self.kind == "multi":
            labels = dict(self.choices)
            return "、".join(str(labels.get(v, v)) for v in value or [])
        if self.kind == "tags":
            return "、".join(value or [])
        if self.kind == "boolean":
            return "是" if value else "否"
        if self.kind == "decimal":
            return float(value)
        return value


def text_column(header, field, *, max_length, required=False, help="", example="", width=18):
    return Column(
        header,
        field,
        parse_text(max_length=max_length, required=required),
        "text",
        required,
        help,
        example,
        width=width,
    )


def code_column(
    header,
    field,
    *,
    max_length,
    pattern=None,
    pattern_help="",
    required=False,
    help="",
    example="",
    width=16,
):
    return Column(
        header,
        field,
        parse_code(max_length=max_length, pattern=pattern, pattern_help=pattern_help),
        "code",
        required,
        help,
        example,
        width=width,
    )


def date_column(header, field, *, required=False, help="", example=None, width=13):
    return Column(header, field, parse_date, "date", required, help, example, width=width)


def integer_column(
    header, field, *, min_value=0, max_value=None, default=0, help="", example=0, width=10
):
    return Column(
        header,
        field,
        parse_integer(min_value=min_value, max_value=max_value, default=default),
        "integer",
        False,
        help,
        example,
        width=width,
    )


def decimal_column(header, field, *, places, min_value, max_value, help="", example=None, width=12):
    return Column(
        header,
        field,
        parse_decimal(places=places, min_value=min_value, max_value=max_value),
        "decimal",
        False,
        help,
        example,
        width=width,
    )


def boolean_column(header, field, *, default=False, help="", example="否", width=10):
    return Column(
        header,
        field,
        parse_boolean(default=default),
        "boolean",
        False,
        help,
        example,
        choices=(("1", "是"), ("0", "否")),
        width=width,
    )


def choice_column(
    header,
    field,
    choices,
    *,
    default="",
    required=False,
    aliases=None,
    help="",
    example="",
    width=14,
):
    choices = tuple(choices)
    return Column(
        header,
        field,
        parse_choice(choices, default=default, aliases=aliases),
        "choice",
        required,
        help,
        example,
        choices,
        width,
    )


def multi_choice_column(header, field, choices, *, aliases=None, help="", example="", width=18):
    choices = tuple(choices)
    return Column(
        header,
        field,
        parse_multi_choice(choices, aliases=aliases),
        "multi",
        False,
        help,
        example,
        choices,
        width,
    )


def tags_column(header, field, *, max_length=20, max_count=20, help="", example="", width=18):
    return Column(
        header,
        field,
        parse_tags(max_length=max_length, max_count=max_count),
        "tags",
        False,
        help,
        example,
        width=width,
    )


def column_for(declared: fields.Field) -> Column:
    """The import column of a declared field (``core.fields``): its header, and a parser
    that applies the field's rule to a cell, saying what is wrong in the rule's words."""
    rule, name, header = declared.rule, declared.name, declared.imported
    common = {"help": declared.help, "example": declared.example}
    if declared.width:
        common["width"] = declared.width
    default = declared.default
    if isinstance(rule, fields.Text):
        return text_column(
            header, name, max_length=rule.max_length, required=declared.required, **common
        )
    if isinstance(rule, fields.Code):
        return code_column(
            header,
            name,
            max_length=rule.max_length,
            pattern=rule.pattern or None,
            pattern_help=rule.pattern_help,
            required=declared.required,
            **common,
        )
    if isinstance(rule, fields.CreditCode):
        return Column(header, name, parse_uscc, "code", declared.required, **common)
    if isinstance(rule, fields.Division):
        return Column(header, name, parse_division, "code", declared.required, **common)
    if isinstance(rule, fields.Choice):
        return choice_column(
            header,
            name,
            rule.choices.choices,
            default="" if default is None else default,
            required=declared.required,
            aliases=rule.aliases,
            **common,
        )
    if isinstance(rule, fields.MultiChoice):
        return multi_choice_column(
            header, name, rule.choices.choices, aliases=rule.aliases, **common
        )
    if isinstance(rule, fields.Tags):
        return tags_column(
            header, name, max_length=rule.max_length, max_count=rule.max_count, **common
        )
    if isinstance(rule, fields.Date):
        return date_column(header, name, required=declared.required, **common)
    if isinstance(rule, fields.Bool):
        return boolean_column(header, name, default=rule.default, **common)
    if isinstance(rule, fields.Int):
        return integer_column(
            header,
            name,
            min_value=rule.min_value,
            max_value=rule.max_value,
            default=rule.default,
            **common,
        )
    if isinstance(rule, fields.Decimal):
        return decimal_column(
            header,
            name,
            places=rule.places,
            min_value=rule.min_value,
            max_value=rule.max_value,
            **common,
        )
    raise TypeError(f"no import column for the rule {rule!r} of {name}")


def columns_for(declared: Iterable[fields.Field]) -> tuple[Column, ...]:
    """The import columns of an entity's declared fields that have a header, in order."""
    return tuple(column_for(f) for f in declared if f.imported)


@dataclass(slots=True)
class RowResult:
    """One data row after parsing: its values (only the file's columns) and its problems."""

    number: int  # the row number the user sees in Excel (header = 1) or the CSV record number
    values: dict[str, Any]
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column header, message)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    action: str = ""  # create / update / unchanged, once compared with the registry
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def error(self, column: str, message: str) -> None:
        self.errors.append((column, message))

    def warn(self, column: str, message: str) -> None:
        self.warnings.append((column, message))


class RowWriter:
    """Where a commit sends its checked rows, chunk by chunk, inside one transaction.

    ``write(rows)`` receives the rows of each chunk that create or update a record, in file
    order, for as long as no row so far has an error (or a warning the user did not accept).
    The block that ``ImportSpec.writer`` opens ends cleanly only when the whole file was
    clean; it then finishes the write and sets ``counts`` = (created, updated, unchanged).
    Any exception in the block rolls back everything written.

    ``streams``: the writer sends rows to the database as they come, so the commit reads the
    rest of the file on another thread meanwhile (``write`` then runs on that other thread,
    which holds the database connection; one call at a time).

    A writer may also offer ``existing(keys)``, answering like ``ImportSpec.existing`` from the
    records it has locked for the write; the commit then compares its rows with those.
    """

    streams = False
    counts: tuple[int, int, int] | None = None

    def write(self, rows: list[RowResult]) -> None:
        raise NotImplementedError


class _CollectingWriter(RowWriter):
    def __init__(self) -> None:
        self.rows: list[RowResult] = []

    def write(self, rows: list[RowResult]) -> None:
        self.rows.extend(rows)


class ImportSpec:
    """What one kind of import looks like and how it reaches its app's bulk service.

    Subclasses set the class attributes and override the hooks. ``begin`` runs once per
    validation with the importing user; the hooks receive its result as ``ctx``.
    """

    kind: str = ""
    title: Any = ""
    sheet_name: str = ""
    columns: tuple[Column, ...] = ()
    key: str = ""  # the field that identifies a record (source_code, certificate_number)
    notes: Sequence[Any] = ()  # extra lines for the instruction sheet
    max_rows: int = 200_000

    def column(self, field_name: str) -> Column:
        for column in self.columns:
            if column.field == field_name:
                return column
        raise KeyError(field_name)

    @property
    def key_column(self) -> Column:
        return self.column(self.key)

    def begin(self, *, actor: User | None, organisation) -> Any:
        """Prepare whatever the checks need (e.g. the organisations the actor may import for)."""
        return None

    def row_key(self, row: RowResult) -> str:
        """The key that identifies the row's record; blank keys are reported as missing."""
        return row.values.get(self.key) or ""

    def key_label(self, row: RowResult) -> tuple[str, str]:
        """(column header, value) naming the row's key in messages."""
        return self.key_column.header, self.row_key(row)

    def check_row(self, row: RowResult, ctx: Any) -> None:
        """Cross-column checks on one parsed row (add errors or warnings to ``row``)."""

    def existing(self, keys: list[str], ctx: Any) -> dict[str, dict[str, Any]]:
        """Current values of the records with these keys, by key, with the spec's field names.

        A record the actor may not change must still be returned, with ``"_foreign": True``,
        so the row is refused rather than taken for a new record; ``"_error": message`` refuses
        the row with that message (e.g. the key matches several records).
        """
        return {}

    def check_against_registry(self, rows: list[RowResult], ctx: Any) -> None:
        """Checks that need the registry, run once for all rows (e.g. likely duplicates)."""

    def commit(
        self, *, actor: User | None, rows: list[RowResult], ctx: Any, accept_warnings: bool
    ) -> tuple[int, int, int]:
        """Write every row through the app's bulk service: (created, updated, unchanged)."""
        raise NotImplementedError

    @contextmanager
    def writer(self, *, actor: User | None, ctx: Any, accept_warnings: bool) -> Iterator[RowWriter]:
        """Where the commit sends its rows (see ``RowWriter``). By default they are collected
        and handed to ``commit`` in one call when the block ends; a spec whose bulk service
        takes rows in chunks overrides this to stream them."""
        collected = _CollectingWriter()
        yield collected
        collected.counts = (
            self.commit(actor=actor, rows=collected.rows, ctx=ctx, accept_warnings=accept_warnings)
            if collected.rows
            else (0, 0, 0)
        )

    def export_rows(self, *, user) -> Iterable[dict[str, Any]]:
        """Every record ``user`` may see, as dicts of the spec's field names (for exports)."""
        raise NotImplementedError


def filter_by_keys(queryset, field: str, keys: list[str]):
    """``queryset`` narrowed to rows whose ``field`` is one of ``keys``.

    On PostgreSQL the keys travel as one array parameter (``= ANY``): an ``IN`` list of
    thousands of literals costs more to send and plan than the lookup itself.
    """
    from django.db import connections
    from django.db.models.expressions import RawSQL

    if connections[queryset.db].vendor == "postgresql":
        return queryset.filter(**{f"{field}__in": RawSQL("SELECT unnest(%s::text[])", [keys])})
    return queryset.filter(**{f"{field}__in": keys})
