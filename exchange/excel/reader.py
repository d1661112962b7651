"""Open an uploaded file as a table of raw cells, or refuse it with a clear reason.

Everything that makes a file unusable as a whole is found here, before a single row is
validated: not an Excel workbook or CSV text, too large, a zip that would inflate to gigabytes,
the wrong sheet, wrong headers, merged cells, formulas, no data. Cells are read with
python-calamine (fast, Rust). Calamine returns a formula's cached value, or nothing when the
writer cached none, so formulas and merged ranges are found by streaming the sheet's XML out of
the zip instead: one pass at zlib speed, no openpyxl.
"""

from __future__ import annotations

import csv
import io
import re
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

import python_calamine
from django.conf import settings
from django.utils.translation import gettext as _

from core.errors import ServiceError
from exchange.excel.spec import ImportSpec, as_text, is_blank

# Limits: a bureau's registry is at most a few hundred thousand rows.
MAX_UPLOAD_BYTES = int(getattr(settings, "SJSJ_IMPORT_MAX_BYTES", 40 * 1024 * 1024))
MAX_UNCOMPRESSED_BYTES = 800 * 1024 * 1024


def max_rows() -> int:
    """Data rows a file may hold (``SJSJ_IMPORT_MAX_ROWS``, default 300,000): checked on the
    cheap estimate at upload, and again, exactly, while the worker reads the rows."""
    return int(getattr(settings, "SJSJ_IMPORT_MAX_ROWS", 300_000))


def too_many_rows(count: int) -> StructureError:
    return StructureError(
        _("The file has more than %(limit)s rows (about %(count)s). Split it into several files.")
        % {"limit": f"{max_rows():,}", "count": f"{count:,}"}
    )


MAX_ZIP_MEMBERS = 2000
MAX_RATIO = 200  # uncompressed : compressed, per member larger than 1 MB; sheet XML is ~10–40

_MAGIC = (
    (b"%PDF", "PDF"),
    (b"\xd0\xcf\x11\xe0", "OLE"),  # .xls / .doc / password-protected .xlsx
    (b"\x89PNG", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF8", "GIF"),
    (b"Rar!", "RAR"),
    (b"7z\xbc\xaf", "7z"),
    (b"\x1f\x8b", "gzip"),
)
_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}
# <f>, <f t="shared" .../>, with or without a namespace prefix; <formula1> does not match.
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_CELL_REF = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]+[0-9]+)"')
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z0-9:]+)"')
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\b[^>]*?\bref="[A-Z]+[0-9]+:?[A-Z]*([0-9]*)"')


class StructureError(ServiceError):
    """The file as a whole cannot be imported; nothing was read into the registry."""


@dataclass
class Table:
    """The rows of the import sheet, headers resolved to the spec's fields."""

    fields: dict[int, str]  # column index -> field name
    rows: Iterator[tuple[int, list[Any]]]  # (row number as the user sees it, raw cells)
    unmapped: list[int]  # column indexes with no header
    row_count: int  # data rows, blank ones included (for progress)
    col_offset: int = 0  # index of the sheet's first used column (cells start there)

    def letter(self, index: int) -> str:
        return column_letter(index + self.col_offset)


def normalise_header(text: str) -> str:
    text = re.sub(r"\s+", "", as_text(text))
    text = text.replace("（", "(").replace("）", ")")
    text = re.sub(r"(\*|＊|\(必填\))+$", "", text)
    return text.lstrip("*＊")


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.0f}"


def sniff(data: bytes) -> str:
    """ "xlsx", "csv", or raise StructureError naming what the file is instead."""
    if not data or not data.strip():
        raise StructureError(_("The file is empty."))
    if len(data) > MAX_UPLOAD_BYTES:
        raise StructureError(
            _("The file is %(size)s MB; the limit is %(limit)s MB. Split it into several files.")
            % {"size": _mb(len(data)), "limit": _mb(MAX_UPLOAD_BYTES)}
        )
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    for magic, what in _MAGIC:
        if data.startswith(magic):
            if what == "OLE":
                raise StructureError(
                    _(
                        "This is an old-format .xls workbook or a password-protected one. "
                        "Open it in Excel or WPS, remove any password and save it as .xlsx."
                    )
                )
            raise StructureError(
                _(
                    "This is a %(kind)s file, not an Excel workbook (.xlsx) or CSV file. "
                    "Download the template and fill it in."
                )
                % {"kind": what}
            )
    if b"\x00" in data[:65536]:
        raise StructureError(_("This is not an Excel workbook (.xlsx) or a CSV text file."))
    return "csv"


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (what Excel and WPS save on Chinese Windows)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for encoding in ("utf-8", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        # Binary junk can decode as GB18030; real text has few control characters.
        controls = sum(1 for ch in text[:20000] if ord(ch) < 32 and ch not in "\r\n\t")
        if controls > 2:
            break
        return text
    raise StructureError(
        _(
            "This is not an Excel workbook (.xlsx), and not CSV text in UTF-8 or GB18030 "
            "either. Download the template and fill it in."
        )
    )


def _check_zip(archive: zipfile.ZipFile) -> None:
    members = archive.infolist()
    if len(members) > MAX_ZIP_MEMBERS:
        raise StructureError(_("The workbook has too many parts to be a real Excel file."))
    total = 0
    for info in members:
        total += info.file_size
        if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise StructureError(
                _("The workbook is compressed suspiciously well (a “zip bomb”?): refused.")
            )
    if total > MAX_UNCOMPRESSED_BYTES:
        raise StructureError(
            _("The workbook would inflate to %(size)s MB; the limit is %(limit)s MB.")
            % {"size": _mb(total), "limit": _mb(MAX_UNCOMPRESSED_BYTES)}
        )
    names = {info.filename for info in members}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise StructureError(
            _("This is a zip archive but not an Excel workbook (.xlsx). Download the template.")
        )


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> the zip member holding its XML, from the workbook and its relationships."""
    try:
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError, zipfile.BadZipFile):
        raise StructureError(
            _("The workbook is damaged: open it in Excel and save it again.")
        ) from None
    targets = {}
    for rel in rels.findall("rel:Relationship", _NS):
        target = rel.get("Target", "")
        target = target.lstrip("/") if target.startswith("/") else "xl/" + target
        targets[rel.get("Id")] = target
    parts = {}
    for sheet in workbook.findall("m:sheets/m:sheet", _NS):
        rid = sheet.get(f"{{{_NS['r']}}}id")
        parts[sheet.get("name", "")] = targets.get(rid, "")
    return parts


_ROOT = re.compile(rb"<(\w+:)?worksheet\b")


def _scan_sheet_xml(archive: zipfile.ZipFile, part: str) -> int:
    """Refuse formulas and merged cells; return the row count the sheet declares (0: unknown).

    Streams the XML in 4 MB chunks with an overlap, so a 100 MB sheet never sits in memory;
    plain ``bytes.find`` (memchr speed) looks for the markers, a regex only confirms a hit.
    Reading to the end also proves the member inflates to its declared size (CRC checked).
    """
    declared_rows = 0
    tail = b""
    markers: tuple[bytes, ...] = ()
    try:
        with archive.open(part) as stream:
            while True:
                chunk = stream.read(4 * 1024 * 1024)
                if not chunk:
                    break
                buffer = tail + chunk
                if not markers:
                    match = _DIMENSION.search(buffer[:8192])
                    if match and match.group(1):
                        declared_rows = int(match.group(1))
                    root = _ROOT.search(buffer[:8192])
                    prefixes = {b"", root.group(1) or b""} if root else {b""}
                    # "<f": its last byte is rare in sheet XML (never inside UTF-8 text), so
                    # the search skips ahead fast; the regex tells <f> from <filterColumn>.
                    markers = tuple(b"<" + prefix + b"f" for prefix in prefixes)
                if any(marker in buffer for marker in markers):
                    formula = _FORMULA.search(buffer)
                    if formula:
                        refs = _CELL_REF.findall(buffer, 0, formula.start())
                        cell = refs[-1].decode() if refs else "?"
                        raise StructureError(
                            _(
                                "Cell %(cell)s contains a formula. Formulas are not imported: "
                                "copy the sheet and paste it as values, then upload again."
                            )
                            % {"cell": cell}
                        )
                if b"mergeCell " in buffer:
                    merge = _MERGE.search(buffer)
                    if merge:
                        raise StructureError(
                            _(
                                "Cells %(range)s are merged. Unmerge every cell and fill each "
                                "row completely, then upload again."
                            )
                            % {"range": merge.group(1).decode()}
                        )
                tail = buffer[-512:]
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise StructureError(
            _("The workbook is damaged (%(error)s): open it in Excel and save it again.")
            % {"error": exc.__class__.__name__}
        ) from None
    return declared_rows


def _load_sheet(data: bytes, sheet_name: str, into: dict[str, Any]) -> None:
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        into["sheet"] = workbook.get_sheet_by_name(sheet_name)
    except Exception as exc:  # noqa: BLE001 - calamine raises several types for a damaged file
        into["error"] = exc


def _open_xlsx(data: bytes, spec: ImportSpec) -> tuple[Iterator[list[Any]], int, int]:
    """(row iterator from row 1, first used column's index, data rows) of the spec's sheet."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise StructureError(
            _("The file looks like an Excel workbook but is damaged or truncated.")
        ) from None
    with archive:
        _check_zip(archive)
        parts = _sheet_parts(archive)
        if spec.sheet_name not in parts:
            raise StructureError(
                _("The workbook has no sheet named “%(sheet)s”. Its sheets are: %(sheets)s.")
                % {"sheet": spec.sheet_name, "sheets": "、".join(f"“{n}”" for n in parts) or "-"}
            )
        part = parts[spec.sheet_name]
        if part not in archive.namelist():
            raise StructureError(_("The workbook is damaged: open it in Excel and save it again."))
        # calamine parses the sheet without holding the GIL, so it runs beside the XML scan
        # (which mostly waits on zlib): the two passes over the sheet overlap on two cores.
        loaded: dict[str, Any] = {}
        loader = threading.Thread(target=_load_sheet, args=(data, spec.sheet_name, loaded))
        loader.start()
        try:
            declared = _scan_sheet_xml(archive, part)
        finally:
            loader.join()
    if "error" in loaded:
        if isinstance(loaded["error"], python_calamine.PasswordError):
            raise StructureError(_("The workbook is protected by a password."))
        raise StructureError(_("The workbook cannot be read: open it in Excel and save it again."))
    sheet = loaded["sheet"]
    if sheet.merged_cell_ranges:  # a second opinion; the XML scan normally catches these
        (top, left), (bottom, right) = sheet.merged_cell_ranges[0]
        raise StructureError(
            _(
                "Cells %(range)s are merged. Unmerge every cell and fill each row completely, "
                "then upload again."
            )
            % {"range": f"{column_letter(left)}{top + 1}:{column_letter(right)}{bottom + 1}"}
        )
    # calamine 0.9 yields rows from the sheet's first row, but cells only from the first
    # used column: keep that offset so messages name the columns Excel shows.
    col_offset = sheet.start[1] if sheet.start else 0
    return sheet.iter_rows(), col_offset, max(declared - 1, sheet.height - 1, 0)


def _open_csv(data: bytes) -> tuple[Iterator[list[str]], int, int]:
    text = decode_csv(data)
    sample = text[:4096].split("\n", 1)[0]
    delimiter = "\t" if "\t" in sample and "," not in sample else ","
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return rows, 0, text.count("\n")


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _map_headers(
    header_row: list[Any], spec: ImportSpec, col_offset: int = 0
) -> tuple[dict[int, str], list[int]]:
    by_header = {normalise_header(c.header): c for c in spec.columns}
    fields: dict[int, str] = {}
    unmapped: list[int] = []
    seen: dict[str, int] = {}
    problems: list[str] = []
    unknown: list[str] = []
    for index, raw in enumerate(header_row):
        name = normalise_header(raw if isinstance(raw, str) else as_text(raw))
        if not name:
            unmapped.append(index)
            continue
        column = by_header.get(name)
        if column is None:
            unknown.append(f"“{as_text(raw)}”（{column_letter(index + col_offset)} 列）")
            continue
        if column.field in seen:
            problems.append(
                _("The column “%(header)s” appears twice (columns %(first)s and %(second)s).")
                % {
                    "header": column.header,
                    "first": column_letter(seen[column.field] + col_offset),
                    "second": column_letter(index + col_offset),
                }
            )
            continue
        seen[column.field] = index
        fields[index] = column.field
    if unknown:
        problems.append(
            _("Unknown columns: %(columns)s. Use the headers of the template.")
            % {"columns": "、".join(unknown)}
        )
    missing = [c.header for c in spec.columns if c.required and c.field not in seen]
    if missing:
        problems.append(
            _("Required columns are missing: %(columns)s.")
            % {"columns": "、".join(f"“{h}”" for h in missing)}
        )
    if problems:
        raise StructureError(problems)
    return fields, unmapped


def open_table(data: bytes, spec: ImportSpec) -> Table:
    """The spec's sheet (or the CSV) with its headers checked, ready to be iterated."""
    kind = sniff(data)
    if kind == "xlsx":
        rows, col_offset, row_count = _open_xlsx(data, spec)
    else:
        rows, col_offset, row_count = _open_csv(data)
    rows = iter(rows)
    header_row = None
    number = 0
    for cells in rows:
        number += 1
        if any(not is_blank(c) for c in cells):
            header_row = cells
            break
    if header_row is None:
        raise StructureError(_("The file is empty."))
    fields, unmapped = _map_headers(list(header_row), spec, col_offset)
    # Data rows are numbered as Excel numbers them, so “row 12” is row 12 on screen.
    header_number = number

    limit = max_rows()
    declared = max(row_count - (header_number - 1), 0)
    if declared > limit:
        raise too_many_rows(declared)

    def numbered() -> Iterator[tuple[int, list[Any]]]:
        n = header_number
        for cells in rows:
            n += 1
            if n - header_number > limit:  # the declared size may lie: count as we go
                raise too_many_rows(n - header_number)
            yield n, cells

    return Table(
        fields=fields,
        rows=numbered(),
        unmapped=unmapped,
        row_count=max(row_count - (header_number - 1), 0),
        col_offset=col_offset,
    )


def estimate_rows(data: bytes) -> int:
    """A cheap row estimate (no parsing), to decide between inline and background validation."""
    try:
        kind = sniff(data)
    except StructureError:
        return 0
    if kind == "csv":
        return data.count(b"\n")
    rows = 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    with archive.open(name) as stream:
                        match = _DIMENSION.search(stream.read(4096))
                    if match and match.group(1):
                        rows = max(rows, int(match.group(1)))
    except (zipfile.BadZipFile, OSError, ValueError):
        return 0
    return rows or len(data) // 200
