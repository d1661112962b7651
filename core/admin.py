from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _
from guardian.admin import GuardedModelAdmin

from core.audit import audit_record, model_snapshot
from core.models import AuditEntry, CalendarDay, CalendarYear, Organisation, User


class ReadOnlyAdmin(admin.ModelAdmin):
    """An administrator sees, never edits: the rows are written by services (with their checks
    and audit entries) and by the workers."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AuditedAdminMixin:
    """Every change made in the admin leaves an audit entry like a service's: who, what,
    before and after (many-to-many fields such as groups and permissions included; never a
    password hash: a password change is recorded as such)."""

    audit_exclude = ("password", "last_login")

    def _audit_snapshot(self, obj) -> dict:
        data = model_snapshot(obj)
        for name in self.audit_exclude:
            data.pop(name, None)
        if obj.pk:
            for field in obj._meta.many_to_many:
                data[field.name] = sorted(getattr(obj, field.name).values_list("pk", flat=True))
        return data

    def save_model(self, request, obj, form, change):
        before = self._audit_snapshot(type(obj).objects.get(pk=obj.pk)) if change else None
        request._audit_before = before
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        audit_record(
            actor=request.user,
            action=f"{obj._meta.model_name}.{'change' if change else 'create'}",
            obj=obj,
            before=getattr(request, "_audit_before", None),
            after=self._audit_snapshot(obj),
        )

    def delete_model(self, request, obj):
        audit_record(
            actor=request.user,
            action=f"{obj._meta.model_name}.delete",
            obj=obj,
            before=self._audit_snapshot(obj),
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(Organisation)
class OrganisationAdmin(AuditedAdminMixin, GuardedModelAdmin):  # type: ignore[misc]  # guardian's template: str
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
        return _audit_grant(
            request,
            super().obj_perms_manage_user_view(request, object_pk, user_id),
            organisation_pk=object_pk,
            grantee={"user": int(user_id)},
        )

    def obj_perms_manage_group_view(self, request, object_pk, group_id):
        _require_numeric(object_pk, group_id)
        return _audit_grant(
            request,
            super().obj_perms_manage_group_view(request, object_pk, group_id),
            organisation_pk=object_pk,
            grantee={"group": int(group_id)},
        )


def _audit_grant(request, response, *, organisation_pk, grantee: dict):
    """django-guardian saved the object permissions of a user or group (its view answers a
    redirect): record which permissions they now hold on the organisation."""
    if request.method == "POST" and response.status_code == 302:
        organisation = Organisation.objects.get(pk=organisation_pk)
        audit_record(
            actor=request.user,
            action="organisation.grant",
            obj=organisation,
            after={**grantee, "permissions": sorted(request.POST.getlist("permissions"))},
        )
    return response


def _require_numeric(*ids) -> None:
    from django.http import Http404

    if not all(str(i).isdigit() for i in ids):
        raise Http404


@admin.register(User)
class SjsjUserAdmin(AuditedAdminMixin, UserAdmin):
    list_display = ["username", "display_name", "role", "organisation", "is_active"]
    list_filter = ["role", "is_active"]
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        (_("Organisation and role"), {"fields": ["organisation", "role", "display_name"]}),
    )
    actions = ["unlock"]

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            audit_record(
                actor=request.user,
                action="user.password_change",
                obj=User.objects.get(pk=id),
                after={"via": "admin"},
            )
        return response

    @admin.action(description=_("Unlock the selected accounts"))
    def unlock(self, request, queryset):
        """Clear django-axes' failed logins of these user names, from every address."""
        from axes.utils import reset

        for user in queryset:
            reset(username=user.username)
            audit_record(actor=request.user, action="user.unlock", obj=user)
        self.message_user(request, _("%(count)d accounts unlocked.") % {"count": queryset.count()})


@admin.register(CalendarYear)
class CalendarYearAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["year", "source", "notice", "loaded_at"]


@admin.register(CalendarDay)
class CalendarDayAdmin(AuditedAdminMixin, admin.ModelAdmin):
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
