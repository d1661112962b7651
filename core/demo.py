"""Demo world, part one: the organisation tree of the four seed cities and a user per role.

Every app may add its own part in ``<app>/demo.py`` with ``seed(*, stdout, rng)``; the
``demo_seed`` command runs them in INSTALLED_APPS order. Every part is idempotent.
"""

from __future__ import annotations

import random

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from core.divisions import CITIES, COUNTIES, PROVINCES
from core.models import Organisation, Role
from core.services import calendar_seed_from_library, user_create

DEMO_PASSWORD = "Demo-2026!"
# The county whose users are named for easy demos: 武陟县 (seed 002).
SHOWCASE_COUNTY = "410823"


def _org(code: str, kind: str, name: str, parent: Organisation | None, short: str = ""):
    org, _ = Organisation.objects.update_or_create(
        division_code=code,
        kind=kind,
        defaults={"name": name, "parent": parent, "short_name": short},
    )
    return org


def seed_organisations() -> dict[str, Organisation]:
    """Province departments, city bureaus and teams, county bureaus. Returns by key."""
    orgs: dict[str, Organisation] = {}
    K = Organisation.Kind
    for code, name in PROVINCES.items():
        orgs[f"province:{code}"] = _org(code, K.PROVINCE, f"{name}生态环境厅", None, name)
    for code, (name, province, _slug) in CITIES.items():
        bureau = _org(code, K.CITY_BUREAU, f"{name}生态环境局", orgs[f"province:{province}"], name)
        orgs[f"city_bureau:{code}"] = bureau
        orgs[f"city_team:{code}"] = _org(
            code, K.CITY_TEAM, f"{name}生态环境保护综合行政执法队", bureau, f"{name}执法队"
        )
    for code, (name, city) in COUNTIES.items():
        city_name = CITIES[city][0]
        orgs[f"county:{code}"] = _org(
            code,
            K.COUNTY_BUREAU,
            f"{city_name}生态环境局{name}分局",
            orgs[f"city_bureau:{city}"],
            name,
        )
    return orgs


def demo_users(orgs: dict[str, Organisation]) -> list[tuple[str, str, Organisation | None, str]]:
    """(username, role, organisation, display name) for every demo account."""
    users: list[tuple[str, str, Organisation | None, str]] = [
        ("admin", Role.ADMIN, None, "系统管理员"),
    ]
    for code, name in PROVINCES.items():
        if code == "410000":
            users.append(
                ("henan_viewer", Role.PROVINCE_VIEWER, orgs[f"province:{code}"], f"{name}厅查看员")
            )
    for code, (name, _province, slug) in CITIES.items():
        users.append(
            (
                f"{slug}_reviewer",
                Role.CITY_REVIEWER,
                orgs[f"city_team:{code}"],
                f"{name}执法队审核员",
            )
        )
        users.append(
            (f"{slug}_team_clerk", Role.CLERK, orgs[f"city_team:{code}"], f"{name}执法队经办人")
        )
        users.append(
            (f"{slug}_team_leader", Role.LEADER, orgs[f"city_team:{code}"], f"{name}执法队负责人")
        )
    for code, (name, _city) in COUNTIES.items():
        org = orgs[f"county:{code}"]
        prefix = "wuzhi" if code == SHOWCASE_COUNTY else f"c{code}"
        users.append((f"{prefix}_clerk", Role.CLERK, org, f"{name}经办人"))
        users.append((f"{prefix}_leader", Role.LEADER, org, f"{name}分管负责人"))
        if code == SHOWCASE_COUNTY:
            users.append((f"{prefix}_clerk2", Role.CLERK, org, f"{name}经办人二"))
            users.append((f"{prefix}_inspector", Role.INSPECTOR, org, f"{name}执法人员"))
    return users


@transaction.atomic
def seed(*, stdout, rng: random.Random) -> None:
    calendar_seed_from_library()
    orgs = seed_organisations()
    User = get_user_model()
    created = 0
    # Hashing is deliberately slow; every demo account has the same password, so hash it once.
    password_hash = make_password(DEMO_PASSWORD)
    for username, role, org, display in demo_users(orgs):
        if User.objects.filter(username=username).exists():
            continue
        user_create(
            actor=None,
            username=username,
            password=DEMO_PASSWORD,
            password_hash=password_hash,
            role=role,
            organisation=org,
            display_name=display,
        )
        created += 1
    stdout.write(f"organisations: {len(orgs)}, demo users created: {created}")
