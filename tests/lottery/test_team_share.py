"""Random teams under scarce expertise (issue 9, docs §8 version 3): the cap on one
inspector's teams holds, leaders vary, and prepare's forecast is the engine's real load.

Pure engine and lottery.forecast (no database): hypothesis draws county-like teams with one or
two certified holders of a required expertise among 6–16 inspectors.
"""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lottery import engine
from lottery.forecast import forecast_teams

#: The stated tolerance (docs §8): the forecast load of each inspector is within this many
#: teams of the real draw's, or 10 % of the forecast, whichever is larger.
TOLERANCE_TEAMS = 2


@st.composite
def scarce(draw):
    certified = draw(st.integers(6, 16))
    holders = draw(st.integers(1, 2))
    experts = draw(st.integers(0, 2))
    teams = draw(st.integers(10, 150))
    pool = teams + draw(st.integers(0, 80))
    people = [
        {
            "id": f"I{i:02d}",
            "name": f"检查员{i}",
            "certified": True,
            "expertise": ["排污许可"] if i < holders else [],
        }
        for i in range(certified)
    ]
    people += [
        {
            "id": f"X{i}",
            "name": f"专家{i}",
            "certified": False,
            "expert": True,
            "expertise": ["排污许可"],
        }
        for i in range(experts)
    ]
    ids = [f"S{i:04d}" for i in range(pool)]
    # Without an expert the only remedy left is to accept a higher share (prepare refuses
    # the default): the bureau accepts 100 %.
    share = None if experts else 100
    manifest = engine.build_manifest(
        draw={},
        strata=[{"name": "key", "quota": teams, "pool": ids}],
        inspectors=people,
        witnesses=1,
        constraints={o: {"requires": ["排污许可"]} for o in ids},
        max_team_share=share,
    )
    value = f"{draw(st.integers(0, 999999)):06d}"
    return manifest, value


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scarce())
def test_it_keeps_every_inspector_under_the_share_and_varies_leaders_and_forecasts_the_load(
    case,
) -> None:
    manifest, value = case
    cap = manifest["constraints"]["max_teams"]
    forecast = forecast_teams(manifest, engine.manifest_hash(manifest))
    assert forecast.over_cap == []  # what prepare requires before a commitment
    record = engine.execute(manifest, [{"witness": "甲", "value": value}])
    teams = record["result"]["teams"]
    load = Counter(p for t in teams for p in [t["leader"], *t["members"], *t["experts"]])
    certified = {p["id"] for p in manifest["inspectors"]["pool"] if p["certified"]}
    assert all(load[p] <= cap for p in certified)
    leaders = Counter(t["leader"] for t in teams)
    assert len(leaders) >= 2  # the holder, picked first for every team, does not lead them all
    for pid in set(load) | set(forecast.load):
        predicted = forecast.load.get(pid, 0.0)
        assert abs(load[pid] - predicted) <= max(TOLERANCE_TEAMS, 0.1 * predicted), pid


def test_it_caps_the_lone_holder_when_an_expert_can_stand_in() -> None:
    """The issue's 301-source draw: one certified holder of 14; with a technical expert the
    holder goes on at most the default share (3 × average, at least 25 %) of the teams."""
    people = [
        {
            "id": f"I{i:02d}",
            "name": "x",
            "certified": True,
            "expertise": ["排污许可"] if i == 1 else [],
        }
        for i in range(14)
    ]
    people.append(
        {"id": "X1", "name": "x", "certified": False, "expert": True, "expertise": ["排污许可"]}
    )
    ids = [f"S{i:03d}" for i in range(301)]
    manifest = engine.build_manifest(
        draw={},
        strata=[{"name": "key", "quota": 301, "pool": ids}],
        inspectors=people,
        witnesses=2,
        constraints={o: {"requires": ["排污许可"]} for o in ids},
    )
    assert engine.default_team_share(2, 14) == 43
    assert manifest["constraints"]["max_teams"] == 130  # ceil(43 % of 301)
    record = engine.execute(
        manifest, [{"witness": "甲", "value": "351737"}, {"witness": "乙", "value": "661234"}]
    )
    load = Counter(p for t in record["result"]["teams"] for p in [t["leader"], *t["members"]])
    assert load["I01"] == 130
    leaders = Counter(t["leader"] for t in record["result"]["teams"])
    assert leaders["I01"] < 100 and len(leaders) == 14
    assert engine.verify(record) == []
