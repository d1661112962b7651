"""A real Celery worker consuming from the real Redis broker."""

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from config.celery_app import app
from core import tasks

pytestmark = pytest.mark.celery


@pytest.fixture(scope="module")
def celery_worker():
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("the worker round trip runs on Redis")
    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        yield


def test_a_task_makes_a_round_trip_through_redis(celery_worker):
    assert tasks.ping.delay("双随机").get(timeout=20) == "pong:双随机"


@pytest.mark.django_db(transaction=True)
def test_the_calendar_check_runs_in_the_worker_against_the_database(celery_worker):
    from core.services import calendar_seed_from_library

    calendar_seed_from_library(years=[2026])
    missing = tasks.calendar_coverage_check.delay().get(timeout=20)
    assert 2026 not in missing


def test_the_beat_schedule_names_only_registered_tasks():
    app.loader.import_default_modules()
    for name, entry in app.conf.beat_schedule.items():
        assert entry["task"] in app.tasks, name


def test_the_beat_schedule_has_the_outbox_and_stalled_jobs_sweeps():
    from datetime import timedelta

    assert set(app.conf.beat_schedule) == {
        "calendar-coverage-check",
        "import-files-purge",
        "audit-checkpoint-publish",
        "outbox-dispatch",
        "jobs-stalled-sweep",
        "lottery-draws-disclose-due",
        "deadlines-run",
        "publication-results-publish-due",
    }
    outbox = app.conf.beat_schedule["outbox-dispatch"]
    assert outbox["task"] == "core.tasks.outbox_dispatch"
    assert outbox["schedule"] <= timedelta(minutes=1)  # a queued job waits a minute at most
    sweep = app.conf.beat_schedule["jobs-stalled-sweep"]
    assert sweep["task"] == "exchange.tasks.jobs_stalled_sweep"


def test_a_lost_worker_gives_its_job_back():
    """Acknowledged at the end, one message at a time, re-queued if the worker process dies;
    a down broker fails a publish fast."""
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.broker_connection_timeout <= 2
    assert app.conf.task_publish_retry_policy["max_retries"] <= 1
    if settings.CELERY_BROKER_URL.startswith("redis://"):
        options = app.conf.broker_transport_options
        assert options["visibility_timeout"] >= 600
        assert options["socket_connect_timeout"] <= 2


def test_the_deadline_jobs_are_on_the_beat():
    schedule = app.conf.beat_schedule
    assert schedule["deadlines-run"]["task"] == "deadlines.tasks.deadlines_run_task"
    assert (
        schedule["publication-results-publish-due"]["task"]
        == "publication.tasks.results_publish_due_task"
    )
