"""Read-only admin views of the object registry and the check-item list.

Changes go through the staff pages and the API (and so through the services, with their
permission checks, history and audit entries); an administrator is not a bureau clerk and
cannot bypass that here.
"""

from django.contrib import admin

from registry.models import CheckItem, PollutionSource, SourceChange


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SourceChangeInline(admin.TabularInline):
    model = SourceChange
    extra = 0
    fields = readonly_fields = ("at", "actor_name", "action", "changes")
    can_delete = False
    ordering = ["-at", "-id"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PollutionSource)
class PollutionSourceAdmin(ReadOnlyAdmin):
    list_display = [
        "source_code",
        "name",
        "company_name",
        "uscc",
        "organisation",
        "supervision_class",
        "credit_rating",
        "status",
    ]
    list_filter = ["supervision_class", "status", "managed_by", "credit_rating", "positive_list"]
    search_fields = ["=source_code", "name", "company_name", "=uscc"]
    list_select_related = ["organisation"]
    # 100,000 rows: no exact COUNT(*) of the whole table on every page.
    show_full_result_count = False
    inlines = [SourceChangeInline]


@admin.register(SourceChange)
class SourceChangeAdmin(ReadOnlyAdmin):
    list_display = ["at", "source", "action", "actor_name"]
    list_filter = ["action"]
    search_fields = ["=source__source_code", "actor_name"]
    list_select_related = ["source"]
    raw_id_fields = ["source", "actor"]
    show_full_result_count = False


@admin.register(CheckItem)
class CheckItemAdmin(ReadOnlyAdmin):
    list_display = ["year", "code", "name", "organisation", "method", "is_key_item", "published_at"]
    list_filter = ["year", "method", "is_key_item", "organisation__kind"]
    search_fields = ["code", "name", "organisation__name"]
    list_select_related = ["organisation"]
