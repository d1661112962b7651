"""The only writers of plans and draws.

The draw ceremony: ``draw_prepare`` freezes the pools (every exclusion with its reason) and
the quotas into a manifest; ``draw_commit`` records the manifest hash before any randomness
exists; witnesses add entropy with ``draw_add_entropy``; ``draw_execute`` derives the seed and
runs the deterministic selection in ``lottery.engine``. Results are append-only; a change is a
``Substitution`` approved by a leader, whose replacement is the next eligible candidate in the
same verifiable order.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import json
import operator
import queue
import threading
from collections import Counter, defaultdict
from datetime import date, datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from core.audit import audit_record, model_snapshot, secret_digest
from core.batch import gc_paused
from core.bulk import SideJob, copy_insert, copy_text
from core.errors import ServiceError
from core.models import Organisation
from core.roles import Cap, user_can
from core.vocab import Expertise, SupervisionClass
from inspectors.models import Inspector
from inspectors.selectors import conflicts_for, inspectors_eligible
from lottery import engine, signals
from lottery.entropy_input import clean_digits, clean_witness_name
from lottery.forecast import forecast_teams
from lottery.models import (
    CompletedCheck,
    Draw,
    DrawEntropy,
    DrawExclusion,
    DrawSelection,
    Plan,
    RuleSet,
    Substitution,
    TeamAssignment,
)
from lottery.periods import inspection_period_error
from lottery.rules import (
    PRESETS,
    ClassFacts,
    ClassQuota,
    quota_for_class,
    rule_of,
    source_weight,
    validate_rules,
)
from lottery.selectors import (
    checks_this_year,
    covered_sources,
    cycle_quarters,
    earlier_undrawn_plans,
    effective_selections,
    effective_teams,
    executed_selection_rows,
    other_open_draw,
    previous_inspectors,
)
from registry.models import CheckItem, PollutionSource

CLASS_ORDER = [c.value for c in SupervisionClass]  # key, general, special: strata order


def _require(user, capability: str, organisation: Organisation) -> None:
    if not user_can(user, capability) or user.organisation_id != organisation.pk:
        raise ServiceError(_("Your role does not allow this for this organisation."), code="denied")


# --- rule sets and plans ---------------------------------------------------------------


def ruleset_ensure_presets() -> list[RuleSet]:
    """Create or refresh the system presets (one per seed regime)."""
    sets = []
    for preset in PRESETS.values():
        ruleset, _created = RuleSet.objects.update_or_create(
            organisation=None,
            code=preset.code,
            defaults={"name": str(preset.name), "source": preset.source, "rules": preset.rules},
        )
        sets.append(ruleset)
    return sets


def ruleset_save(
    *, actor, organisation: Organisation, code: str, name: str, rules: list[dict], source: str = ""
) -> RuleSet:
    """Create or change a bureau's own rule set (the presets stay as the seeds define them).

    Plans keep a snapshot of their rules, so changing a rule set never changes a plan or a
    draw that already used it.
    """
    if organisation is None:
        raise ServiceError(_("The presets cannot be changed; save a copy for a bureau."))
    validate_rules(rules)
    if not code or not name:
        raise ServiceError(_("A rule set needs a code and a name."))
    with transaction.atomic():
        existing = (
            RuleSet.objects.select_for_update().filter(organisation=organisation, code=code).first()
        )
        before = model_snapshot(existing) if existing else None
        ruleset, _created = RuleSet.objects.update_or_create(
            organisation=organisation,
            code=code,
            defaults={"name": name, "rules": rules, "source": source},
        )
        audit_record(
            actor=actor,
            action="ruleset.save",
            obj=ruleset,
            before=before,
            after=model_snapshot(ruleset),
        )
    return ruleset


PLAN_FIELDS = [
    "kind",
    "year",
    "quarter",
    "title",
    "classes",
    "ruleset_code",
    "ruleset_name",
    "rules",
    "team_size",
    "planned_start",
    "planned_end",
]


def _plan_snapshot(plan: Plan) -> dict:
    """What a clerk may change in a draft, for the before/after of its audit entries."""
    data = model_snapshot(plan, fields=PLAN_FIELDS)
    data["check_items"] = sorted(plan.check_items.values_list("pk", flat=True))
    return data


def _check_plan_input(
    *,
    organisation: Organisation,
    kind: str,
    year: int,
    quarter: int | None,
    title: str,
    classes: list[str],
    rules: list[dict],
    items: list,
    planned_start: date,
    planned_end: date,
    team_size: int,
) -> None:
    validate_rules(rules)
    if kind not in Plan.Kind.values:
        raise ServiceError(_("Choose an annual or a quarterly plan."))
    if not 2000 <= year <= 2100:
        raise ServiceError(_("Enter a year from 2000 to 2100."))
    if not title.strip():
        raise ServiceError(_("A plan needs a title."))
    if not classes or any(c not in CLASS_ORDER for c in classes):
        raise ServiceError(_("Choose at least one supervision class."))
    if kind == Plan.Kind.QUARTERLY and quarter not in (1, 2, 3, 4):
        raise ServiceError(_("A quarterly plan needs a quarter from 1 to 4."))
    error = inspection_period_error(
        year=year,
        quarter=quarter if kind == Plan.Kind.QUARTERLY else None,
        start=planned_start,
        end=planned_end,
    )
    if error:
        raise ServiceError(error)
    if team_size < 2:
        raise ServiceError(_("A team has at least two inspectors."))
    if any(item.organisation_id != organisation.pk for item in items):
        raise ServiceError(_("Check items must come from this organisation's list."))


def _duplicate_quarter(year: int, quarter: int | None) -> ServiceError:
    return ServiceError(
        _("This organisation already has a quarterly plan for %(year)s Q%(quarter)s.")
        % {"year": year, "quarter": quarter}
    )


def plan_create(
    *,
    actor,
    organisation: Organisation,
    kind: str,
    year: int,
    quarter: int | None,
    title: str,
    classes: list[str],
    rules: list[dict] | None = None,
    ruleset: RuleSet | None = None,
    check_items=(),
    planned_start: date,
    planned_end: date,
    team_size: int = 2,
) -> Plan:
    """Draft a plan; its ratio rules are a snapshot of the chosen rule set (or given rules).

    The inspection period lies within the plan's quarter (quarterly) or year (annual).
    """
    _require(actor, Cap.EDIT_PLANS, organisation)
    if ruleset is not None:
        rules = ruleset.rules
    items = list(check_items)
    _check_plan_input(
        organisation=organisation,
        kind=kind,
        year=year,
        quarter=quarter,
        title=title,
        classes=classes,
        rules=rules or [],
        items=items,
        planned_start=planned_start,
        planned_end=planned_end,
        team_size=team_size,
    )
    with transaction.atomic():
        try:
            with transaction.atomic():
                plan = Plan.objects.create(
                    organisation=organisation,
                    kind=kind,
                    year=year,
                    quarter=quarter if kind == Plan.Kind.QUARTERLY else None,
                    title=title,
                    classes=[c for c in CLASS_ORDER if c in classes],
                    ruleset_code=ruleset.code if ruleset else "",
                    ruleset_name=ruleset.name if ruleset else "",
                    rules=rules or [],
                    team_size=team_size,
                    planned_start=planned_start,
                    planned_end=planned_end,
                    created_by=actor,
                )
        except IntegrityError:
            raise _duplicate_quarter(year, quarter) from None
        plan.check_items.set(items)
        audit_record(actor=actor, action="plan.create", obj=plan, after=model_snapshot(plan))
    return plan


def _locked_plan(plan: Plan) -> Plan:
    return Plan.objects.select_for_update().select_related("organisation").get(pk=plan.pk)


def plan_edit(
    *,
    actor,
    plan: Plan,
    kind: str,
    year: int,
    quarter: int | None,
    title: str,
    classes: list[str],
    ruleset: RuleSet | None = None,
    rules: list[dict] | None = None,
    check_items=(),
    planned_start: date,
    planned_end: date,
    team_size: int = 2,
) -> Plan:
    """Change a draft plan: the same fields and checks as ``plan_create``. A plan awaiting
    approval or approved is changed only after a leader returns it to draft."""
    _require(actor, Cap.EDIT_PLANS, plan.organisation)
    if ruleset is not None:
        rules = ruleset.rules
    items = list(check_items)
    _check_plan_input(
        organisation=plan.organisation,
        kind=kind,
        year=year,
        quarter=quarter,
        title=title,
        classes=classes,
        rules=rules or [],
        items=items,
        planned_start=planned_start,
        planned_end=planned_end,
        team_size=team_size,
    )
    with transaction.atomic():
        # Locked: a leader approving or a second clerk editing waits for this change.
        plan = _locked_plan(plan)
        if plan.status != Plan.Status.DRAFT:
            raise ServiceError(_("Only a draft plan can be changed."))
        before = _plan_snapshot(plan)
        plan.kind = kind
        plan.year = year
        plan.quarter = quarter if kind == Plan.Kind.QUARTERLY else None
        plan.title = title
        plan.classes = [c for c in CLASS_ORDER if c in classes]
        plan.ruleset_code = ruleset.code if ruleset else ""
        plan.ruleset_name = ruleset.name if ruleset else ""
        plan.rules = rules or []
        plan.team_size = team_size
        plan.planned_start = planned_start
        plan.planned_end = planned_end
        try:
            with transaction.atomic():
                plan.save(update_fields=PLAN_FIELDS)
        except IntegrityError:
            raise _duplicate_quarter(year, quarter) from None
        plan.check_items.set(items)
        audit_record(
            actor=actor, action="plan.edit", obj=plan, before=before, after=_plan_snapshot(plan)
        )
    return plan


def plan_delete(*, actor, plan: Plan) -> None:
    """Delete a draft plan that never had a draw (a draw's record must keep its plan)."""
    _require(actor, Cap.EDIT_PLANS, plan.organisation)
    with transaction.atomic():
        plan = _locked_plan(plan)
        if plan.status != Plan.Status.DRAFT:
            raise ServiceError(_("Only a draft plan can be deleted."))
        if Draw.objects.filter(plan=plan).exists():
            raise ServiceError(_("A plan that has a draw cannot be deleted."))
        audit_record(actor=actor, action="plan.delete", obj=plan, before=_plan_snapshot(plan))
        plan.delete()


def _check_plan_items(plan: Plan) -> None:
    """A plan uses its year's published check-item list (一单两库: the list comes first): at
    least one item, every item published and from the list of the plan's own year."""
    year = plan.year
    published = CheckItem.objects.filter(
        organisation_id=plan.organisation_id, year=year, published_at__isnull=False
    )
    if not published.exists():
        raise ServiceError(
            _(
                "No check-item list for %(year)s has been published by this organisation: "
                "publish the %(year)s list first, then choose the plan's items from it."
            )
            % {"year": year},
            code="no_published_list",
        )
    items = list(plan.check_items.order_by("code"))
    if not items:
        raise ServiceError(
            _("A plan needs at least one check item from the published %(year)s list.")
            % {"year": year},
            code="no_check_items",
        )
    stray = [i.code for i in items if i.year != year or i.published_at is None]
    if stray:
        raise ServiceError(
            _(
                "Check items %(codes)s are not in the published %(year)s list; choose items "
                "from that list."
            )
            % {"codes": "、".join(stray), "year": year},
            code="check_items_not_in_list",
        )


def plan_submit(*, actor, plan: Plan) -> Plan:
    """A clerk submits a draft for a leader's approval; it can no longer be changed."""
    _require(actor, Cap.EDIT_PLANS, plan.organisation)
    with transaction.atomic():
        plan = _locked_plan(plan)
        if plan.status != Plan.Status.DRAFT:
            raise ServiceError(_("Only a draft plan can be submitted for approval."))
        # A draft saved before the period rule existed must be fixed before it goes further.
        error = inspection_period_error(
            year=plan.year, quarter=plan.quarter, start=plan.planned_start, end=plan.planned_end
        )
        if error:
            raise ServiceError(error)
        _check_plan_items(plan)
        plan.status = Plan.Status.SUBMITTED
        plan.submitted_by = actor
        plan.submitted_at = timezone.now()
        plan.save(update_fields=["status", "submitted_by", "submitted_at"])
        audit_record(
            actor=actor,
            action="plan.submit",
            obj=plan,
            before={"status": Plan.Status.DRAFT},
            after={"status": plan.status},
        )
    return plan


def plan_return(*, actor, plan: Plan, reason: str) -> Plan:
    """A leader sends a plan awaiting approval, or approved but not yet published and without
    a draw, back to draft with a reason the clerk sees on the plan page."""
    _require(actor, Cap.APPROVE, plan.organisation)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("Say why the plan goes back to draft."))
    with transaction.atomic():
        plan = _locked_plan(plan)
        if plan.status not in (Plan.Status.SUBMITTED, Plan.Status.APPROVED):
            raise ServiceError(
                _(
                    "Only a plan awaiting approval or approved and not yet published can be returned."
                )
            )
        if Draw.objects.filter(plan=plan).exists():
            raise ServiceError(_("A plan that has a draw cannot go back to draft."))
        before = model_snapshot(plan, fields=["status", "approved_by", "approved_at"])
        plan.status = Plan.Status.DRAFT
        plan.approved_by = None
        plan.approved_at = None
        plan.returned_by = actor
        plan.returned_at = timezone.now()
        plan.return_reason = reason
        plan.save(
            update_fields=[
                "status",
                "approved_by",
                "approved_at",
                "returned_by",
                "returned_at",
                "return_reason",
            ]
        )
        audit_record(
            actor=actor,
            action="plan.return",
            obj=plan,
            before=before,
            after={"status": plan.status, "reason": reason},
        )
    return plan


def plan_approve(*, actor, plan: Plan) -> Plan:
    """A leader approves a plan awaiting approval; only approved plans can be published."""
    _require(actor, Cap.APPROVE, plan.organisation)
    with transaction.atomic():
        plan = _locked_plan(plan)
        if plan.status != Plan.Status.SUBMITTED:
            raise ServiceError(_("Only a plan awaiting approval can be approved."))
        plan.status = Plan.Status.APPROVED
        plan.approved_by = actor
        plan.approved_at = timezone.now()
        plan.save(update_fields=["status", "approved_by", "approved_at"])
        audit_record(actor=actor, action="plan.approve", obj=plan)
    return plan


def plan_publish(*, actor, plan: Plan) -> Plan:
    """A leader publishes an approved plan; only a published plan can be drawn."""
    _require(actor, Cap.APPROVE, plan.organisation)
    with transaction.atomic():
        plan = _locked_plan(plan)
        if plan.status != Plan.Status.APPROVED:
            raise ServiceError(_("Only an approved plan can be published."))
        plan.status = Plan.Status.PUBLISHED
        plan.published_by = actor
        plan.published_at = timezone.now()
        plan.save(update_fields=["status", "published_by", "published_at"])
        audit_record(actor=actor, action="plan.publish", obj=plan)
    return plan


# --- pools and quotas ------------------------------------------------------------------


def _pool_queryset(plan: Plan):
    org = plan.organisation
    scope = (rule_of(plan.rules, "pool") or {}).get("scope", "own")
    if scope == "city_managed":
        return PollutionSource.objects.filter(
            organisation__division_code__startswith=org.division_code[:4], managed_by="city"
        )
    if scope == "city_area":
        return PollutionSource.objects.filter(
            organisation__division_code__startswith=org.division_code[:4]
        )
    return PollutionSource.objects.filter(organisation=org)


class Pools:
    """The frozen pools of a plan: eligible sources per class, exclusions, weights, tiers."""

    def __init__(self, plan: Plan):
        self.plan = plan
        rules = plan.rules
        year, quarter = plan.year, plan.quarter or 1
        positive = rule_of(rules, "positive_list")
        cap = rule_of(rules, "frequency_cap")
        item_ids = list(plan.check_items.values_list("pk", flat=True))
        counts = checks_this_year(year=year, item_ids=item_ids) if cap and item_ids else {}
        per_source_max: dict[int, int] = defaultdict(int)
        for (source_id, _item), n in counts.items():
            per_source_max[source_id] = max(per_source_max[source_id], n)
        coverage = {r["class"]: r for r in rules if r["kind"] == "coverage"}
        covered_by_class = {
            klass: covered_sources(
                organisation=plan.organisation,
                periods=cycle_quarters(r["cycle"], year, quarter, r.get("anchor_year")),
                before=(year, quarter),
            )
            for klass, r in coverage.items()
        }
        self.entries: dict[str, list[dict]] = {c: [] for c in plan.classes}
        self.codes: dict[int, str] = {}
        self.off_site: set[str] = set()
        self.exclusions: list[tuple[int, str, str, str]] = []  # pk, code, reason, detail
        # Codes held by more than one source of the pool's scope: a code is unique per bureau
        # only, so a pool across bureaus can hold one twice, and the draw must refuse it.
        self.duplicates: list[str] = []
        self.uncovered: dict[str, int] = defaultdict(int)
        today = plan.planned_start

        @functools.cache
        def weight_of(credit, penalty, complaints):  # few distinct inputs, many sources
            return source_weight(
                rules,
                credit_rating=credit,
                days_since_penalty=(today - penalty).days if penalty else None,
                complaints_12m=complaints,
            )

        # Read through a plain cursor: at 100,000 sources the ORM's row handling costs more
        # than the query. Unordered: the pools are sorted by id below, in Python's (code
        # point) order, which is the manifest's, whatever the database's collation.
        query = (
            _pool_queryset(plan)
            .filter(supervision_class__in=plan.classes)
            .order_by()
            .values_list(
                "pk",
                "source_code",
                "supervision_class",
                "status",
                "positive_list",
                "positive_list_until",
                "credit_rating",
                "last_penalty_date",
                "complaints_12m",
            )
            .query
        )
        sql, params = query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        entries, codes = self.entries, self.codes
        exclusions, off_site, uncovered = self.exclusions, self.off_site, self.uncovered
        inactive = ("suspended", "cancelled")
        exclude_listed = bool(positive) and positive["mode"] == "exclude"
        off_site_listed = bool(positive) and positive["mode"] == "off_site"
        capped = cap["max_per_year"] if cap else None
        cap_exempt = set(cap.get("exempt_classes", [])) if cap else set()
        for (
            pk,
            code,
            klass,
            status,
            on_list,
            list_until,
            credit,
            penalty,
            complaints,
        ) in rows:
            if status in inactive:
                exclusions.append((pk, code, status, ""))
                continue
            listed = on_list and (list_until is None or list_until >= today)
            if listed and exclude_listed:
                exclusions.append((pk, code, DrawExclusion.Reason.POSITIVE_LIST.value, ""))
                continue
            if capped is not None and klass not in cap_exempt:
                done = per_source_max.get(pk, 0)
                if done >= capped:
                    exclusions.append(
                        (pk, code, DrawExclusion.Reason.FREQUENCY_CAP.value, f"{done}/{capped}")
                    )
                    continue
            tier = 0
            if klass in coverage:
                if pk in covered_by_class[klass]:
                    tier = 1
                else:
                    uncovered[klass] += 1
            # Public ids are the registry's source codes, so anyone can match the record.
            # The entries are in the manifest's own form, so it is built without a copy.
            entries[klass].append(
                {"id": code, "tier": tier, "weight": weight_of(credit, penalty, complaints)}
            )
            codes[pk] = code
            if listed and off_site_listed:
                off_site.add(code)
        for pool in entries.values():
            pool.sort(key=operator.itemgetter("id"))
        if (rule_of(rules, "pool") or {}).get("scope", "own") != "own":
            seen = Counter(codes.values())  # the drawable sources (excluded ones are not ids)
            if len(seen) != len(codes):
                self.duplicates = sorted(code for code, n in seen.items() if n > 1)


def quota_for_plan(plan: Plan, pools: Pools | None = None) -> list[ClassQuota]:
    """Each class's quota for the plan's quarter, with the arithmetic written out."""
    pools = pools or Pools(plan)
    year, quarter = plan.year, plan.quarter or 1
    drawn = defaultdict(int)
    for _sid, stratum, _q, _pk in executed_selection_rows(
        organisation=plan.organisation, year=year
    ):
        drawn[stratum] += 1
    staff = inspectors_eligible(
        organisation_ids=[plan.organisation_id], on=plan.planned_start
    ).count()
    return [
        quota_for_class(
            rules=plan.rules,
            klass=klass,
            year=year,
            quarter=quarter,
            facts=ClassFacts(
                pool_size=len(pools.entries[klass]),
                drawn_this_year=drawn[klass],
                uncovered_in_cycle=pools.uncovered[klass],
                staff_count=staff,
            ),
        )
        for klass in plan.classes
    ]


# --- the draw --------------------------------------------------------------------------


def _inspector_pool(plan: Plan) -> tuple[list[dict], dict[str, int]]:
    certified = list(
        inspectors_eligible(
            organisation_ids=[plan.organisation_id],
            on=plan.planned_start,
            until=plan.planned_end,
        ).values_list("pk", "name", "expertise")
    )
    experts = list(
        Inspector.objects.filter(
            organisation_id=plan.organisation_id, kind="expert", is_active=True
        ).values_list("pk", "name", "expertise")
    )
    people, ids = [], {}
    for certified_flag, rows in ((True, certified), (False, experts)):
        for pk, name, expertise in rows:
            public_id = f"I{pk}"
            ids[public_id] = pk
            people.append(
                {
                    "id": public_id,
                    "name": name,
                    "certified": certified_flag,
                    "expert": not certified_flag,
                    "expertise": list(expertise or []),
                }
            )
    return people, ids


@gc_paused()
def draw_prepare(
    *,
    actor,
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
    people, inspector_ids = _inspector_pool(plan)
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


def plan_allow_early_draw(*, actor, plan: Plan, reason: str) -> Plan:
    """A leader lets this quarter's draw go before an earlier quarter's (e.g. the earlier
    plan is being withdrawn, or its sources were all inspected by a special campaign)."""
    _require(actor, Cap.APPROVE, plan.organisation)
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise ServiceError(
            _("Say in at least 10 characters why this draw may go before the earlier one."),
            code="early_draw_reason",
        )
    if len(reason) > 1000:
        raise ServiceError(_("The reason has at most 1,000 characters."), code="early_draw_reason")
    with transaction.atomic():
        plan = _locked_plan(plan)
        if plan.kind != Plan.Kind.QUARTERLY or plan.status != Plan.Status.PUBLISHED:
            raise ServiceError(_("Only a published quarterly plan is drawn."))
        if plan.early_draw_reason:
            raise ServiceError(_("A reason is already recorded for this plan."))
        plan.early_draw_reason = reason
        plan.early_draw_by = actor
        plan.early_draw_at = timezone.now()
        plan.save(update_fields=["early_draw_reason", "early_draw_by", "early_draw_at"])
        audit_record(
            actor=actor,
            action="plan.allow_early_draw",
            obj=plan,
            after={
                "reason": reason,
                "earlier": [p.period_label for p in earlier_undrawn_plans(plan)],
            },
        )
    return plan


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


def draw_discard(*, actor, draw: Draw, reason: str) -> Draw:
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


def draw_abandon(*, actor, draw: Draw, reason: str) -> Draw:
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


def draw_commit(*, actor, draw: Draw) -> Draw:
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
    *, actor, draw: Draw, witness_name: str, witness_role: str, value: str
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
def draw_execute(*, actor, draw: Draw, public_value: str = "") -> Draw:
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
        record = {
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


# created_at is left to the database (its default: the transaction time).
_SELECTION_FIELDS = ["draw", "stratum", "position", "source", "mode", "joint"]
_TEAM_FIELDS = ["selection", "inspector", "role", "substitution"]
#: Team rows per COPY statement while the following teams are computed.
_TEAM_ROWS_PER_COPY = 4000


def _draw_and_store(draw: Draw, manifest: dict, seed: bytes) -> tuple[dict, list]:
    """Run the engine's selection and team assignment and store the result rows; return
    ``(objects, teams)`` as ``engine.select_objects`` and ``engine.assign_teams`` do.

    On PostgreSQL the database does its part while the engine computes, on the other core:
    a ``core.bulk.SideJob`` on the same connection reads the selections' ids from the table's
    sequence (the quotas say how many) while the first stratum is scored, then takes each
    stratum's drawn sources, then the team rows (made here, in COPY's text format) a few
    thousand at a time, and sends them by COPY; each statement checks its foreign keys as it
    ends. This thread only computes. Elsewhere the rows are written at the end.
    """
    off_site = set(manifest["draw"].get("off_site", []))
    joint = manifest["draw"].get("joint", {})

    def selection_rows(stratum: str, codes: list[str], source_of: dict) -> list[tuple]:
        missing = [code for code in codes if code not in source_of]
        if missing:  # the registry never deletes or renames a source, but SQL can
            raise _SourcesGone(sorted(missing))
        on_site, off = DrawSelection.Mode.ON_SITE.value, DrawSelection.Mode.OFF_SITE.value
        first_joint = joint.get(stratum, 0)
        return [
            (draw.pk, stratum, position, source_of[code], off if code in off_site else on_site)
            + (position <= first_joint,)
            for position, code in enumerate(codes, start=1)
        ]

    try:
        return _store_while_drawing(draw, manifest, seed, selection_rows)
    except _SourcesAmbiguous as gone:
        raise ServiceError(
            _(
                "Drawn codes now name more than one source of the pool: %(codes)s. Have the "
                "bureaus concerned correct them; the draw is refused until then."
            )
            % {"codes": "、".join(gone.codes[:10])}
        ) from None
    except _SourcesGone as gone:
        raise ServiceError(
            _("Drawn sources are no longer in the registry: %(codes)s. The draw is refused.")
            % {"codes": "、".join(gone.codes[:10])}
        ) from None


class _SourcesGone(Exception):
    def __init__(self, codes: list[str]):
        super().__init__(codes)
        self.codes = codes


class _SourcesAmbiguous(_SourcesGone):
    """Drawn codes that name more than one source of the pool's scope (a bureau registered
    the same code after the commitment): the draw cannot say which one was drawn."""


def _frozen_pool(draw: Draw):
    """The sources that could be in ``draw``'s manifest: the pool's scope without the sources
    the preparation excluded. A code is unique per bureau only, so a drawn code is looked up
    here, never in the whole registry (see ``_source_ids`` for a twin registered since)."""
    return _pool_queryset(draw.plan).exclude(
        pk__in=DrawExclusion.objects.filter(draw=draw).values("source_id")
    )


def _source_ids(rows: list[tuple[str, int, datetime]], prepared_at: datetime) -> dict[str, int]:
    """{code: source id} from (code, id, created_at) rows of the frozen pool. The preparation
    refused a code held twice, so a code with two rows has a twin registered since: the one
    that existed at the preparation is the drawn one; if that does not decide, refuse."""
    source_of = {code: pk for code, pk, _at in rows}
    if len(source_of) == len(rows):
        return source_of
    seen = Counter(code for code, _pk, _at in rows)
    ambiguous = []
    for code in (code for code, n in seen.items() if n > 1):
        then = [pk for c, pk, at in rows if c == code and at <= prepared_at]
        if len(then) == 1:
            source_of[code] = then[0]
        else:
            ambiguous.append(code)
    if ambiguous:
        raise _SourcesAmbiguous(sorted(ambiguous))
    return source_of


def _store_while_drawing(draw: Draw, manifest: dict, seed: bytes, selection_rows):
    """``_draw_and_store``'s work; ``selection_rows(stratum, codes, source_of)`` gives the
    rows of ``_SELECTION_FIELDS`` (raising ``_SourcesGone`` for a code not in the registry)."""
    if connection.vendor != "postgresql":
        objects = engine.select_objects(seed, manifest)
        teams = engine.assign_teams(seed, manifest, objects)
        codes = [code for drawn in objects.values() for code in drawn]
        source_of = _source_ids(
            list(
                _frozen_pool(draw)
                .filter(source_code__in=codes)
                .order_by()
                .values_list("source_code", "pk", "created_at")
            ),
            draw.prepared_at,
        )
        copy_insert(
            DrawSelection,
            _SELECTION_FIELDS,
            [
                row
                for name, drawn in objects.items()
                for row in selection_rows(name, drawn, source_of)
            ],
        )
        selection_ids = {
            (stratum, code): pk
            for pk, stratum, code in DrawSelection.objects.filter(draw=draw).values_list(
                "pk", "stratum", "source__source_code"
            )
        }
        _write_teams(selection_ids, teams)
        return objects, teams

    quote = connection.ops.quote_name
    work: queue.SimpleQueue = queue.SimpleQueue()
    free_ids: list[int] = []  # the selections' ids, in drawn order: filled by the writer
    ids_ready = threading.Event()
    ids_read: list[bool] = []  # [True] once free_ids is complete (it is empty for no quota)
    sources = quote(PollutionSource._meta.db_table)
    # A code is unique per bureau only: look it up among the sources of the frozen pool.
    prepared_at = draw.prepared_at
    scope_sql, scope_params = _frozen_pool(draw).order_by().values("pk").query.sql_with_params()

    def write() -> None:  # on the SideJob's thread, with this thread's connection
        try:
            store()
        finally:
            ids_ready.set()  # however it ended: the computing thread must not wait forever

    def store() -> None:
        with connection.cursor() as cursor:
            # The ids first, while the first stratum is scored (the quotas say how many).
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [DrawSelection._meta.db_table, sum(s["quota"] for s in manifest["strata"])],
            )
            free_ids.extend(pk for (pk,) in cursor.fetchall())
            ids_read.append(True)
            ids_ready.set()
            # Check the foreign keys statement by statement, here, not all at the commit.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            while (job := work.get()) is not None:
                kind, data = job
                if kind == "teams":
                    copy_text(TeamAssignment, _TEAM_FIELDS, data)
                    continue
                stratum, first, codes = data
                cursor.execute(
                    f"SELECT source_code, id, created_at FROM {sources} "
                    f"WHERE source_code = ANY(%s) AND id IN ({scope_sql})",
                    [codes, *scope_params],  # one array, not 16,000 parameters
                )
                source_of = _source_ids(cursor.fetchall(), prepared_at)
                # COPY: for the database, cheaper per row than an INSERT … SELECT joined to
                # the registry (which would spare this thread the rows' Python).
                copy_insert(
                    DrawSelection,
                    ["id", *_SELECTION_FIELDS],
                    [
                        (pk, *row)
                        for pk, row in zip(
                            free_ids[first : first + len(codes)],
                            selection_rows(stratum, codes, source_of),
                            strict=True,
                        )
                    ],
                )
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    objects: dict[str, list[str]] = {}
    teams: list[dict] = []
    # Who may be granted their task is known before the draw: read it now, not after the
    # writer is done (the connection is the writer's meanwhile).
    users = _inspector_users(int(p["id"][1:]) for p in manifest["inspectors"]["pool"])
    pairs: list[tuple[int, int]] = []  # (selection, inspector) with an account
    writer = SideJob(write, name="draw-result-writer")
    try:
        # Every stratum's selection first (the database stores each while the next one is
        # scored), then the teams, a few thousand rows per statement.
        index_of: dict[tuple[str, str], int] = {}
        for stratum, codes in engine.iter_selected(seed, manifest):
            objects[stratum] = codes
            if codes:
                work.put(("selections", (stratum, len(index_of), codes)))
                index_of.update(zip(((stratum, c) for c in codes), itertools.count(len(index_of))))
        ids_ready.wait()
        if not ids_read:  # the writer failed: its error is raised below
            raise _WriterFailed
        # The team rows in COPY's text format, made here (ids, and roles without any
        # character COPY would escape), so that the writer only sends them.
        number_of = {p["id"]: str(int(p["id"][1:])) for p in manifest["inspectors"]["pool"]}
        leader, member, expert = (
            "\t" + TeamAssignment.Role.LEADER.value + "\t\\N\n",
            "\t" + TeamAssignment.Role.MEMBER.value + "\t\\N\n",
            "\t" + TeamAssignment.Role.EXPERT.value + "\t\\N\n",
        )
        lines: list[str] = []
        append = lines.append
        limit = min(_TEAM_ROWS_PER_COPY, 500)  # small at first: the database starts sooner
        for team in engine.iter_teams(seed, manifest, objects):
            teams.append(team)
            selection = free_ids[index_of[(team["stratum"], team["object"])]]
            text = str(selection)
            people = [team["leader"], *team["members"], *team["experts"]]
            numbers = [number_of.get(pid) or str(int(pid[1:])) for pid in people]
            append(text + "\t" + numbers[0] + leader)
            for number in numbers[1 : 1 + len(team["members"])]:
                append(text + "\t" + number + member)
            for number in numbers[1 + len(team["members"]) :]:
                append(text + "\t" + number + expert)
            if users:
                pairs += [(selection, int(number)) for number in numbers]
            if len(lines) >= limit:
                work.put(("teams", "".join(lines)))
                lines = []
                append = lines.append
                limit = min(2 * limit, _TEAM_ROWS_PER_COPY)
        work.put(("teams", "".join(lines)))
    except BaseException as exc:
        work.put(None)  # the writer stops; this thread's error is the one that counts
        if isinstance(exc, _WriterFailed):
            writer.wait()  # raises the writer's error
            raise AssertionError("the writer stopped without an error") from None
        with contextlib.suppress(Exception):
            writer.wait()
        raise
    work.put(None)
    writer.wait()  # the rows are in; re-raises the writer's error, if any
    if users:
        _grant_tasks(pairs, users)
    return objects, teams


class _WriterFailed(Exception):
    """The result writer stopped before the selections' ids were read (its error counts)."""


def _team_rows(selection_id: int, team: dict, substitution_id: int | None = None) -> list:
    """The rows of ``_TEAM_FIELDS`` for one team."""
    people = [(team["leader"], TeamAssignment.Role.LEADER)]
    people += [(m, TeamAssignment.Role.MEMBER) for m in team["members"]]
    people += [(e, TeamAssignment.Role.EXPERT) for e in team["experts"]]
    return [(selection_id, int(pid[1:]), role.value, substitution_id) for pid, role in people]


def _pool_organisations(plan: Plan):
    return _pool_queryset(plan).values("organisation_id").distinct()


def _write_teams(selection_ids, teams, substitution=None) -> None:
    """Write team rows; ``selection_ids`` maps (stratum, source code) to the selection's pk."""
    sub_id = substitution.pk if substitution is not None else None
    rows = []
    for team in teams:
        selection_id = selection_ids[(team["stratum"], team["object"])]
        rows += _team_rows(selection_id, team, sub_id)
    copy_insert(TeamAssignment, _TEAM_FIELDS, rows)
    _grant_tasks([(selection_id, inspector_id) for selection_id, inspector_id, *_ in rows])


def _inspector_users(inspector_ids) -> dict[int, int]:
    """``{inspector pk: user pk}`` for those of ``inspector_ids`` with an account."""
    return dict(
        Inspector.objects.filter(pk__in=set(inspector_ids), user__isnull=False).values_list(
            "pk", "user"
        )
    )


def _grant_tasks(pairs: list[tuple[int, int]], users: dict[int, int] | None = None) -> None:
    """Each assigned inspector with an account may see their own drawn task (and nothing else).

    ``pairs``: (selection pk, inspector pk); ``users``: ``_inspector_users`` of (at least)
    the inspectors in ``pairs``, when already read.
    """
    if users is None:
        users = _inspector_users(i for _s, i in pairs)
    if not users:
        return
    from django.contrib.auth import get_user_model

    by_user: dict[int, list[int]] = defaultdict(list)
    for selection_id, inspector_id in pairs:
        if inspector_id in users:
            by_user[users[inspector_id]].append(selection_id)
    for user in get_user_model().objects.filter(pk__in=by_user):
        assign_perm(
            "lottery.view_drawn_task", user, DrawSelection.objects.filter(pk__in=by_user[user.pk])
        )


# --- substitutions ---------------------------------------------------------------------


def substitution_request(
    *, actor, selection: DrawSelection, reason: str, inspector: Inspector | None = None
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
    *, actor, substitution: Substitution, approve: bool, note: str = ""
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
    users = Inspector.objects.filter(pk__in=inspectors, user__isnull=False).values_list(
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
    candidates = _frozen_pool(draw).filter(source_code=new_code)
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


# --- inspection facts ------------------------------------------------------------------


def check_completed_record(
    *, actor=None, selection: DrawSelection, completed_on: date, items=None
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


# --- disclosure ------------------------------------------------------------------------


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
                audit_record(actor=None, action="draw.disclose", obj=draw)
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
            audit_record(actor=None, action="draw.disclose", obj=draw, after={"why": "inspected"})
    return bool(disclosed)


def _team_dict(rows: list[TeamAssignment], code: str, stratum: str) -> dict:
    """Team rows in the engine's format (public inspector ids ``I<pk>``)."""
    return {
        "object": code,
        "stratum": stratum,
        "leader": next((f"I{a.inspector_id}" for a in rows if a.role == "leader"), ""),
        "members": [f"I{a.inspector_id}" for a in rows if a.role == "member"],
        "experts": [f"I{a.inspector_id}" for a in rows if a.role == "expert"],
    }


def _substitution_entries(draw: Draw, *, exclude: int | None = None) -> list[dict]:
    """Approved substitutions in approval order, in the record's format (docs §10).

    Reasons are not published in the record: a recusal reason can reveal personal ties.
    """
    subs = list(
        Substitution.objects.filter(draw=draw, status=Substitution.Status.APPROVED)
        .exclude(pk=exclude)
        .select_related("selection__source")
        .order_by("decided_at", "pk")
    )
    rows: dict[int, list[TeamAssignment]] = defaultdict(list)
    for a in TeamAssignment.objects.filter(substitution__in=subs).order_by("pk"):
        rows[a.substitution_id].append(a)
    replacements = dict(
        DrawSelection.objects.filter(substitution__in=subs).values_list(
            "substitution_id", "source__source_code"
        )
    )
    entries = []
    for sub in subs:
        code, stratum = sub.selection.source.source_code, sub.selection.stratum
        if sub.kind == Substitution.Kind.OBJECT:
            new_code = replacements.get(sub.pk, "")
            entries.append(
                {
                    "kind": "object",
                    "stratum": stratum,
                    "replaced": code,
                    "replacement": new_code,
                    "team": _team_dict(rows[sub.pk], new_code, stratum),
                }
            )
        else:
            entries.append(
                {
                    "kind": "inspector",
                    "object": code,
                    "replaced": f"I{sub.inspector_id}",
                    "team": _team_dict(rows[sub.pk], code, stratum),
                }
            )
    return entries


def draw_log_result_view(*, actor, draw: Draw, via: str, detail: dict | None = None) -> None:
    """Audit that ``actor`` saw ``draw``'s confidential result (its list, seed or values).
    Called by ``lottery.readers`` only, in the same step as the read. A visitor's read of a
    disclosed draw (public then) is not recorded; a signed-in user's always is."""
    if draw.disclosed_at is not None and not getattr(actor, "is_authenticated", False):
        return
    audit_record(
        actor=actor, action="draw.view_result", obj=draw, after={"via": via, **(detail or {})}
    )


def draw_log_manifest_view(*, actor, draw: Draw, confidential: list[Draw], via: str) -> None:
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


def draw_record(draw: Draw, *, exclude_substitution: int | None = None) -> dict:
    """The publishable record, rebuilt from the stored rows: what ``verify_draw`` checks.

    The ``result`` is rebuilt from the original DrawSelection/TeamAssignment rows (not from
    the stored computation), so a row edited in the database shows up as a difference.
    """
    manifest = json.loads(draw.manifest_json)
    originals = (
        DrawSelection.objects.filter(draw=draw, substitution__isnull=True)
        .select_related("source")
        .order_by("stratum", "position")
    )
    objects: dict[str, list[str]] = {s["name"]: [] for s in manifest["strata"]}
    for s in originals:
        objects.setdefault(s.stratum, []).append(s.source.source_code)
    assignments = defaultdict(list)
    for a in TeamAssignment.objects.filter(
        selection__draw=draw, substitution__isnull=True
    ).order_by("pk"):
        assignments[a.selection_id].append(a)
    teams = []
    for stratum in manifest["strata"]:
        for s in [x for x in originals if x.stratum == stratum["name"]]:
            people = assignments[s.pk]
            teams.append(
                {
                    "object": s.source.source_code,
                    "stratum": s.stratum,
                    "leader": next(
                        (
                            f"I{a.inspector_id}"
                            for a in people
                            if a.role == TeamAssignment.Role.LEADER
                        ),
                        "",
                    ),
                    "members": [
                        f"I{a.inspector_id}" for a in people if a.role == TeamAssignment.Role.MEMBER
                    ],
                    "experts": [
                        f"I{a.inspector_id}" for a in people if a.role == TeamAssignment.Role.EXPERT
                    ],
                }
            )
    return {
        "manifest": manifest,
        "manifest_hash": draw.manifest_hash,
        "entropy": [
            {"witness": e.witness_name, "value": e.value} for e in draw.entropy.order_by("position")
        ],
        "public_value": draw.public_value or None,
        "seed": draw.seed,
        "result": {"objects": objects, "teams": teams},
        "substitutions": _substitution_entries(draw, exclude=exclude_substitution),
    }


# --- deadline regimes (lottery.deadline_rules) -------------------------------------------------


def deadline_regime_ensure_presets():
    """Create or refresh the preset deadline regimes (one per seed)."""
    from lottery.deadline_rules import DEADLINE_PRESETS
    from lottery.models import DeadlineRegime

    regimes = []
    for preset in DEADLINE_PRESETS.values():
        regime, _created = DeadlineRegime.objects.update_or_create(
            organisation=None,
            code=preset.code,
            defaults={"name": str(preset.name), "source": preset.source, "rules": preset.rules},
        )
        regimes.append(regime)
    return regimes


def deadline_regime_save(
    *, actor, organisation: Organisation, rules: dict, based_on: str = "", name: str = ""
):
    """Set the organisation's own deadline regime (its editable copy), audited. Only the
    bureau's leader or an administrator may; values that make no date are refused."""
    from lottery.deadline_rules import DEADLINE_PRESETS, validate_deadline_rules
    from lottery.models import DeadlineRegime

    allowed = user_can(actor, Cap.ADMINISTER) or (
        user_can(actor, Cap.APPROVE) and actor.organisation_id == organisation.pk
    )
    if not allowed:
        raise ServiceError(
            _("Only the bureau's leader or an administrator may change its deadlines."),
            code="denied",
        )
    if organisation.kind not in (Organisation.Kind.COUNTY_BUREAU, Organisation.Kind.CITY_TEAM):
        raise ServiceError(_("Only a bureau that draws has deadlines."), code="deadline_rule")
    clean = validate_deadline_rules(rules)
    if based_on and based_on not in DEADLINE_PRESETS:
        raise ServiceError(_("Unknown preset."), code="deadline_rule")
    with transaction.atomic():
        existing = DeadlineRegime.objects.select_for_update().filter(organisation=organisation)
        existing = existing.first()
        before = model_snapshot(existing) if existing else None
        preset = DEADLINE_PRESETS.get(based_on or (existing.based_on if existing else ""))
        regime, _created = DeadlineRegime.objects.update_or_create(
            organisation=organisation,
            defaults={
                "code": f"org-{organisation.pk}",
                "name": name or (str(preset.name) if preset else organisation.name),
                "source": preset.source if preset else "",
                "based_on": preset.code if preset else "",
                "rules": clean,
            },
        )
        audit_record(
            actor=actor,
            action="deadline_regime.save",
            obj=regime,
            before=before,
            after=model_snapshot(regime),
        )
    return regime
