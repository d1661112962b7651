"""Read-only admin views of the inspector registry.

Changes go through the staff pages (and so through the services, with their permission
checks, history and audit entries); an administrator is not a bureau clerk and cannot
bypass that here.
"""

from django.contrib import admin

from inspectors.models import Conflict, Inspector, InspectorChange, Unavailability


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class UnavailabilityInline(ReadOnlyInline):
    model = Unavailability
    fields = ["start", "end", "reason", "note"]


class ConflictInline(ReadOnlyInline):
    model = Conflict
    fields = ["source", "company_uscc", "reason", "valid_from", "valid_until", "withdrawn_at"]
    raw_id_fields = ["source"]


@admin.register(Inspector)
class InspectorAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "kind",
        "organisation",
        "certificate_number",
        "certificate_valid_until",
        "on_staff",
        "is_active",
    ]
    list_filter = ["kind", "on_staff", "is_active", "organisation__kind"]
    search_fields = ["name", "certificate_number", "organisation__name"]
    list_select_related = ["organisation"]
    inlines = [UnavailabilityInline, ConflictInline]


@admin.register(Unavailability)
class UnavailabilityAdmin(ReadOnlyAdmin):
    list_display = ["inspector", "start", "end", "reason", "note"]
    list_filter = ["reason"]
    search_fields = ["inspector__name", "inspector__certificate_number"]
    list_select_related = ["inspector"]
    date_hierarchy = "start"


@admin.register(Conflict)
class ConflictAdmin(ReadOnlyAdmin):
    list_display = [
        "inspector",
        "source",
        "company_uscc",
        "valid_from",
        "valid_until",
        "withdrawn_at",
    ]
    search_fields = ["inspector__name", "company_uscc", "source__name", "source__source_code"]
    list_select_related = ["inspector", "source"]
    raw_id_fields = ["source"]


@admin.register(InspectorChange)
class InspectorChangeAdmin(ReadOnlyAdmin):
    list_display = ["inspector", "at", "actor_name", "action"]
    list_filter = ["action"]
    search_fields = ["inspector__name", "actor_name"]
    list_select_related = ["inspector"]
    date_hierarchy = "at"
