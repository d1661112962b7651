"""A source code is unique per bureau, not nationally (issue 10): a pool that spans the bureaus
of a city can hold one code twice, and the draw must then refuse rather than guess."""

from __future__ import annotations

import pytest

from core.errors import ServiceError
from core.roles import Role
from lottery.models import Draw
from lottery.rules import PRESETS
from lottery.services import draw_add_entropy, draw_execute
from registry.models import PollutionSource
from tests.conftest import _make_user
from tests.lottery.factories import make_inspectors, make_sources
from tests.lottery.scenario import make_draw, make_plan

pytestmark = pytest.mark.django_db

CITY_AREA = [
    *[r for r in PRESETS["luliang_2020_county"].rules if r["kind"] != "pool"],
    {"kind": "pool", "scope": "city_area"},
]


@pytest.fixture
def city_team(orgs, county, other_county, monkeypatch):
    team = orgs["city_team:410800"]
    monkeypatch.setitem(PRESETS["luliang_2020_county"].__dict__, "rules", CITY_AREA)
    make_sources(county, 6, klass="key", prefix="A")
    make_sources(other_county, 6, klass="key", prefix="B")
    make_sources(county, 10, klass="general", prefix="A")
    make_sources(county, 1, klass="special", prefix="A")
    make_inspectors(team, 6)
    return team


def _twin(org, code="DUP-1", **extra):
    return PollutionSource.objects.create(
        organisation=org,
        source_code=code,
        name=f"{org.short_name or org.name}的点位",
        company_name="同码公司",
        supervision_class="key",
        county_code=org.division_code,
        **extra,
    )


def _users(team):
    return _make_user("team_clerk", Role.CLERK, team), _make_user("team_leader", Role.LEADER, team)


def test_a_shared_code_in_a_city_wide_pool_refuses_the_draw(city_team, county, other_county):
    clerk, leader = _users(city_team)
    _twin(county)
    _twin(other_county)
    plan = make_plan(city_team, clerk, leader)
    with pytest.raises(ServiceError) as refused:
        make_draw(plan, clerk, stage="prepared")
    assert "DUP-1" in refused.value.messages[0]
    assert not Draw.objects.filter(plan=plan).exists()


def test_a_cancelled_twin_is_left_out_and_the_draw_goes_ahead(city_team, county, other_county):
    clerk, leader = _users(city_team)
    _twin(county)
    _twin(other_county, status="cancelled")
    plan = make_plan(city_team, clerk, leader)
    draw = make_draw(plan, clerk)
    assert draw.status == Draw.Status.EXECUTED
    drawn = {s.source.organisation_id for s in draw.selections.filter(source__source_code="DUP-1")}
    assert drawn <= {county.pk}


def test_a_twin_registered_after_the_preparation_is_not_taken_for_the_drawn_source(
    city_team, county, other_county
):
    clerk, leader = _users(city_team)
    original = _twin(county)
    # In the year's last quarter every key source not yet covered is drawn: the code is too.
    plan = make_plan(city_team, clerk, leader, quarter=4)
    committed = make_draw(plan, clerk, stage="committed")
    twin = _twin(other_county)  # registered between the commitment and the ceremony
    for i, value in enumerate(("351624", "661234")):
        draw_add_entropy(
            actor=clerk, draw=committed, witness_name=f"见证人{i}", witness_role="", value=value
        )
    draw = draw_execute(actor=clerk, draw=committed)
    drawn = set(
        draw.selections.filter(source__source_code="DUP-1").values_list("source", flat=True)
    )
    assert drawn == {original.pk} and twin.pk not in drawn
