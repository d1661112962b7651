"""Who sees what: a county its own bureau, the city team its counties, the province all, the
public nothing (role × URL)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.models import Organisation, Role
from tests.conftest import _make_user

pytestmark = pytest.mark.django_db

Q1 = "?year=2026&quarter=1"


@pytest.fixture
def second_city(orgs):
    """新乡市 (4107), a second city of 河南, with one county."""
    province = orgs["province:410000"]
    bureau = Organisation.objects.create(
        division_code="410700",
        kind="city_bureau",
        name="新乡市生态环境局",
        short_name="新乡市",
        parent=province,
    )
    Organisation.objects.create(
        division_code="410700",
        kind="city_team",
        name="新乡市执法队",
        short_name="新乡市执法队",
        parent=bureau,
    )
    return Organisation.objects.create(
        division_code="410721",
        kind="county_bureau",
        name="新乡市生态环境局新乡县分局",
        short_name="新乡县",
        parent=bureau,
    )


@pytest.fixture
def personas(county_clerk, county_leader, city_reviewer, province_viewer, outsider_clerk, county):
    return {
        "inspector": _make_user("insp", Role.INSPECTOR, county),
        "county_clerk": county_clerk,
        "county_leader": county_leader,
        "city_reviewer": city_reviewer,
        "province_viewer": province_viewer,
        "outsider_clerk": outsider_clerk,
    }


def test_role_by_url_matrix(client, personas, county, other_county, orgs, second_city):
    luliang_county = next(o for k, o in orgs.items() if k.startswith("county:1411"))
    urls = {
        "dashboard": "/lottery/quotas/" + Q1,
        "province": reverse("oversight:province") + Q1,
        "bureau": reverse("oversight:bureau") + Q1,
        "own_drill": reverse("oversight:drill", args=[county.pk, "tasks"]) + Q1,
        "neighbour_drill": reverse("oversight:drill", args=[other_county.pk, "tasks"]) + Q1,
        "other_city_drill": reverse("oversight:drill", args=[second_city.pk, "tasks"]) + Q1,
        "other_province_drill": reverse("oversight:drill", args=[luliang_county.pk, "tasks"]) + Q1,
    }
    expected = {
        #                   dash prov bur own neigh city prov
        "inspector": (403, 403, 403, 403, 403, 403, 403),
        "county_clerk": (403, 403, 200, 200, 404, 404, 404),
        "county_leader": (200, 403, 200, 200, 404, 404, 404),
        "city_reviewer": (200, 403, 200, 200, 200, 404, 404),
        "province_viewer": (200, 200, 302, 200, 200, 200, 404),
        "outsider_clerk": (403, 403, 200, 404, 200, 404, 404),
    }
    found = {}
    for name, user in personas.items():
        client.force_login(user)
        found[name] = tuple(client.get(url).status_code for url in urls.values())
        client.logout()
    assert found == expected
    # The public: every page sends to the login.
    for url in urls.values():
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_each_role_sees_its_own_rows(
    client_for, county_leader, city_reviewer, province_viewer, county, second_city
):
    rows = client_for(county_leader).get("/lottery/quotas/" + Q1).context["rows"]
    assert [r.organisation for r in rows] == [county]
    rows = client_for(city_reviewer).get("/lottery/quotas/" + Q1).context["rows"]
    assert {r.organisation.division_code[:4] for r in rows} == {"4108"} and len(rows) == 12
    page = client_for(province_viewer).get(reverse("oversight:province") + Q1)
    assert [c["prefix"] for c in page.context["cities"]] == ["4107", "4108"]
    assert [c["name"] for c in page.context["cities"]] == ["新乡市", "焦作市"]
    html = page.content.decode()
    assert html.count('data-testid="city-row"') == 2
    rows = client_for(province_viewer).get("/lottery/quotas/" + Q1 + "&city=4107").context["rows"]
    assert {r.organisation.division_code for r in rows} == {"410700", "410721"}


def test_navigation_leads_each_role_to_its_page(
    client_for, county_leader, province_viewer, county_clerk
):
    assert client_for(province_viewer).get(reverse("oversight:index"))["Location"] == reverse(
        "oversight:province"
    )
    assert client_for(county_leader).get(reverse("oversight:index"))["Location"] == reverse(
        "lottery:quota_overview"
    )
    html = client_for(county_clerk).get(reverse("home")).content.decode()
    assert reverse("oversight:bureau") in html


def _report(organisation, kind, user, *, status="done", quarter=1):
    from oversight.models import Report

    done = status == "done"
    return Report.objects.create(
        organisation=organisation,
        kind=kind,
        year=2026,
        quarter=0 if kind in Report.YEARLY_KINDS else quarter,
        version=1,
        status=status,
        data={} if done else None,
        data_sha256="a" * 64 if done else "",
        pdf="oversight-reports/x.pdf" if done else "",
        requested_by=user,
    )


def test_role_by_report_matrix(client, personas, county, other_county, orgs, second_city):
    """The returns and year-end reports: a county its own, the city team its counties' (built)
    and its own, the province all of its cities' (built), the public nothing."""
    team = orgs["city_team:410800"]
    clerk, reviewer = personas["county_clerk"], personas["city_reviewer"]
    reports = {
        "own_return": _report(county, "results_return", clerk),
        "neighbour_return": _report(other_county, "plans_return", personas["outsider_clerk"]),
        "other_city_return": _report(second_city, "results_return", reviewer),
        "city_return": _report(team, "city_return", reviewer),
        "own_running": _report(county, "year_end", clerk, status="running"),
        "self_check": _report(county, "self_check", clerk),
        "circular": _report(team, "circular", reviewer),
    }
    urls = {k: reverse("oversight:report_detail", args=[r.pk]) for k, r in reports.items()}
    expected = {
        #                   own  neigh city+ city  run  self circ
        "inspector": (404, 404, 404, 404, 404, 404, 404),
        "county_clerk": (200, 404, 404, 404, 200, 200, 200),
        "county_leader": (200, 404, 404, 404, 200, 200, 200),
        "city_reviewer": (200, 200, 404, 200, 404, 200, 200),
        "province_viewer": (200, 200, 200, 200, 404, 200, 404),
        "outsider_clerk": (404, 200, 404, 404, 404, 404, 200),
    }
    found = {}
    for name, user in personas.items():
        client.force_login(user)
        found[name] = tuple(client.get(url).status_code for url in urls.values())
        client.logout()
    assert found == expected
    for url in urls.values():
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    # Who may ask for which report (the form offers only those; a post of another is a 403).
    client.force_login(clerk)
    page = client.get(reverse("oversight:reports"))
    assert [k for k, _label in page.context["kinds"]] == [
        "plans_return",
        "results_return",
        "year_end",
        "self_check",
    ]
    for kind in ("city_return", "annual", "circular"):
        response = client.post(
            reverse("oversight:report_request"), {"kind": kind, "year": 2026, "quarter": 1}
        )
        assert response.status_code == 403
    client.force_login(personas["province_viewer"])
    response = client.post(
        reverse("oversight:report_request"), {"kind": "results_return", "year": 2026, "quarter": 1}
    )
    assert response.status_code == 403
    client.force_login(reviewer)
    kinds = [k for k, _label in client.get(reverse("oversight:reports")).context["kinds"]]
    assert "city_return" in kinds and "results_return" in kinds
