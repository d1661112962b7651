"""Filing a draw with the city team (003 §七(二)): date, who, digest; the list stays confidential."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.errors import ServiceError
from lottery.selectors import can_see_full_result
from oversight.models import DrawFiling
from oversight.services import draw_digest, draw_file

pytestmark = pytest.mark.django_db


def test_a_bureau_files_its_draw_and_the_list_stays_confidential(
    client_for, city, county_leader, city_reviewer, outsider_clerk, province_viewer
):
    draw = city["draws"]["on_time"]
    draw.refresh_from_db()  # the fixture moved its execution to 9 January
    client = client_for(county_leader)
    page = client.get(reverse("oversight:filings"))
    assert draw in list(page.context["to_file"])
    response = client.post(reverse("oversight:draw_file", args=[draw.pk]))
    assert response.status_code == 302
    filing = DrawFiling.objects.get(draw=draw)
    assert filing.filed_by == county_leader and filing.filed_with.kind == "city_team"
    assert filing.digest == draw_digest(draw) and len(filing.digest) == 64
    # Filed once.
    with pytest.raises(ServiceError):
        draw_file(actor=county_leader, draw=draw)
    # Another bureau's staff cannot file it.
    with pytest.raises(ServiceError):
        draw_file(actor=outsider_clerk, draw=city["draws"]["on_time"])
    # The city team and the province see the filing, not the list.
    for user in (city_reviewer, province_viewer):
        html = client_for(user).get(reverse("oversight:filings")).content.decode()
        assert draw.number in html and filing.digest in html
    draw.refresh_from_db()
    assert draw.disclosed_at is None and not can_see_full_result(city_reviewer, draw)
    # The neighbour county sees nothing of it.
    html = client_for(outsider_clerk).get(reverse("oversight:filings")).content.decode()
    assert draw.number not in html
