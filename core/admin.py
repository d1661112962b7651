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


# --- the admins that come with the libraries, made to leave their trail too --------------------
# Each module is imported here (registering its admins) and its writable admins replaced; the
# autodiscovery that follows finds the module imported already and registers nothing twice.

from axes import admin as axes_admin  # noqa: E402
from axes.models import AccessAttempt, AccessFailureLog, AccessLog  # noqa: E402
from django.contrib.auth import admin as auth_admin  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from rest_framework.authtoken import admin as token_admin  # noqa: E402
from rest_framework.authtoken.models import TokenProxy  # noqa: E402


def _replace(model, model_admin) -> None:
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)


class AuditedGroupAdmin(AuditedAdminMixin, auth_admin.GroupAdmin):
    """A group's permissions are rights of every member: each change is an audit entry."""


class AuditedTokenAdmin(token_admin.TokenAdmin):
    """An API token made or revoked for a user is an audit entry on that user; the key (the
    token's primary key, so its text and id) never enters the trail. A token is made or
    revoked, never handed to another user."""

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action="user.token_create",
            obj=obj.user,
            after={"via": "admin", "created": obj.created},
        )

    def delete_model(self, request, obj):
        audit_record(actor=request.user, action="user.token_revoke", obj=obj.user)
        super().delete_model(request, obj)


class AuditedAccessAttemptAdmin(axes_admin.AccessAttemptAdmin):
    """django-axes' failed logins, seen and never edited here: deleting one unlocks that name
    from that address, recorded like the user admin's “unlock”."""

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        self._audit_unlock(request, [obj])
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        self._audit_unlock(request, list(queryset))
        super().delete_queryset(request, queryset)

    @staticmethod
    def _audit_unlock(request, attempts) -> None:
        for attempt in attempts:
            audit_record(
                actor=request.user,
                action="user.unlock",
                object_type="axes.accessattempt",
                object_id=str(attempt.pk),
                object_repr=(attempt.username or "")[:200],
                after={"ip_address": attempt.ip_address, "via": "admin"},
            )

    @admin.action(
        description=axes_admin.AccessAttemptAdmin.cleanup_expired_attempts.short_description
    )
    def cleanup_expired_attempts(self, request, queryset):
        count = self.handler.clean_expired_user_attempts(request=request)
        audit_record(
            actor=request.user,
            action="axes.cleanup_expired",
            object_type="axes.accessattempt",
            after={"deleted": count},
        )
        self.message_user(request, _("%(count)d expired attempts removed.") % {"count": count})


class ReadOnlyLogAdmin:
    """A log of logins is evidence: read here, never edited or deleted."""

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AccessLogAdmin(ReadOnlyLogAdmin, axes_admin.AccessLogAdmin):
    pass


class AccessFailureLogAdmin(ReadOnlyLogAdmin, axes_admin.AccessFailureLogAdmin):
    pass


_replace(Group, AuditedGroupAdmin)
_replace(TokenProxy, AuditedTokenAdmin)
if admin.site.is_registered(AccessAttempt):  # AXES_ENABLE_ADMIN
    _replace(AccessAttempt, AuditedAccessAttemptAdmin)
    _replace(AccessLog, AccessLogAdmin)
    _replace(AccessFailureLog, AccessFailureLogAdmin)
