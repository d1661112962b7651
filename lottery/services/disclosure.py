"""After the draw: completed spot checks (what coverage counts), the disclosure of the
drawn list, and the audit entries of every read of a confidential result or manifest."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import ServiceError
from core.models import User
from lottery.models import CompletedCheck, Draw, DrawSelection, Substitution
from lottery.verification import DISCLOSE_ACTION

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


def check_completed_record(
    *, actor: User | None = None, selection: DrawSelection, completed_on: date, items=None
) -> CompletedCheck:
    """Record that the spot check of a drawn source was completed on ``completed_on``, for
    ``items`` (check items or their pks; default: all of the plan's items). Coverage and the
    frequency cap of later draws count these records only (docs/coverage.md).

    Called by the inspections app when a drawn task's result is approved. Idempotent: the
    first record of a drawn source stands, and a second call (a retry, a concurrent approval)
    returns it unchanged. The record is append-only. A source replaced by an approved
    substitution cannot be recorded, and once recorded a source is never replaced nor its team
    changed (``_refuse_after_completion``): both lock the drawn source's row."""
    with transaction.atomic():
        # One writer per drawn source at a time (a row lock writes nothing on the row).
        selection = (
            DrawSelection.objects.select_for_update()
            .select_related("draw__plan")
            .get(pk=selection.pk)
        )
        existing = CompletedCheck.objects.filter(selection=selection).first()
        if existing is not None:
            return existing
        draw = selection.draw
        if draw.status != Draw.Status.EXECUTED:
            raise ServiceError(_("Only a source of an executed draw has a spot check to complete."))
        if Substitution.objects.filter(
            selection=selection,
            kind=Substitution.Kind.OBJECT,
            status=Substitution.Status.APPROVED,
        ).exists():
            raise ServiceError(
                _("This drawn source was replaced; its spot check cannot be completed."),
                code="replaced",
            )
        plan_items = set(draw.plan.check_items.values_list("pk", flat=True))
        item_ids = plan_items if items is None else {getattr(i, "pk", i) for i in items}
        if not item_ids <= plan_items:
            raise ServiceError(_("A spot check covers only the check items of its plan."))
        record = CompletedCheck.objects.create(selection=selection, completed_on=completed_on)
        record.check_items.set(sorted(item_ids))
        audit_record(
            actor=actor,
            action="draw.check_completed",
            obj=record,
            after={
                "draw": draw.pk,
                "selection": selection.pk,
                "source": selection.source_id,
                "completed_on": completed_on.isoformat(),
                "check_items": sorted(item_ids),
            },
        )
    return record


def draws_disclose_due(*, today: date | None = None) -> int:
    """Disclose executed draws whose inspection period has ended (the list stops being
    secret once the inspections have happened). Idempotent: a conditional UPDATE."""
    today = today or timezone.localdate()
    due = Draw.objects.filter(
        status=Draw.Status.EXECUTED, disclosed_at__isnull=True, plan__planned_end__lt=today
    )
    count = 0
    for draw in due:
        with transaction.atomic():
            if Draw.objects.filter(pk=draw.pk, disclosed_at__isnull=True).update(
                disclosed_at=timezone.now()
            ):
                audit_record(actor=None, action=DISCLOSE_ACTION, obj=draw)
                count += 1
    return count


def draw_disclose_inspected(*, draw: Draw) -> bool:
    """Disclose an executed draw as soon as every one of its inspections is recorded or
    cancelled (000 §五(三): the list is secret until the checks). The inspections app, which
    knows its tasks, calls this; the end of the period (``draws_disclose_due``) stays the
    backstop. Idempotent: a conditional UPDATE. Returns True when this call disclosed it."""
    with transaction.atomic():
        disclosed = Draw.objects.filter(
            pk=draw.pk, status=Draw.Status.EXECUTED, disclosed_at__isnull=True
        ).update(disclosed_at=timezone.now())
        if disclosed:
            audit_record(actor=None, action=DISCLOSE_ACTION, obj=draw, after={"why": "inspected"})
    return bool(disclosed)


def draw_log_result_view(
    *, actor: User | AnonymousUser, draw: Draw, via: str, detail: dict | None = None
) -> None:
    """Audit that ``actor`` saw ``draw``'s confidential result (its list, seed or values).
    Called by ``lottery.readers`` only, in the same step as the read. A visitor's read of a
    disclosed draw (public then) is not recorded; a signed-in user's always is."""
    if draw.disclosed_at is not None and not getattr(actor, "is_authenticated", False):
        return
    audit_record(
        actor=actor, action="draw.view_result", obj=draw, after={"via": via, **(detail or {})}
    )


def draw_log_manifest_view(
    *, actor: User | AnonymousUser, draw: Draw, confidential: list[Draw], via: str
) -> None:
    """Audit that ``actor`` saw ``draw``'s manifest (or what it says of earlier draws) while
    it embedded the results of ``confidential`` earlier draws, as reading a confidential list
    is audited. Nothing to record when nothing in it is confidential any more."""
    if not confidential:
        return
    audit_record(
        actor=actor,
        action="draw.view_manifest",
        obj=draw,
        after={"via": via, "confidential_draws": [d.number for d in confidential]},
    )
