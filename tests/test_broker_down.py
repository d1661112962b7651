"""Redis unreachable: the portal and the back office still answer, a draw executed meanwhile
still gets its inspection tasks once Redis is back, exactly once (issue 13's reliability)."""

from __future__ import annotations

import time

import pytest
import redis
from django.conf import settings
from django.test import Client, override_settings

from core.models import OutboxMessage
from core.outbox import outbox_dispatch_pending
from inspections.models import InspectionTask
from lottery.selectors import effective_selections
from tests.lottery.scenario import build_world, make_draw, make_plan

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

BROKER_DOWN = "redis://127.0.0.1:6390/0"  # nothing listens there


@pytest.fixture
def broker():
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("tested against Redis")
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete("celery")
    yield client
    client.close()


def test_with_the_broker_down_pages_answer_and_the_draws_tasks_follow_once(
    broker, worker, county, county_clerk, county_leader, inspector_a
):
    build_world(county)
    plan = make_plan(county, county_clerk, county_leader)
    with override_settings(CELERY_BROKER_URL=BROKER_DOWN):
        draw = make_draw(plan, county_clerk)  # executes: its tasks are queued, not sent
        message = OutboxMessage.objects.get(task_name="inspections.tasks.inspection_tasks_create")
        assert message.dispatched_at is None
        visitor, clerk, leader, inspector = Client(), Client(), Client(), Client()
        clerk.force_login(county_clerk)
        leader.force_login(county_leader)
        inspector.force_login(inspector_a)
        pages = [
            (visitor, "/"),
            (visitor, "/public/results/"),
            (visitor, "/public/draws/"),
            (visitor, f"/public/draws/{draw.pk}/"),
            (visitor, "/public/plans/"),
            (visitor, "/public/disclosure/"),
            (clerk, "/"),
            (clerk, f"/lottery/draws/{draw.pk}/"),
            (clerk, "/inspections/board/"),
            (leader, "/public/manage/"),
            (inspector, "/inspections/mine/"),
        ]
        for client, url in pages:
            started = time.monotonic()
            response = client.get(url)
            elapsed = time.monotonic() - started
            assert response.status_code == 200, url
            assert elapsed < 2, f"{url} took {elapsed:.1f} s with the broker down"
        assert not InspectionTask.objects.exists()
        assert outbox_dispatch_pending() == 0  # still down: nothing sent, nothing lost

    assert outbox_dispatch_pending() == 1  # Redis is back
    assert outbox_dispatch_pending() == 0  # the sweep again: nothing twice
    expected = len(effective_selections(draw))
    deadline = time.monotonic() + 30
    while InspectionTask.objects.count() < expected and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(0.5)
    assert InspectionTask.objects.filter(selection__draw=draw).count() == expected


def test_the_tasks_job_run_twice_by_a_real_worker_creates_nothing_more(
    broker, worker, county, county_clerk, county_leader
):
    from inspections.tasks import inspection_tasks_create

    build_world(county)
    draw = make_draw(make_plan(county, county_clerk, county_leader), county_clerk)
    expected = len(effective_selections(draw))
    for _ in range(2):  # the beat-free path: the job named in the outbox, sent twice
        inspection_tasks_create.delay(draw.pk).get(timeout=30)
    assert InspectionTask.objects.filter(selection__draw=draw).count() == expected
