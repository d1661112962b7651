"""Demo world, lottery part, on a demo clock that follows today's date.

Everything goes through the services a bureau uses (plan_create → submit → approve → publish,
then prepare → commit → witness values → execute), so the demo is a world the product could
have made:

- every county bureau and city team has this quarter's plan, drawn at its ceremony (its list
  confidential until the inspections are over), except one county per city, which has not
  drawn yet: the city team's overview shows who is late, not a red wall;
- every bureau has next quarter's plan published and waiting for its ceremony;
- 武陟县 (the showcase county) also drew last quarter; that draw is disclosed, so a visitor
  can download its public record and verify it with ``verify_draw.py``.

Witness values are typed as people type them: some with full-width digits and spaces, which
the entry maps to the canonical six ASCII digits that the record publishes.
"""

from __future__ import annotations

import random
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from typing import Any
from unittest import mock

from django.db import transaction

from core.errors import ServiceError
from core.models import Organisation, Role
from lottery.models import Plan, RuleSet
from lottery.periods import next_quarter, period_bounds, quarter_of
from lottery.rules import preset_for
from lottery.services import ruleset_ensure_presets

WITNESSES = (("王建国", "纪检监督员"), ("李秀英", "群众代表"))
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def quarter_dates(year: int, quarter: int) -> tuple[date, date]:
    """The 15th of the quarter's first month to six days before its end: within the quarter,
    as ``lottery.periods.inspection_period_error`` requires."""
    first, last = period_bounds(year, quarter)
    return first.replace(day=15), last - timedelta(days=5)


def previous_quarter(year: int, quarter: int) -> tuple[int, int]:
    return (year - 1, 4) if quarter == 1 else (year, quarter - 1)


@contextmanager
def demo_clock(day: date, hour: int = 9):
    """The demo's own clock: what the services record happened on ``day`` (the bureaus of
    the demo drew on time, before each quarter's deadline), not on the day the demo was
    built. Only ``timezone.now`` moves; the database's own defaults keep the real time."""
    from django.utils import timezone

    moment = timezone.make_aware(datetime.combine(day, time(hour, 30)))
    with mock.patch.object(timezone, "now", return_value=moment):
        yield


def ceremony_day(year: int, quarter: int) -> date:
    """When a demo bureau holds the quarter's ceremony: the quarter's sixth day (the seeds'
    earliest deadline is the 10th of its first month)."""
    return period_bounds(year, quarter)[0] + timedelta(days=5)


def dice(rng: random.Random, typed: int) -> str:
    """Six dice as a witness might type them: plain, with full-width digits, or with spaces
    (a full-width space in one case)."""
    value = "".join(str(rng.randint(1, 6)) for _ in range(6))
    if typed % 3 == 1:
        return value.translate(FULL_WIDTH)
    if typed % 3 == 2:
        return f"{value[:3]}\u3000{value[3:]}" if typed % 2 else f" {value[:3]} {value[3:]} "
    return value


def seed(*, stdout, rng: random.Random) -> None:
    from django.utils import timezone

    from core.demo import SHOWCASE_COUNTY
    from registry.demo import seed_check_items

    ruleset_ensure_presets()
    today = timezone.localdate()
    now_q = quarter_of(today)
    next_q = next_quarter(today)
    last_q = previous_quarter(*now_q)
    for year in sorted({last_q[0], next_q[0]} - {now_q[0]}):
        seed_check_items(stdout=stdout, year=year)  # the list comes before the plan

    bureaus = list(
        Organisation.objects.filter(
            kind__in=[Organisation.Kind.COUNTY_BUREAU, Organisation.Kind.CITY_TEAM]
        ).order_by("parent__division_code", "kind", "division_code")
    )
    # One county per city has not drawn this quarter yet: the last by code.
    late = {}
    for org in bureaus:
        if org.kind == Organisation.Kind.COUNTY_BUREAU and org.division_code != SHOWCASE_COUNTY:
            late[org.parent_id] = org.pk
    made: dict[str, Any] = {"plans": 0, "draws": 0, "refused": []}
    for org in bureaus:
        clerk = org.users.filter(role=Role.CLERK).order_by("pk").first()
        leader = org.users.filter(role=Role.LEADER).order_by("pk").first()
        if not (clerk and leader):
            continue
        periods = [(now_q, org.pk not in late.values()), (next_q, False)]
        if org.division_code == SHOWCASE_COUNTY and org.kind == Organisation.Kind.COUNTY_BUREAU:
            periods.insert(0, (last_q, True))
        for (year, quarter), drawn in periods:
            _plan_and_draw(org, clerk, leader, year, quarter, drawn=drawn, rng=rng, made=made)

    from lottery.services import draws_disclose_due

    disclosed = draws_disclose_due(today=today)
    stdout.write(
        f"lottery: plans published: {made['plans']}, draws executed: {made['draws']}, "
        f"disclosed: {disclosed}"
    )
    for line in made["refused"]:
        stdout.write(f"lottery: {line}")


def today() -> date:
    from django.utils import timezone

    return timezone.localdate()


def _plan_and_draw(org, clerk, leader, year, quarter, *, drawn, rng, made) -> None:
    from core.demo import SHOWCASE_COUNTY
    from lottery import services

    if Plan.objects.filter(organisation=org, year=year, quarter=quarter).exists():
        return  # idempotent: a second run changes nothing
    start, end = quarter_dates(year, quarter)
    preset = preset_for(
        division_code=org.division_code, city_team=org.kind == Organisation.Kind.CITY_TEAM
    )
    published = list(org.check_items.filter(year=year, published_at__isnull=False).order_by("code"))
    # Items any certified inspector can check; the showcase county adds one that asks for
    # expertise, so its draw shows teams matched to it.
    items = [i for i in published if not i.required_expertise][:2]
    if org.division_code == SHOWCASE_COUNTY and org.kind == Organisation.Kind.COUNTY_BUREAU:
        items += [i for i in published if i.required_expertise][:1]
    ceremony = ceremony_day(year, quarter)
    try:
        with transaction.atomic(), demo_clock(min(ceremony - timedelta(days=20), today())):
            # all or nothing: a refusal leaves no half-made plan
            plan = services.plan_create(
                actor=clerk,
                organisation=org,
                kind=Plan.Kind.QUARTERLY,
                year=year,
                quarter=quarter,
                title=f"{org.short_name or org.name}{year}年第{quarter}季度“双随机、一公开”抽查计划",
                classes=["key", "general", "special"],
                ruleset=RuleSet.objects.get(organisation__isnull=True, code=preset.code),
                check_items=items,
                planned_start=start,
                planned_end=end,
            )
            plan = services.plan_submit(actor=clerk, plan=plan)
            plan = services.plan_approve(actor=leader, plan=plan)
            plan = services.plan_publish(actor=leader, plan=plan)
        made["plans"] += 1
    except ServiceError as exc:
        made["refused"].append(
            f"{org.short_name} {year}Q{quarter} plan not made: {'; '.join(exc.messages)}"
        )
        return
    if not drawn or ceremony > today():
        return  # not drawn yet (the demo never draws in the future)
    try:
        with transaction.atomic(), demo_clock(ceremony):
            try:
                draw = services.draw_prepare(actor=clerk, plan=plan)
            except ServiceError as exc:
                if exc.code != "scarce_expertise":
                    raise
                # The remedy prepare offers: the bureau accepts a higher share for this plan
                # (recorded in the manifest), as a small bureau with few specialists would.
                draw = services.draw_prepare(actor=clerk, plan=plan, max_team_share=100)
            draw = services.draw_commit(actor=clerk, draw=draw)
            for typed, (name, role) in enumerate(WITNESSES, start=made["draws"]):
                services.draw_add_entropy(
                    actor=clerk,
                    draw=draw,
                    witness_name=name,
                    witness_role=role,
                    value=dice(rng, typed),
                )
            services.draw_execute(actor=clerk, draw=draw)
        made["draws"] += 1
    except ServiceError as exc:
        made["refused"].append(
            f"{org.short_name} {year}Q{quarter} draw not made: {'; '.join(exc.messages)}"
        )
