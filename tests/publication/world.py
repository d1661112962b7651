"""Published (or not) check items and plans, built through the services."""

from __future__ import annotations

from datetime import date

from lottery.models import Plan
from lottery.rules import PRESETS
from lottery.services import plan_approve, plan_create, plan_publish, plan_submit
from registry.services import checkitem_create, checkitem_publish
from tests.lottery.factories import give_plan_items

RULES = PRESETS["luliang_2020_county"].rules


def item(org, clerk, leader, code, *, year=2026, publish=True, **extra):
    data = {
        "year": year,
        "code": code,
        "name": f"事项{code}：排污许可执行情况检查",
        "legal_basis": f"《排污许可管理条例》第{code}条",
        "checking_body": org.name,
        "target_objects": "持证排污单位",
        "target_classes": ["key", "general"],
        "content": "许可证载明事项的落实情况",
        "method": "on_site",
        **extra,
    }
    made = checkitem_create(actor=clerk, organisation=org, data=data)
    return checkitem_publish(actor=leader, item=made) if publish else made


def plan(org, clerk, leader, *, year=2026, quarter=1, status="published", items=()):
    made = plan_create(
        actor=clerk,
        organisation=org,
        kind=Plan.Kind.QUARTERLY,
        year=year,
        quarter=quarter,
        title=f"{org.short_name}{year}年第{quarter}季度“双随机、一公开”抽查计划",
        classes=["key", "general", "special"],
        rules=RULES,
        check_items=items,
        planned_start=date(year, 3 * quarter - 2, 11),
        planned_end=date(year, 3 * quarter, 25),
    )
    if status in ("approved", "published"):
        give_plan_items(made)
        made = plan_approve(actor=leader, plan=plan_submit(actor=clerk, plan=made))
    if status == "published":
        made = plan_publish(actor=leader, plan=made)
    return made
