"""The fixed cast every test can use, and helpers for real services.

Personas live in 武陟县 (410823) under 焦作市 (410800), with an outsider in 温县 (410825)
and another city (吕梁 141100) for cross-city checks.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.models import Organisation, Role

REALDATA = Path(
    os.environ.get("SJSJ_REALDATA", Path(__file__).resolve().parents[2] / "shared" / "realdata")
)


def realdata(path: str) -> Path:
    """A file of ../shared/realdata, or skip the test with a clear reason when it is absent."""
    target = REALDATA / path
    if not target.exists():
        pytest.skip(f"real data not available: {target} (tests read ../shared/realdata)")
    return target


@pytest.fixture
def orgs(db) -> dict[str, Organisation]:
    from core.demo import seed_organisations

    return seed_organisations()


def _make_user(username: str, role: str, org: Organisation | None, **extra):
    from core.services import user_create

    return user_create(
        actor=None,
        username=username,
        password="pw-Test-2026",
        role=role,
        organisation=org,
        display_name=extra.get("display_name", username),
    )


@pytest.fixture
def county(orgs) -> Organisation:
    return orgs["county:410823"]


@pytest.fixture
def other_county(orgs) -> Organisation:
    return orgs["county:410825"]


@pytest.fixture
def county_clerk(county):
    return _make_user("clerk", Role.CLERK, county)


@pytest.fixture
def county_leader(county):
    return _make_user("leader", Role.LEADER, county)


@pytest.fixture
def inspector_a(county):
    return _make_user("inspector_a", Role.INSPECTOR, county)


@pytest.fixture
def inspector_b(county):
    return _make_user("inspector_b", Role.INSPECTOR, county)


@pytest.fixture
def city_reviewer(orgs):
    return _make_user("reviewer", Role.CITY_REVIEWER, orgs["city_team:410800"])


@pytest.fixture
def outsider_clerk(other_county):
    return _make_user("outsider", Role.CLERK, other_county)


@pytest.fixture
def province_viewer(orgs):
    return _make_user("province", Role.PROVINCE_VIEWER, orgs["province:410000"])


@pytest.fixture
def sysadmin(orgs):
    return _make_user("sysadmin", Role.ADMIN, None)


@pytest.fixture
def calendar_loaded(db):
    """The official 2024-2026 schedules, from the chinesecalendar package."""
    from core.services import calendar_seed_from_library

    calendar_seed_from_library(years=[2024, 2025, 2026])


@pytest.fixture
def client_for(client):
    """Log a persona in: ``client_for(county_clerk)``."""

    def login(user):
        client.force_login(user)
        return client

    return login
