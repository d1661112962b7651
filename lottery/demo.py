"""Demo world, lottery part: the preset rule sets, and for every bureau an approved quarterly
plan for the coming quarter under its seed city's regime (no draw: the demo shows the
ceremony)."""

from __future__ import annotations

import random
from datetime import date

from django.db import transaction

from core.models import Organisation
from lottery.models import Plan
from lottery.rules import preset_for
from lottery.services import ruleset_ensure_presets


def next_quarter(today: date) -> tuple[int, int]:
    quarter = (today.month - 1) // 3 + 1
    return (today.year + 1, 1) if quarter == 4 else (today.year, quarter + 1)


def quarter_dates(year: int, quarter: int) -> tuple[date, date]:
    start_month = 3 * (quarter - 1) + 1
    end = date(year + 1, 1, 1) if quarter == 4 else date(year, start_month + 3, 1)
    from datetime import timedelta

    return date(year, start_month, 15), end - timedelta(days=6)


@transaction.atomic
def seed(*, stdout, rng: random.Random) -> None:
    from django.utils import timezone

    ruleset_ensure_presets()
    year, quarter = next_quarter(timezone.localdate())
    start, end = quarter_dates(year, quarter)
    created = 0
    bureaus = Organisation.objects.filter(
        kind__in=[Organisation.Kind.COUNTY_BUREAU, Organisation.Kind.CITY_TEAM]
    )
    for org in bureaus:
        if Plan.objects.filter(organisation=org, year=year, quarter=quarter).exists():
            continue
        preset = preset_for(
            division_code=org.division_code, city_team=org.kind == Organisation.Kind.CITY_TEAM
        )
        plan = Plan.objects.create(
            organisation=org,
            kind=Plan.Kind.QUARTERLY,
            year=year,
            quarter=quarter,
            title=f"{org.short_name or org.name}{year}年第{quarter}季度“双随机、一公开”抽查计划",
            classes=["key", "general", "special"],
            ruleset_code=preset.code,
            rules=preset.rules,
            planned_start=start,
            planned_end=end,
            status=Plan.Status.APPROVED,
            approved_at=timezone.now(),
        )
        items = list(org.check_items.order_by("-year", "code")[:3])
        if items:
            plan.check_items.set(items)
        created += 1
    stdout.write(f"lottery: presets ready, quarterly plans created: {created}")
