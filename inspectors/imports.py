"""The inspector registry's Excel import: the template's columns and the way to the bulk service.

Enforcement staff are identified by their enforcement certificate number (unique nationwide),
technical experts, who hold none, by name within their organisation: the same rule as
``inspectors.services.inspector_bulk_upsert``, which does the writing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.models import Organisation, User
from core.selectors import organisations_visible_to
from core.vocab import Expertise
from exchange.excel import (
    Column,
    ImportSpec,
    RowResult,
    boolean_column,
    choice_column,
    code_column,
    date_column,
    integer_column,
    multi_choice_column,
    text_column,
)
from exchange.excel.spec import filter_by_keys, parse_division
from inspectors.models import Inspector
from inspectors.selectors import inspector_list_for_user, user_may_edit_inspectors_of
from inspectors.services import inspector_bulk_upsert

EXPERT_KEY = "expert/"

COLUMNS = (
    text_column(
        "姓名",
        "name",
        max_length=50,
        required=True,
        example="张示例",
        help=gettext_lazy("Full name as on the enforcement certificate."),
        width=10,
    ),
    choice_column(
        "人员类别",
        "kind",
        Inspector.Kind.choices,
        default=Inspector.Kind.ENFORCEMENT,
        aliases={
            "执法": "enforcement",
            "执法人员": "enforcement",
            "专家": "expert",
            "技术专家": "expert",
        },
        example=Inspector.Kind.ENFORCEMENT,
        help=gettext_lazy(
            "Enforcement staff, or a technical expert (experts assist and never count as team "
            "members). Empty: enforcement staff."
        ),
        width=12,
    ),
    code_column(
        "执法证号",
        "certificate_number",
        max_length=30,
        example="豫环执示例0001",
        help=gettext_lazy(
            "Required for enforcement staff, empty for experts. It identifies the person: a row "
            "with a number already in the registry updates that person."
        ),
        width=18,
    ),
    date_column(
        "执法证有效期至",
        "certificate_valid_until",
        example=date(2027, 12, 31),
        help=gettext_lazy("The last day the enforcement certificate is valid."),
    ),
    Column(
        "所属单位代码",
        "organisation",
        parse_division,
        "code",
        help=gettext_lazy(
            "Six-digit division code of the bureau the person belongs to. Empty: your own "
            "organisation. You can only import your own organisation's inspectors."
        ),
        example="",
        width=12,
    ),
    text_column("科室（单位）", "department", max_length=100, example="执法一中队", width=16),
    text_column("职务", "post", max_length=50, example="中队长", width=10),
    text_column(
        "执法类别（范围）",
        "enforcement_scope",
        max_length=500,
        example="生态环境综合执法",
        help=gettext_lazy("Enforcement type or scope as on the certificate."),
        width=18,
    ),
    boolean_column(
        "在编在岗",
        "on_staff",
        default=True,
        example="是",
        help=gettext_lazy("是 or 否. Empty: 是."),
    ),
    choice_column(
        "性别",
        "gender",
        Inspector.Gender.choices,
        default="",
        aliases={"男": "male", "女": "female"},
        example="",
        width=8,
    ),
    integer_column(
        "工作年限",
        "years_of_service",
        default=None,
        example=8,
        help=gettext_lazy("Whole years, 0 to 60."),
    ),
    multi_choice_column(
        "业务专长",
        "expertise",
        Expertise.choices,
        aliases={"危废": "hazardous_waste", "辐射": "radiation", "废气": "air", "废水": "water"},
        example=["water", "air"],
        help=gettext_lazy("One or more, separated by 、 or commas."),
    ),
    text_column("专业类别", "professional_category", max_length=50, example="环境工程", width=12),
    Column(
        "所在区域代码",
        "region_code",
        parse_division,
        "code",
        help=gettext_lazy("Six-digit division code of the area the person works in."),
        example="410823",
        width=12,
    ),
)


@dataclass
class InspectorImportContext:
    actor: Any
    default: Organisation | None
    by_code: dict[str, Organisation]  # the organisations the actor may import for


class InspectorImportSpec(ImportSpec):
    kind = "inspectors"
    title = gettext_lazy("Inspectors")
    sheet_name = "执法检查人员"
    columns = COLUMNS
    key = "certificate_number"
    notes = (
        gettext_lazy(
            "Enforcement staff are matched by certificate number, technical experts by name "
            "within their organisation; a matching row updates the person, any other row adds one."
        ),
    )

    def begin(self, *, actor: User, organisation) -> InspectorImportContext:
        editable = [
            org
            for org in organisations_visible_to(actor)
            if user_may_edit_inspectors_of(actor, org)
        ]
        return InspectorImportContext(
            actor=actor, default=organisation, by_code={o.division_code: o for o in editable}
        )

    def _organisation_code(self, row: RowResult, ctx: InspectorImportContext) -> str:
        code = row.values.get("organisation") or ""
        if not code and ctx.default is not None:
            code = ctx.default.division_code
        return code

    def row_key(self, row: RowResult) -> str:
        if row.values.get("kind") == Inspector.Kind.EXPERT:
            name = row.values.get("name") or ""
            return f"{EXPERT_KEY}{row.values.get('organisation', '')}/{name}" if name else ""
        return row.values.get("certificate_number") or ""

    def key_label(self, row: RowResult) -> tuple[str, str]:
        if row.values.get("kind") == Inspector.Kind.EXPERT:
            return "姓名", row.values.get("name") or ""
        return "执法证号", row.values.get("certificate_number") or ""

    def check_row(self, row: RowResult, ctx: InspectorImportContext) -> None:
        values = row.values
        code = self._organisation_code(row, ctx)
        # A blank organisation means the importer's own: compare and write it as such.
        values["organisation"] = code
        if code not in ctx.by_code:
            row.error(
                "所属单位代码",
                _("you may import only the inspectors of your own organisation (not “%(code)s”)")
                % {"code": code},
            )
        kind = values.get("kind", Inspector.Kind.ENFORCEMENT)
        if kind == Inspector.Kind.ENFORCEMENT and values.get("certificate_number") == "":
            row.error("执法证号", _("required for enforcement staff"))
        if kind == Inspector.Kind.EXPERT and (
            values.get("certificate_number") or values.get("certificate_valid_until")
        ):
            row.error(
                "执法证号",
                _("a technical expert holds no enforcement certificate: leave it empty"),
            )
        years = values.get("years_of_service")
        if years is not None and years > 60:
            row.error("工作年限", _("must be between 0 and 60"))

    def existing(self, keys: list[str], ctx: InspectorImportContext) -> dict[str, dict[str, Any]]:
        fields = [c.field for c in self.columns if c.field != "organisation"]
        found: dict[str, dict[str, Any]] = {}
        numbers = [k for k in keys if not k.startswith(EXPERT_KEY)]
        editable_ids = {o.pk for o in ctx.by_code.values()}
        if numbers:
            for record in filter_by_keys(
                Inspector.objects.filter(kind=Inspector.Kind.ENFORCEMENT),
                "certificate_number",
                numbers,
            ).values(*fields, "organisation_id", "organisation__division_code"):
                record["organisation"] = record["organisation__division_code"]
                record["_foreign"] = record["organisation_id"] not in editable_ids
                found[record["certificate_number"]] = record
        experts = [k[len(EXPERT_KEY) :].split("/", 1) for k in keys if k.startswith(EXPERT_KEY)]
        if experts:
            matches: dict[str, list[dict[str, Any]]] = {}
            for record in Inspector.objects.filter(
                kind=Inspector.Kind.EXPERT,
                organisation__in=ctx.by_code.values(),
                name__in={name for _code, name in experts},
            ).values(*fields, "organisation__division_code"):
                record["organisation"] = record["organisation__division_code"]
                key = f"{EXPERT_KEY}{record['organisation']}/{record['name']}"
                matches.setdefault(key, []).append(record)
            for key, records in matches.items():
                if len(records) > 1:
                    found[key] = {
                        "_error": _(
                            "several technical experts of this organisation are named "
                            "%(name)s: edit them one by one"
                        )
                        % {"name": records[0]["name"]}
                    }
                else:
                    found[key] = records[0]
        return found

    def commit(self, *, actor: User, rows, ctx, accept_warnings):
        payload = [{**row.values, "row": row.number} for row in rows]
        return tuple(
            inspector_bulk_upsert(actor=actor, organisation_by_code=ctx.by_code, rows=payload)
        )

    def export_rows(self, *, user):
        fields = [c.field for c in self.columns if c.field != "organisation"]
        for record in (
            inspector_list_for_user(user=user)
            .values(*fields, "organisation__division_code")
            .iterator(chunk_size=2000)
        ):
            record["organisation"] = record.pop("organisation__division_code")
            yield record
