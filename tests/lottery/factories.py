"""Object graphs for draw tests: sources and inspectors created in bulk."""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from core.uscc import make_uscc
from inspectors.models import Inspector
from registry.models import CheckItem, PollutionSource

_counter = {"n": 0}


def make_sources(org, n: int, *, klass: str = "key", prefix: str | None = None, **extra):
    start = _counter["n"]
    _counter["n"] += n
    prefix = prefix or f"S{org.division_code}"
    rows = []
    for i in range(start, start + n):
        body = f"{i:09d}"
        rows.append(
            PollutionSource(
                organisation=org,
                managed_by=extra.pop("managed_by", "county") if False else "county",
                source_code=f"{prefix}{klass[0].upper()}{i:06d}",
                name=f"测试污染源{i}",
                company_name=f"测试企业{i}有限公司",
                uscc=make_uscc("91", org.division_code, body),
                supervision_class=klass,
                special_reason="群众反复投诉" if klass == "special" else "",
                county_code=org.division_code,
                **extra,
            )
        )
    return PollutionSource.objects.bulk_create(rows)


def make_inspectors(org, n: int, *, expertise=(), valid_until=date(2030, 12, 31), **extra):
    start = _counter["n"]
    _counter["n"] += n
    rows = [
        Inspector(
            organisation=org,
            name=f"检查员{i}",
            kind="enforcement",
            certificate_number=f"{org.division_code}2026{i:05d}",
            certificate_valid_until=valid_until,
            on_staff=True,
            is_active=True,
            expertise=list(expertise),
            **extra,
        )
        for i in range(start, start + n)
    ]
    return Inspector.objects.bulk_create(rows)


def make_check_item(
    org, code: str, *, year: int = 2026, expertise=(), published=True, **extra
) -> CheckItem:
    """One item of ``org``'s check-item list, requiring ``expertise`` of the team; published
    unless ``published=False`` (a plan is submitted only with items of a published list)."""
    if published:
        extra.setdefault("published_at", timezone.now())
    return CheckItem.objects.create(
        organisation=org,
        year=year,
        code=code,
        name=extra.pop("name", f"抽查事项{code}"),
        legal_basis=extra.pop("legal_basis", "《中华人民共和国环境保护法》"),
        checking_body=extra.pop("checking_body", f"{org.name}"),
        required_expertise=list(expertise),
        **extra,
    )


def give_plan_items(plan) -> None:
    """A plan without check items gets one published item of its year's list (a plan is
    submitted only with items of its year's published list)."""
    if plan.check_items.exists():
        return
    item = (
        CheckItem.objects.filter(
            organisation=plan.organisation, year=plan.year, published_at__isnull=False
        )
        .order_by("code")
        .first()
    ) or make_check_item(plan.organisation, f"T{plan.year}-01", year=plan.year)
    plan.check_items.add(item)
