"""Reads for plans and draws, already limited to what the user may see.

The drawn list is confidential until the draw is disclosed: only the bureau's draw
operators and leaders see it, and each assigned inspector sees their own tasks (a
django-guardian grant on the drawn source). Every read of a confidential list is audited by
the caller (views log ``draw.view_result``).

A draw's manifest embeds the results of earlier draws of the bureau: the pool tiers say which
sources' drawn spot checks were completed in the cycle, ``previous`` names the inspectors last
sent to each source, the frequency-cap exclusions say which sources had enough completed spot
checks this year (docs/coverage.md).
While one of those earlier draws is still confidential, so is the manifest
(``can_see_manifest``); its hash, the quotas and the pool sizes are not.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from guardian.shortcuts import get_objects_for_user

from core.models import Organisation
from core.roles import Cap, user_can
from core.selectors import organisations_visible_to, scope_queryset
from lottery.models import (
    CompletedCheck,
    Draw,
    DrawExclusion,
    DrawSelection,
    Plan,
    RuleSet,
    Substitution,
    TeamAssignment,
)


def plan_list_for_user(*, user) -> QuerySet[Plan]:
    return scope_queryset(Plan.objects.select_related("organisation"), user)


def plan_get_for_user(*, user, pk: int) -> Plan:
    try:
        return plan_list_for_user(user=user).get(pk=pk)
    except Plan.DoesNotExist as exc:
        raise Http404 from exc


def ruleset_choices_for(organisation: Organisation) -> QuerySet[RuleSet]:
    return RuleSet.objects.filter(Q(organisation__isnull=True) | Q(organisation=organisation))


def draw_list_for_user(*, user) -> QuerySet[Draw]:
    """Draws the user may know exist: staff in scope; the public sees committed ones elsewhere."""
    return scope_queryset(Draw.objects.select_related("plan", "organisation"), user)


def draw_get_for_user(*, user, pk: int) -> Draw:
    try:
        return draw_list_for_user(user=user).get(pk=pk)
    except Draw.DoesNotExist as exc:
        raise Http404 from exc


def can_operate_draw(user, draw: Draw) -> bool:
    """Draw operators (clerks) and leaders of the draw's own organisation."""
    return (
        user.is_authenticated
        and user.organisation_id == draw.organisation_id
        and (user_can(user, Cap.OPERATE_DRAW) or user_can(user, Cap.APPROVE))
    )


def can_see_full_result(user, draw: Draw) -> bool:
    """Before disclosure only the operators and leaders; afterwards everyone in scope."""
    if draw.status != Draw.Status.EXECUTED:
        return False
    if draw.disclosed_at is not None:
        return organisations_visible_to(user).filter(pk=draw.organisation_id).exists()
    return can_operate_draw(user, draw)


#: Exclusion reasons that come from earlier draws' results rather than from the registry.
EARLIER_RESULT_REASONS = frozenset({DrawExclusion.Reason.FREQUENCY_CAP.value})


def earlier_draws(draw: Draw) -> QuerySet[Draw]:
    """The draws whose results went into ``draw``'s manifest.

    ``draw_prepare`` reads executed draws of the plan's own organisation (coverage tiers:
    their completed spot checks; previous inspectors; drawn this year) and the completed
    spot checks for the plan's check items of any draw (frequency cap; docs/coverage.md):
    every executed draw of the organisation, or of a plan with one of the same check items,
    executed before ``draw`` was prepared, is a superset of what was actually read, so
    nothing read is missed. (A completed check is recorded after its draw executed, for items
    of its draw's plan.) The same rule held when tiers and the cap counted draws, so a
    manifest prepared then keeps exactly the confidentiality it had.
    """
    return (
        Draw.objects.filter(status=Draw.Status.EXECUTED, executed_at__lt=draw.prepared_at)
        .filter(
            Q(organisation_id=draw.organisation_id)
            | Q(plan__check_items__in=draw.plan.check_items.values("pk"))
        )
        .exclude(pk=draw.pk)
        .distinct()
    )


def confidential_earlier_draws(draw: Draw) -> list[Draw]:
    """The earlier draws embedded in ``draw``'s manifest that are not disclosed yet."""
    return list(
        earlier_draws(draw)
        .filter(disclosed_at__isnull=True)
        .select_related("organisation")
        .order_by("executed_at", "pk")
    )


def can_see_manifest(user, draw: Draw, *, confidential: list[Draw] | None = None) -> bool:
    """Whether ``user`` may see ``draw``'s whole manifest (and, with the result, its record).

    The caller has found the draw through a scoped read (``draw_get_for_user``, or the public
    portal's ``public_draw_get``). The manifest itself holds no randomness, so it is open to
    whoever may see the draw, except for what it embeds of earlier draws: every earlier draw
    still confidential must be one whose full result the user may see (before disclosure:
    its bureau's draw operators and leaders). The caller audits a view that shows
    confidential earlier results (``confidential``, if already read, saves a query).
    """
    if confidential is None:
        confidential = confidential_earlier_draws(draw)
    return all(can_see_full_result(user, earlier) for earlier in confidential)


def can_see_record(user, draw: Draw, *, confidential: list[Draw] | None = None) -> bool:
    """The full record (manifest, witness values, seed, result): this draw's result and its
    manifest must both be visible to ``user``."""
    return can_see_full_result(user, draw) and can_see_manifest(
        user, draw, confidential=confidential
    )


def effective_selections(draw: Draw) -> list[DrawSelection]:
    """The drawn sources as they stand: originals not replaced, plus approved replacements."""
    replaced = set(
        Substitution.objects.filter(
            draw=draw, kind=Substitution.Kind.OBJECT, status=Substitution.Status.APPROVED
        ).values_list("selection_id", flat=True)
    )
    selections = (
        DrawSelection.objects.filter(draw=draw)
        .select_related("source", "substitution")
        .order_by("stratum", "position")
    )
    return [s for s in selections if s.pk not in replaced]


def effective_teams(selections: list[DrawSelection]) -> dict[int, list[TeamAssignment]]:
    """Each selection's team as it stands.

    Assignment rows are append-only snapshots: the draw writes a selection's first team
    (``substitution`` empty, or the object substitution that brought the source in), and each
    approved inspector substitution writes the whole new team again. The current team is the
    latest snapshot.
    """
    ids = [s.pk for s in selections]
    groups: dict[int, dict[int | None, list[TeamAssignment]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for a in (
        TeamAssignment.objects.filter(selection_id__in=ids)
        .select_related("inspector", "substitution")
        .order_by("pk")
    ):
        groups[a.selection_id][a.substitution_id].append(a)
    teams: dict[int, list[TeamAssignment]] = {}
    for selection in selections:
        by_sub = groups.get(selection.pk, {})
        latest = max(
            (
                sub_id
                for sub_id, rows in by_sub.items()
                if sub_id is not None
                and rows[0].substitution is not None
                and rows[0].substitution.kind == Substitution.Kind.INSPECTOR
            ),
            default=None,
        )
        if latest is None:
            latest = selection.substitution_id if selection.substitution_id in by_sub else None
        teams[selection.pk] = by_sub.get(latest, [])
    return teams


def selections_for_inspector(*, user) -> QuerySet[DrawSelection]:
    """An inspector's own drawn tasks (granted per object when the draw executed)."""
    return get_objects_for_user(
        user, "lottery.view_drawn_task", klass=DrawSelection, accept_global_perms=False
    ).select_related("draw", "source")


def executed_selection_rows(
    *, organisation: Organisation, year: int, quarters: set[int] | None = None
):
    """(source_id, stratum, plan quarter, selection id) of effective selections of the year."""
    replaced = Substitution.objects.filter(
        kind=Substitution.Kind.OBJECT, status=Substitution.Status.APPROVED
    ).values("selection_id")
    qs = DrawSelection.objects.filter(
        draw__organisation=organisation,
        draw__status=Draw.Status.EXECUTED,
        draw__plan__year=year,
    ).exclude(pk__in=replaced)
    if quarters is not None:
        qs = qs.filter(draw__plan__quarter__in=quarters)
    return qs.values_list("source_id", "stratum", "draw__plan__quarter", "pk")


def cycle_quarters(
    cycle: str, year: int, quarter: int, anchor_year: int | None
) -> list[tuple[int, int]]:
    """(year, quarter) pairs of the coverage cycle that contains ``year``/``quarter``."""
    if cycle == "year":
        return [(year, q) for q in range(1, 5)]
    if cycle == "half_year":
        first = 1 if quarter <= 2 else 3
        return [(year, first), (year, first + 1)]
    anchor = anchor_year or year
    start = year - (year - anchor) % 3
    return [(y, q) for y in range(start, start + 3) for q in range(1, 5)]


def covered_sources(
    *, organisation: Organisation, periods: list[tuple[int, int]], before: tuple[int, int]
) -> set[int]:
    """Sources whose spot check, drawn by ``organisation`` for a quarter of ``periods`` before
    ``before``, was completed (docs/coverage.md).

    A source drawn but never inspected (its task cancelled, replaced, or still open) is not
    covered: it stays at tier 0 for the next draw of the cycle. A targeted check has no drawn
    source and never covers one. A completed check counts even if its draw was changed
    afterwards: the inspection happened."""
    covered: set[int] = set()
    for y in {y for y, _ in periods}:
        quarters = {q for yy, q in periods if yy == y and (yy, q) < before}
        if not quarters:
            continue
        covered |= set(
            CompletedCheck.objects.filter(
                selection__draw__organisation=organisation,
                selection__draw__status=Draw.Status.EXECUTED,
                selection__draw__plan__year=y,
                selection__draw__plan__quarter__in=quarters,
            ).values_list("selection__source_id", flat=True)
        )
    return covered


def checks_this_year(*, year: int, item_ids: list[int]) -> Counter:
    """How many completed spot checks each source had for each of these items, counted for
    the plans of ``year``, whoever drew them (docs/coverage.md): {(source id, item id): n}.

    Only a completed check counts (``CompletedCheck``); a drawn source never inspected, and
    any targeted check, count for nothing."""
    through = CompletedCheck.check_items.through
    rows = through.objects.filter(
        checkitem_id__in=item_ids,
        completedcheck__selection__draw__status=Draw.Status.EXECUTED,
        completedcheck__selection__draw__plan__year=year,
    ).values_list("completedcheck__selection__source_id", "checkitem_id")
    return Counter(rows)


def previous_inspectors(organisation_ids: list[int], before: date) -> dict[int, set[int]]:
    """For each source, the inspectors of its most recent earlier draw (to avoid repeats)."""
    latest: dict[int, tuple] = {}
    rows = (
        TeamAssignment.objects.filter(
            selection__draw__organisation_id__in=organisation_ids,
            selection__draw__status=Draw.Status.EXECUTED,
            selection__draw__plan__planned_start__lt=before,
        )
        .values_list("selection__source_id", "selection__draw_id", "inspector_id")
        .order_by("selection__draw_id")
    )
    for source_id, draw_id, inspector_id in rows:
        current = latest.get(source_id)
        if current is None or draw_id > current[0]:
            latest[source_id] = (draw_id, {inspector_id})
        elif draw_id == current[0]:
            current[1].add(inspector_id)
    return {sid: people for sid, (_draw, people) in latest.items()}


def draw_tasks_for_inspector(*, user) -> list[tuple[DrawSelection, list[TeamAssignment]]]:
    """An inspector's current drawn tasks with their teams: granted selections that were not
    replaced and whose current team still includes the user's registry record (a recused
    inspector keeps the grant on the row, but the task is no longer theirs)."""
    selections = list(
        selections_for_inspector(user=user)
        .select_related("draw__plan", "draw__organisation")
        .order_by("-draw__plan__planned_start", "draw_id", "stratum", "position")
    )
    if not selections:
        return []
    replaced = set(
        Substitution.objects.filter(
            selection__in=[s.pk for s in selections],
            kind=Substitution.Kind.OBJECT,
            status=Substitution.Status.APPROVED,
        ).values_list("selection_id", flat=True)
    )
    selections = [s for s in selections if s.pk not in replaced]
    teams = effective_teams(selections)
    from inspectors.models import Inspector

    mine = set(Inspector.objects.filter(user=user).values_list("pk", flat=True))
    return [(s, teams[s.pk]) for s in selections if mine & {a.inspector_id for a in teams[s.pk]}]


def drawn_counts(draw_ids: list[int]) -> dict[int, dict[str, int]]:
    """Effective drawn sources per draw and class, in one query: originals not replaced by an
    approved substitution, plus the replacements."""
    replaced = Substitution.objects.filter(
        draw_id__in=draw_ids, kind=Substitution.Kind.OBJECT, status=Substitution.Status.APPROVED
    ).values("selection_id")
    rows = (
        DrawSelection.objects.filter(draw_id__in=draw_ids)
        .exclude(pk__in=replaced)
        .values("draw_id", "stratum")
        .annotate(n=Count("pk"))
    )
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for row in rows:
        counts[row["draw_id"]][row["stratum"]] = row["n"]
    return counts


# --- the quarter's draws against the deadline ---------------------------------------------------


# The units that must draw every quarter: each county bureau and the city enforcement team.
DRAWING_KINDS = (Organisation.Kind.COUNTY_BUREAU, Organisation.Kind.CITY_TEAM)


def deadline_rules_for(organisations: list[Organisation]) -> dict[int, dict]:
    """Each organisation's deadline rules (``lottery.deadline_rules``), in one query: its own
    regime, or the default (本溪 2025's) when it has none."""
    from lottery.deadline_rules import default_rules
    from lottery.models import DeadlineRegime

    own = dict(
        DeadlineRegime.objects.filter(organisation__in=[o.pk for o in organisations]).values_list(
            "organisation_id", "rules"
        )
    )
    default = default_rules()
    return {o.pk: own.get(o.pk) or default for o in organisations}


def draw_due_date(
    year: int, quarter: int, *, organisation: Organisation | None = None, rules: dict | None = None
) -> date:
    """The last day of the quarterly draw under the organisation's deadline regime (本溪's
    "by the 10th of the quarter's first month" when it has none). Raises
    ``lottery.deadline_rules.DeadlineNotComputable`` when the regime counts working days of a year
    whose holiday schedule is not loaded."""
    from lottery.deadline_rules import quarter_due

    if rules is None and organisation is not None:
        rules = deadline_rules_for([organisation])[organisation.pk]
    return quarter_due(rules, "quarterly_draw", year, quarter).due


@dataclass(frozen=True)
class QuarterStanding:
    """One bureau's quarterly plan and draw against the deadline (a row of the overview)."""

    organisation: Organisation
    plan: Plan | None
    draw: Draw | None  # the plan's draw that was not discarded
    due: date | None  # None: the regime's working days need a year with no loaded schedule
    drawn: dict[str, int] = field(default_factory=dict)  # per class, executed draws only
    opens: date | None = None  # a window's first day (衡水: the last 5 working days)
    due_problem: str = ""  # why ``due`` is None ("cannot be computed: ...")

    @property
    def executed(self) -> bool:
        return self.draw is not None and self.draw.status == Draw.Status.EXECUTED

    def days_late(self, today: date) -> int:
        """Days past the due date on the day of execution, or today if not executed yet;
        zero or negative means on time (or days left); zero when it cannot be computed."""
        if self.due is None:
            return 0
        if self.executed:
            assert self.draw is not None  # executed: there is a draw
            return (timezone.localdate(self.draw.executed_at) - self.due).days
        return (today - self.due).days

    def late(self, today: date) -> bool:
        return self.days_late(today) > 0


def quarter_standings(
    *, organisations: list[Organisation], year: int, quarter: int
) -> list[QuarterStanding]:
    """Each of these bureaus' quarterly plan, its live draw and the effective drawn counts,
    in four queries however many bureaus there are (the fourth: their deadline regimes).
    Every bureau must draw each quarter, so one without a plan is a row too."""
    ids = [o.pk for o in organisations]
    plans = {
        p.organisation_id: p
        for p in Plan.objects.filter(
            kind=Plan.Kind.QUARTERLY, year=year, quarter=quarter, organisation_id__in=ids
        )
    }
    draws = {
        d.plan_id: d
        for d in Draw.objects.filter(plan__in=[p.pk for p in plans.values()]).exclude(
            status__in=Draw.DEAD_STATUSES
        )
    }
    counts = drawn_counts([d.pk for d in draws.values() if d.status == Draw.Status.EXECUTED])
    from lottery.deadline_rules import DeadlineNotComputable, quarter_due

    regimes = deadline_rules_for(organisations)
    standings = []
    for org in organisations:
        plan = plans.get(org.pk)
        draw = draws.get(plan.pk) if plan else None
        dates: dict[str, Any]
        try:
            due = quarter_due(regimes[org.pk], "quarterly_draw", year, quarter)
            dates = {"due": due.due, "opens": due.opens}
        except DeadlineNotComputable as exc:
            dates = {"due": None, "due_problem": exc.message}
        standings.append(
            QuarterStanding(
                organisation=org,
                plan=plan,
                draw=draw,
                drawn=counts.get(draw.pk, {}) if draw else {},
                **dates,
            )
        )
    return standings


def quarter_standings_for_user(*, user, year: int, quarter: int) -> list[QuarterStanding]:
    """The county bureaus and city teams in the user's scope (the city team first, then by
    division code) and where each stands with the quarter's draw. The reviewer's overview and
    the reviewer's home card both read this, so they cannot count differently."""
    organisations = sorted(
        organisations_visible_to(user).filter(kind__in=DRAWING_KINDS),
        key=lambda o: (o.kind != Organisation.Kind.CITY_TEAM, o.division_code),
    )
    return quarter_standings(organisations=organisations, year=year, quarter=quarter)


# --- decisions waiting for a leader -----------------------------------------------------------


@dataclass(frozen=True)
class PendingDecisions:
    plans: list[Plan]
    substitutions: list[Substitution]

    def __len__(self) -> int:
        return len(self.plans) + len(self.substitutions)


def decisions_pending_for_user(*, user) -> PendingDecisions:
    """What waits for this user's decision: plans submitted for approval, plans approved but
    not yet published (only a leader publishes, and a draw waits for it), and substitutions
    requested on any of the bureau's draws. Only a leader decides, and only for their own bureau, so
    everyone else gets nothing (not even a higher bureau's leaders, who can see more)."""
    if not user_can(user, Cap.APPROVE) or not user.organisation_id:
        return PendingDecisions(plans=[], substitutions=[])
    plans = (
        plan_list_for_user(user=user)
        .filter(
            organisation_id=user.organisation_id,
            status__in=[Plan.Status.SUBMITTED, Plan.Status.APPROVED],
        )
        .select_related("submitted_by")
        .order_by("submitted_at", "pk")
    )
    substitutions = (
        Substitution.objects.filter(
            draw__in=draw_list_for_user(user=user),
            draw__organisation_id=user.organisation_id,
            status=Substitution.Status.REQUESTED,
        )
        .select_related("draw__plan", "selection__source", "inspector", "requested_by")
        .order_by("requested_at", "pk")
    )
    return PendingDecisions(plans=list(plans), substitutions=list(substitutions))


def other_open_draw(plan: Plan) -> Draw | None:
    """Another draw of the plan's bureau that is prepared or committed but not executed: while
    there is one, ``plan`` cannot be drawn (see ``services.ceremony._refuse_while_another_draw_open``)."""
    return (
        Draw.objects.filter(
            organisation_id=plan.organisation_id,
            status__in=[Draw.Status.PREPARED, Draw.Status.COMMITTED],
        )
        .exclude(plan=plan)
        .select_related("plan")
        .order_by("plan__year", "plan__quarter", "pk")
        .first()
    )


def earlier_undrawn_plans(plan: Plan) -> list[Plan]:
    """Published quarterly plans of the same bureau and year, of an earlier quarter, with no
    executed draw: ``plan``'s draw waits for them (``services.ceremony._refuse_out_of_order``)."""
    if plan.kind != Plan.Kind.QUARTERLY or not plan.quarter:
        return []
    return list(
        Plan.objects.filter(
            organisation_id=plan.organisation_id,
            kind=Plan.Kind.QUARTERLY,
            year=plan.year,
            quarter__lt=plan.quarter,
            status=Plan.Status.PUBLISHED,
        )
        .exclude(draws__status=Draw.Status.EXECUTED)
        .order_by("quarter")
    )


# --- the publishable record (a read of the stored rows) ---------------------------------------


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
        .exclude(pk=exclude)  # type: ignore[misc]  # pk=None is IS NULL: excludes nothing
        .select_related("selection__source")
        .order_by("decided_at", "pk")
    )
    rows: dict[int | None, list[TeamAssignment]] = defaultdict(list)
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
