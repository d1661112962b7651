"""Thin Celery tasks of publication: each calls a service and is harmless to run twice."""

from celery import shared_task


@shared_task
def results_publish_due_task() -> int:
    """Daily: publish every approved random-check result whose day has come (from the list of
    pending publications, so a downtime is made good in one run; a published result leaves
    the list, so a second run publishes nothing twice)."""
    from publication.services import results_publish_due

    return results_publish_due()
