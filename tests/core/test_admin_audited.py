"""Changes made in the Django admin leave audit entries like a service's: a user's role,
organisation, superuser flag and groups, a password change, object permissions granted on an
organisation, and lockouts. No entry carries a password hash."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from guardian.shortcuts import get_perms

from core.models import AuditEntry, Role

pytestmark = pytest.mark.django_db


def _form(user, **changes) -> dict:
    data = {
        "username": user.username,
        "first_name": "",
        "last_name": "",
        "email": "",
        "is_active": "on",
        "role": user.role,
        "organisation": user.organisation_id or "",
        "display_name": user.display_name,
        "failed_logins": 0,
        "locked_until_0": "",
        "locked_until_1": "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "initial-date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "initial-date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_a_role_change_a_password_change_and_a_grant_are_audited(
    admin_client, inspector_a, other_county
):
    url = reverse("admin:core_user_change", args=[inspector_a.pk])
    response = admin_client.post(
        url, _form(inspector_a, role=Role.CLERK, organisation=other_county.pk, is_superuser="on")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.filter(action="user.change").latest("seq")
    assert entry.before["role"] == Role.INSPECTOR and entry.after["role"] == Role.CLERK
    assert entry.after["organisation_id"] == other_county.pk and entry.after["is_superuser"]
    assert "password" not in json.dumps([entry.before, entry.after])

    url = reverse("admin:auth_user_password_change", args=[inspector_a.pk])
    response = admin_client.post(
        url, {"password1": "Another-Pass-2026", "password2": "Another-Pass-2026"}
    )
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action="user.password_change", object_id=str(inspector_a.pk))

    url = reverse(
        "admin:core_organisation_permissions_manage_user", args=[other_county.pk, inspector_a.pk]
    )
    response = admin_client.post(url, {"permissions": ["view_organisation"]})
    assert response.status_code == 302
    assert "view_organisation" in get_perms(inspector_a, other_county)
    grant = AuditEntry.objects.get(action="organisation.grant")
    assert grant.after == {"user": inspector_a.pk, "permissions": ["view_organisation"]}


def test_a_lockout_is_audited(county_clerk, settings, client):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": county_clerk.username, "password": "x"})
    entry = AuditEntry.objects.get(action="user.lock")
    assert entry.object_repr == county_clerk.username and entry.after["ip_address"]


# --- the read-only admins refuse a write by POST, not only by hiding the button ---------------


def _read_only_admins(superuser):
    """Every registered admin that grants a superuser neither add, change nor delete."""
    from django.contrib import admin
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = superuser
    return request, [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if not (
            model_admin.has_add_permission(request)
            or model_admin.has_change_permission(request)
            or model_admin.has_delete_permission(request)
        )
    ]


@pytest.fixture
def a_row_in_each(county, county_clerk, county_leader, city_reviewer):
    from django.core.files.base import ContentFile

    from exchange.models import ImportJob, RegistryExport
    from oversight.services import archive_request, draw_file, report_request
    from tests.lottery.scenario import build_world, make_draw, make_plan

    build_world(county)
    draw = make_draw(make_plan(county, county_clerk, county_leader), county_clerk)
    draw_file(actor=county_clerk, draw=draw)
    archive_request(actor=county_clerk, organisation=county, year=2026)
    report_request(actor=city_reviewer, kind="circular", year=2026, quarter=1)
    job = ImportJob(
        organisation=county, created_by=county_clerk, kind="sources", original_name="a.csv"
    )
    job.file.save("a.csv", ContentFile(b"x"), save=False)
    job.save()
    RegistryExport.objects.create(requested_by=county_clerk, kind="sources")


def test_every_read_only_admin_refuses_add_change_delete_and_bulk_delete_by_post(
    a_row_in_each, admin_client, admin_user
):
    from core.audit import model_snapshot

    request, read_only = _read_only_admins(admin_user)
    labels = {model._meta.label_lower for model, _ in read_only}
    expected = {
        "exchange.importjob",
        "exchange.registryexport",
        "oversight.report",
        "oversight.archive",
        "oversight.drawfiling",
        "lottery.draw",
        "lottery.plan",
        "core.auditentry",
    }
    assert expected <= labels, expected - labels
    tried = set()
    for model, model_admin in read_only:
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        assert not model_admin.get_actions(request), f"{info}: an action on a read-only admin"
        assert admin_client.post(reverse(f"{info}_add"), {}).status_code == 403, info
        obj = model._base_manager.order_by("pk").first()
        if obj is None:
            continue
        tried.add(model._meta.label_lower)
        before = model_snapshot(obj)
        fields = {f.name: "1" for f in model._meta.concrete_fields if not f.primary_key}
        change = admin_client.post(reverse(f"{info}_change", args=[obj.pk]), fields)
        assert change.status_code == 403, info
        delete = admin_client.post(reverse(f"{info}_delete", args=[obj.pk]), {"post": "yes"})
        assert delete.status_code == 403, info
        admin_client.post(
            reverse(f"{info}_changelist"),
            {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"},
        )
        assert model_snapshot(model._base_manager.get(pk=obj.pk)) == before, info
    assert expected <= tried, expected - tried


#: Writable admins that are not ``AuditedAdminMixin`` and why their writes are audited anyway.
AUDITED_OTHERWISE = {
    "lottery.ruleset": "saves through lottery.services.ruleset_save, which audits",
    "authtoken.tokenproxy": "core.admin.AuditedTokenAdmin: user.token_create / token_revoke",
    "axes.accessattempt": "core.admin.AuditedAccessAttemptAdmin: a deletion is user.unlock",
}


def test_every_writable_admin_is_audited(admin_user):
    """Derived from the registry: an admin that can write is audited, or argued above."""
    from django.contrib import admin
    from django.test import RequestFactory

    from core.admin import AuditedAdminMixin

    request = RequestFactory().get("/admin/")
    request.user = admin_user
    unaudited = [
        model._meta.label_lower
        for model, model_admin in admin.site._registry.items()
        if (
            model_admin.has_add_permission(request)
            or model_admin.has_change_permission(request)
            or model_admin.has_delete_permission(request)
        )
        and not isinstance(model_admin, AuditedAdminMixin)
        and model._meta.label_lower not in AUDITED_OTHERWISE
    ]
    assert not unaudited


def test_a_group_s_permissions_an_api_token_and_an_unlock_by_deletion_are_audited(
    admin_client, county_clerk, settings, client
):
    from django.contrib.auth.models import Group, Permission
    from rest_framework.authtoken.models import Token

    perm = Permission.objects.get(codename="change_user")
    response = admin_client.post(
        reverse("admin:auth_group_add"), {"name": "helpers", "permissions": [perm.pk]}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    group = Group.objects.get(name="helpers")
    created = AuditEntry.objects.get(action="group.create")
    assert created.after["permissions"] == [perm.pk]
    response = admin_client.post(
        reverse("admin:auth_group_change", args=[group.pk]), {"name": "helpers", "permissions": []}
    )
    assert response.status_code == 302
    changed = AuditEntry.objects.get(action="group.change")
    assert changed.before["permissions"] == [perm.pk] and changed.after["permissions"] == []

    response = admin_client.post(
        reverse("admin:authtoken_tokenproxy_add"), {"user": county_clerk.pk}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    key = Token.objects.get(user=county_clerk).key
    made = AuditEntry.objects.get(action="user.token_create")
    assert made.object_id == str(county_clerk.pk)
    response = admin_client.post(
        reverse("admin:authtoken_tokenproxy_delete", args=[county_clerk.pk]), {"post": "yes"}
    )
    assert response.status_code == 302 and not Token.objects.filter(user=county_clerk)
    assert AuditEntry.objects.filter(action="user.token_revoke", object_id=str(county_clerk.pk))
    trail = json.dumps(
        list(AuditEntry.objects.values("object_id", "object_repr", "before", "after")),
        default=str,
    )
    assert key not in trail

    from axes.models import AccessAttempt, AccessLog

    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": county_clerk.username, "password": "x"})
    attempt = AccessAttempt.objects.get(username=county_clerk.username)
    url = reverse("admin:axes_accessattempt_change", args=[attempt.pk])
    assert admin_client.post(url, {"failures_since_start": 0}).status_code == 403
    response = admin_client.post(
        reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}
    )
    assert response.status_code == 302 and not AccessAttempt.objects.exists()
    unlock = AuditEntry.objects.get(action="user.unlock")
    assert unlock.object_repr == county_clerk.username and unlock.after["ip_address"]
    log = AccessLog.objects.create(
        username=county_clerk.username, ip_address="10.0.0.1", user_agent="x", path_info="/"
    )
    delete = reverse("admin:axes_accesslog_delete", args=[log.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert AccessLog.objects.filter(pk=log.pk).exists()
