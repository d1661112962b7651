"""The fields of a pollution source and of a check item, declared once (see ``core.fields``).

The services validate with these rules, the importer's columns are built from them
(``registry.imports``), the Excel export lists the exported ones, and the forms and the API
expose the editable ones (``tests/registry/test_fields.py`` checks that they agree). The order
is the import template's, and the export's and the edit form's.
"""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext_lazy

from core.fields import (
    Bool,
    Choice,
    Code,
    CreditCode,
    Date,
    Decimal,
    Division,
    Field,
    Fields,
    Int,
    MultiChoice,
    Tags,
    Text,
)
from core.vocab import CheckMethod, Expertise, SupervisionClass
from registry.models import (
    CheckItem,
    CreditRating,
    HazardousWasteRole,
    ManagedBy,
    MarketRiskClass,
    PermitCategory,
    PollutionSource,
    PollutionType,
    SourceStatus,
    WeatherGrade,
)

ORGANISATION_HEADER = "监管单位代码"
COUNTY_HEADER = "所在区县代码"

SOURCE = Fields(
    PollutionSource,
    [
        Field(
            "source_code",
            Code(40, required=True),
            imported="污染源编码",
            required=True,
            example="410823-示例-001",
            help=gettext_lazy(
                "Identifies the source (site). A row whose code is already in the registry "
                "updates that source; any other row adds one. A company with several sites has "
                "one row, and one code, per site."
            ),
            width=18,
        ),
        Field(
            "name",
            Text(200, required=True),
            imported="污染源名称",
            required=True,
            example="示例化工有限公司（一厂区）",
            help=gettext_lazy("Name of the source or site."),
            width=28,
        ),
        Field(
            "company_name",
            Text(200, required=True),
            imported="单位名称",
            required=True,
            example="示例化工有限公司",
            help=gettext_lazy("The company, as on its business licence."),
            width=24,
        ),
        Field(
            "uscc",
            CreditCode(),
            imported="统一社会信用代码",
            example="911411817515053410",
            help=gettext_lazy(
                "18 characters (GB 32100-2015); lower-case letters are accepted. A code whose "
                "check digit is wrong is reported as a warning and imported, flagged, only if "
                "you accept it."
            ),
            width=22,
        ),
        # Follows ``uscc`` (set by the service, never written directly).
        Field("uscc_checksum_ok", Bool(default=True), editable=False),
        Field(
            "org_code",
            Code(12),
            imported="组织机构代码",
            help=gettext_lazy("Only for units without a unified social credit code."),
            width=14,
        ),
        # Chooses where a row goes; the services take it apart from the data.
        Field(
            "organisation",
            Division(),
            editable=False,
            tracked=False,
            imported=ORGANISATION_HEADER,
            example="410823",
            help=gettext_lazy(
                "Six-digit division code of the bureau that supervises the source: a county "
                "bureau, or the city code for the city enforcement team's city-managed sources. "
                "Empty: your own organisation. You can only import your own organisation's "
                "sources."
            ),
            width=12,
        ),
        # Follows the organisation: the services accept it only when it agrees.
        Field("managed_by", Choice(ManagedBy), form=False, api=False),
        Field(
            "county_code",
            Division(),
            imported=COUNTY_HEADER,
            example="410823",
            help=gettext_lazy(
                "Six-digit division code of the county where the source is. Empty: the "
                "supervising county bureau's code."
            ),
            width=12,
        ),
        Field("town", Text(50), imported="乡镇（街道）", example="詹店镇", width=12),
        Field(
            "address",
            Text(200),
            imported="详细地址",
            example="武陟县詹店镇示例路 1 号",
            width=30,
        ),
        Field("legal_representative", Text(50), imported="法定代表人", width=10),
        Field("phone", Text(40), imported="联系电话", example="0391-0000000", width=14),
        Field(
            "industry_code",
            Code(
                5,
                pattern=r"[A-T]([0-9]{2,4})?",
                pattern_help=gettext_lazy(
                    "a GB/T 4754-2017 code: a letter and up to four digits, e.g. C2614"
                ),
            ),
            imported="行业代码",
            example="C2614",
            width=10,
        ),
        Field(
            "industry_name",
            Text(100),
            imported="行业名称",
            example="有机化学原料制造",
            width=18,
        ),
        Field("permit_number", Code(40), imported="排污许可证编号", width=24),
        Field(
            "permit_category",
            Choice(
                PermitCategory,
                aliases={"重点": "key", "简化": "simplified", "登记": "registration", "无": "none"},
            ),
            imported="排污许可管理类别",
            default=PermitCategory.NONE,
            example=PermitCategory.KEY,
            help=gettext_lazy("Empty: none."),
        ),
        Field("permit_valid_from", Date(), imported="许可证有效期起", example=date(2023, 1, 1)),
        Field("permit_valid_until", Date(), imported="许可证有效期止", example=date(2027, 12, 31)),
        Field(
            "supervision_class",
            Choice(SupervisionClass, aliases={"重点": "key", "一般": "general", "特殊": "special"}),
            imported="监管类别",
            default=SupervisionClass.GENERAL,
            example=SupervisionClass.KEY,
            help=gettext_lazy("Key, general or special object. Empty: general."),
        ),
        Field(
            "special_reason",
            Text(1000),
            imported="特殊监管原因",
            help=gettext_lazy("Required for a special object."),
            width=20,
        ),
        Field(
            "pollution_types",
            MultiChoice(
                PollutionType,
                aliases={
                    "水": "water",
                    "气": "air",
                    "大气": "air",
                    "危废": "hazardous_waste",
                    "危险废物": "hazardous_waste",
                    "固体废物": "solid_waste",
                    "固废": "solid_waste",
                },
            ),
            imported="污染类型",
            example=["water", "air", "hazardous_waste"],
            help=gettext_lazy("One or more, separated by 、 or commas."),
        ),
        Field(
            "hazardous_waste_role",
            Choice(HazardousWasteRole, aliases={"产生": "generator", "经营": "operator"}),
            imported="危险废物管理",
            default=HazardousWasteRole.NONE,
            example=HazardousWasteRole.GENERATOR,
            help=gettext_lazy("Empty: none."),
        ),
        Field(
            "positive_list",
            Bool(),
            imported="正面清单",
            example="否",
            help=gettext_lazy("是 or 否. Empty: 否."),
        ),
        Field("positive_list_until", Date(), imported="正面清单有效期至", example=None),
        Field(
            "credit_rating",
            Choice(
                CreditRating,
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
            ),
            imported="环境信用评价",
            default=CreditRating.UNRATED,
            example=CreditRating.BLUE,
            help=gettext_lazy("Empty: not rated."),
        ),
        Field(
            "market_risk_class",
            Choice(MarketRiskClass, aliases={"A类": "A", "B类": "B", "C类": "C", "D类": "D"}),
            imported="市场监管信用风险分类",
            default=MarketRiskClass.UNRATED,
            example=MarketRiskClass.A,
            help=gettext_lazy("A (low) to D (high risk). Empty: not classified."),
        ),
        Field(
            "weather_grade",
            Choice(
                WeatherGrade, aliases={"引领性": "leading", "A": "A", "B": "B", "C": "C", "D": "D"}
            ),
            imported="重污染天气绩效分级",
            default=WeatherGrade.NONE,
            example=WeatherGrade.NONE,
            help=gettext_lazy("Empty: not graded."),
        ),
        Field("violation_record", Text(2000), imported="违法记录", width=20),
        Field("last_penalty_date", Date(), imported="最近处罚日期", example=None),
        Field(
            "complaints_12m",
            Int(min_value=0, default=0),
            imported="近12个月投诉次数",
            example=0,
            help=gettext_lazy("Complaints received in the last 12 months. Empty: 0."),
        ),
        # The status has its own dated action on the detail page, not the edit form.
        Field(
            "status",
            Choice(
                SourceStatus,
                aliases={
                    "正常": "active",
                    "新增": "active",
                    "变更": "changed",
                    "停产": "suspended",
                    "注销": "cancelled",
                },
            ),
            form=False,
            imported="状态",
            default=SourceStatus.ACTIVE,
            example=SourceStatus.ACTIVE,
            help=gettext_lazy("Empty: normal."),
        ),
        Field("status_date", Date(), form=False, imported="状态日期", example=None),
        Field(
            "tags",
            Tags(max_length=20, max_count=20),
            imported="标签",
            example="工业园区、涉VOCs",
            help=gettext_lazy("Free tags, separated by 、 or commas."),
        ),
        Field(
            "longitude",
            Decimal(places=6, min_value=-180, max_value=180),
            imported="经度",
            example=113.3,
        ),
        Field(
            "latitude",
            Decimal(places=6, min_value=-90, max_value=90),
            imported="纬度",
            example=35.05,
        ),
    ],
)

# Check items are not imported; the list's export shows them with their organisation and
# publication date, which have their own services.
CHECKITEM = Fields(
    CheckItem,
    [
        Field("organisation", Division(), editable=False, tracked=False),
        Field("year", Int(min_value=2000, max_value=2100, default=None), required=True),
        Field("code", Text(20, required=True), required=True),
        Field("name", Text(200, required=True), required=True),
        Field("is_key_item", Bool()),
        Field("method", Choice(CheckMethod)),
        Field("checking_body", Text(100, required=True), required=True),
        Field("responsible_section", Text(100)),
        Field("cooperating_sections", Text(300)),
        Field("legal_basis", Text(None, required=True), required=True),
        Field("target_objects", Text(None)),
        Field("target_classes", MultiChoice(SupervisionClass)),
        Field("content", Text(None)),
        Field("required_expertise", MultiChoice(Expertise)),
        Field("published_at", Date(), editable=False, tracked=False),
    ],
)
