"""Changes to an executed draw's result: a requested substitution (a drawn source, or one
inspector of its team) and a leader's decision; an approved one appends the next
eligible candidate in the same verifiable order, never edits the original rows."""

from __future__ import annotations

import json

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import remove_perm

from core.audit import audit_record, model_snapshot
from core.errors import ServiceError
from core.models import User
from core.roles import Cap
from core.vocab import Expertise
from inspectors.models import Inspector
from lottery import engine, signals
from lottery.models import CompletedCheck, Draw, DrawSelection, Substitution, TeamAssignment
from lottery.pools import frozen_pool
from lottery.selectors import draw_record, effective_selections, effective_teams
from lottery.services._shared import _require
from lottery.services.storage import _source_ids, _SourcesAmbiguous, _write_teams
from registry.models import PollutionSource


def substitution_request(
    *, actor: User, selection: DrawSelection, reason: str, inspector: Inspector | None = None
) -> Substitution:
    """Ask to replace a drawn source, or one inspector of its team, giving the reason."""
    draw = selection.draw
    _require(actor, Cap.OPERATE_DRAW, draw.organisation)
    if not reason.strip():
        raise ServiceError(_("Give the reason for the change (e.g. recusal, the source closed)."))
    if draw.status != Draw.Status.EXECUTED:
        raise ServiceError(_("Only an executed draw's result can be changed, by substitution."))
    if selection not in effective_selections(draw):
        raise ServiceError(_("This drawn source was already replaced."))
    _refuse_after_completion(selection.pk)
    if inspector is not None:
        team_ids = {a.inspector_id for a in effective_teams([selection])[selection.pk]}
        if inspector.pk not in team_ids:
            raise ServiceError(_("This inspector is not in the team for that source."))
        # Asked now, while the clerk can still ask for something else: a recusal the frozen
        # inspector pool cannot fill would only wait for a leader who cannot approve it.
        _replacement_entry(
            draw,
            kind=Substitution.Kind.INSPECTOR,
            code=selection.source.source_code,
            inspector_id=inspector.pk,
        )
    try:
        with transaction.atomic():
            sub = Substitution.objects.create(
                draw=draw,
                selection=selection,
                inspector=inspector,
                reason=reason.strip(),
                kind=Substitution.Kind.INSPECTOR if inspector else Substitution.Kind.OBJECT,
                requested_by=actor,
            )
            audit_record(
                actor=actor, action="draw.substitution_request", obj=sub, after=model_snapshot(sub)
            )
    except IntegrityError:
        raise ServiceError(_("The same change is already waiting for approval.")) from None
    return sub


def substitution_decide(
    *, actor: User, substitution: Substitution, approve: bool, note: str = ""
) -> Substitution:
    """A leader approves (the replacement is computed from the same verifiable order) or
    rejects a requested change."""
    draw = substitution.draw
    _require(actor, Cap.APPROVE, draw.organisation)
    with transaction.atomic():
        Draw.objects.select_for_update().get(pk=draw.pk)  # one decision at a time per draw
        sub = Substitution.objects.select_for_update().get(pk=substitution.pk)
        if sub.status != Substitution.Status.REQUESTED:
            raise ServiceError(_("This request was already decided."))
        if approve:
            # Serialised with check_completed_record, which locks the same row.
            DrawSelection.objects.select_for_update().filter(pk=sub.selection_id).first()
            _refuse_after_completion(sub.selection_id)
        sub.status = Substitution.Status.APPROVED if approve else Substitution.Status.REJECTED
        sub.decided_by, sub.decided_at, sub.decision_note = actor, timezone.now(), note
        sub.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        if approve:
            _apply_substitution(draw, sub)
            transaction.on_commit(
                lambda: signals.substitution_approved.send(sender=Substitution, substitution=sub)
            )
        audit_record(
            actor=actor,
            action="draw.substitution_" + sub.status,
            obj=sub,
            after=model_snapshot(sub),
        )
    return sub


def _refuse_after_completion(selection_id: int) -> None:
    """A drawn source whose spot check was completed keeps its draw result: it was inspected,
    by its team (docs/coverage.md). A change is refused, not applied after the fact."""
    if CompletedCheck.objects.filter(selection_id=selection_id).exists():
        raise ServiceError(
            _("The spot check of this source was completed; its draw result no longer changes."),
            code="completed",
        )


def _revoke_tasks(sub: Substitution) -> None:
    """A recused inspector, or the whole team of a replaced source, no longer sees the task."""
    inspectors = (
        [sub.inspector_id]
        if sub.kind == Substitution.Kind.INSPECTOR
        else list(
            TeamAssignment.objects.filter(selection=sub.selection).values_list(
                "inspector_id", flat=True
            )
        )
    )
    # A recusal names its inspector; pk__in=[None] would match nothing anyway.
    users = Inspector.objects.filter(pk__in=inspectors, user__isnull=False).values_list(  # type: ignore[misc]
        "user", flat=True
    )
    from django.contrib.auth import get_user_model

    for user in get_user_model().objects.filter(pk__in=list(users)):
        remove_perm("lottery.view_drawn_task", user, sub.selection)


def _replacement_entry(
    draw: Draw, *, kind: str, code: str, inspector_id: int | None, exclude: int | None = None
) -> tuple[dict, bytes, dict]:
    """``(manifest, seed, entry)``: the engine's replacement for a change of ``code`` (the
    source, or inspector ``inspector_id`` of its team), from the record as it stands without
    substitution ``exclude``; a ServiceError in words when there is none."""
    manifest = json.loads(draw.manifest_json)
    seed = bytes.fromhex(draw.seed)
    record = draw_record(draw, exclude_substitution=exclude)
    try:
        if kind == Substitution.Kind.INSPECTOR:
            entry = engine.inspector_substitution(
                seed,
                manifest,
                record["result"],
                record["substitutions"],
                object_id=code,
                replaced=f"I{inspector_id}",
            )
        else:
            entry = engine.object_substitution(
                seed, manifest, record["result"], record["substitutions"], replaced=code
            )
    except engine.ConstraintError as exc:
        raise ServiceError(_no_team_message(exc, code, kind)) from exc
    except engine.EngineError as exc:
        raise ServiceError(_("No replacement is possible: %(why)s") % {"why": exc}) from exc
    return manifest, seed, entry


def _no_team_message(exc: engine.ConstraintError, code: str, kind: str) -> str:
    """The engine's reason in the user's words, with what can be done instead."""
    if exc.expertise is not None:
        why = _(
            "source %(code)s requires the expertise %(skill)s, and nobody else in this "
            "draw's inspector pool who may go there has it"
        ) % {
            "code": exc.object_id,
            "skill": dict(Expertise.choices).get(exc.expertise, exc.expertise),
        }
    elif exc.available is not None:
        why = _(
            "only %(available)s certified inspectors who may go to source %(code)s remain, "
            "and a team needs %(needed)s"
        ) % {"code": exc.object_id, "available": exc.available, "needed": exc.needed}
    else:
        why = str(exc)
    if kind == Substitution.Kind.INSPECTOR:
        return _(
            "The inspector cannot be replaced: %(why)s. The pool was frozen with the "
            "commitment. Ask instead to replace the source %(code)s itself (the next source "
            "in the same verifiable order takes its place), or reject this request."
        ) % {"why": why, "code": code}
    return _("No replacement is possible: %(why)s") % {"why": why}


def _apply_substitution(draw: Draw, sub: Substitution) -> None:
    """Compute the replacement with the engine, from the record as it stood before ``sub``,
    and append its rows. The engine replays every earlier substitution first, so the
    replacement is exactly what the public script will recompute."""
    code = sub.selection.source.source_code
    manifest, seed, entry = _replacement_entry(
        draw, kind=sub.kind, code=code, inspector_id=sub.inspector_id, exclude=sub.pk
    )
    _revoke_tasks(sub)
    if sub.kind == Substitution.Kind.INSPECTOR:
        # The whole new team is written as a new snapshot; earlier rows stay untouched.
        _write_teams({(sub.selection.stratum, code): sub.selection.pk}, [entry["team"]], sub)
        return
    new_code = entry["replacement"]
    # A code is unique per bureau only: the replacement is looked up in the frozen pool.
    candidates = frozen_pool(draw).filter(source_code=new_code)
    try:
        source_id = _source_ids(
            list(candidates.values_list("source_code", "pk", "created_at")), draw.prepared_at
        ).get(new_code)
    except _SourcesAmbiguous:
        source_id = None
    if source_id is None:
        raise ServiceError(
            _(
                "The replacement's code %(code)s does not name one source of the pool: have "
                "the bureaus concerned correct it, then approve the substitution again."
            )
            % {"code": new_code}
        )
    source = PollutionSource.objects.get(pk=source_id)
    stratum = next(s for s in manifest["strata"] if s["name"] == sub.selection.stratum)
    order = engine.stratum_order(seed, stratum)
    off_site = set(manifest["draw"].get("off_site", []))
    selection = DrawSelection.objects.create(
        draw=draw,
        stratum=stratum["name"],
        position=order.index(new_code) + 1,
        source=source,
        mode=DrawSelection.Mode.OFF_SITE if new_code in off_site else DrawSelection.Mode.ON_SITE,
        joint=sub.selection.joint,
        substitution=sub,
    )
    _write_teams({(selection.stratum, new_code): selection.pk}, [entry["team"]], sub)
