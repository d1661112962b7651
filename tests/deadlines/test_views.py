"""The notifications page, the top bar's badge, marking read, and the obligations list."""

from datetime import date

import pytest
from django.urls import reverse

from deadlines.models import Notification, Obligation
from deadlines.services import deadlines_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def told(calendar_loaded, county, county_clerk, county_leader, city_reviewer):
    deadlines_run(today=date(2025, 12, 29))
    deadlines_run(today=date(2026, 1, 8))
    return Notification.objects.filter(recipient=county_clerk)


def test_the_badge_counts_the_unread_and_the_page_marks_them_read(client_for, county_clerk, told):
    client = client_for(county_clerk)
    home = client.get("/").content.decode()
    assert reverse("deadlines:notification_badge") in home  # loaded after the page
    badge = client.get(reverse("deadlines:notification_badge")).content.decode()
    assert f">{told.count()}<" in badge
    page = client.get(reverse("deadlines:notification_list"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "已逾期" in html or "逾期" in html
    first = told.first()
    client.post(reverse("deadlines:notification_read"), {"id": [first.pk]})
    first.refresh_from_db()
    assert first.read_at is not None
    client.post(reverse("deadlines:notification_read"))
    assert not Notification.objects.filter(recipient=county_clerk, read_at=None).exists()
    assert client.get(reverse("deadlines:notification_badge")).content.decode().strip() == ""


def test_no_one_marks_another_persons_notifications(client_for, county_leader, county_clerk, told):
    client_for(county_leader).post(
        reverse("deadlines:notification_read"), {"id": [n.pk for n in told]}
    )
    assert not told.filter(read_at__isnull=False).exists()


def test_the_obligations_list_and_junk_query_strings(client_for, county_leader, told):
    client = client_for(county_leader)
    url = reverse("deadlines:obligation_list")
    page = client.get(url)
    assert page.status_code == 200
    assert any(o.state == Obligation.State.ESCALATED for o in page.context["page"])
    for junk in ("?state=abc&page=abc", "?page=99999999999999999999", "?state=escalated&page=-1"):
        assert client.get(url + junk).status_code == 200
    page = client.get(reverse("deadlines:notification_list") + "?page=abc&unread=%FF")
    assert page.status_code == 200


def test_an_inspector_may_not_list_the_bureaus_obligations(client_for, inspector_a):
    client = client_for(inspector_a)
    assert client.get(reverse("deadlines:obligation_list")).status_code == 403
    page = client.get(reverse("deadlines:notification_list"))
    assert page.status_code == 200 and "obligations-link" not in page.content.decode()


def test_the_public_sees_no_badge(client):
    assert "notification-badge" not in client.get("/").content.decode()
