"""A large draw's record PDF laid out by a real Celery worker on Redis while the page waits."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from lottery.models import Draw
from tests.lottery.scenario import build_world, make_draw, make_plan

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def test_the_worker_lays_out_a_large_record_and_the_page_offers_it(
    worker, county, county_clerk, county_leader, client_for, monkeypatch
):
    import lottery.records

    monkeypatch.setattr(lottery.records, "SYNC_ROWS", 1)  # every draw counts as large here
    build_world(county)
    draw = make_draw(make_plan(county, county_clerk, county_leader), county_clerk)
    leader = client_for(county_leader)
    waiting = leader.get(reverse("lottery:draw_pdf", args=[draw.pk]))
    assert 'data-testid="record-preparing"' in waiting.content.decode()
    status = reverse("lottery:draw_pdf_status", args=[draw.pk])
    deadline = time.monotonic() + 60
    while 'data-testid="record-download"' not in leader.get(status).content.decode():
        assert time.monotonic() < deadline, "the worker did not lay out the record"
        time.sleep(0.3)
    draw = Draw.objects.get(pk=draw.pk)
    assert draw.record_pdf.name.endswith(".pdf") and draw.record_pdf_queued
    pdf = leader.get(reverse("lottery:draw_pdf", args=[draw.pk]))
    assert b"".join(pdf.streaming_content).startswith(b"%PDF-")


def test_broker_down_the_draw_and_its_record_are_queued_then_sent_once_it_is_back(
    worker, county, county_clerk, county_leader, client_for, monkeypatch
):
    from django.test import override_settings

    import lottery.records
    from core.models import OutboxMessage
    from core.outbox import outbox_dispatch_pending
    from inspections.models import InspectionTask

    monkeypatch.setattr(lottery.records, "SYNC_ROWS", 1)
    build_world(county)
    leader = client_for(county_leader)
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:6390/0"):  # nothing there
        draw = make_draw(make_plan(county, county_clerk, county_leader), county_clerk)
        started = time.monotonic()
        waiting = leader.get(reverse("lottery:draw_pdf", args=[draw.pk]))
        elapsed = time.monotonic() - started
    assert waiting.status_code == 200 and elapsed < 2, elapsed
    page = waiting.content.decode()
    assert 'data-testid="record-queued"' in page and "排队中" in page
    pending = OutboxMessage.objects.filter(dispatched_at__isnull=True)
    assert set(pending.values_list("task_name", flat=True)) == {
        "inspections.tasks.inspection_tasks_create",
        "lottery.tasks.render_draw_record_task",
    }
    assert not InspectionTask.objects.filter(selection__draw=draw).exists()

    assert outbox_dispatch_pending() == 2  # the broker is back
    assert outbox_dispatch_pending() == 0
    status = reverse("lottery:draw_pdf_status", args=[draw.pk])
    deadline = time.monotonic() + 60
    while 'data-testid="record-download"' not in leader.get(status).content.decode():
        assert time.monotonic() < deadline, "the worker did not lay out the record"
        time.sleep(0.3)
    assert InspectionTask.objects.filter(selection__draw=draw).exists()
