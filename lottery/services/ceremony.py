"""The draw ceremony: ``draw_prepare`` freezes the pools (every exclusion with its reason) and
the quotas into a manifest; ``draw_commit`` records the manifest hash before any randomness
exists; witnesses add entropy with ``draw_add_entropy``; ``draw_execute`` derives the seed and
runs the deterministic selection in ``lottery.engine`` (its rows are written by
``lottery.services.storage``). A prepared draw can be discarded, a committed one abandoned by a
leader. Results are append-only; a change is a ``Substitution`` (``lottery.services.substitutions``).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record, secret_digest
from core.batch import gc_paused
from core.bulk import copy_insert
from core.errors import ServiceError
from core.models import Organisation, User
from core.roles import Cap
from core.vocab import Expertise
from inspectors.selectors import conflicts_for
from lottery import engine, signals
from lottery.entropy_input import clean_digits, clean_witness_name
from lottery.forecast import forecast_teams
from lottery.models import Draw, DrawEntropy, DrawExclusion, Plan
from lottery.pools import Pools, inspector_pool, quota_for_plan
from lottery.selectors import earlier_undrawn_plans, other_open_draw, previous_inspectors
from lottery.services._shared import _require
from lottery.services.storage import _draw_and_store


@gc_paused()
def draw_prepare(
    *,
    actor: User,
    plan: Plan,
    witnesses: int = 2,
    public_value_spec: str = "",
    digits: int = engine.DEFAULT_DIGITS,
    public_value_digits: int = 0,
    max_team_share: int | None = None,
) -> Draw:
    """Freeze the pools, exclusions, quotas and constraints into a manifest (no randomness yet).

    ``digits``: the exact number of digits of each witness value; ``public_value_spec`` and
    ``public_value_digits``: the public value's source (an event after the commitment) and
    its exact number of digits; ``max_team_share``: a higher share of the draw's teams (in
    percent) the bureau accepts for one certified inspector (default:
    ``engine.default_team_share``). All are fixed in the manifest (algorithm version 3).

    Refuses when a drawn source could end up without a valid team (too few inspectors without
    a conflict, or a required expertise nobody has): better to say so now, with the source
    named, than after the commitment.
    """
    _require(actor, Cap.OPERATE_DRAW, plan.organisation)
    plan = Plan.objects.select_related("organisation").get(pk=plan.pk)  # the stored status
    if plan.kind != Plan.Kind.QUARTERLY:
        raise ServiceError(_("Draws are made for quarterly plans."))
    if plan.status != Plan.Status.PUBLISHED:
        raise ServiceError(
            _("Only a published plan can be drawn: a leader approves and publishes it first.")
        )
    if witnesses < 1:
        raise ServiceError(_("At least one witness must contribute to the draw."))
    if not 1 <= digits <= engine.MAX_DIGITS:
        raise ServiceError(
            _("A witness value has from 1 to %(max)s digits.") % {"max": engine.MAX_DIGITS}
        )
    public_value_spec = public_value_spec.strip()
    if public_value_spec and not 1 <= public_value_digits <= engine.MAX_DIGITS:
        raise ServiceError(
            _("Say how many digits the public value has (from 1 to %(max)s).")
            % {"max": engine.MAX_DIGITS}
        )
    if max_team_share is not None and not 1 <= max_team_share <= 100:
        raise ServiceError(_("The accepted share of teams is a percentage from 1 to 100."))
    _refuse_while_another_draw_open(plan)
    _refuse_out_of_order(plan)
    pools = Pools(plan)
    quotas = quota_for_plan(plan, pools)
    people, inspector_ids = inspector_pool(plan)
    certified_ids = [inspector_ids[p["id"]] for p in people if p["certified"]]
    items = list(plan.check_items.all())
    requires_by_class = {
        klass: sorted(
            {
                e
                for item in items
                if not item.target_classes or klass in item.target_classes
                for e in item.required_expertise
            }
        )
        for klass in plan.classes
    }
    conflicts = conflicts_for(
        inspector_ids=certified_ids, source_ids=list(pools.codes), on=plan.planned_start
    )
    previous = previous_inspectors([plan.organisation_id], plan.planned_start)
    # Constraints are sparse: only sources with a required expertise, a conflict or a
    # previous team get an entry (a 100,000-source pool must not carry 100,000 empty ones).
    constraints: dict[str, dict] = {}

    def entry(code: str) -> dict:
        return constraints.setdefault(code, {"requires": [], "conflicts": [], "previous": []})

    for klass, requires in requires_by_class.items():
        if requires:
            for item in pools.entries[klass]:
                entry(item["id"])["requires"] = requires
    for source_id, people_ids in conflicts.items():
        if source_id in pools.codes:
            entry(pools.codes[source_id])["conflicts"] = [f"I{i}" for i in people_ids]
    for source_id, people_ids in previous.items():
        if source_id in pools.codes:
            entry(pools.codes[source_id])["previous"] = [f"I{i}" for i in people_ids]
    _check_feasible(plan, people, constraints, pools, quotas)
    certified_count = sum(1 for p in people if p["certified"])
    share = max_team_share or engine.default_team_share(plan.team_size, certified_count)
    org = plan.organisation
    with transaction.atomic():
        # Draws of one organisation are prepared one at a time, so two quarters prepared at
        # once cannot both miss each other (NO KEY: rows that merely refer to it go on).
        Organisation.objects.select_for_update(no_key=True).filter(pk=org.pk).first()
        _refuse_while_another_draw_open(plan)
        _refuse_out_of_order(plan)
        # e.g. 2026Q1-410823-1 (a county bureau), 2026Q1-410800T-1 (the city team)
        team = "T" if org.kind == Organisation.Kind.CITY_TEAM else ""
        number_base = f"{plan.period_label}-{org.division_code}{team}"
        attempt = Draw.objects.filter(plan=plan).count() + 1
        number = f"{number_base}-{attempt}"
        _manifest, canonical_bytes = engine.build_manifest_encoded(
            draw={
                "number": number,
                "organisation": org.name,
                "division_code": org.division_code,
                "period": plan.period_label,
                "plan": plan.title,
                # Frozen with the pools, so anyone can see what was left out and why, and
                # which drawn sources get off-site supervision or a joint inspection.
                "rules": plan.rules,
                "exclusions": sorted(
                    [code, reason, detail] for _pk, code, reason, detail in pools.exclusions
                ),
                "off_site": sorted(pools.off_site),
                "joint": {q.klass: q.joint for q in quotas if q.joint},
                # docs §8: the most teams (in percent) one certified inspector goes on, and
                # whether the bureau accepted it above the default for this plan.
                "max_team_share": share,
                "max_team_share_accepted": max_team_share is not None,
            },
            strata=[
                {"name": q.klass, "quota": q.required, "pool": pools.entries[q.klass]}
                for q in quotas
            ],
            inspectors=people,
            witnesses=witnesses,
            digits=digits,
            public_value={"description": public_value_spec, "digits": public_value_digits}
            if public_value_spec
            else None,
            team_size=plan.team_size,
            constraints=constraints,
            max_team_share=max_team_share,
        )
        canonical = canonical_bytes.decode("utf-8")
        manifest_digest = hashlib.sha256(canonical_bytes).hexdigest()
        forecast = {}
        if any(rule["requires"] for rule in constraints.values()):
            outlook = forecast_teams(_manifest, manifest_digest)
            if outlook.over_cap:
                raise _scarce_expertise(_manifest, outlook, share)
            forecast = outlook.as_json()
        try:
            with transaction.atomic():
                draw = Draw.objects.create(
                    plan=plan,
                    organisation=org,
                    number=number,
                    manifest_json=canonical,
                    # The manifest hash is SHA-256 of these very bytes (engine.manifest_hash).
                    manifest_hash=manifest_digest,
                    team_forecast=forecast,
                    quotas=[
                        {
                            "class": q.klass,
                            "pool": q.pool_size,
                            "required": q.required,
                            "drawn_this_year": q.drawn_this_year,
                            "uncovered": q.uncovered_in_cycle,
                            "joint": q.joint,
                            "lines": [str(line) for line in q.lines],
                        }
                        for q in quotas
                    ],
                    witnesses_required=witnesses,
                    public_value_spec=public_value_spec,
                    entropy_digits=digits,
                    public_value_digits=public_value_digits if public_value_spec else 0,
                    prepared_by=actor,
                )
        except IntegrityError:
            raise ServiceError(
                _("This plan already has a draw. A committed draw can never be redone.")
            ) from None
        copy_insert(
            DrawExclusion,
            ["draw", "source", "reason", "detail"],
            ((draw.pk, pk, reason, detail) for pk, _code, reason, detail in pools.exclusions),
        )
        audit_record(
            actor=actor,
            action="draw.prepare",
            obj=draw,
            after={
                "manifest_hash": draw.manifest_hash,
                "quotas": draw.quotas,
                "exclusions": len(pools.exclusions),
            },
        )
    return draw


def _scarce_expertise(manifest: dict, outlook, share: int) -> ServiceError:
    """Prepare's refusal when the forecast teams break the cap on an inspector's share:
    which expertise is scarce, the real expected load of its holders, and the remedies."""
    required = {r for rule in manifest["constraints"]["objects"].values() for r in rule["requires"]}
    people = manifest["inspectors"]["pool"]
    over = set(outlook.over_cap)
    teams = sum(s["quota"] for s in manifest["strata"])
    parts = []
    for skill in sorted(required):
        holders = [p["id"] for p in people if p["certified"] and skill in p["expertise"]]
        if not over.intersection(holders):
            continue
        experts = sum(1 for p in people if p["expert"] and skill in p["expertise"])
        load = max(outlook.load.get(pid, 0) for pid in holders)
        parts.append(
            _(
                "%(skill)s: %(holders)s certified holder(s) and %(experts)s expert(s); each holder "
                "would go on about %(load)s of the %(teams)s teams"
            )
            % {
                "skill": Expertise(skill).label if skill in Expertise.values else skill,
                "holders": len(holders),
                "experts": experts,
                "load": load,
                "teams": teams,
            }
        )
    return ServiceError(
        _(
            "An expertise is scarce: %(which)s, above the limit of %(cap)s teams (%(share)s%% of "
            "the draw's teams) for one inspector. Add certified inspectors with it, add a "
            "technical expert with it, stop requiring it in this plan's check items, or accept a "
            "higher share for this plan."
        )
        % {
            "which": _("; ").join(parts),
            "cap": outlook.max_teams,
            "share": share,
        },
        code="scarce_expertise",
    )


def _refuse_out_of_order(plan: Plan) -> None:
    """Quarterly draws go in quarter order: a published plan of an earlier quarter of the
    same year is drawn first, unless a leader recorded why this one may go first."""
    if plan.kind != Plan.Kind.QUARTERLY or plan.early_draw_reason:
        return
    earlier = earlier_undrawn_plans(plan)
    if earlier:
        raise ServiceError(
            _(
                "Draws go in quarter order: %(earlier)s is published but not drawn yet. Draw "
                "it first, or a leader records why %(this)s may be drawn before it."
            )
            % {
                "earlier": "、".join(p.period_label for p in earlier),
                "this": plan.period_label,
            },
            code="out_of_order",
        )


def _refuse_while_another_draw_open(plan: Plan) -> None:
    """A draw's "not yet covered" tiers (over a coverage cycle of up to three years), "drawn
    this year", frequency caps and previous teams count what the bureau's other draws took;
    another draw that is prepared or committed but not yet executed would take sources those
    counts cannot see, and its own frozen counts would not see this one's. So one runs (or
    is discarded) first: the earlier period, normally, but a later quarter's open draw holds
    back an earlier one just the same, and last year's open draw this year's."""
    blocking = other_open_draw(plan)
    if blocking is None:
        return
    if blocking.status == Draw.Status.PREPARED:
        message = _(
            "Draw %(number)s of %(period)s is prepared but not executed: execute or discard it "
            "before preparing the draw of %(this)s, whose quotas count what it takes."
        )
    else:
        message = _(
            "Draw %(number)s of %(period)s is committed but not executed: execute it before "
            "preparing the draw of %(this)s, whose quotas count what it takes."
        )
    raise ServiceError(
        message
        % {
            "number": blocking.number,
            "period": blocking.plan.period_label,
            "this": plan.period_label,
        },
        code="earlier_draw_open",
    )


def _check_feasible(plan, people, constraints, pools, quotas) -> None:
    if pools.duplicates:
        raise ServiceError(
            _(
                "Sources of different bureaus in this plan's pool share a code: %(codes)s. "
                "A code must name one source in the draw: have the bureaus concerned correct "
                "it, then prepare the draw again."
            )
            % {"codes": "、".join(pools.duplicates[:10])}
        )
    certified = [p for p in people if p["certified"]]
    if any(q.required for q in quotas) and len(certified) < plan.team_size:
        raise ServiceError(
            _(
                "Only %(n)s certified, on-staff inspectors are available from %(start)s to "
                "%(end)s; a team needs %(size)s."
            )
            % {
                "n": len(certified),
                "start": plan.planned_start,
                "end": plan.planned_end,
                "size": plan.team_size,
            }
        )
    certified_ids = {p["id"] for p in certified}
    for code, rule in constraints.items():
        blocked = certified_ids.intersection(rule["conflicts"])
        free_count = len(certified_ids) - len(blocked)
        if free_count < plan.team_size:
            raise ServiceError(
                _(
                    "Source %(code)s: only %(n)s certified inspectors without a conflict; a "
                    "team needs %(size)s."
                )
                % {"code": code, "n": free_count, "size": plan.team_size}
            )
        for need in rule["requires"]:
            if not any(
                need in p["expertise"] for p in certified if p["id"] not in blocked
            ) and not any(need in p["expertise"] for p in people if p["expert"]):
                raise ServiceError(
                    _(
                        "Source %(code)s: nobody available has the expertise “%(need)s” that "
                        "the plan's check items require."
                    )
                    % {"code": code, "need": need}
                )


def draw_discard(*, actor: User, draw: Draw, reason: str) -> Draw:
    """Drop a prepared draw before its commitment (e.g. the registry needed a fix)."""
    _require(actor, Cap.OPERATE_DRAW, draw.organisation)
    if not reason.strip():
        raise ServiceError(_("Say why the prepared draw is discarded."))
    with transaction.atomic():
        draw = Draw.objects.select_for_update().get(pk=draw.pk)
        if draw.status != Draw.Status.PREPARED:
            raise ServiceError(_("Only a draw that is not yet committed can be discarded."))
        draw.status = Draw.Status.DISCARDED
        draw.save(update_fields=["status"])
        audit_record(actor=actor, action="draw.discard", obj=draw, after={"reason": reason})
    return draw


def draw_abandon(*, actor: User, draw: Draw, reason: str) -> Draw:
    """Give up a committed draw that cannot execute (a witness cannot be reached, the
    ceremony cannot be held before the quarter ends). Only the bureau's leader decides, with a
    reason that is published: the commitment stays on the public portal beside the draw that
    replaces it, so abandoning is never a silent redo. An executed draw is never abandoned."""
    _require(actor, Cap.APPROVE, draw.organisation)
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise ServiceError(
            _(
                "Say in at least 10 characters why the committed draw cannot be executed; the "
                "reason is published beside the commitment."
            ),
            code="abandon_reason",
        )
    if len(reason) > 1000:
        raise ServiceError(_("The reason has at most 1,000 characters."), code="abandon_reason")
    with transaction.atomic():
        draw = Draw.objects.select_for_update().get(pk=draw.pk)
        if draw.status == Draw.Status.EXECUTED:
            raise ServiceError(
                _("This draw has already been executed; it can never be redone."),
                code="already_executed",
            )
        if draw.status != Draw.Status.COMMITTED:
            raise ServiceError(
                _("Only a committed draw can be abandoned; discard a draw that is only prepared."),
                code="not_committed",
            )
        draw.status = Draw.Status.ABANDONED
        draw.abandoned_by = actor
        draw.abandoned_at = timezone.now()
        draw.abandon_reason = reason
        draw.save(update_fields=["status", "abandoned_by", "abandoned_at", "abandon_reason"])
        audit_record(
            actor=actor,
            action="draw.abandon",
            obj=draw,
            after={
                "manifest_hash": draw.manifest_hash,
                "reason": reason,
                "witness_values_entered": draw.entropy.count(),
            },
        )
    return draw


def draw_commit(*, actor: User, draw: Draw) -> Draw:
    """Record the manifest hash as the commitment, before any entropy exists."""
    _require(actor, Cap.OPERATE_DRAW, draw.organisation)
    with transaction.atomic():
        draw = Draw.objects.select_for_update().get(pk=draw.pk)
        if draw.status != Draw.Status.PREPARED:
            raise ServiceError(_("This draw is already committed."))
        draw.status = Draw.Status.COMMITTED
        draw.committed_by = actor
        draw.committed_at = timezone.now()
        draw.save(update_fields=["status", "committed_by", "committed_at"])
        audit_record(
            actor=actor, action="draw.commit", obj=draw, after={"manifest_hash": draw.manifest_hash}
        )
    return draw


def draw_add_entropy(
    *, actor: User, draw: Draw, witness_name: str, witness_role: str, value: str
) -> DrawEntropy:
    """A witness's value (e.g. dice digits), entered at the ceremony after the commitment."""
    _require(actor, Cap.OPERATE_DRAW, draw.organisation)
    # The canonical form (docs §5) is what is checked, stored, shown, published and put in
    # the seed: nothing is cut or changed later.
    name = clean_witness_name(witness_name)
    role = (witness_role or "").strip()
    if len(role) > 100:
        raise ServiceError(_("The witness's role has at most 100 characters."))
    with transaction.atomic():
        draw = Draw.objects.select_for_update().get(pk=draw.pk)
        if draw.status != Draw.Status.COMMITTED:
            raise ServiceError(
                _("Entropy is entered only after the commitment and before the draw executes.")
            )
        # The manifest fixes how many values the seed takes, one per witness: an extra value
        # or a second value from the same witness would make the draw impossible to execute
        # (and values can never be taken back), so both are refused here, not at execution.
        given = list(draw.entropy.values_list("witness_name", flat=True))
        if len(given) >= draw.witnesses_required:
            raise ServiceError(
                _("All %(n)s witness values are in; the draw takes no more.")
                % {"n": draw.witnesses_required},
                code="entropy_complete",
            )
        clean = clean_digits(value, draw.entropy_digits, what=_("Witness's value"))
        if name in given:
            raise ServiceError(
                _("%(name)s has already given a value; each witness gives exactly one.")
                % {"name": name},
                code="entropy_duplicate_witness",
            )
        position = len(given) + 1
        entry = DrawEntropy.objects.create(
            draw=draw,
            position=position,
            witness_name=name,
            witness_role=role,
            value=clean,
            entered_by=actor,
        )
        audit_record(
            actor=actor,
            action="draw.entropy",
            obj=draw,
            # Never the value itself: with the manifest it gives the confidential list.
            after={
                "position": position,
                "witness": entry.witness_name,
                "value_digest": secret_digest(entry.value, purpose=f"draw.entropy:{draw.pk}"),
            },
        )
    return entry


@gc_paused()
def draw_execute(*, actor: User, draw: Draw, public_value: str = "") -> Draw:
    """Derive the seed and run the selection. Exactly once: the row lock and the status check
    make a second, simultaneous attempt wait and then fail; unique constraints back it up."""
    _require(actor, Cap.OPERATE_DRAW, draw.organisation)
    with transaction.atomic():
        draw = Draw.objects.select_for_update().get(pk=draw.pk)
        if draw.status == Draw.Status.EXECUTED:
            raise ServiceError(
                _("This draw has already been executed; it can never be redone."),
                code="already_executed",
            )
        if draw.status != Draw.Status.COMMITTED:
            raise ServiceError(_("Commit the draw before executing it."))
        entropy = list(draw.entropy.order_by("position"))
        if len(entropy) < draw.witnesses_required:
            raise ServiceError(
                _("%(need)s witness values are required; %(have)s entered.")
                % {"need": draw.witnesses_required, "have": len(entropy)}
            )
        public = None
        if draw.public_value_spec:
            if not (public_value or "").strip():
                raise ServiceError(_("Enter the public value named in advance."))
            public = clean_digits(public_value, draw.public_value_digits, what=_("Public value"))
        # The stored bytes must still be the committed manifest: their SHA-256 is the manifest
        # hash (engine.manifest_hash of the canonical encoding). The manifest was fully
        # checked when it was built, so the engine's steps run without re-checking it.
        if hashlib.sha256(draw.manifest_json.encode("utf-8")).hexdigest() != draw.manifest_hash:
            raise ServiceError(
                _("The stored manifest no longer matches its commitment; the draw is refused.")
            )
        manifest = json.loads(draw.manifest_json)
        try:
            clean, public = engine.normalise_entropy(
                [{"witness": e.witness_name, "value": e.value} for e in entropy],
                public,
                manifest["entropy_spec"],
            )
            seed = engine.compute_seed(draw.manifest_hash, clean, public)
            objects, teams = _draw_and_store(draw, manifest, seed)
        except engine.EngineError as exc:
            raise ServiceError(_("The draw cannot be made: %(why)s") % {"why": exc}) from exc
        record: dict[str, Any] = {
            "entropy": clean,
            "public_value": public,
            "seed": seed.hex(),
            "result": {"objects": objects, "teams": teams},
        }
        draw.status = Draw.Status.EXECUTED
        draw.seed = record["seed"]
        draw.public_value = record["public_value"] or ""
        draw.result = record["result"]
        draw.executed_by = actor
        draw.executed_at = timezone.now()
        draw.save(
            update_fields=["status", "seed", "public_value", "result", "executed_by", "executed_at"]
        )
        audit_record(
            actor=actor,
            action="draw.execute",
            obj=draw,
            after={
                "seed_digest": secret_digest(draw.seed, purpose=f"draw.seed:{draw.pk}"),
                "manifest_hash": draw.manifest_hash,
                "selected": {k: len(v) for k, v in record["result"]["objects"].items()},
            },
        )
        transaction.on_commit(lambda: signals.draw_executed.send(sender=Draw, draw=draw))
    return draw
