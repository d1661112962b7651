"""A large import through a real Celery worker on Redis: queued, checked, committed."""

from __future__ import annotations

import time

import pytest

from exchange import imports as imports_module
from exchange.imports import import_job_create, import_job_request_commit
from exchange.models import ImportJob
from registry.models import PollutionSource
from tests.imports.conftest import source_row, sources_xlsx

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def wait_for(job: ImportJob, status: str, timeout: float = 30) -> ImportJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status == status and job.claimed_at is None:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job stayed {job.status} ({job.message})")


def test_a_large_file_is_checked_and_imported_by_the_worker(worker, county_clerk, monkeypatch):
    monkeypatch.setattr(imports_module, "INLINE_MAX_ROWS", 10)
    rows = [source_row(f"BG-{i:04d}") for i in range(1500)]
    job = import_job_create(
        actor=county_clerk, kind="sources", filename="大文件.xlsx", data=sources_xlsx(rows)
    )
    assert job.in_background
    job = wait_for(job, ImportJob.Status.VALIDATED)
    assert (job.report["create"], job.rows_done, job.rows_total) == (1500, 1500, 1500)
    assert PollutionSource.objects.count() == 0

    import_job_request_commit(actor=county_clerk, job=job, accept_warnings=False)
    job = wait_for(job, ImportJob.Status.COMMITTED)
    assert job.result == {"created": 1500, "updated": 0, "unchanged": 0}
    assert PollutionSource.objects.count() == 1500


def test_a_registry_export_is_written_by_the_worker(worker, county_clerk, client_for):
    from exchange.imports import registry_export_request
    from exchange.models import RegistryExport

    job = import_job_create(
        actor=county_clerk,
        kind="sources",
        filename="a.xlsx",
        data=sources_xlsx([source_row(f"EX-{i}") for i in range(3)]),
    )
    import_job_request_commit(actor=county_clerk, job=job, accept_warnings=False)
    export = registry_export_request(actor=county_clerk, kind="sources")
    deadline = time.monotonic() + 30
    while export.status == RegistryExport.Status.REQUESTED and time.monotonic() < deadline:
        time.sleep(0.2)
        export.refresh_from_db()
    assert (export.status, export.rows) == (RegistryExport.Status.READY, 3), export.message
    response = client_for(county_clerk).get(f"/core/exports/requests/{export.pk}/download/")
    assert response.status_code == 200
