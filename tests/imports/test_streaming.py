"""The commit streams checked chunks of a sources file into the registry while it reads the
rest (a second thread holds the database connection). All or nothing must still hold: an
error in the very last row, a key repeated across chunks, or a code registered meanwhile
leaves nothing behind; and the commit reports exactly what the dry run reports."""

from __future__ import annotations

import pytest
from django.utils import translation

from core.errors import ServiceError
from core.models import AuditEntry
from exchange.excel import ImportBlocked, commit, validate
from exchange.excel import engine as engine_module
from registry import bulk, services
from registry.imports import SourceImportSpec
from registry.models import PollutionSource, SourceChange
from registry.services import source_create
from tests.imports.conftest import source_row, sources_xlsx

pytestmark = pytest.mark.django_db

ROWS = 130  # six chunks of 25 rows below: most are in the table before the last is read


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(engine_module, "CHUNK_ROWS", 25)
    monkeypatch.setattr(engine_module, "CHUNK_ROWS_MIN", 25)


@pytest.fixture
def chunks_written(monkeypatch):
    """The number of new sources each write of the bulk writer put into the table."""
    sizes: list[int] = []
    write = services.SourceBulkWriter._write

    def spy(self, pending):
        write(self, pending)
        sizes.append(len(pending[0]))  # (codes, encoded rows)

    monkeypatch.setattr(services.SourceBulkWriter, "_write", spy)
    return sizes


def rows(n: int = ROWS, prefix: str = "ST") -> list[list]:
    return [source_row(f"{prefix}-{i:04d}") for i in range(n)]


def run_commit(clerk, data: bytes, *, accept_warnings: bool = False):
    return commit(
        SourceImportSpec(),
        data,
        actor=clerk,
        organisation=clerk.organisation,
        accept_warnings=accept_warnings,
    )


def nothing_written() -> bool:
    return (
        not PollutionSource.objects.exists()
        and not SourceChange.objects.exists()
        and not AuditEntry.objects.filter(action="registry.source_bulk_upsert").exists()
    )


def test_a_clean_file_is_written_chunk_by_chunk_with_its_history(county_clerk, chunks_written):
    result, counts = run_commit(county_clerk, sources_xlsx(rows()))
    assert counts == (ROWS, 0, 0)
    assert chunks_written == [25, 25, 25, 25, 25, 5]
    assert PollutionSource.objects.count() == ROWS
    assert SourceChange.objects.filter(action="create").count() == ROWS
    entry = AuditEntry.objects.get(action="registry.source_bulk_upsert")
    assert entry.after["created"]["count"] == ROWS


def test_an_error_in_the_last_row_leaves_nothing_written(county_clerk, chunks_written):
    data = rows()
    data[-1] = source_row("ST-LAST", supervision_class="特殊监管对象")  # no reason given
    with pytest.raises(ImportBlocked) as blocked:
        run_commit(county_clerk, sources_xlsx(data))
    # Four chunks had reached the table before the last row was read ...
    assert chunks_written == [25, 25, 25, 25]
    # ... and the rollback took them away again, with their history.
    assert nothing_written()
    issues = blocked.value.result.issues("error")
    assert [(i.row, i.column) for i in issues] == [(ROWS + 1, "特殊监管原因")]


def test_a_key_repeated_in_a_later_chunk_stops_the_writes_and_names_both_rows(
    county_clerk, chunks_written
):
    data = rows()
    data[120] = source_row("ST-0003")  # row 122 repeats row 5 (first chunk, already written)
    with pytest.raises(ImportBlocked) as blocked:
        run_commit(county_clerk, sources_xlsx(data))
    assert chunks_written == [25, 25, 25]
    assert nothing_written()
    assert [(i.row, i.column) for i in blocked.value.result.issues("error")] == [
        (5, "污染源编码"),
        (122, "污染源编码"),
    ]


def test_an_unaccepted_warning_in_the_last_chunk_leaves_nothing_written(
    county_clerk, chunks_written
):
    data = rows()
    data[-1] = source_row("ST-WARN", uscc="913101167800233824")  # wrong check digit
    with pytest.raises(ImportBlocked):
        run_commit(county_clerk, sources_xlsx(data))
    assert nothing_written()
    _result, counts = run_commit(county_clerk, sources_xlsx(data), accept_warnings=True)
    assert counts == (ROWS, 0, 0)
    assert PollutionSource.objects.get(source_code="ST-WARN").uscc_checksum_ok is False


def test_a_code_registered_meanwhile_fails_the_commit_and_writes_nothing(county_clerk, monkeypatch):
    # As if another import registered ST-0120 after this one looked: neither the engine's
    # comparison nor the service's lock sees it, so the unique index has the last word.
    source_create(
        actor=None,
        organisation=county_clerk.organisation,
        data={"source_code": "ST-0120", "name": "别人的", "company_name": "别人的公司"},
    )
    monkeypatch.setattr(SourceImportSpec, "existing", lambda self, keys, ctx: {})
    monkeypatch.setattr(bulk, "lock_rows_by_key", lambda *args, **kwargs: [])
    data = rows()
    with translation.override("en"), pytest.raises(ServiceError) as exc:
        run_commit(county_clerk, sources_xlsx(data))
    assert "changed while importing" in exc.value.messages[0]
    assert list(PollutionSource.objects.values_list("source_code", flat=True)) == ["ST-0120"]


def test_chunks_start_small_and_shrink_towards_the_end(monkeypatch):
    from exchange.excel.engine import _Parser
    from exchange.excel.reader import open_table

    monkeypatch.setattr(engine_module, "CHUNK_ROWS_MIN", 10)
    spec = SourceImportSpec()
    table = open_table(sources_xlsx(rows(200)), spec)
    sizes = [len(chunk) for chunk in _Parser(spec, table).chunks(None, 50, 10)]
    assert sizes == [10, 50, 50, 45, 22, 11, 10, 2]
    assert sum(sizes) == 200


def test_the_commit_reports_what_the_dry_run_reports(county_clerk, other_county):
    other_source = source_create(
        actor=None,
        organisation=other_county,
        data={"source_code": "OTHER-1", "name": "外县的", "company_name": "外县的公司"},
    )
    data = rows(120)
    data[10] = source_row("ST-0010", complaints_12m=-3)
    # Another county's code is this bureau's own new source (codes are unique per bureau),
    # but twice in one file it is an error on both rows.
    data[60] = source_row(other_source.source_code)
    data[110] = source_row(other_source.source_code)
    data[111] = source_row("ST-0111", uscc="913101167800233824")
    spec = SourceImportSpec()
    dry = validate(
        spec, sources_xlsx(data), actor=county_clerk, organisation=county_clerk.organisation
    )
    with pytest.raises(ImportBlocked) as blocked:
        run_commit(county_clerk, sources_xlsx(data), accept_warnings=True)
    assert blocked.value.result.report() == dry.report()
    assert [i.text() for i in blocked.value.result.issues()] == [i.text() for i in dry.issues()]
    assert dry.error_count == 3 and dry.warning_count == 1
    assert not PollutionSource.objects.filter(source_code__startswith="ST-").exists()


# --- the column fast paths agree with the cell-by-cell parsers ------------------------------

_CELLS = [
    ["  C2614 ", "c3011", "D4411", "A", "T99", "C26145"],
    ["ab c", "x\u3000y", "'=1", "ok", "é", "ß" * 3],
    ["甲", "乙 ", " 丙", "", "   ", "丁" * 40],
    [113.25, 113.0, -180.0, 180.0000004, 1e20, float("nan"), 12.3456789],
    [0.0, 3.0, 2.5, -1.0, 7.0],
    [0, 3, 5, 2**40],
    [True, 1, 1.0],
    ["913101167800233824", "911411817515053410", " 911411817515053410 ", "91141181751505341o"],
    ["911411817515053410", "911411817515053410".lower(), "", "91410823MA3X9BKD5P"],
    ["2024-01-31", None, "x"],
]


def _parsers():
    from exchange.excel.spec import (
        parse_code,
        parse_decimal,
        parse_integer,
        parse_text,
        parse_uscc,
    )

    return [
        parse_text(max_length=5),
        parse_text(max_length=200),
        parse_code(max_length=5, pattern=r"[A-T]([0-9]{2,4})?"),
        parse_code(max_length=40),
        parse_code(max_length=40, upper=False),
        parse_integer(),
        parse_integer(min_value=None),
        parse_decimal(places=6, min_value=-180, max_value=180),
        parse_uscc,
    ]


def _one_by_one(parse, cells):
    from exchange.excel.spec import CellError

    out = []
    for cell in cells:
        try:
            out.append(parse(cell))
        except CellError as exc:
            out.append(exc)
    return out


@pytest.mark.parametrize("cells", _CELLS + [c[:1] for c in _CELLS] + [c[1:] for c in _CELLS])
def test_a_parsers_column_fast_path_gives_exactly_its_cell_by_cell_values(cells):
    for parse in _parsers():
        values = parse.many(list(cells))
        if values is None:
            continue  # the engine falls back to cell by cell
        expected = _one_by_one(parse, cells)
        assert values == expected, (parse, cells)
        assert [type(v) for v in values] == [type(v) for v in expected]


@pytest.mark.django_db(transaction=True)
def test_a_background_commit_shows_its_progress_while_its_transaction_is_open(
    county_clerk, monkeypatch
):
    from django.db import DEFAULT_DB_ALIAS, connections

    from exchange import imports as imports_module
    from exchange.imports import import_job_commit, import_job_create, import_job_request_commit
    from exchange.models import ImportJob

    monkeypatch.setattr(imports_module, "INLINE_MAX_ROWS", 10)
    monkeypatch.setattr(imports_module, "_enqueue", lambda task, job_id: None)
    monkeypatch.setattr(engine_module, "PROGRESS_EVERY", 40)
    job = import_job_create(
        actor=county_clerk, kind="sources", filename="大.xlsx", data=sources_xlsx(rows())
    )
    assert job.in_background
    imports_module.import_job_validate(job_id=job.pk)
    job.refresh_from_db()
    job = import_job_request_commit(actor=county_clerk, job=job, accept_warnings=False)

    outside = connections.create_connection(DEFAULT_DB_ALIAS)  # what the polling page sees
    seen = []
    report = imports_module._Progress.__call__

    def spy(self, done, total):
        report(self, done, total)
        with outside.cursor() as cursor:
            cursor.execute("SELECT rows_done FROM core_importjob WHERE id = %s", [job.pk])
            seen.append(cursor.fetchone()[0])

    monkeypatch.setattr(imports_module._Progress, "__call__", spy)
    try:
        job = import_job_commit(job_id=job.pk)
    finally:
        outside.close()
    assert job.status == ImportJob.Status.COMMITTED
    assert seen == [40, 80, 120, ROWS]
    assert PollutionSource.objects.count() == ROWS
