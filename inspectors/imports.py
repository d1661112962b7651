"""The inspector registry's Excel import: the template's columns and the way to the bulk service.

Enforcement staff are identified by their enforcement certificate number (unique nationwide),
technical experts, who hold none, by name within their organisation: the same rule as
``inspectors.services.inspector_bulk_upsert``, which does the writing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.models import Organisation, User
from core.selectors import organisations_visible_to
from exchange.excel import ImportSpec, RowResult
from exchange.excel.spec import columns_for, filter_by_keys
from inspectors.fields import INSPECTOR, ORGANISATION_HEADER
from inspectors.models import Inspector
from inspectors.selectors import inspector_list_for_user, user_may_edit_inspectors_of
from inspectors.services import inspector_bulk_upsert, inspector_check_record

EXPERT_KEY = "expert/"

# The template's columns: the declared fields that have a header (``inspectors.fields``).
COLUMNS = columns_for(INSPECTOR)


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

    def begin(self, *, actor: User | None, organisation) -> InspectorImportContext:
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
                ORGANISATION_HEADER,
                _("you may import only the inspectors of your own organisation (not “%(code)s”)")
                % {"code": code},
            )
        # The service's rules across fields, in its words, when the file gives the number
        # (a missing name is the engine's to report, as a required column).
        if "certificate_number" in values:
            record = {"kind": Inspector.Kind.ENFORCEMENT, **values}
            for field, messages in inspector_check_record(record).items():
                if field != "name":
                    for message in messages:
                        row.error(INSPECTOR[field].imported, message)

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

    def commit(self, *, actor: User | None, rows, ctx, accept_warnings):
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
