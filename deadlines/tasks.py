"""Thin Celery tasks of the deadlines app: each calls a service and is harmless to run twice."""

from celery import shared_task


@shared_task
def deadlines_run_task() -> dict:
    """Daily: derive obligations from state, remind, mark overdue and escalate (see
    ``deadlines.services.deadlines_run``; it catches up from state after any downtime)."""
    from deadlines.services import deadlines_run

    return deadlines_run()
