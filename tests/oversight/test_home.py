"""The oversight's home cards count what the dashboard (and the province's page) show for this
quarter, for the city team, the province and a county leader."""

from __future__ import annotations

import pytest
from django.urls import reverse

from oversight.models import Report

pytestmark = pytest.mark.django_db


def _cards(client) -> dict:
    return {c.key: c for c in client.get(reverse("home")).context["cards"]}


def test_the_city_teams_cards_count_what_the_dashboard_shows(
    client_for, city, city_reviewer, q1_today
):
    client = client_for(city_reviewer)
    page = client.get(reverse("lottery:quota_overview"))  # this quarter, as the card
    rows = page.context["rows"]
    assert (page.context["year"], page.context["quarter"]) == (2026, 1)
    card = _cards(client)["oversight"]
    red = sum(1 for r in rows if r.tone == "red")
    assert red == page.context["red_count"] > 0
    assert card.value == f"{red} / {len(rows)}"
    assert card.tone == "danger" and card.url == reverse("lottery:quota_overview")
    overdue = sum(r.figure("overdue").value for r in rows)
    late_draws = page.context["late_count"]
    publications = sum(r.counts["publication_overdue"] for r in rows)
    # Hand count: 博爱县's one key result, due 30 March, never published.
    assert publications == 1
    assert f"Overdue items: {overdue} " in card.note or f"逾期事项：{overdue}" in card.note
    assert str(late_draws) in card.note and late_draws > 0

    reports = _cards(client)["reports"]
    # The circular, the quarterly report and the return to the province (the last two are
    # the daily deadline job's obligations too).
    assert reports.value == "3" and reports.url == reverse("oversight:reports")
    Report.objects.create(
        organisation=city_reviewer.organisation,
        kind=Report.Kind.QUARTERLY,
        year=2026,
        quarter=1,
        version=1,
        status=Report.Status.DONE,
        requested_by=city_reviewer,
        pdf="oversight/reports/q.pdf",
        xlsx="oversight/reports/q.xlsx",
        data_sha256="0" * 64,
    )
    assert _cards(client)["reports"].value == "2"


def test_the_provinces_card_counts_what_its_page_shows(client_for, city, province_viewer, q1_today):
    client = client_for(province_viewer)
    cities = client.get(reverse("oversight:province")).context["cities"]
    card = _cards(client)["oversight"]
    assert card.value == f"{sum(c['red'] for c in cities)} / {sum(c['units'] for c in cities)}"
    assert card.url == reverse("oversight:province")
    assert "reports" not in _cards(client)


def test_a_county_leaders_card_is_the_own_row(
    client_for, city, county_leader, county_clerk, q1_today
):
    client = client_for(county_leader)
    rows = client.get(reverse("lottery:quota_overview")).context["rows"]
    assert [r.organisation for r in rows] == [county_leader.organisation]
    card = _cards(client)["oversight"]
    assert card.value == str(sum(1 for f in rows[0].figures if f.tone == "red"))
    assert "reports" not in _cards(client)
    # A clerk does not oversee: no card.
    assert "oversight" not in _cards(client_for(county_clerk))
