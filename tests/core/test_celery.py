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


def test_the_deadline_jobs_are_on_the_beat():
    schedule = app.conf.beat_schedule
    assert schedule["deadlines-run"]["task"] == "deadlines.tasks.deadlines_run_task"
    assert (
        schedule["publication-results-publish-due"]["task"]
        == "publication.tasks.results_publish_due_task"
    )
