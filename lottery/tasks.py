"""Thin Celery tasks of the lottery: each calls a service and is harmless to run twice."""

from celery import shared_task


@shared_task
def draws_disclose_due_task() -> int:
    """Daily: disclose executed draws whose inspection period has ended. The service claims
    each draw with a conditional UPDATE, so a second run (or a second worker) discloses
    nothing twice and returns 0."""
    from lottery.services import draws_disclose_due

    return draws_disclose_due()


@shared_task
def render_draw_record_task(draw_id: int, state: str) -> bool:
    """Render a large draw's record PDF (lottery.records); does nothing if the draw changed
    since it was asked for, or the record is already stored."""
    from lottery.records import record_pdf_render

    return record_pdf_render(draw_id=draw_id, state=state)
