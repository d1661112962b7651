from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _
from guardian.admin import GuardedModelAdmin

from core.audit import audit_record, model_snapshot
from core.models import AuditEntry, CalendarDay, CalendarYear, Organisation, User


@admin.register(Organisation)
class OrganisationAdmin(GuardedModelAdmin):
    list_display = ["name", "kind", "division_code", "parent", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "division_code"]

    # django-guardian's object-permission pages look the object up with the id as given: a
    # non-numeric id would be a server error, so it is "not found" instead.
    def obj_perms_manage_view(self, request, object_pk):
        _require_numeric(object_pk)
        return super().obj_perms_manage_view(request, object_pk)

    def obj_perms_manage_user_view(self, request, object_pk, user_id):
        _require_numeric(object_pk, user_id)
        return super().obj_perms_manage_user_view(request, object_pk, user_id)

    def obj_perms_manage_group_view(self, request, object_pk, group_id):
        _require_numeric(object_pk, group_id)
        return super().obj_perms_manage_group_view(request, object_pk, group_id)


def _require_numeric(*ids) -> None:
    from django.http import Http404

    if not all(str(i).isdigit() for i in ids):
        raise Http404


@admin.register(User)
class SjsjUserAdmin(UserAdmin):
    list_display = ["username", "display_name", "role", "organisation", "is_active", "locked_until"]
    list_filter = ["role", "is_active"]
    fieldsets = UserAdmin.fieldsets + (
        (_("Organisation and role"), {"fields": ["organisation", "role", "display_name"]}),
        (_("Lockout"), {"fields": ["failed_logins", "locked_until"]}),
    )
    actions = ["unlock"]

    @admin.action(description=_("Unlock the selected accounts"))
    def unlock(self, request, queryset):
        for user in queryset:
            audit_record(actor=request.user, action="user.unlock", obj=user)
        count = queryset.update(failed_logins=0, locked_until=None)
        self.message_user(request, _("%(count)d accounts unlocked.") % {"count": count})


class CalendarAuditMixin:
    """Calendar edits in the admin leave audit entries like every other change."""

    def save_model(self, request, obj, form, change):
        before = None
        if change:
            before = model_snapshot(type(obj).objects.get(pk=obj.pk))
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action=f"{obj._meta.model_name}.{'change' if change else 'create'}",
            obj=obj,
            before=before,
            after=model_snapshot(obj),
        )

    def delete_model(self, request, obj):
        audit_record(
            actor=request.user,
            action=f"{obj._meta.model_name}.delete",
            obj=obj,
            before=model_snapshot(obj),
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(CalendarYear)
class CalendarYearAdmin(CalendarAuditMixin, admin.ModelAdmin):
    list_display = ["year", "source", "notice", "loaded_at"]


@admin.register(CalendarDay)
class CalendarDayAdmin(CalendarAuditMixin, admin.ModelAdmin):
    list_display = ["date", "kind", "name"]
    list_filter = ["kind"]
    date_hierarchy = "date"

    def save_model(self, request, obj, form, change):
        if not CalendarYear.objects.filter(year=obj.date.year).exists():
            messages.warning(
                request,
                _(
                    "%(year)s is not marked as covered: add it under Calendar years once its "
                    "whole official schedule is entered."
                )
                % {"year": obj.date.year},
            )
        super().save_model(request, obj, form, change)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is append-only, even for administrators."""

    list_display = ["seq", "at", "actor_name", "action", "object_type", "object_repr"]
    list_filter = ["action"]
    search_fields = ["object_repr", "actor_name", "object_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
