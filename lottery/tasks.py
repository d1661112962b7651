"""Thin Celery tasks of the lottery: each calls a service and is harmless to run twice."""

from celery import shared_task


@shared_task
def draws_disclose_due_task() -> int:
    """Daily: disclose executed draws whose inspection period has ended. The service claims
    each draw with a conditional UPDATE, so a second run (or a second worker) discloses
    nothing twice and returns 0."""
    from lottery.services import draws_disclose_due

    return draws_disclose_due()
