"""Read-only admin of import jobs and registry exports: an administrator sees a stuck or
failed job (its state, attempts, heartbeat and message) without opening the files."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from exchange.models import ImportJob, RegistryExport


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "organisation",
        "kind",
        "original_name",
        "status",
        "rows_total",
        "rows_done",
        "attempts",
        "created_at",
        "heartbeat_at",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["original_name"]
    exclude = ["file", "report", "error_report", "result"]


@admin.register(RegistryExport)
class RegistryExportAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "requested_by",
        "kind",
        "status",
        "rows",
        "attempts",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status", "kind"]
    exclude = ["file"]
