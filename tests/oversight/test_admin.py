"""The background jobs and reports in the admin: listed and opened for an administrator
following a failed build, never added, changed or deleted there, and their files and figures
not shown (those stay behind the scoped, audited pages)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from oversight.models import Report
from oversight.services import report_request

pytestmark = pytest.mark.django_db

MODELS = [
    "exchange_importjob",
    "exchange_registryexport",
    "oversight_report",
    "oversight_archive",
    "oversight_drawfiling",
]


@pytest.mark.parametrize("model", MODELS)
def test_an_administrator_lists_them_but_cannot_add(admin_client, model):
    assert admin_client.get(reverse(f"admin:{model}_changelist")).status_code == 200
    assert admin_client.get(reverse(f"admin:{model}_add")).status_code == 403


def test_a_report_opens_read_only_without_its_figures(admin_client, city_reviewer, city):
    report, _ = report_request(actor=city_reviewer, kind="circular", year=2026, quarter=1)
    url = reverse("admin:oversight_report_change", args=[report.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    adminform = page.context["adminform"]
    shown = set(adminform.readonly_fields) | set(adminform.form.fields)
    assert "status" in shown and not shown & {"data", "pdf", "xlsx"}
    response = admin_client.post(url, {"status": "done"})
    assert response.status_code == 403
    assert Report.objects.get(pk=report.pk).status == "queued"
    delete = admin_client.post(reverse("admin:oversight_report_delete", args=[report.pk]))
    assert delete.status_code == 403 and Report.objects.filter(pk=report.pk).exists()
