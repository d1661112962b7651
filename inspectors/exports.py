"""Excel export of the inspector list (the current filter), through the shared safe writer
``exchange.excel.export_response`` (write-only workbook, formula injection neutralised)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from exchange.excel import export_response
from inspectors.models import CertificateStatus, Inspector


def _columns() -> list[tuple[str, Any]]:
    def yes_no(value: bool) -> str:
        return _("Yes") if value else _("No")

    return [
        (_("Organisation"), lambda i: i.organisation.name),
        (pgettext("person", "Name"), lambda i: i.name),
        (_("Type"), lambda i: i.get_kind_display()),
        (_("Department (unit)"), lambda i: i.department),
        (_("Post"), lambda i: i.post),
        (_("Enforcement certificate number"), lambda i: i.certificate_number),
        (_("Certificate valid until"), lambda i: i.certificate_valid_until),
        (
            _("Certificate"),
            lambda i: str(CertificateStatus(i.certificate_status_on(timezone.localdate())).label),
        ),
        (_("Enforcement type (scope)"), lambda i: i.enforcement_scope),
        (_("On staff and in post"), lambda i: yes_no(i.on_staff)),
        (_("Gender"), lambda i: i.get_gender_display()),
        (_("Years of service"), lambda i: i.years_of_service),
        (_("Expertise"), lambda i: "、".join(i.get_expertise_display())),
        (_("Professional category"), lambda i: i.professional_category),
        (_("Region"), lambda i: i.region_code),
        (_("Active"), lambda i: yes_no(i.is_active)),
    ]


def inspector_rows(queryset: QuerySet[Inspector]):
    columns = _columns()
    header = [label for label, _getter in columns]
    rows = (
        [getter(inspector) for _label, getter in columns]
        for inspector in queryset.select_related("organisation").iterator(chunk_size=2000)
    )
    return header, rows


def inspectors_xlsx_response(queryset: QuerySet[Inspector]) -> FileResponse:
    header, rows = inspector_rows(queryset)
    return export_response(
        header,
        rows,
        filename=f"inspectors-{timezone.localdate():%Y%m%d}.xlsx",
        sheet_name=_("Inspectors"),
    )
