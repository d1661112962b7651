"""Read-only admin of reports, archives and draw filings: their state and message, for an
administrator following a build that failed. The figures and files stay behind the pages,
which scope and audit them; a filing shows its digest, never the list."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from oversight.models import Archive, DrawFiling, Report


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "organisation",
        "kind",
        "year",
        "quarter",
        "version",
        "status",
        "progress",
        "requested_at",
        "finished_at",
    ]
    list_filter = ["status", "kind", "year"]
    exclude = ["data", "pdf", "xlsx"]


@admin.register(Archive)
class ArchiveAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "organisation",
        "year",
        "version",
        "status",
        "requested_at",
        "finished_at",
    ]
    list_filter = ["status", "year"]
    exclude = ["file", "entries"]


@admin.register(DrawFiling)
class DrawFilingAdmin(ReadOnlyAdmin):
    list_display = ["pk", "draw", "filed_with", "filed_by", "filed_at"]
