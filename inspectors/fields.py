"""The fields of an inspector, declared once (see ``core.fields``).

The services validate with these rules, the importer's columns are built from them
(``inspectors.imports``), and the form, the API and the Excel export list the declared fields
(``tests/inspectors/test_fields.py`` checks that they agree). The order is the import
template's.
"""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext_lazy

from core.fields import (
    Bool,
    Choice,
    Code,
    Date,
    Division,
    Field,
    Fields,
    Int,
    MultiChoice,
    Text,
)
from core.vocab import Expertise
from inspectors.models import Inspector

ORGANISATION_HEADER = "所属单位代码"

INSPECTOR = Fields(
    Inspector,
    [
        # Required, but as a rule of the whole record (``inspectors.services._check_whole``),
        # so a partial update may leave it out.
        Field(
            "name",
            Text(50),
            imported="姓名",
            required=True,
            example="张示例",
            help=gettext_lazy("Full name as on the enforcement certificate."),
            width=10,
        ),
        Field(
            "kind",
            Choice(
                Inspector.Kind,
                aliases={
                    "执法": "enforcement",
                    "执法人员": "enforcement",
                    "专家": "expert",
                    "技术专家": "expert",
                },
            ),
            imported="人员类别",
            default=Inspector.Kind.ENFORCEMENT,
            example=Inspector.Kind.ENFORCEMENT,
            help=gettext_lazy(
                "Enforcement staff, or a technical expert (experts assist and never count as "
                "team members). Empty: enforcement staff."
            ),
            width=12,
        ),
        Field(
            "certificate_number",
            Code(30),
            imported="执法证号",
            example="豫环执示例0001",
            help=gettext_lazy(
                "Required for enforcement staff, empty for experts. It identifies the person: a "
                "row with a number already in the registry updates that person."
            ),
            width=18,
        ),
        Field(
            "certificate_valid_until",
            Date(),
            imported="执法证有效期至",
            example=date(2027, 12, 31),
            help=gettext_lazy("The last day the enforcement certificate is valid."),
        ),
        # Moving someone to another organisation is its own service.
        Field(
            "organisation",
            Division(),
            editable=False,
            tracked=False,
            imported=ORGANISATION_HEADER,
            help=gettext_lazy(
                "Six-digit division code of the bureau the person belongs to. Empty: your own "
                "organisation. You can only import your own organisation's inspectors."
            ),
            width=12,
        ),
        Field("department", Text(100), imported="科室（单位）", example="执法一中队", width=16),
        Field("post", Text(50), imported="职务", example="中队长", width=10),
        Field(
            "enforcement_scope",
            Text(500),
            imported="执法类别（范围）",
            example="生态环境综合执法",
            help=gettext_lazy("Enforcement type or scope as on the certificate."),
            width=18,
        ),
        Field(
            "on_staff",
            Bool(default=True),
            imported="在编在岗",
            example="是",
            help=gettext_lazy("是 or 否. Empty: 是."),
        ),
        Field(
            "gender",
            Choice(Inspector.Gender, aliases={"男": "male", "女": "female"}, blank=True),
            imported="性别",
            default="",
            width=8,
        ),
        Field(
            "years_of_service",
            Int(min_value=0, max_value=60, default=None),
            imported="工作年限",
            example=8,
            help=gettext_lazy("Whole years, 0 to 60."),
        ),
        Field(
            "expertise",
            MultiChoice(
                Expertise,
                aliases={
                    "危废": "hazardous_waste",
                    "辐射": "radiation",
                    "废气": "air",
                    "废水": "water",
                },
                keep_order=True,
            ),
            imported="业务专长",
            example=["water", "air"],
            help=gettext_lazy("One or more, separated by 、 or commas."),
        ),
        Field(
            "professional_category",
            Text(50),
            imported="专业类别",
            example="环境工程",
            width=12,
        ),
        Field(
            "region_code",
            Division(),
            imported="所在区域代码",
            example="410823",
            help=gettext_lazy("Six-digit division code of the area the person works in."),
            width=12,
        ),
        # Linking a user account and (de)activating have their own services.
        Field("user", Int(), editable=False, tracked=False, exported=False),
        Field("is_active", Bool(default=True), editable=False, tracked=False),
    ],
)
