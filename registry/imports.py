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
from core.vocab import SupervisionClass
from exchange.excel import (
    Column,
    ImportSpec,
    RowResult,
    RowWriter,
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
from exchange.excel.spec import filter_by_keys, parse_division, parse_uscc
from registry.models import (
    CreditRating,
    HazardousWasteRole,
    MarketRiskClass,
    PermitCategory,
    PollutionSource,
    PollutionType,
    SourceStatus,
    WeatherGrade,
)
from registry.selectors import source_list_for_user
from registry.services import SourceBulkWriter, source_bulk_writer

ORGANISATION_HEADER = "监管单位代码"

COLUMNS: tuple[Column, ...] = (
    code_column(
        "污染源编码",
        "source_code",
        max_length=40,
        required=True,
        example="410823-示例-001",
        help=gettext_lazy(
            "Identifies the source (site). A row whose code is already in the registry updates "
            "that source; any other row adds one. A company with several sites has one row, "
            "and one code, per site."
        ),
        width=18,
    ),
    text_column(
        "污染源名称",
        "name",
        max_length=200,
        required=True,
        example="示例化工有限公司（一厂区）",
        help=gettext_lazy("Name of the source or site."),
        width=28,
    ),
    text_column(
        "单位名称",
        "company_name",
        max_length=200,
        required=True,
        example="示例化工有限公司",
        help=gettext_lazy("The company, as on its business licence."),
        width=24,
    ),
    Column(
        "统一社会信用代码",
        "uscc",
        parse_uscc,
        "code",
        help=gettext_lazy(
            "18 characters (GB 32100-2015); lower-case letters are accepted. A code whose check "
            "digit is wrong is reported as a warning and imported, flagged, only if you accept it."
        ),
        example="911411817515053410",
        width=22,
    ),
    code_column(
        "组织机构代码",
        "org_code",
        max_length=12,
        example="",
        help=gettext_lazy("Only for units without a unified social credit code."),
        width=14,
    ),
    Column(
        ORGANISATION_HEADER,
        "organisation",
        parse_division,
        "code",
        help=gettext_lazy(
            "Six-digit division code of the bureau that supervises the source: a county "
            "bureau, or the city code for the city enforcement team's city-managed sources. "
            "Empty: your own organisation. You can only import your own organisation's sources."
        ),
        example="410823",
        width=12,
    ),
    Column(
        "所在区县代码",
        "county_code",
        parse_division,
        "code",
        help=gettext_lazy(
            "Six-digit division code of the county where the source is. Empty: the supervising "
            "county bureau's code."
        ),
        example="410823",
        width=12,
    ),
    text_column("乡镇（街道）", "town", max_length=50, example="詹店镇", width=12),
    text_column("详细地址", "address", max_length=200, example="武陟县詹店镇示例路 1 号", width=30),
    text_column("法定代表人", "legal_representative", max_length=50, example="", width=10),
    text_column("联系电话", "phone", max_length=40, example="0391-0000000", width=14),
    code_column(
        "行业代码",
        "industry_code",
        max_length=5,
        pattern=r"[A-T]([0-9]{2,4})?",
        pattern_help=gettext_lazy(
            "a GB/T 4754-2017 code: a letter and up to four digits, e.g. C2614"
        ),
        example="C2614",
        width=10,
    ),
    text_column("行业名称", "industry_name", max_length=100, example="有机化学原料制造", width=18),
    code_column("排污许可证编号", "permit_number", max_length=40, example="", width=24),
    choice_column(
        "排污许可管理类别",
        "permit_category",
        PermitCategory.choices,
        default=PermitCategory.NONE,
        aliases={"重点": "key", "简化": "simplified", "登记": "registration", "无": "none"},
        example=PermitCategory.KEY,
        help=gettext_lazy("Empty: none."),
    ),
    date_column("许可证有效期起", "permit_valid_from", example=date(2023, 1, 1)),
    date_column("许可证有效期止", "permit_valid_until", example=date(2027, 12, 31)),
    choice_column(
        "监管类别",
        "supervision_class",
        SupervisionClass.choices,
        default=SupervisionClass.GENERAL,
        aliases={"重点": "key", "一般": "general", "特殊": "special"},
        example=SupervisionClass.KEY,
        help=gettext_lazy("Key, general or special object. Empty: general."),
    ),
    text_column(
        "特殊监管原因",
        "special_reason",
        max_length=1000,
        example="",
        help=gettext_lazy("Required for a special object."),
        width=20,
    ),
    multi_choice_column(
        "污染类型",
        "pollution_types",
        PollutionType.choices,
        aliases={
            "水": "water",
            "气": "air",
            "大气": "air",
            "危废": "hazardous_waste",
            "危险废物": "hazardous_waste",
            "固体废物": "solid_waste",
            "固废": "solid_waste",
        },
        example=["water", "air", "hazardous_waste"],
        help=gettext_lazy("One or more, separated by 、 or commas."),
    ),
    choice_column(
        "危险废物管理",
        "hazardous_waste_role",
        HazardousWasteRole.choices,
        default=HazardousWasteRole.NONE,
        aliases={"产生": "generator", "经营": "operator"},
        example=HazardousWasteRole.GENERATOR,
        help=gettext_lazy("Empty: none."),
    ),
    boolean_column(
        "正面清单", "positive_list", example="否", help=gettext_lazy("是 or 否. Empty: 否.")
    ),
    date_column("正面清单有效期至", "positive_list_until", example=None),
    choice_column(
        "环境信用评价",
        "credit_rating",
        CreditRating.choices,
        default=CreditRating.UNRATED,
        aliases={
            "绿牌": "green",
            "蓝牌": "blue",
            "黄牌": "yellow",
            "红牌": "red",
            "黑牌": "black",
            "环保诚信": "green",
            "良好": "blue",
            "警示": "yellow",
            "不良": "red",
            "严重失信": "black",
        },
        example=CreditRating.BLUE,
        help=gettext_lazy("Empty: not rated."),
    ),
    choice_column(
        "市场监管信用风险分类",
        "market_risk_class",
        MarketRiskClass.choices,
        default=MarketRiskClass.UNRATED,
        aliases={"A类": "A", "B类": "B", "C类": "C", "D类": "D"},
        example=MarketRiskClass.A,
        help=gettext_lazy("A (low) to D (high risk). Empty: not classified."),
    ),
    choice_column(
        "重污染天气绩效分级",
        "weather_grade",
        WeatherGrade.choices,
        default=WeatherGrade.NONE,
        aliases={"引领性": "leading", "A": "A", "B": "B", "C": "C", "D": "D"},
        example=WeatherGrade.NONE,
        help=gettext_lazy("Empty: not graded."),
    ),
    text_column("违法记录", "violation_record", max_length=2000, example="", width=20),
    date_column("最近处罚日期", "last_penalty_date", example=None),
    integer_column(
        "近12个月投诉次数",
        "complaints_12m",
        example=0,
        help=gettext_lazy("Complaints received in the last 12 months. Empty: 0."),
    ),
    choice_column(
        "状态",
        "status",
        SourceStatus.choices,
        default=SourceStatus.ACTIVE,
        aliases={
            "正常": "active",
            "新增": "active",
            "变更": "changed",
            "停产": "suspended",
            "注销": "cancelled",
        },
        example=SourceStatus.ACTIVE,
        help=gettext_lazy("Empty: normal."),
    ),
    date_column("状态日期", "status_date", example=None),
    tags_column(
        "标签",
        "tags",
        example="工业园区、涉VOCs",
        help=gettext_lazy("Free tags, separated by 、 or commas."),
    ),
    decimal_column("经度", "longitude", places=6, min_value=-180, max_value=180, example=113.3),
    decimal_column("纬度", "latitude", places=6, min_value=-90, max_value=90, example=35.05),
)

# Fields the spec compares with the registry and sends to the bulk service (all but the
# organisation, which selects where a row goes).
FIELDS = [c.field for c in COLUMNS if c.field != "organisation"]


@dataclass
class SourceImportContext:
    actor: Any
    default: Organisation | None
    by_code: dict[str, Organisation]  # division code -> the organisations the actor may write
    organisation_of: dict[str, Organisation]  # source code -> organisation, filled by check_row


def importable_organisations(actor: User) -> list[Organisation]:
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

    def begin(self, *, actor: User, organisation) -> SourceImportContext:
        allowed = importable_organisations(actor)
        return SourceImportContext(
            actor=actor,
            default=organisation,
            by_code={o.division_code: o for o in allowed},
            organisation_of={},
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
                    "所在区县代码",
                    _("“%(county)s” is outside the area of %(org)s")
                    % {"county": county, "org": organisation.short_name or organisation.name},
                )
        if values.get("supervision_class") == SupervisionClass.SPECIAL and not values.get(
            "special_reason"
        ):
            row.error("特殊监管原因", _("required for a special object"))
        start, end = values.get("permit_valid_from"), values.get("permit_valid_until")
        if start and end and start > end:
            row.error("许可证有效期止", _("the permit cannot expire before it becomes valid"))
        penalty = values.get("last_penalty_date")
        if penalty and penalty > timezone.localdate():
            row.error("最近处罚日期", _("cannot be in the future"))
        if values.get("positive_list_until") and values.get("positive_list") is False:
            row.error("正面清单有效期至", _("only a source on the positive list has an end date"))

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

    def commit(self, *, actor: User, rows, ctx: SourceImportContext, accept_warnings: bool):
        with self.writer(actor=actor, ctx=ctx, accept_warnings=accept_warnings) as sink:
            sink.write(rows)
        return sink.counts

    @contextmanager
    def writer(self, *, actor: User, ctx: SourceImportContext, accept_warnings: bool):
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
