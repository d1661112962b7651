"""Report and archive builds survive a broker or worker failure, like every background job
(README, Reliability): queued through the transactional outbox, claimed once, their worker's
heartbeat watched by the ``jobs-stalled-sweep``.

On PostgreSQL and Redis, with real Celery workers: the in-process one of ``tests/conftest.py``,
or a ``celery -A config worker`` process killed with SIGKILL (``tests/core/test_worker_lost.py``).
A build is held mid-way by a table lock the test takes on what the report reads: the worker has
claimed it and waits, and is killed there.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from celery.signals import task_prerun
from django.db import DEFAULT_DB_ALIAS, connections
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone, translation

from core.models import AuditEntry, OutboxMessage
from core.outbox import outbox_dispatch_pending
from exchange.imports import HEARTBEAT_TIMEOUT, JOB_REQUEUES, jobs_recover_stalled
from oversight import reports as reports_module
from oversight.models import Archive, Report
from oversight.services import archive_request, report_build, report_request
from tests.core.test_outbox import BROKER_DOWN
from tests.core.test_worker_lost import WorkerProcess, broker, workers  # noqa: F401 - fixtures
from tests.oversight.conftest import QUARTER, YEAR

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

LATER = HEARTBEAT_TIMEOUT + timedelta(minutes=1)
BUILD = "oversight.tasks.report_build_task"
# What a quarterly report reads after its worker claimed it (locked: the worker waits there).
READ_BY_THE_BUILD = ("lottery_plan", "lottery_draw", "inspections_inspectiontask")


@pytest.fixture
def runs():
    """Every task an in-process worker starts: (task name, args)."""
    seen: list[tuple[str, tuple]] = []

    def record(sender=None, args=None, **kwargs):
        seen.append((sender.name, tuple(args or ())))

    task_prerun.connect(record, weak=False)
    yield seen
    task_prerun.disconnect(record)


@pytest.fixture
def storage(settings, tmp_path):
    """The reports' files in a folder of this test's own (the files of one build to count)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    return tmp_path / "media"


def wait_for(obj, done, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        obj.refresh_from_db()
        if done(obj):
            return obj
        time.sleep(0.1)
    raise AssertionError(f"{what}: {obj!r} stayed {obj.status}")


def builds_of(report: Report) -> int:
    return AuditEntry.objects.filter(
        action="oversight.report_build", object_id=str(report.pk)
    ).count()


def test_broker_down_a_report_is_queued_at_once_and_built_once_when_it_is_back(
    broker,  # noqa: F811 - the fixture
    worker,
    runs,
    storage,
    city_reviewer,
    calendar_loaded,
    client_for,
):
    client = client_for(city_reviewer)
    form = {"kind": "quarterly", "year": YEAR, "quarter": QUARTER}
    with override_settings(CELERY_BROKER_URL=BROKER_DOWN):
        started = time.monotonic()
        response = client.post(reverse("oversight:report_request"), form)
        elapsed = time.monotonic() - started
    assert response.status_code == 302
    assert elapsed < 2, f"the request took {elapsed:.1f} s with the broker down"
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="report-queued"' in page and "排队中" in page

    report = Report.objects.get()
    assert report.status == Report.Status.QUEUED and report.language == "zh-hans"
    message = OutboxMessage.objects.get()
    assert (message.task_name, message.args) == (BUILD, [report.pk])
    assert message.dispatched_at is None and message.attempts == 1 and message.last_error
    time.sleep(0.5)
    assert runs == []  # nothing reached the worker

    assert outbox_dispatch_pending() == 1  # the broker is back
    assert outbox_dispatch_pending() == 0  # a second sweep sends nothing
    report = wait_for(report, lambda r: r.status == Report.Status.DONE, "the build")
    time.sleep(0.5)
    assert runs == [(BUILD, (report.pk,))]
    assert builds_of(report) == 1
    assert sorted(p.name for p in storage.rglob("quarterly-*")) == sorted(
        name.rsplit("/", 1)[1] for name in (report.pdf.name, report.xlsx.name)
    )
    assert 'data-testid="report-queued"' not in client.get(response["Location"]).content.decode()


class TableLock:
    """``READ_BY_THE_BUILD`` locked by a connection of the test's own, until released."""

    def __init__(self):
        self.side = connections.create_connection(DEFAULT_DB_ALIAS)
        self.side.set_autocommit(False)
        with self.side.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {', '.join(READ_BY_THE_BUILD)} IN ACCESS EXCLUSIVE MODE")

    def waiters(self) -> int:
        """How many other sessions wait for one of the locked tables."""
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = ANY(%s::regclass[])",
                [list(READ_BY_THE_BUILD)],
            )
            return cursor.fetchone()[0]

    def release(self) -> None:
        self.side.rollback()
        self.side.close()


def test_a_worker_killed_mid_build_is_replaced_and_the_report_built_once(
    broker,  # noqa: F811 - the fixture
    workers,  # noqa: F811 - the fixture
    city_reviewer,
    calendar_loaded,
    tmp_path,
):
    lock = TableLock()
    try:
        with translation.override("zh-hans"):
            report, created = report_request(
                actor=city_reviewer, kind="quarterly", year=YEAR, quarter=QUARTER
            )
        assert created
        first = workers()
        report = wait_for(report, lambda r: r.status == Report.Status.RUNNING, "the claim")
        deadline = time.monotonic() + 30
        while not lock.waiters() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert lock.waiters(), "the worker never reached the report's figures"
        assert report.started_at and report.heartbeat_at and report.progress >= 1
        first.kill()  # SIGKILL, mid-build
    finally:
        lock.release()
    time.sleep(0.5)
    report.refresh_from_db()
    assert report.status == Report.Status.RUNNING and not report.pdf  # cut short
    assert builds_of(report) == 0

    # Before the timeout the build is left alone: its worker may be slow, not dead.
    assert jobs_recover_stalled() == {"requeued": 0, "failed": 0}
    now = timezone.now() + LATER
    assert jobs_recover_stalled(now=now) == {"requeued": 1, "failed": 0}
    assert jobs_recover_stalled(now=now) == {"requeued": 0, "failed": 0}  # run twice: once
    report.refresh_from_db()
    assert (report.status, report.started_at, report.attempts) == (Report.Status.QUEUED, None, 1)
    assert (
        OutboxMessage.objects.filter(
            task_name=BUILD, args=[report.pk], dispatched_at__isnull=False
        ).count()
        == 2
    )  # the request's, and the sweep's

    workers()
    report = wait_for(report, lambda r: r.status == Report.Status.DONE, "the build run again")
    assert report.pdf and report.data_sha256 and builds_of(report) == 1
    assert jobs_recover_stalled(now=timezone.now() + LATER) == {"requeued": 0, "failed": 0}
    assert "Traceback" not in (tmp_path / "worker.log").read_text(errors="replace")


def _lost(job, *, attempts: int = 0) -> None:
    """``job`` as a worker lost long ago leaves it: claimed, running, silent."""
    long_ago = timezone.now() - LATER
    type(job).objects.filter(pk=job.pk).update(
        status="running", started_at=long_ago, heartbeat_at=long_ago, attempts=attempts
    )


def test_a_report_lost_too_often_is_failed_in_the_requesters_language(city_reviewer, orgs):
    with translation.override("zh-hans"):
        chinese, _ = report_request(actor=city_reviewer, kind="circular", year=YEAR, quarter=1)
    with translation.override("en"):
        english, _ = report_request(actor=city_reviewer, kind="circular", year=YEAR, quarter=2)
    for report in (chinese, english):
        _lost(report, attempts=JOB_REQUEUES)
    assert jobs_recover_stalled() == {"requeued": 0, "failed": 2}
    assert jobs_recover_stalled() == {"requeued": 0, "failed": 0}
    chinese.refresh_from_db()
    english.refresh_from_db()
    assert chinese.status == english.status == Report.Status.FAILED
    assert chinese.started_at is None and chinese.finished_at and not chinese.is_running
    assert "报告生成中断" in chinese.message and "3" in chinese.message
    assert english.message.startswith("The report was interrupted") and "3" in english.message
    assert OutboxMessage.objects.count() == 2  # the requests' own: nothing queued again


def test_a_stalled_archive_is_queued_again_then_failed(county_clerk, county):
    with override_settings(CELERY_BROKER_URL=BROKER_DOWN):
        started = time.monotonic()
        with translation.override("zh-hans"):
            archive, created = archive_request(actor=county_clerk, organisation=county, year=YEAR)
        assert created and time.monotonic() - started < 2
    message = OutboxMessage.objects.get()
    assert (message.task_name, message.args, message.dispatched_at) == (
        "oversight.tasks.archive_build_task",
        [archive.pk],
        None,
    )

    _lost(archive)
    with override_settings(CELERY_BROKER_URL=BROKER_DOWN):
        assert jobs_recover_stalled() == {"requeued": 1, "failed": 0}
        assert jobs_recover_stalled() == {"requeued": 0, "failed": 0}
    archive.refresh_from_db()
    assert (archive.status, archive.started_at, archive.attempts) == (
        Archive.Status.QUEUED,
        None,
        1,
    )
    assert OutboxMessage.objects.filter(args=[archive.pk], dispatched_at__isnull=True).count() == 2

    _lost(archive, attempts=JOB_REQUEUES)
    assert jobs_recover_stalled() == {"requeued": 0, "failed": 1}
    archive.refresh_from_db()
    assert archive.status == Archive.Status.FAILED and "归档中断" in archive.message


def test_a_worker_given_up_for_lost_writes_nothing(city_reviewer, orgs, monkeypatch):
    """A worker that was only slow (the sweep queued its build again meanwhile) finishes
    without writing: the new claim's build is the one that counts."""
    report, _ = report_request(actor=city_reviewer, kind="circular", year=YEAR, quarter=QUARTER)
    real = reports_module.report_data
    beats = []

    def slow(report, progress):
        data = real(report, progress=progress)
        beats.append(Report.objects.values_list("started_at", "heartbeat_at").get(pk=report.pk))
        # Silent too long, as the sweep sees it: queued again under this worker's feet.
        assert jobs_recover_stalled(now=timezone.now() + LATER) == {"requeued": 1, "failed": 0}
        return data

    monkeypatch.setattr(reports_module, "report_data", slow)
    built = report_build(report_id=report.pk)
    claimed, beat = beats[0]
    assert beat > claimed  # the progress reports renewed the heartbeat
    assert built.status == Report.Status.QUEUED and built.attempts == 1
    assert not built.pdf and not built.data_sha256 and builds_of(report) == 0

    monkeypatch.setattr(reports_module, "report_data", real)
    built = report_build(report_id=report.pk)  # the re-queued build
    assert built.status == Report.Status.DONE and builds_of(report) == 1
    assert report_build(report_id=report.pk) is None  # delivered twice: built once


def test_builds_in_flight_at_the_upgrade_join_the_outbox_and_the_sweep(
    city_reviewer, county_clerk, county
):
    """``oversight/migrations/0007``: a build queued by ``.delay`` before the outbox (its message
    perhaps lost) is queued again through the outbox, and an archive running with no
    ``started_at`` is seen by the sweep."""
    from importlib import import_module

    from django.apps import apps

    migration = import_module("oversight.migrations.0007_builds_in_flight_join_the_outbox")
    with override_settings(CELERY_BROKER_URL=BROKER_DOWN):
        report, _ = report_request(actor=city_reviewer, kind="circular", year=YEAR, quarter=1)
        archive, _ = archive_request(actor=county_clerk, organisation=county, year=YEAR)
    failed, _ = report_request(actor=city_reviewer, kind="circular", year=YEAR, quarter=2)
    Report.objects.filter(pk=failed.pk).update(status="failed")
    OutboxMessage.objects.all().delete()  # as if sent by ``.delay``, and lost
    long_ago = timezone.now() - LATER
    Archive.objects.filter(pk=archive.pk).update(
        status="running", started_at=None, heartbeat_at=None, requested_at=long_ago
    )

    migration.forwards(apps, None)

    assert sorted(OutboxMessage.objects.values_list("task_name", "args")) == [(BUILD, [report.pk])]
    archive.refresh_from_db()
    assert archive.started_at == long_ago
    with override_settings(CELERY_BROKER_URL=BROKER_DOWN):
        assert jobs_recover_stalled() == {"requeued": 1, "failed": 0}
    archive.refresh_from_db()
    assert archive.status == Archive.Status.QUEUED and archive.attempts == 1
