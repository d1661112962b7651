"""The whole-registry export: requested on a page, written by a worker, fetched by its requester.

A registry of 300,000 sources takes a minute to write, longer than a proxy waits; so the
request only queues the work and the page polls until the file is ready.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from core.models import AuditEntry, Role
from core.roles import ROLE_CAPABILITIES
from exchange import imports as imports_module
from exchange import tasks
from exchange.imports import (
    import_job_create,
    import_job_request_commit,
    registry_export_build,
    registry_export_request,
    registry_exports_purge_files,
)
from exchange.models import RegistryExport
from tests.imports.conftest import source_headers, source_row, sources_xlsx

pytestmark = pytest.mark.django_db
Status = RegistryExport.Status


def html(response) -> str:
    return response.content.decode()


@pytest.fixture
def queued(monkeypatch):
    """What the services hand to Celery, instead of a broker."""
    sent: list[tuple[str, int]] = []
    monkeypatch.setattr(imports_module, "_enqueue", lambda name, pk: sent.append((name, pk)))
    return sent


def import_sources(actor, codes: list[str]) -> None:
    job = import_job_create(
        actor=actor,
        kind="sources",
        filename="a.xlsx",
        data=sources_xlsx([source_row(code) for code in codes]),
    )
    import_job_request_commit(actor=actor, job=job, accept_warnings=False)


def request_export(client, captured, kind: str = "sources") -> RegistryExport:
    with captured(execute=True):
        response = client.post(f"/core/exports/{kind}/")
    export = RegistryExport.objects.latest("pk")
    assert response.status_code == 302
    assert response["Location"] == f"/core/exports/requests/{export.pk}/"
    return export


def test_the_request_queues_a_job_that_the_worker_builds_for_the_requester(
    client_for, county_clerk, outsider_clerk, queued, django_capture_on_commit_callbacks
):
    import_sources(county_clerk, ["EX-1", "EX-2", "EX-3"])
    import_sources(outsider_clerk, ["OUT-1"])  # another county: not in the clerk's copy
    client = client_for(county_clerk)

    export = request_export(client, django_capture_on_commit_callbacks)
    assert queued == [("registry_export_build", export.pk)]
    assert hasattr(tasks, "registry_export_build")
    assert (export.status, export.requested_by, export.kind) == (
        Status.REQUESTED,
        county_clerk,
        "sources",
    )
    assert not AuditEntry.objects.filter(action="export.registry").exists()

    page = client.get(f"/core/exports/requests/{export.pk}/")
    assert page.status_code == 200
    assert 'hx-trigger="every 3s"' in html(page) and 'data-testid="export-download"' not in html(
        page
    )
    partial = client.get(f"/core/exports/requests/{export.pk}/status/")
    assert 'hx-trigger="every 3s"' in html(partial)
    assert client.get(f"/core/exports/requests/{export.pk}/download/").status_code == 404

    assert tasks.registry_export_build(export.pk) == Status.READY
    export.refresh_from_db()
    assert (export.status, export.rows, export.message) == (Status.READY, 3, "")
    assert export.file.name.startswith("exports/") and export.finished_at is not None
    entry = AuditEntry.objects.get(action="export.registry")
    assert entry.after == {"kind": "sources", "rows": 3} and entry.actor_id == county_clerk.pk

    partial = client.get(f"/core/exports/requests/{export.pk}/status/")
    assert "hx-trigger" not in html(partial)
    assert f'href="/core/exports/requests/{export.pk}/download/"' in html(partial)

    response = client.get(f"/core/exports/requests/{export.pk}/download/")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)))["污染源"]
    assert [c.value for c in sheet[1]] == source_headers()
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == ["EX-1", "EX-2", "EX-3"]
    download = AuditEntry.objects.get(action="export.download")
    assert download.object_id == str(export.pk) and download.after["rows"] == 3


def test_nobody_else_can_see_or_download_the_file(
    client_for, county_clerk, county_leader, outsider_clerk, queued
):
    import_sources(county_clerk, ["EX-1"])
    export = registry_export_request(actor=county_clerk, kind="sources")
    registry_export_build(export_id=export.pk)
    for other in (county_leader, outsider_clerk):  # a colleague of the same bureau included
        client = client_for(other)
        for suffix in ("", "status/", "download/"):
            assert client.get(f"/core/exports/requests/{export.pk}/{suffix}").status_code == 404
    assert (
        client_for(county_clerk).get(f"/core/exports/requests/{export.pk}/download/").status_code
        == 200
    )
    assert AuditEntry.objects.filter(action="export.download").count() == 1


def test_running_the_task_twice_builds_the_file_once(county_clerk, queued, media_root):
    import_sources(county_clerk, ["EX-1"])
    export = registry_export_request(actor=county_clerk, kind="sources")
    assert tasks.registry_export_build(export.pk) == Status.READY
    assert tasks.registry_export_build(export.pk) is None
    assert AuditEntry.objects.filter(action="export.registry").count() == 1
    assert len(list((media_root / "exports").iterdir())) == 1


def test_a_claim_held_by_a_live_worker_is_not_taken(county_clerk, queued):
    export = registry_export_request(actor=county_clerk, kind="sources")
    RegistryExport.objects.filter(pk=export.pk).update(claimed_at=timezone.now())
    assert registry_export_build(export_id=export.pk) is None
    RegistryExport.objects.filter(pk=export.pk).update(
        claimed_at=timezone.now() - timedelta(hours=1)
    )
    assert registry_export_build(export_id=export.pk).status == Status.READY


def test_a_failure_is_recorded_in_the_requesters_language(
    client_for, county_clerk, queued, monkeypatch, media_root
):
    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(imports_module, "registry_export", broken)
    client = client_for(county_clerk)
    response = client.post("/core/exports/sources/", HTTP_ACCEPT_LANGUAGE="en")
    export = RegistryExport.objects.get()
    assert response.status_code == 302
    assert export.language == "en"
    assert tasks.registry_export_build(export.pk) == Status.FAILED
    export.refresh_from_db()
    assert export.message == "The export failed because of an internal error. Try again."
    assert not export.file and not list(media_root.rglob("*.xlsx"))
    partial = html(client.get(f"/core/exports/requests/{export.pk}/status/"))
    assert 'data-testid="export-failed"' in partial and "hx-trigger" not in partial


def test_without_the_capability_the_export_is_refused(client_for, inspector_a, queued, monkeypatch):
    monkeypatch.setitem(ROLE_CAPABILITIES, Role.INSPECTOR, frozenset())
    assert client_for(inspector_a).post("/core/exports/sources/").status_code == 403
    assert not RegistryExport.objects.exists()
    with pytest.raises(imports_module.ServiceError):
        registry_export_request(actor=inspector_a, kind="sources")


def test_the_request_needs_a_post_and_a_known_registry(client_for, county_clerk, queued):
    client = client_for(county_clerk)
    assert client.get("/core/exports/sources/").status_code == 405
    assert client.post("/core/exports/nothing/").status_code == 404
    assert not RegistryExport.objects.exists() and not queued


def test_the_import_page_offers_the_export_as_a_form(client_for, county_clerk):
    page = html(client_for(county_clerk).get("/core/imports/"))
    assert 'action="/core/exports/sources/"' in page and "csrfmiddlewaretoken" in page


def test_old_files_are_purged_and_the_rows_kept(county_clerk, queued, media_root, settings):
    settings.SJSJ_IMPORT_FILE_RETENTION_DAYS = 30
    import_sources(county_clerk, ["EX-1"])
    old, recent, pending = (
        registry_export_request(actor=county_clerk, kind="sources") for _ in range(3)
    )
    for export, days in ((old, 31), (recent, 29)):
        registry_export_build(export_id=export.pk)
        RegistryExport.objects.filter(pk=export.pk).update(
            finished_at=timezone.now() - timedelta(days=days)
        )
    old_path = media_root / RegistryExport.objects.get(pk=old.pk).file.name

    assert tasks.import_files_purge() == 1
    assert not old_path.exists()
    old = RegistryExport.objects.get(pk=old.pk)
    assert (old.status, old.rows, old.file.name) == (Status.READY, 1, "")
    assert old.file_purged_at is not None
    assert RegistryExport.objects.get(pk=recent.pk).file
    assert RegistryExport.objects.get(pk=pending.pk).status == Status.REQUESTED
    assert registry_exports_purge_files() == 0


def test_a_purged_export_says_so_and_serves_nothing(client_for, county_clerk, queued):
    export = registry_export_request(actor=county_clerk, kind="sources")
    registry_export_build(export_id=export.pk)
    RegistryExport.objects.filter(pk=export.pk).update(
        finished_at=timezone.now() - timedelta(days=400)
    )
    assert registry_exports_purge_files() == 1
    client = client_for(county_clerk)
    assert 'data-testid="export-purged"' in html(client.get(f"/core/exports/requests/{export.pk}/"))
    assert client.get(f"/core/exports/requests/{export.pk}/download/").status_code == 404
