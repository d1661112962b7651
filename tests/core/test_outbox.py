"""The transactional outbox: with the broker down a job is saved and queued, the request answers
at once, and the ``outbox-dispatch`` sweep sends it once the broker is back, exactly once."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import redis
from celery.signals import task_prerun
from django.conf import settings
from django.db import connection, transaction
from django.test import override_settings

from core import tasks
from core.models import OutboxMessage
from core.outbox import outbox_dispatch_one, outbox_dispatch_pending, outbox_enqueue
from exchange import imports as imports_module
from exchange.models import ImportJob, RegistryExport
from tests.imports.conftest import source_row, sources_xlsx

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

BROKER_DOWN = "redis://127.0.0.1:6390/0"  # nothing listens there


@pytest.fixture
def broker():
    """The test broker's Redis, its default queue emptied (messages of earlier tests)."""
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("the outbox is tested against Redis")
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete("celery")
    yield client
    client.close()


@pytest.fixture
def runs():
    """Every task the in-process worker starts: (task name, args)."""
    seen: list[tuple[str, tuple]] = []

    def record(sender=None, args=None, **kwargs):
        seen.append((sender.name, tuple(args or ())))

    task_prerun.connect(record, weak=False)
    yield seen
    task_prerun.disconnect(record)


def wait_for(obj, done, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        obj.refresh_from_db()
        if done(obj):
            return obj
        time.sleep(0.2)
    raise AssertionError(f"{obj!r} stayed {obj.status}")


def test_the_message_is_written_in_the_callers_transaction(broker):
    with transaction.atomic():
        outbox_enqueue("core.tasks.ping", "a")
        transaction.set_rollback(True)
    assert not OutboxMessage.objects.exists()  # rolled back with the change that needed it
    message = outbox_enqueue("core.tasks.ping", "b")  # outside a transaction: sent at once
    message.refresh_from_db()
    assert message.dispatched_at is not None and message.attempts == 1
    assert broker.llen("celery") == 1
    with pytest.raises(KeyError):
        outbox_enqueue("core.tasks.no_such_task", 1)


def test_broker_down_an_import_is_queued_at_once_and_sent_once_when_it_is_back(
    broker, worker, runs, county_clerk, client_for, monkeypatch
):
    monkeypatch.setattr(imports_module, "INLINE_MAX_ROWS", 10)
    client = client_for(county_clerk)
    data = sources_xlsx([source_row(f"OB-{i:03d}") for i in range(40)])
    upload = {"kind": "sources", "file": _upload("大文件.xlsx", data)}

    attempts = _timed_dispatch(monkeypatch)
    with override_settings(CELERY_BROKER_URL=BROKER_DOWN):
        started = time.monotonic()
        response = client.post("/core/imports/new/", upload)
        elapsed = time.monotonic() - started
    assert response.status_code == 302
    assert elapsed < 2, f"the request took {elapsed:.1f} s with the broker down"
    assert len(attempts) == 1 and attempts[0] < 1.5, attempts  # the send tried, briefly
    page = client.get(response["Location"]).content.decode()
    assert "排队中" in page and 'data-testid="job-queued"' in page

    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.UPLOADED and job.is_queued
    message = OutboxMessage.objects.get()
    assert (message.task_name, message.args) == ("exchange.tasks.import_validate", [job.pk])
    assert message.dispatched_at is None and message.attempts == 1 and message.last_error
    time.sleep(1)
    assert runs == []  # nothing reached a worker

    with override_settings(CELERY_BROKER_URL=BROKER_DOWN):  # still down: the sweep waits
        assert outbox_dispatch_pending() == 0
    assert OutboxMessage.objects.get().attempts == 2

    assert outbox_dispatch_pending() == 1  # the broker is back
    assert outbox_dispatch_pending() == 0  # run twice: nothing sent again
    job = wait_for(job, lambda j: j.status == ImportJob.Status.VALIDATED and not j.claimed_at)
    assert job.report["create"] == 40
    time.sleep(1)
    assert runs.count(("exchange.tasks.import_validate", (job.pk,))) == 1
    assert 'data-testid="job-queued"' not in client.get(f"/core/imports/{job.pk}/").content.decode()


def test_broker_down_a_registry_export_is_queued_at_once(
    broker, county_clerk, client_for, monkeypatch
):
    client = client_for(county_clerk)
    attempts = _timed_dispatch(monkeypatch)
    with override_settings(CELERY_BROKER_URL=BROKER_DOWN):
        started = time.monotonic()
        response = client.post("/core/exports/sources/")
        elapsed = time.monotonic() - started
    assert response.status_code == 302 and elapsed < 2, elapsed
    assert len(attempts) == 1 and attempts[0] < 1.5, attempts
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="export-queued"' in page and "排队中" in page
    export = RegistryExport.objects.get()
    assert export.status == RegistryExport.Status.REQUESTED and export.is_queued
    message = OutboxMessage.objects.get(dispatched_at__isnull=True)
    assert (message.task_name, message.args) == (
        "exchange.tasks.registry_export_build",
        [export.pk],
    )
    assert outbox_dispatch_pending() == 1 and broker.llen("celery") == 1


def test_two_sweeps_at_once_send_every_message_once(broker):
    with override_settings(CELERY_BROKER_URL=BROKER_DOWN):
        for number in range(30):
            outbox_enqueue("core.tasks.ping", f"m{number}")
    assert OutboxMessage.objects.filter(dispatched_at__isnull=True).count() == 30
    assert broker.llen("celery") == 0

    counts: list[int] = []
    barrier = threading.Barrier(3)

    def sweep():
        try:
            barrier.wait()
            counts.append(outbox_dispatch_pending())
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 30
    assert broker.llen("celery") == 30
    assert not OutboxMessage.objects.filter(dispatched_at__isnull=True).exists()
    assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {2}
    assert outbox_dispatch_pending() == 0 and broker.llen("celery") == 30


def test_a_message_sent_by_the_sweep_is_not_sent_again_at_commit(broker):
    with override_settings(CELERY_BROKER_URL=BROKER_DOWN):
        message = outbox_enqueue("core.tasks.ping", "once")
    assert outbox_dispatch_pending() == 1
    assert outbox_dispatch_one(message.pk) is False  # a late commit-time send: nothing
    assert broker.llen("celery") == 1


def test_the_dispatch_task_is_a_thin_wrapper(broker):
    with override_settings(CELERY_BROKER_URL=BROKER_DOWN):
        outbox_enqueue("core.tasks.ping", "x")
    assert tasks.outbox_dispatch() == 1
    assert tasks.outbox_dispatch() == 0


def _timed_dispatch(monkeypatch) -> list[float]:
    """The commit-time send attempts, and how long each took."""
    import core.outbox

    durations: list[float] = []
    real = core.outbox.outbox_dispatch_one

    def timed(message_id):
        started = time.monotonic()
        try:
            return real(message_id)
        finally:
            durations.append(time.monotonic() - started)

    monkeypatch.setattr(core.outbox, "outbox_dispatch_one", timed)
    return durations


def _upload(name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def test_health_warns_when_messages_wait_too_long(client):
    with override_settings(CELERY_BROKER_URL=BROKER_DOWN):
        message = outbox_enqueue("core.tasks.ping", "late")
    body = client.get("/health/").json()
    assert body["outbox"]["pending"] == 1 and not body["outbox"]["late"]
    OutboxMessage.objects.filter(pk=message.pk).update(
        created_at=message.created_at - timedelta(minutes=30)
    )
    body = client.get("/health/").json()
    assert body["outbox"]["late"] and any("outbox-dispatch" in w for w in body["warnings"])


def test_in_eager_mode_the_task_runs_at_commit_outside_the_outbox_lock(county_clerk, monkeypatch):
    from celery import current_app

    monkeypatch.setattr(imports_module, "INLINE_MAX_ROWS", 10)
    data = sources_xlsx([source_row(f"EG-{i:03d}") for i in range(20)])
    current_app.conf.task_always_eager = True
    try:
        job = imports_module.import_job_create(
            actor=county_clerk, kind="sources", filename="a.xlsx", data=data
        )
    finally:
        current_app.conf.task_always_eager = False
    job.refresh_from_db()
    assert job.status == ImportJob.Status.VALIDATED and job.report["create"] == 20
    assert OutboxMessage.objects.get().dispatched_at is not None
    assert outbox_dispatch_pending() == 0


def test_a_message_queued_under_a_moved_tasks_old_name_still_runs(
    broker, worker, runs, county_clerk, monkeypatch
):
    """The exchange's tasks were ``core.tasks.<name>`` before issue 11: a row the outbox could
    not send before an upgrade names the old task, and is sent and run after it, once."""
    monkeypatch.setattr(imports_module, "INLINE_MAX_ROWS", 10)
    data = sources_xlsx([source_row(f"LG-{i:03d}") for i in range(20)])
    with override_settings(CELERY_BROKER_URL=BROKER_DOWN):
        job = imports_module.import_job_create(
            actor=county_clerk, kind="sources", filename="旧.xlsx", data=data
        )
    message = OutboxMessage.objects.get(dispatched_at__isnull=True)
    assert message.task_name == "exchange.tasks.import_validate"
    OutboxMessage.objects.filter(pk=message.pk).update(task_name="core.tasks.import_validate")

    assert outbox_dispatch_pending() == 1
    job = wait_for(job, lambda j: j.status == ImportJob.Status.VALIDATED and not j.claimed_at)
    assert job.report["create"] == 20
    time.sleep(1)
    assert runs == [("core.tasks.import_validate", (job.pk,))]
    assert outbox_dispatch_pending() == 0


def test_a_fresh_process_finds_a_moved_task_by_its_old_name():
    """A process that has not imported the exchange's tasks yet (a shell sending the outbox by
    hand) still finds each old name, and it runs the exchange's function."""
    import subprocess
    import sys

    from exchange.tasks import LEGACY_NAMES

    assert set(LEGACY_NAMES) == {
        "core.tasks.import_validate",
        "core.tasks.import_commit",
        "core.tasks.import_files_purge",
        "core.tasks.registry_export_build",
        "core.tasks.jobs_stalled_sweep",
    }
    script = (
        "import sys, django; django.setup()\n"
        "assert 'exchange.tasks' not in sys.modules\n"
        "from core.outbox import _task\n"
        "for name in sys.argv[1:]:\n"
        "    print(name, _task(name).run.__module__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, *sorted(LEGACY_NAMES)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        part for name in sorted(LEGACY_NAMES) for part in (name, "exchange.tasks")
    ]
