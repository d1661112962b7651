"""The read model of a draw's pools: which sources a plan draws from (eligible, excluded
with a reason, weighted, tiered), its quotas, and the inspector pool. Pure reads, used by
the ceremony's services and by the plan page."""

from __future__ import annotations

import functools
import operator
from collections import Counter, defaultdict

from django.db import connection

from inspectors.models import Inspector
from inspectors.selectors import inspectors_eligible
from lottery.models import Draw, DrawExclusion, Plan
from lottery.rules import ClassFacts, ClassQuota, quota_for_class, rule_of, source_weight
from lottery.selectors import (
    checks_this_year,
    covered_sources,
    cycle_quarters,
    executed_selection_rows,
)
from registry.models import PollutionSource


def pool_queryset(plan: Plan):
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
            pool_queryset(plan)
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
        exclude_listed = bool(positive and positive["mode"] == "exclude")
        off_site_listed = bool(positive and positive["mode"] == "off_site")
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
    drawn: defaultdict[str, int] = defaultdict(int)
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


def inspector_pool(plan: Plan) -> tuple[list[dict], dict[str, int]]:
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


def frozen_pool(draw: Draw):
    """The sources that could be in ``draw``'s manifest: the pool's scope without the sources
    the preparation excluded. A code is unique per bureau only, so a drawn code is looked up
    here, never in the whole registry (``services.storage._source_ids`` handles a twin
    registered since)."""
    return pool_queryset(draw.plan).exclude(
        pk__in=DrawExclusion.objects.filter(draw=draw).values("source_id")
    )
