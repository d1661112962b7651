"""The read-only plans and draws API: scoped, the drawn list only for those who may see it
(and audited), and documented in the OpenAPI schema."""

from __future__ import annotations

from datetime import date

import pytest
from rest_framework.test import APIClient

from core.models import AuditEntry
from lottery.services import draws_disclose_due
from tests.lottery.scenario import build_world, make_draw, make_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def executed(county, county_clerk, county_leader):
    build_world(county)
    return make_draw(make_plan(county, county_clerk, county_leader), county_clerk)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_plans_are_scoped_and_explained(executed, county_clerk, outsider_clerk, inspector_a):
    plans = api(county_clerk).get("/api/v1/plans/").json()["results"]
    assert [p["id"] for p in plans] == [executed.plan_id]
    explained = {r["kind"]: r["text"] for r in plans[0]["rules_explained"]}
    assert "每季度抽查比例不低于25%" in explained["class_percentage"]
    assert api(outsider_clerk).get("/api/v1/plans/").json()["results"] == []
    assert api(outsider_clerk).get(f"/api/v1/plans/{executed.plan_id}/").status_code == 404
    assert api(inspector_a).get("/api/v1/plans/").status_code == 403


@pytest.mark.smoke
def test_the_drawn_list_is_in_the_api_only_for_those_who_may_see_it(
    executed, county_clerk, city_reviewer, outsider_clerk
):
    url = f"/api/v1/draws/{executed.pk}/"
    listing = api(city_reviewer).get("/api/v1/draws/").json()["results"]
    assert listing[0]["manifest_hash"] == executed.manifest_hash
    assert listing[0]["result_visible"] is False and "result" not in listing[0]
    hidden = api(city_reviewer).get(url).json()
    assert hidden["drawn"] is None and hidden["seed"] is None and hidden["entropy"] is None
    assert hidden["quotas"][0]["class"] == "key"
    assert api(city_reviewer).get(url + "record/").status_code == 403
    assert api(city_reviewer).get(url + "selections/").status_code == 403
    assert not AuditEntry.objects.filter(action="draw.view_result").exists()

    full = api(county_clerk).get(url).json()
    assert full["seed"] == executed.seed
    assert sum(c["count"] for c in full["drawn"]) == 26
    page = api(county_clerk).get(url + "selections/").json()
    drawn = {s["source_code"] for s in page["results"]}
    assert page["count"] == 26 and page["pages"] == 1 and page["next"] is None
    assert len(drawn) == 26
    assert all(len(s["team"]) >= 2 for s in page["results"])
    assert [c["count"] for c in full["drawn"]] == [
        sum(1 for s in page["results"] if s["class"] == c["class"]) for c in full["drawn"]
    ]
    record = api(county_clerk).get(url + "record/").json()
    assert record["manifest_hash"] == executed.manifest_hash
    assert (
        AuditEntry.objects.filter(
            action="draw.view_result", actor_id=county_clerk.pk, after__via="api"
        ).count()
        == 3
    )

    draws_disclose_due(today=executed.plan.planned_end.replace(day=28))
    assert api(city_reviewer).get(url).json()["drawn"] is not None
    assert api(city_reviewer).get(url + "selections/").json()["count"] == 26
    assert api(outsider_clerk).get(url).status_code == 404


def test_the_schema_documents_plans_and_draws(client):
    schema = client.get("/api/schema/?format=json").json()
    assert "/api/v1/plans/" in schema["paths"]
    assert "/api/v1/draws/{id}/" in schema["paths"]
    assert "/api/v1/draws/{id}/record/" in schema["paths"]
    assert "/api/v1/draws/{id}/selections/" in schema["paths"]
    detail = schema["components"]["schemas"]["DrawDetail"]["properties"]
    assert {"drawn", "seed", "entropy", "manifest_hash", "quotas"} <= set(detail)
    page = schema["components"]["schemas"]["SelectionPage"]["properties"]
    assert {"count", "next", "results"} <= set(page)


def test_the_drawn_list_comes_a_page_at_a_time_filtered_and_in_the_verifiable_order(
    county, county_clerk, county_leader, monkeypatch
):
    monkeypatch.setattr("lottery.display.RESULT_PAGE_SIZE", 5)
    build_world(county)
    draw = make_draw(make_plan(county, county_clerk, county_leader), county_clerk)
    client = api(county_clerk)
    url = f"/api/v1/draws/{draw.pk}/selections/"
    seen, link = [], url
    while link:
        page = client.get(link).json()
        assert len(page["results"]) <= 5 and page["pages"] == 6
        seen += [(s["class"], s["position"], s["source_code"]) for s in page["results"]]
        link = page["next"]
    order = [q["class"] for q in draw.quotas]
    assert len(seen) == 26 and len({code for _, _, code in seen}) == 26
    assert seen == sorted(seen, key=lambda s: (order.index(s[0]), s[1]))
    expected = {n: ids for n, ids in draw.result["objects"].items()}
    for name in order:  # each class in the engine's order: the record and the API agree
        assert [code for klass, _, code in seen if klass == name] == expected[name]

    key_only = client.get(url, {"class": "key"}).json()
    assert key_only["count"] == len(expected["key"])
    assert {s["class"] for s in key_only["results"]} == {"key"}
    one = expected["general"][0]
    found = client.get(url, {"q": one}).json()
    assert [s["source_code"] for s in found["results"]] == [one]
    assert "q=" in client.get(url, {"q": "S", "page": 1}).json()["next"]  # filter kept
    assert client.get(url, {"page": 7}).status_code == 404
    assert client.get(url, {"page": "x"}).status_code == 404
    assert client.get(url, {"q": "无此对象"}).json()["count"] == 0
    logged = AuditEntry.objects.filter(action="draw.view_result", after__via="api")
    assert logged.count() == 6 + 4  # every page that showed the list; refused pages not


def test_a_page_of_disclosed_draws_costs_a_fixed_number_of_queries(
    county, county_clerk, county_leader, city_reviewer, django_assert_max_num_queries
):
    build_world(county, key=8, general=8, special=0, inspectors=4)
    for quarter in (1, 2, 3):
        make_draw(make_plan(county, county_clerk, county_leader, quarter=quarter), county_clerk)
    draws_disclose_due(today=date(2026, 12, 31))
    client = api(city_reviewer)
    with django_assert_max_num_queries(15):
        listing = client.get("/api/v1/draws/").json()["results"]
    assert len(listing) == 3 and all(d["result_visible"] for d in listing)
