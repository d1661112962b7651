"""Connections to the lottery's signals (sent after its changes commit)."""

from django.dispatch import receiver

from lottery.signals import draw_executed, substitution_approved


@receiver(draw_executed)
def _queue_tasks(sender, draw, **kwargs) -> None:
    from core.outbox import outbox_enqueue

    outbox_enqueue("inspections.tasks.inspection_tasks_create", draw.pk)


@receiver(substitution_approved)
def _follow_substitution(sender, substitution, **kwargs) -> None:
    from inspections.services import tasks_follow_substitution

    tasks_follow_substitution(substitution=substitution)
