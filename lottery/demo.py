"""Demo world, lottery part: the preset rule sets, and for every bureau a published quarterly
plan for the coming quarter under its seed city's regime (no draw: the demo shows the
ceremony, which needs a published plan)."""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.db import transaction

from core.models import Organisation, Role
from lottery.models import Plan, RuleSet
from lottery.periods import next_quarter, period_bounds
from lottery.rules import preset_for
from lottery.services import ruleset_ensure_presets


def quarter_dates(year: int, quarter: int) -> tuple[date, date]:
    """The 15th of the quarter's first month to six days before its end: within the quarter,
    as ``lottery.periods.inspection_period_error`` requires."""
    first, last = period_bounds(year, quarter)
    return first.replace(day=15), last - timedelta(days=5)


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
        clerk = org.users.filter(role=Role.CLERK).order_by("pk").first()
        leader = org.users.filter(role=Role.LEADER).order_by("pk").first()
        now = timezone.now()
        plan = Plan.objects.create(
            organisation=org,
            kind=Plan.Kind.QUARTERLY,
            year=year,
            quarter=quarter,
            title=f"{org.short_name or org.name}{year}年第{quarter}季度“双随机、一公开”抽查计划",
            classes=["key", "general", "special"],
            ruleset_code=preset.code,
            ruleset_name=str(preset.name),
            rules=preset.rules,
            planned_start=start,
            planned_end=end,
            status=Plan.Status.PUBLISHED,
            created_by=clerk,
            submitted_by=clerk,
            submitted_at=now,
            approved_by=leader,
            approved_at=now,
            published_by=leader,
            published_at=now,
        )
        items = list(org.check_items.order_by("-year", "code")[:3])
        if items:
            plan.check_items.set(items)
        created += 1
    stdout.write(f"lottery: presets ready, quarterly plans created: {created}")
    _showcase_draw(stdout, rng)


def _showcase_draw(stdout, rng: random.Random) -> None:
    """武陟县 gets this quarter's plan drawn through the real ceremony, so the demo shows a
    finished draw (its record, PDF and verification) beside next quarter's plan waiting."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from core.demo import SHOWCASE_COUNTY
    from core.errors import ServiceError
    from lottery import services

    User = get_user_model()
    clerk = User.objects.filter(username="wuzhi_clerk").first()
    leader = User.objects.filter(username="wuzhi_leader").first()
    org = Organisation.objects.filter(
        division_code=SHOWCASE_COUNTY, kind=Organisation.Kind.COUNTY_BUREAU
    ).first()
    if not (clerk and leader and org):
        return
    today = timezone.localdate()
    year, quarter = today.year, (today.month - 1) // 3 + 1
    if Plan.objects.filter(organisation=org, year=year, quarter=quarter).exists():
        return
    start, end = quarter_dates(year, quarter)
    preset = preset_for(division_code=org.division_code, city_team=False)
    try:
        with transaction.atomic():  # all or nothing: a refusal leaves no half-made plan
            plan = services.plan_create(
                actor=clerk,
                organisation=org,
                kind=Plan.Kind.QUARTERLY,
                year=year,
                quarter=quarter,
                title=f"{org.short_name}{year}年第{quarter}季度“双随机、一公开”抽查计划",
                classes=["key", "general", "special"],
                ruleset=RuleSet.objects.get(organisation__isnull=True, code=preset.code),
                planned_start=start,
                planned_end=end,
            )
            plan = services.plan_submit(actor=clerk, plan=plan)
            plan = services.plan_approve(actor=leader, plan=plan)
            plan = services.plan_publish(actor=leader, plan=plan)
            draw = services.draw_prepare(actor=clerk, plan=plan)
            draw = services.draw_commit(actor=clerk, draw=draw)
            for name, role in (("王建国", "纪检监督员"), ("李秀英", "群众代表")):
                value = "".join(str(rng.randint(1, 6)) for _ in range(6))  # six dice
                services.draw_add_entropy(
                    actor=clerk, draw=draw, witness_name=name, witness_role=role, value=value
                )
            draw = services.draw_execute(actor=clerk, draw=draw)
    except ServiceError as exc:
        stdout.write(f"lottery: showcase draw not made: {'; '.join(exc.messages)}")
        return
    stdout.write(f"lottery: showcase draw {draw.number} executed for {org.short_name}")
