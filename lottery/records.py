"""The draw record PDF kept as a file, rendered once per state of the draw.

WeasyPrint lays out about six pages a second: a county's draw of a few hundred sources is a
few seconds, but a draw over a large registry lists thousands of sources on hundreds of pages,
which no web request should wait for. So the record is stored with the *state* it shows (the
draw's status, entropy, disclosure and substitutions): asking again for an unchanged draw
serves the stored file; a small draw is rendered at once; a large one by a Celery worker,
once per state, while the page says so and updates itself.

Who may see the record is the caller's business (``can_see_full_result``); the file is never
exposed under MEDIA_URL.
"""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, Max
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from core.errors import ServiceError
from core.fonts import FONT_STATE, cjk_font_available
from core.outbox import outbox_enqueue
from lottery.models import Draw, DrawSelection, Substitution

#: Drawn sources up to which the record is rendered in the request (about 10 s at most).
SYNC_ROWS = 1000


def record_state(draw: Draw) -> str:
    """What the record shows, in a few characters: equal states give equal records (but for
    the printing time)."""
    subs = Substitution.objects.filter(draw=draw).aggregate(
        n=Count("pk"), last=Max(Coalesce("decided_at", "requested_at"))
    )
    last = subs["last"].isoformat() if subs["last"] else "-"
    disclosed = draw.disclosed_at.isoformat() if draw.disclosed_at else "-"
    return (
        f"{draw.status}|{draw.entropy.count()}|{disclosed}|{subs['n']}|{last}|{draw.seed or '-'}"
        f"|{FONT_STATE}"
    )


def record_pdf_ready(draw: Draw) -> bool:
    return bool(draw.record_pdf) and draw.record_pdf_state == record_state(draw)


def record_pdf_request(draw: Draw) -> str:
    """Make sure the stored record shows the draw as it is now.

    Returns ``"ready"`` (``draw.record_pdf`` is current: rendered before or just now) or
    ``"queued"`` (a worker renders it; asking again does not queue it twice).
    """
    state = record_state(draw)
    if draw.record_pdf and draw.record_pdf_state == state:
        return "ready"
    _require_cjk_font()  # before queueing too: a worker would only fail the same way
    if DrawSelection.objects.filter(draw=draw).count() <= SYNC_ROWS:
        _render(draw, state)
        return "ready"
    # Claimed by a conditional UPDATE: of two requests at once, one queues the job.
    with transaction.atomic():
        claimed = (
            Draw.objects.filter(pk=draw.pk)
            .exclude(record_pdf_queued=state)
            .update(record_pdf_queued=state)
        )
        if claimed:
            # In the outbox, with the claim: sent when the broker can take it (the page says
            # the record is queued meanwhile).
            outbox_enqueue("lottery.tasks.render_draw_record_task", draw.pk, state)
    return "queued"


def record_pdf_render(*, draw_id: int, state: str) -> bool:
    """The worker's part: render the record if the draw is still in ``state`` and it is not
    stored yet. Harmless to run twice. Returns whether it rendered."""
    draw = Draw.objects.filter(pk=draw_id).first()
    if draw is None or record_state(draw) != state or record_pdf_ready(draw):
        return False
    _render(draw, state)
    return True


class FontMissing(ServiceError):
    """No Chinese font: the record would be empty boxes, so it is not made or stored."""


def _require_cjk_font() -> None:
    if not cjk_font_available():
        raise FontMissing(
            _(
                "The server has no Chinese font, so the record PDF would show empty boxes; it "
                "was not made. The administrator installs the Debian package fonts-noto-cjk "
                "and restarts the application (see /health/)."
            ),
            code="font_missing",
        )


def _render(draw: Draw, state: str) -> None:
    from lottery.pdf import draw_record_pdf

    _require_cjk_font()

    data = draw_record_pdf(draw)
    old = draw.record_pdf.name if draw.record_pdf else ""
    draw.record_pdf.save(f"{draw.number}.pdf", ContentFile(data), save=False)
    Draw.objects.filter(pk=draw.pk).update(record_pdf=draw.record_pdf.name, record_pdf_state=state)
    draw.record_pdf_state = state
    if old and old != draw.record_pdf.name:
        draw.record_pdf.storage.delete(old)
