"""The object registry's Excel import: the template's columns and the way to the bulk service.

One row is one pollution source (a site), identified by its 污染源编码. A company with several
sites has several rows sharing a credit code. ``registry.services.source_bulk_upsert`` does the
writing (and has the last word on every rule); the checks here repeat its rules per row, so the
dry run can point at the cell instead of failing the whole commit.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.models import Organisation, User
from core.roles import Cap, user_can
from exchange.excel import Column, ImportSpec, RowResult, RowWriter
from exchange.excel.spec import columns_for, filter_by_keys
from registry.fields import COUNTY_HEADER, ORGANISATION_HEADER, SOURCE
from registry.models import PollutionSource
from registry.selectors import source_list_for_user
from registry.services import SourceBulkWriter, source_bulk_writer, source_check_across_fields

# The template's columns: the declared fields that have a header (``registry.fields``).
COLUMNS: tuple[Column, ...] = columns_for(SOURCE)

# Fields the spec compares with the registry and sends to the bulk service (all but the
# organisation, which selects where a row goes).
FIELDS = [c.field for c in COLUMNS if c.field != "organisation"]


@dataclass
class SourceImportContext:
    actor: Any
    default: Organisation | None
    by_code: dict[str, Organisation]  # division code -> the organisations the actor may write
    organisation_of: dict[str, Organisation]  # source code -> organisation, filled by check_row
    today: date


def importable_organisations(actor: User | None) -> list[Organisation]:
    """Where ``actor`` may import sources: their own bureau (a county bureau, or the city team
    for city-managed sources), as ``registry.services`` allows clerks to write."""
    org = getattr(actor, "organisation", None)
    if org is None or not user_can(actor, Cap.EDIT_REGISTRY):
        return []
    if org.kind not in (Organisation.Kind.COUNTY_BUREAU, Organisation.Kind.CITY_TEAM):
        return []
    return [org]


class _SourceRows(RowWriter):
    """Chunks of checked rows, streamed into ``source_bulk_writer``."""

    streams = True

    def __init__(self, bulk: SourceBulkWriter, ctx: SourceImportContext):
        self.bulk = bulk
        self.ctx = ctx

    def existing(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """The commit compares its rows with the sources the service has locked for the write
        (one query, the same answer ``SourceImportSpec.existing`` gives)."""
        organisation_of = self.ctx.organisation_of
        found = {}
        for code, record in self.bulk.lock(keys, organisation_of).items():
            values = {field: record[field] for field in FIELDS}
            values["organisation"] = organisation_of[code].division_code
            found[code] = values
        return found

    def write(self, rows: list[RowResult]) -> None:
        organisation_of = self.ctx.organisation_of
        organisation_by_code = {}
        for row in rows:
            # The organisation chose where the row goes; the service takes it separately.
            # Popped in place: copying 100,000 row dicts would cost time and memory for nothing.
            row.values.pop("organisation", None)
            code = row.values["source_code"]
            organisation_by_code[code] = organisation_of[code]
        self.bulk.add([row.values for row in rows], organisation_by_code)


class SourceImportSpec(ImportSpec):
    kind = "sources"
    title = gettext_lazy("Pollution sources")
    sheet_name = "污染源"
    columns = COLUMNS
    key = "source_code"
    notes = (
        gettext_lazy(
            "One row per source (site). Several sites of one company share the credit code and "
            "each has its own source code."
        ),
    )

    def begin(self, *, actor: User | None, organisation) -> SourceImportContext:
        allowed = importable_organisations(actor)
        return SourceImportContext(
            actor=actor,
            default=organisation,
            by_code={o.division_code: o for o in allowed},
            organisation_of={},
            today=timezone.localdate(),
        )

    def check_row(self, row: RowResult, ctx: SourceImportContext) -> None:
        values = row.values
        code = values.get("organisation") or (ctx.default.division_code if ctx.default else "")
        values["organisation"] = code
        organisation = ctx.by_code.get(code)
        if organisation is None:
            row.error(
                ORGANISATION_HEADER,
                _(
                    "“%(code)s” is not yours to import: you can only import the sources your "
                    "own organisation supervises"
                )
                % {"code": code},
            )
        else:
            ctx.organisation_of[values.get("source_code", "")] = organisation
            # The service fills an empty county with the county bureau's own code: do the same
            # here, so importing the same file twice compares equal.
            if (
                "county_code" in values
                and not values["county_code"]
                and organisation.kind == Organisation.Kind.COUNTY_BUREAU
            ):
                values["county_code"] = organisation.division_code
            county = values.get("county_code")
            if county and not county.startswith(organisation.scope_prefix):
                row.error(
                    COUNTY_HEADER,
                    _("“%(county)s” is outside the area of %(org)s")
                    % {"county": county, "org": organisation.short_name or organisation.name},
                )
        # The service's rules across fields, in its words, on the row as the file gives it.
        for field, message in source_check_across_fields(values, today=ctx.today).items():
            if field == "positive_list_until" and "positive_list" not in values:
                continue  # the source may be on the list already: the commit checks it
            row.error(SOURCE[field].imported, message)

    def check_against_registry(self, rows: list[RowResult], ctx: SourceImportContext) -> None:
        # A wrong check digit already in the registry was accepted when it came in: re-importing
        # it unchanged is not a new warning (the service agrees: it only asks for new codes).
        header = self.column("uscc").header
        for row in rows:
            if row.warnings and row.action in ("update", "unchanged") and "uscc" not in row.changes:
                row.warnings = [w for w in row.warnings if w[0] != header]

    def existing(self, keys: list[str], ctx: SourceImportContext) -> dict[str, dict[str, Any]]:
        # Only the row's own organisation is searched: a code is unique per organisation, and
        # whether another bureau registered it must not show (issue 10). A row whose
        # organisation was refused in ``check_row`` is already in error: it is not looked up.
        owners = ctx.organisation_of
        keys = [key for key in keys if key in owners]
        found = {}
        for org in {id(o): o for o in map(owners.__getitem__, keys)}.values():
            mine = [key for key in keys if owners[key] is org]
            for record in filter_by_keys(
                PollutionSource.objects.filter(organisation=org), "source_code", mine
            ).values(*FIELDS, "organisation__division_code"):
                record["organisation"] = record["organisation__division_code"]
                found[record["source_code"]] = record
        return found

    def commit(self, *, actor: User | None, rows, ctx: SourceImportContext, accept_warnings: bool):
        with self.writer(actor=actor, ctx=ctx, accept_warnings=accept_warnings) as sink:
            sink.write(rows)
        return sink.counts

    @contextmanager
    def writer(self, *, actor: User | None, ctx: SourceImportContext, accept_warnings: bool):
        with source_bulk_writer(actor=actor, accept_bad_checksum=accept_warnings) as bulk:
            sink = _SourceRows(bulk, ctx)
            yield sink
        sink.counts = bulk.counts

    def export_rows(self, *, user):
        for record in (
            source_list_for_user(user=user)
            .values(*FIELDS, "organisation__division_code")
            .iterator(chunk_size=5000)
        ):
            record["organisation"] = record.pop("organisation__division_code")
            yield record
