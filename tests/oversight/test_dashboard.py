"""The oversight dashboard: figures equal to hand-computed ones on the fixture city, colours
against each regime, drill-downs that list what a figure counts, bad input, scope."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.oversight.conftest import PUBLISH_DUE, QUARTER, YEAR

pytestmark = pytest.mark.django_db

URL = "/lottery/quotas/"


def _rows(client, q1):
    page = client.get(URL + q1)
    assert page.status_code == 200
    return {r.organisation.division_code: r for r in page.context["rows"]}, page


def _fig(row, key):
    f = row.figure(key)
    return f.text, f.tone


def test_the_dashboard_keeps_the_quota_overviews_path():
    assert reverse("lottery:quota_overview") == URL


@pytest.mark.smoke  # raw SQL of the dashboard: also on the demo's SQLite
def test_figures_equal_hand_computed_ones(client_for, city_reviewer, city, q1):
    rows, page = _rows(client_for(city_reviewer), q1)
    # 焦作: eleven county bureaus and the city team.
    assert len(rows) == 12

    # 武陟县, on time. Its plan (吕梁 county rules) drew key 5, general 20, special 1 of pools
    # 20, 40, 4; all 26 inspected, entered by 11 March, published by 30 March.
    ok = rows["410823"]
    assert [(c["class"], c["pool"], c["required"], c["drawn"]) for c in ok.classes] == [
        ("key", 20, 5, 5),
        ("general", 40, 20, 20),
        ("special", 4, 1, 1),
    ]
    assert [
        (c["inspected"], c["entered_on_time"], c["published_on_time"], c["open"])
        for c in ok.classes
    ] == [
        (5, 5, 5, 0),
        (20, 20, 20, 0),
        (1, 1, 1, 0),
    ]
    assert _fig(ok, "quota") == ("26 / 26", "green")
    assert _fig(ok, "inspected") == ("26 / 26", "green")
    assert _fig(ok, "entry") == ("26 / 26", "green")
    assert _fig(ok, "publication") == ("26 / 26", "green")
    # 武陟 2021 (the regime of 焦作) has no coverage cycle: counted, not coloured.
    assert _fig(ok, "key_coverage") == ("5 / 20", "neutral")
    assert _fig(ok, "general_coverage") == ("—", "neutral")  # no 3-year rule in 武陟 2021
    assert _fig(ok, "disclosure") == ("100.0%", "green")
    assert _fig(ok, "random_targeted") == ("26 · 0", "neutral")
    assert _fig(ok, "overdue") == ("0", "green")
    assert ok.tone == "green" and not ok.deadline["late"]

    # 温县, behind on its key quota: 10% of 20 drawn (2) where the regime wants 25% (5).
    behind = rows["410825"]
    key = behind.classes[0]
    assert (key["pool"], key["required"], key["drawn"], key["short"]) == (20, 2, 2, True)
    text, tone = _fig(behind, "quota")
    assert tone == "red" and "2" in text and "5" in text
    assert "25%" in behind.figure("quota").rule and "002" in behind.figure("quota").rule
    assert _fig(behind, "inspected") == ("0 / 4", "red")  # the 25th of March has passed
    assert _fig(behind, "key_coverage") == ("0 / 20", "neutral")
    assert _fig(behind, "publication") == ("0 / 0", "neutral")
    assert behind.tone == "red"

    # 博爱县, one key result never published: due 30 March 2026.
    late = rows["410822"]
    assert late.counts["publication_overdue"] == 1 and late.counts["published_on_time"] == 25
    assert _fig(late, "publication") == ("25 / 26", "red")
    assert _fig(late, "disclosure") == ("96.2%", "amber")
    assert _fig(late, "overdue")[1] == "red" and _fig(late, "overdue")[0].startswith("1 ")
    assert (
        "20 working days" in late.figure("publication").rule
        or "20" in late.figure("publication").rule
    )

    # A unit with no plan and no draw: the draw is overdue.
    assert rows["410821"].deadline["late"] and _fig(rows["410821"], "overdue")[1] == "red"

    # The chart of the rate over time says the same for Q1 as the rows added up.
    disclosed = sum(r.counts["disclosed"] for r in rows.values())
    due = sum(r.counts["disclosure_due"] for r in rows.values())
    assert page.context["chart"]["over_time"]["rates"][0] == round(100 * disclosed / due, 1)
    html = page.content.decode()
    assert 'data-testid="fig-publication" data-tone="red"' in html
    assert "title=" in html and "000 §五(五)" in html


def test_every_figure_drills_down_to_the_list_behind_it(client_for, city_reviewer, city, q1):
    client = client_for(city_reviewer)
    rows, _ = _rows(client, q1)
    for division in ("410823", "410825", "410822"):
        row = rows[division]
        for figure in row.figures:
            if not figure.url or figure.key in {"key_coverage", "general_coverage", "staff_ratio"}:
                continue
            page = client.get(figure.url)
            assert page.status_code == 200, figure.url
        for name, expected in (
            ("publication_overdue", row.counts["publication_overdue"]),
            ("published_on_time", row.counts["published_on_time"]),
            ("entered_on_time", row.counts["entered_on_time"]),
            ("inspected", row.counts["inspected"]),
            ("tasks", row.counts["tasks"]),
            ("open", row.counts["open"]),
        ):
            url = reverse("oversight:drill", args=[row.organisation.pk, name]) + q1
            assert client.get(url).context["count"] == expected, (division, name)
        cov = client.get(row.figure("key_coverage").url)
        assert cov.context["count"] == int(row.figure("key_coverage").text.split(" / ")[0])
    # The overdue publication of 博爱县, with its deadline.
    late = rows["410822"]
    page = client.get(reverse("oversight:drill", args=[late.organisation.pk, "overdue"]) + q1)
    assert page.context["count"] == 1
    assert PUBLISH_DUE.isoformat() in page.content.decode()


def test_the_drawn_list_stays_confidential_until_disclosed(client_for, city_reviewer, city, q1):
    """The city team sees the counts, and names only where ``can_see_full_result`` allows."""
    client = client_for(city_reviewer)
    draw = city["draws"]["behind"]
    assert draw.disclosed_at is None
    url = reverse("oversight:drill", args=[city["behind"].pk, "tasks"]) + q1
    html = client.get(url).content.decode()
    assert 'data-testid="confidential"' in html
    assert "测试污染源" not in html


def test_bad_quarter_or_year_gives_a_chinese_message(client_for, city_reviewer, orgs):
    client = client_for(city_reviewer)
    for query in ("?year=abc&quarter=1", "?year=2026&quarter=9", "?year=99999", "?quarter=%00"):
        page = client.get(URL + query, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert page.status_code in (200, 400), query
        if page.status_code == 200:
            assert "不是" in page.content.decode() or "无法" in page.content.decode(), query


def test_a_unit_outside_the_scope_is_404(client_for, city_reviewer, orgs, q1):
    client = client_for(city_reviewer)
    outside = (
        orgs["county:141102"]
        if "county:141102" in orgs
        else next(o for k, o in orgs.items() if k.startswith("county:14"))
    )
    assert (
        client.get(reverse("oversight:drill", args=[outside.pk, "tasks"]) + q1).status_code == 404
    )
    assert client.get(URL + "?city=1411").status_code == 404
    # Not a city code at all: ignored with a message (test_a_city_that_is_not_a_city_code_...).
    assert client.get(URL + "?city=xx").status_code == 200


def test_the_year_and_quarter_are_those_asked_for(client_for, city_reviewer, orgs):
    page = client_for(city_reviewer).get(URL + f"?year={YEAR}&quarter={QUARTER}")
    assert (page.context["year"], page.context["quarter"]) == (YEAR, QUARTER)


def test_the_api_gives_the_same_figures(client_for, city_reviewer, county_clerk, city, q1):
    client = client_for(city_reviewer)
    page_rows, _ = _rows(client, q1)
    data = client.get("/api/v1/oversight/" + q1).json()
    assert (data["year"], data["quarter"]) == (YEAR, QUARTER)
    api_rows = {r["organisation"]["division_code"]: r for r in data["rows"]}
    assert set(api_rows) == set(page_rows)
    for code, row in page_rows.items():
        assert api_rows[code]["counts"] == row.counts
        assert [(f["key"], f["text"], f["tone"]) for f in api_rows[code]["figures"]] == [
            (f.key, f.text, f.tone) for f in row.figures
        ]
    assert client.get("/api/v1/oversight/?city=1411").status_code == 404
    assert client_for(county_clerk).get("/api/v1/oversight/").status_code == 403


@pytest.mark.smoke  # raw SQL of the dashboard: also on the demo's SQLite
def test_the_rate_over_time_of_earlier_quarters_is_counted_like_the_dashboard(
    client_for, city_reviewer, city
):
    """Q2's chart reads Q1 with its own pass: the same rate as Q1's dashboard."""
    client = client_for(city_reviewer)
    q1 = client.get(URL + f"?year={YEAR}&quarter=1")
    q2 = client.get(URL + f"?year={YEAR}&quarter=2")
    assert (
        q2.context["chart"]["over_time"]["rates"][0] == q1.context["chart"]["over_time"]["rates"][0]
    )
    assert q1.context["chart"]["over_time"]["rates"][1:] == [None, None, None]


@pytest.mark.parametrize("city", ["abc", "41", "4108" * 3])
def test_a_city_that_is_not_a_city_code_answers_with_a_message(client_for, province_viewer, city):
    response = client_for(province_viewer).get(
        f"/lottery/quotas/?city={city}", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert response.status_code == 200
    assert "以下筛选条件无效，已忽略：city。" in response.content.decode()
    assert response.context["city"] == ""
