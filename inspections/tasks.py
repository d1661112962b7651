"""Thin Celery tasks: each calls a service and is harmless to run twice."""

from celery import shared_task

from inspections.services import tasks_create_for_draw
from lottery.models import Draw


@shared_task
def inspection_tasks_create(draw_id: int) -> int:
    """Create the inspection tasks of an executed draw (idempotent)."""
    return tasks_create_for_draw(draw=Draw.objects.get(pk=draw_id))
