"""Connections to the inspections' signals (sent after their changes commit)."""

from django.dispatch import receiver

from inspections.signals import result_approved


@receiver(result_approved)
def _schedule_publication(sender, task, **kwargs) -> None:
    from publication.services import publication_schedule

    publication_schedule(task=task)
