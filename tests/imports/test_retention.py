"""Retention of import files: the upload and the error report go, the job and its report stay."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone, translation

from config.celery_app import app
from core.models import AuditEntry
from exchange import tasks
from exchange.imports import import_job_create, import_job_request_commit, import_jobs_purge_files
from exchange.models import ImportJob
from tests.imports.conftest import inspector_rows, inspectors_xlsx

pytestmark = pytest.mark.django_db

Status = ImportJob.Status
TODAY = date(2026, 6, 30)


def at(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time().replace(hour=10)))


def days_ago(n: int) -> datetime:
    return at(TODAY - timedelta(days=n))


def upload(actor, rows) -> ImportJob:
    return import_job_create(
        actor=actor, kind="inspectors", filename="人员.xlsx", data=inspectors_xlsx(rows)
    )


def committed(actor, *, ended: datetime) -> ImportJob:
    job = import_job_request_commit(
        actor=actor, job=upload(actor, inspector_rows(2)), accept_warnings=False
    )
    assert job.status == Status.COMMITTED
    ImportJob.objects.filter(pk=job.pk).update(committed_at=ended, updated_at=ended)
    return job


def with_errors(actor, *, ended: datetime, status: str = Status.VALIDATED) -> ImportJob:
    """A checked file with an error, so it has an error report too."""
    rows = inspector_rows(3, start=100)
    rows[1][3] = "2027-02-30"
    job = upload(actor, rows)
    assert job.status == Status.VALIDATED and job.error_report
    ImportJob.objects.filter(pk=job.pk).update(status=status, updated_at=ended)
    return job


def on_disk(media_root, job: ImportJob) -> list[bool]:
    return [(media_root / f.name).exists() for f in (job.file, job.error_report) if f.name]


def test_it_purges_the_files_of_jobs_that_ended_long_ago_and_nothing_else(
    county_clerk, media_root, settings
):
    settings.SJSJ_IMPORT_FILE_RETENTION_DAYS = 30
    old_import = committed(county_clerk, ended=days_ago(31))
    old_refusal = with_errors(county_clerk, ended=days_ago(45), status=Status.FAILED)
    recent_import = committed(county_clerk, ended=days_ago(29))
    awaiting_decision = with_errors(county_clerk, ended=days_ago(90))
    stuck = upload(county_clerk, inspector_rows(1, start=200))
    ImportJob.objects.filter(pk=stuck.pk).update(
        status=Status.VALIDATING, updated_at=days_ago(90), claimed_at=days_ago(90)
    )
    committing = upload(county_clerk, inspector_rows(1, start=300))
    ImportJob.objects.filter(pk=committing.pk).update(
        status=Status.COMMITTING, updated_at=days_ago(90), committed_at=days_ago(90)
    )
    kept = [recent_import, awaiting_decision, stuck, committing]
    assert all(on_disk(media_root, job) and all(on_disk(media_root, job)) for job in kept)
    report_before = ImportJob.objects.get(pk=old_refusal.pk).report

    assert import_jobs_purge_files(today=TODAY) == 2

    for job in (old_import, old_refusal):
        before = job
        job = ImportJob.objects.get(pk=job.pk)
        assert (job.file.name, job.error_report.name) == ("", "")
        assert job.files_purged_at is not None
        assert not any(on_disk(media_root, before))
        entry = AuditEntry.objects.get(action="import.purge_files", object_id=str(job.pk))
        assert entry.before["file"] == before.file.name and entry.actor_id is None
    assert not (media_root / old_refusal.error_report.name).exists()
    # What was recorded about the import stays.
    old_import = ImportJob.objects.get(pk=old_import.pk)
    assert old_import.status == Status.COMMITTED
    assert old_import.result == {"created": 2, "updated": 0, "unchanged": 0}
    assert old_import.report["rows"] == 2 and old_import.original_name == "人员.xlsx"
    assert ImportJob.objects.get(pk=old_refusal.pk).report == report_before
    for job in kept:
        fresh = ImportJob.objects.get(pk=job.pk)
        assert fresh.files_purged_at is None and fresh.file.name == job.file.name
        assert all(on_disk(media_root, fresh))


def test_a_second_run_deletes_nothing(county_clerk, media_root, settings):
    settings.SJSJ_IMPORT_FILE_RETENTION_DAYS = 30
    job = committed(county_clerk, ended=days_ago(40))
    assert import_jobs_purge_files(today=TODAY) == 1
    purged_at = ImportJob.objects.get(pk=job.pk).files_purged_at
    audits = AuditEntry.objects.count()

    assert import_jobs_purge_files(today=TODAY) == 0
    assert ImportJob.objects.get(pk=job.pk).files_purged_at == purged_at
    assert AuditEntry.objects.count() == audits


def test_the_retention_is_a_setting(county_clerk, settings):
    job = committed(county_clerk, ended=days_ago(10))
    settings.SJSJ_IMPORT_FILE_RETENTION_DAYS = 30
    assert import_jobs_purge_files(today=TODAY) == 0
    settings.SJSJ_IMPORT_FILE_RETENTION_DAYS = 7
    assert import_jobs_purge_files(today=TODAY) == 1
    assert ImportJob.objects.get(pk=job.pk).files_purged_at is not None


def test_a_file_already_missing_from_the_disk_is_no_obstacle(county_clerk, media_root, settings):
    settings.SJSJ_IMPORT_FILE_RETENTION_DAYS = 30
    job = with_errors(county_clerk, ended=days_ago(60), status=Status.FAILED)
    (media_root / job.file.name).unlink()
    assert import_jobs_purge_files(today=TODAY) == 1
    job = ImportJob.objects.get(pk=job.pk)
    assert (job.file.name, job.error_report.name) == ("", "")
    assert job.files_purged_at is not None


def test_the_task_purges_once_when_run_twice(county_clerk, settings):
    settings.SJSJ_IMPORT_FILE_RETENTION_DAYS = 30
    job = committed(county_clerk, ended=timezone.now() - timedelta(days=40))
    assert tasks.import_files_purge() == 1
    assert tasks.import_files_purge() == 0
    assert ImportJob.objects.get(pk=job.pk).files_purged_at is not None


def test_the_purge_runs_every_night():
    entry = app.conf.beat_schedule["import-files-purge"]
    assert entry["task"] == tasks.import_files_purge.name == "exchange.tasks.import_files_purge"
    assert entry["schedule"].hour == {2}


def test_the_page_of_a_purged_job_says_the_files_were_removed(client_for, county_clerk, settings):
    settings.SJSJ_IMPORT_FILE_RETENTION_DAYS = 30
    job = with_errors(county_clerk, ended=days_ago(60), status=Status.FAILED)
    ImportJob.objects.filter(pk=job.pk).update(message="第 2 行：服务拒绝")
    import_jobs_purge_files(today=TODAY)
    client = client_for(county_clerk)
    response = client.get(f"/core/imports/{job.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="files-purged"' in page
    assert "保留 30 天" in page and "服务拒绝" in page
    assert 'data-testid="error-report"' not in page
    assert client.get(f"/core/imports/{job.pk}/errors.xlsx").status_code == 404
    with translation.override("en"):
        response = client.get(f"/core/imports/{job.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Files are kept for 30 days after an import ends" in response.content.decode()


def test_the_page_of_a_purged_import_keeps_its_counts(client_for, county_clerk, settings):
    settings.SJSJ_IMPORT_FILE_RETENTION_DAYS = 30
    job = committed(county_clerk, ended=days_ago(40))
    import_jobs_purge_files(today=TODAY)
    page = client_for(county_clerk).get(f"/core/imports/{job.pk}/").content.decode()
    assert 'data-testid="files-purged"' in page and 'data-testid="count-create"' in page
