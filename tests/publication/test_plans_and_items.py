"""The public portal's plans and check-item lists (no login): published plans only, each
with its rules, items and public draws; the published check items of every bureau."""

from __future__ import annotations

from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from lottery.models import Plan
from tests.lottery.scenario import build_world, make_draw
from tests.publication.world import item, plan

pytestmark = pytest.mark.django_db


def get(client, name, *args, **params):
    response = client.get(reverse(f"publication:{name}", args=args), params)
    return response, response.content.decode()


# --- plans ---------------------------------------------------------------------------


def test_the_public_sees_published_plans_and_never_a_draft_or_an_unpublished_one(
    client, county, staff
):
    clerk, leader = staff(county.division_code)
    published = plan(county, clerk, leader, quarter=1)
    draft = plan(county, clerk, leader, quarter=2, status="draft")
    approved = plan(county, clerk, leader, quarter=3, status="approved")

    response, html = get(client, "plan_list")
    assert response.status_code == 200
    assert html.count('data-testid="public-plan-row"') == 1
    assert published.title in html
    assert draft.title not in html and approved.title not in html
    assert get(client, "plan_detail", published.pk)[0].status_code == 200
    assert get(client, "plan_detail", draft.pk)[0].status_code == 404
    assert get(client, "plan_detail", approved.pk)[0].status_code == 404


def test_a_published_plan_shows_its_rules_items_and_only_its_public_draws(client, county, staff):
    build_world(county)
    clerk, leader = staff(county.division_code)
    own = item(county, clerk, leader, "HB-01")
    shown = plan(county, clerk, leader, quarter=1, items=[own])
    committed = make_draw(shown, clerk, stage="executed")  # one open draw at a time
    other = plan(county, clerk, leader, quarter=2)
    prepared = make_draw(other, clerk, stage="prepared")

    response, html = get(client, "plan_detail", shown.pk)
    assert response.status_code == 200
    assert shown.organisation.name in html and "2026Q1" in html
    assert "2026-01-11" in html and "2026-03-25" in html  # the inspection period
    assert [row["text"] for row in response.context["rules"]] and all(
        row["text"] in html for row in response.context["rules"]
    )
    assert "重点" in html and "一般" in html and "特殊" in html  # the classes, in words
    assert own.name in html and own.legal_basis in html
    assert reverse("publication:draw_detail", args=[committed.pk]) in html
    assert reverse("lottery:draw_detail", args=[committed.pk]) not in html  # no staff page
    other_html = get(client, "plan_detail", other.pk)[1]
    assert prepared.number not in other_html
    assert 'data-testid="public-plan-draw-link"' not in other_html


def test_the_plan_list_filters_by_the_organisation_tree_and_by_year(client, orgs, staff):
    wuzhi, wenxian, lishi = (orgs[f"county:{c}"] for c in ("410823", "410825", "141102"))
    titles = {}
    for org in (wuzhi, wenxian, lishi):
        clerk, leader = staff(org.division_code)
        titles[org.division_code] = plan(org, clerk, leader).title
    clerk, leader = staff(wuzhi.division_code)
    old = plan(wuzhi, clerk, leader, year=2025, quarter=4).title

    def listed(**params):
        html = get(client, "plan_list", **params)[1]
        return {t for t in [*titles.values(), old] if t in html}

    assert listed() == {*titles.values(), old}
    assert listed(org=wuzhi.pk) == {titles["410823"], old}
    assert listed(org=orgs["city_bureau:410800"].pk) == {titles["410823"], titles["410825"], old}
    assert listed(org=orgs["province:410000"].pk) == {titles["410823"], titles["410825"], old}
    assert listed(org=orgs["province:140000"].pk) == {titles["141102"]}
    assert listed(org=orgs["city_team:410800"].pk) == set()  # the team has published nothing
    assert listed(year=2025) == {old}
    assert listed(org=wuzhi.pk, year=2026) == {titles["410823"]}
    assert listed(org="x", year="20") == {*titles.values(), old}  # nonsense is ignored


def test_the_organisation_filter_offers_the_tree_above_the_publishing_bureaus(client, orgs, staff):
    for code in ("410823", "141102"):
        clerk, leader = staff(code)
        plan(orgs[f"county:{code}"], clerk, leader)
    response, _html = get(client, "plan_list")
    options = [(o.organisation.pk, o.depth) for o in response.context["organisations"]]
    assert options == [
        (orgs["province:140000"].pk, 0),
        (orgs["city_bureau:141100"].pk, 1),
        (orgs["county:141102"].pk, 2),
        (orgs["province:410000"].pk, 0),
        (orgs["city_bureau:410800"].pk, 1),
        (orgs["county:410823"].pk, 2),
    ]


def test_a_page_of_plans_costs_a_fixed_number_of_queries(
    client, orgs, staff, django_assert_max_num_queries
):
    codes = ["410823", "410825", "141102", "141121"]
    for code in codes:
        clerk, leader = staff(code)
        org = orgs[f"county:{code}"]
        build_world(org, key=4, general=4, special=0, inspectors=4)
        for quarter in (1, 2, 3):
            made = plan(org, clerk, leader, quarter=quarter)
            make_draw(made, clerk, stage="committed" if quarter == 3 else "executed")
    with django_assert_max_num_queries(4):
        response = client.get(reverse("publication:plan_list"))
    assert response.content.decode().count('data-testid="public-plan-row"') == 12
    assert {p.public_draws for p in response.context["page"]} == {1}
    with django_assert_max_num_queries(4):
        client.get(reverse("publication:plan_list"), {"org": orgs["province:410000"].pk})
    one = Plan.objects.filter(organisation=orgs["county:410823"], quarter=1).get()
    with django_assert_max_num_queries(3):
        assert client.get(reverse("publication:plan_detail", args=[one.pk])).status_code == 200


def test_the_plan_pages_are_in_chinese(client, county, staff):
    clerk, leader = staff(county.division_code)
    shown = plan(county, clerk, leader)
    for response, html in (get(client, "plan_list"), get(client, "plan_detail", shown.pk)):
        assert response.status_code == 200
        assert '<html lang="zh-hans">' in html
        assert "抽查计划" in html and "检查期间" in html
        assert "Spot-check plans" not in html and "Inspections" not in html


# --- the check-item list ---------------------------------------------------------------


def test_the_check_item_list_shows_published_items_only(client, county, staff):
    clerk, leader = staff(county.division_code)
    shown = item(county, clerk, leader, "HB-01", is_key_item=True)
    hidden = item(county, clerk, leader, "HB-02", publish=False)
    response, html = get(client, "checkitem_list")
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in html and "随机抽查事项清单" in html
    assert html.count('data-testid="public-checkitem-row"') == 1
    for text in (shown.name, shown.legal_basis, shown.checking_body, shown.target_objects):
        assert text in html
    assert "现场检查" in html and "重点事项" in html and "重点" in html
    assert hidden.name not in html and 'data-code="HB-02"' not in html


def test_the_check_item_list_filters_by_organisation_and_year(client, orgs, staff):
    wuzhi, lishi = orgs["county:410823"], orgs["county:141102"]
    for org in (wuzhi, lishi):
        clerk, leader = staff(org.division_code)
        item(org, clerk, leader, f"{org.division_code}-A")
        item(org, clerk, leader, f"{org.division_code}-OLD", year=2025)

    def codes(**params):
        html = get(client, "checkitem_list", **params)[1]
        return {
            code
            for code in ("410823-A", "410823-OLD", "141102-A", "141102-OLD")
            if f'data-code="{code}"' in html
        }

    assert codes() == {"410823-A", "410823-OLD", "141102-A", "141102-OLD"}
    assert codes(org=wuzhi.pk) == {"410823-A", "410823-OLD"}
    assert codes(org=orgs["city_bureau:141100"].pk) == {"141102-A", "141102-OLD"}
    assert codes(year=2025) == {"410823-OLD", "141102-OLD"}
    assert codes(org=lishi.pk, year=2026) == {"141102-A"}


def test_the_check_item_list_downloads_as_excel_with_the_same_filter(client, orgs, staff):
    wuzhi, lishi = orgs["county:410823"], orgs["county:141102"]
    for org in (wuzhi, lishi):
        clerk, leader = staff(org.division_code)
        item(org, clerk, leader, f"{org.division_code}-A", content="=HYPERLINK(1)")
        item(org, clerk, leader, f"{org.division_code}-DRAFT", publish=False)
    response = client.get(reverse("publication:checkitem_export"), {"org": wuzhi.pk})
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("所属单位", "年度", "事项编号", "抽查事项")
    assert [row[2] for row in rows[1:]] == ["410823-A"]
    assert rows[1][0] == wuzhi.name and "现场检查" in rows[1]
    assert "'=HYPERLINK(1)" in rows[1]  # a formula is neutralised
