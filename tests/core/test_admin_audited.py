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
