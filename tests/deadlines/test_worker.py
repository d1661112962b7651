"""The daily jobs through a real Celery worker on Redis, by the task names of the beat."""

import pytest

from config.celery_app import app
from deadlines.models import Obligation

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def _beat_task(entry: str):
    return app.tasks[app.conf.beat_schedule[entry]["task"]]


def test_the_deadline_job_runs_in_the_worker_twice_alike(worker, orgs, county_clerk):
    from core.services import calendar_seed_from_library

    calendar_seed_from_library(years=[2025, 2026])
    first = _beat_task("deadlines-run").delay().get(timeout=60)
    assert first["created"] > 0
    made = Obligation.objects.count()
    assert Obligation.objects.filter(organisation=county_clerk.organisation).exists()
    second = _beat_task("deadlines-run").delay().get(timeout=60)
    assert second["created"] == 0 and second["notifications"] == 0
    assert Obligation.objects.count() == made


def test_results_are_published_by_the_worker(worker, orgs):
    assert _beat_task("publication-results-publish-due").delay().get(timeout=60) == 0
