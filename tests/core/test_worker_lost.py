"""A worker killed mid-job: its import is queued again, or failed with the reason, never left
“checking” or “importing” for ever; what it was writing is rolled back.

The worker is a real ``celery -A config worker`` process on the test database, killed with
SIGKILL; the ``jobs-stalled-sweep`` is run with the clock moved past the heartbeat timeout.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from core.models import OutboxMessage
from exchange import imports as imports_module
from exchange import tasks
from exchange.imports import (
    HEARTBEAT_TIMEOUT,
    JOB_REQUEUES,
    import_job_create,
    import_job_request_commit,
    jobs_recover_stalled,
)
from exchange.models import ImportJob, RegistryExport
from registry.models import PollutionSource
from tests.imports.conftest import source_row, sources_xlsx

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
Status = ImportJob.Status
LATER = HEARTBEAT_TIMEOUT + timedelta(minutes=1)


class WorkerProcess:
    """``celery -A config worker`` in a process group of its own, on the test database."""

    def __init__(self, log: Path):
        db = connection.settings_dict
        auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
        url = f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": url,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "SJSJ_DATA_DIR": str(settings.DATA_DIR),
        }
        celery = Path(sys.executable).with_name("celery")
        command = [str(celery)] if celery.exists() else [sys.executable, "-m", "celery"]
        self.log = log
        self.process = subprocess.Popen(
            [
                *command,
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=INFO",
                f"--hostname=lost-{uuid.uuid4().hex[:8]}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture
def workers(tmp_path):
    started: list[WorkerProcess] = []

    def start() -> WorkerProcess:
        worker = WorkerProcess(tmp_path / "worker.log")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()


@pytest.fixture
def broker():
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("the worker runs on Redis")
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete("celery")  # messages of earlier tests, for rows long gone
    yield client
    client.close()


def wait_until(job: ImportJob, done, what: str, timeout: float = 90) -> ImportJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if done(job):
            return job
        time.sleep(0.05)
    raise AssertionError(f"{what}: the job stayed {job.status} ({job.rows_done} rows)")


def large_job(clerk, rows: int, monkeypatch) -> ImportJob:
    monkeypatch.setattr(imports_module, "INLINE_MAX_ROWS", 10)
    data = sources_xlsx([source_row(f"WL-{i:05d}") for i in range(rows)])
    return import_job_create(actor=clerk, kind="sources", filename="大文件.xlsx", data=data)


def running(status):
    return lambda job: job.status == status and job.claimed_at and job.rows_done > 0


def test_a_worker_killed_mid_import_leaves_nothing_and_the_sweep_runs_it_again(
    broker, workers, county_clerk, monkeypatch, tmp_path
):
    rows = 9000
    job = large_job(county_clerk, rows, monkeypatch)
    first = workers()
    job = wait_until(job, lambda j: j.status == Status.VALIDATED, "the dry run")
    import_job_request_commit(actor=county_clerk, job=job, accept_warnings=False)

    job = wait_until(job, running(Status.COMMITTING), "the import starting")
    first.kill()  # SIGKILL, mid-import
    time.sleep(1)
    job.refresh_from_db()
    assert job.status == Status.COMMITTING and job.rows_done < rows  # it was cut short
    assert PollutionSource.objects.count() == 0  # its transaction died with it

    # Before the timeout the job is left alone: its worker may be slow, not dead.
    assert jobs_recover_stalled() == {"requeued": 0, "failed": 0}
    now = timezone.now() + LATER
    assert jobs_recover_stalled(now=now) == {"requeued": 1, "failed": 0}
    assert jobs_recover_stalled(now=now) == {"requeued": 0, "failed": 0}  # run twice: once
    job.refresh_from_db()
    assert (job.status, job.claimed_at, job.attempts) == (Status.COMMITTING, None, 1)
    assert job.is_queued
    assert (
        OutboxMessage.objects.filter(
            task_name="exchange.tasks.import_commit", args=[job.pk], dispatched_at__isnull=False
        ).count()
        == 2
    )  # the user's request, and the sweep's

    workers()
    job = wait_until(job, lambda j: j.status == Status.COMMITTED, "the import run again")
    assert job.result == {"created": rows, "updated": 0, "unchanged": 0}
    assert PollutionSource.objects.count() == rows
    assert "Traceback" not in (tmp_path / "worker.log").read_text(errors="replace")


def test_a_job_whose_worker_keeps_dying_is_failed_with_the_reason(
    broker, workers, county_clerk, monkeypatch
):
    job = large_job(county_clerk, 9000, monkeypatch)
    ImportJob.objects.filter(pk=job.pk).update(attempts=JOB_REQUEUES)  # lost twice already
    worker = workers()
    job = wait_until(job, running(Status.VALIDATING), "the dry run starting")
    worker.kill()

    now = timezone.now() + LATER
    assert jobs_recover_stalled(now=now) == {"requeued": 0, "failed": 1}
    assert jobs_recover_stalled(now=now) == {"requeued": 0, "failed": 0}
    job.refresh_from_db()
    assert job.status == Status.FAILED and job.claimed_at is None and not job.is_running
    assert "检查中断" in job.message and "3" in job.message  # in the uploader's language
    assert PollutionSource.objects.count() == 0


def test_the_sweep_queues_again_a_stalled_export_and_fails_it_in_the_end(county_clerk):
    export = RegistryExport.objects.create(requested_by=county_clerk, kind="sources")
    long_ago = timezone.now() - LATER
    RegistryExport.objects.filter(pk=export.pk).update(claimed_at=long_ago, heartbeat_at=long_ago)
    assert tasks.jobs_stalled_sweep() == {"requeued": 1, "failed": 0}
    assert tasks.jobs_stalled_sweep() == {"requeued": 0, "failed": 0}
    export.refresh_from_db()
    assert (export.claimed_at, export.attempts, export.is_queued) == (None, 1, True)
    assert OutboxMessage.objects.filter(
        task_name="exchange.tasks.registry_export_build", args=[export.pk]
    ).exists()

    RegistryExport.objects.filter(pk=export.pk).update(
        claimed_at=long_ago, heartbeat_at=long_ago, attempts=JOB_REQUEUES
    )
    assert tasks.jobs_stalled_sweep() == {"requeued": 0, "failed": 1}
    assert tasks.jobs_stalled_sweep() == {"requeued": 0, "failed": 0}
    export.refresh_from_db()
    assert export.status == RegistryExport.Status.FAILED and "导出中断" in export.message


def test_a_beating_job_is_left_alone(county_clerk, monkeypatch):
    job = large_job(county_clerk, 20, monkeypatch)
    recent = timezone.now() - timedelta(minutes=1)
    ImportJob.objects.filter(pk=job.pk).update(
        status=Status.VALIDATING, claimed_at=recent, heartbeat_at=recent
    )
    assert jobs_recover_stalled() == {"requeued": 0, "failed": 0}
    job.refresh_from_db()
    assert job.status == Status.VALIDATING and job.attempts == 0
