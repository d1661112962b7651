"""The portal's home page: real counts of what is public, and a menu for visitors."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.lottery.scenario import build_world, make_draw
from tests.publication.world import item, plan

pytestmark = pytest.mark.django_db


def test_the_portal_home_counts_what_is_public_and_links_to_it(client, county, staff):
    build_world(county, key=4, general=4, special=0, inspectors=4)
    clerk, leader = staff(county.division_code)
    item(county, clerk, leader, "HB-01")
    item(county, clerk, leader, "HB-02")
    item(county, clerk, leader, "HB-03", publish=False)
    shown = plan(county, clerk, leader, quarter=1)
    plan(county, clerk, leader, quarter=2, status="approved")
    make_draw(shown, clerk, stage="committed")
    html = client.get(reverse("home")).content.decode()

    def count(key):
        marker = f'data-testid="public-count-{key}">'
        return int(html.split(marker, 1)[1].split("<", 1)[0])

    assert (count("checkitems"), count("plans"), count("draws")) == (2, 1, 1)
    for name in ("checkitem_list", "plan_list", "draw_list"):
        assert html.count(f'href="{reverse(f"publication:{name}")}"') == 2  # card and menu
    assert 'data-nav="public_plans"' in html and 'data-nav="public_checkitems"' in html
    cards = html.split('data-testid="public-cards"', 1)[1]
    assert "抽查计划" in cards and "随机抽查事项清单" in cards and "各单位随机抽查的事项" in cards
    assert "What each bureau" not in cards and "Each published plan" not in cards


def test_the_public_menu_is_only_for_visitors(client_for, county_clerk):
    html = client_for(county_clerk).get(reverse("home")).content.decode()
    assert 'data-nav="public_plans"' not in html and 'data-nav="plans"' in html
