"""A leader edits the bureau's own deadline regime on a form page, through an audited
service; refused values come back as a Chinese sentence; nobody else may change it."""

from datetime import date

import pytest
from django.urls import reverse

from core.models import AuditEntry
from lottery.deadline_rules import DEADLINE_PRESETS
from lottery.models import DeadlineRegime
from lottery.selectors import draw_due_date
from lottery.services import deadline_regime_ensure_presets

pytestmark = pytest.mark.django_db
URL = reverse("lottery:deadline_regime")


def _form(**changes) -> dict:
    data = {
        "preset": "",
        "check_items_month": 1,
        "check_items_day": 5,
        "annual_plan_month": 4,
        "annual_plan_day": 30,
        "quarterly_plan_day": 5,
        "draw_kind": "quarter_day",
        "draw_day": 10,
        "draw_window_days": "",
        "result_entry_days": 7,
        "result_publication_days": 20,
        "quarter_done_day": 25,
    }
    data.update(changes)
    return data


def test_presets_are_made_once_per_seed():
    deadline_regime_ensure_presets()
    deadline_regime_ensure_presets()
    assert set(
        DeadlineRegime.objects.filter(organisation=None).values_list("code", flat=True)
    ) == set(DEADLINE_PRESETS)


def test_the_leader_copies_hengshui_then_edits_the_draw_day(
    client_for, county, county_leader, calendar_loaded
):
    client = client_for(county_leader)
    page = client.get(URL)
    assert page.status_code == 200 and "本溪 2025" in page.content.decode()
    response = client.post(URL, _form(preset="hengshui_gxq_2023"))
    assert response.status_code == 302
    regime = DeadlineRegime.objects.get(organisation=county)
    assert regime.based_on == "hengshui_gxq_2023"
    assert draw_due_date(2025, 4, organisation=county) == date(2025, 9, 30)
    response = client.post(URL, _form(draw_day=12))
    assert response.status_code == 302
    assert draw_due_date(2025, 4, organisation=county) == date(2025, 10, 12)
    entries = AuditEntry.objects.filter(action="deadline_regime.save")
    assert entries.count() == 2


def test_a_refused_value_gets_a_chinese_error_and_changes_nothing(client_for, county_leader):
    client = client_for(county_leader)
    page = client.post(URL, _form(check_items_month=2, check_items_day=30))
    assert page.status_code == 200
    html = page.content.decode()
    assert "不是每年都有的日期" in html
    page = client.post(URL, _form(draw_kind="window_before_quarter", draw_window_days=""))
    assert "必须是 1 到 30 之间的整数" in page.content.decode()
    assert not DeadlineRegime.objects.exists()


def test_a_clerk_reads_but_may_not_change(client_for, county_clerk):
    client = client_for(county_clerk)
    page = client.get(URL)
    assert page.status_code == 200 and page.context["form"] is None
    assert client.post(URL, _form()).status_code == 403
    assert not DeadlineRegime.objects.exists()


def test_an_administrator_picks_the_bureau_and_junk_is_a_message(client_for, sysadmin, county):
    client = client_for(sysadmin)
    for junk in ("abc", "99999999999999999999", "-1"):
        page = client.get(URL + f"?organisation={junk}")
        assert page.status_code == 200
    assert client.get(URL + "?organisation=%00").status_code == 400  # the NUL middleware
    page = client.get(URL + f"?organisation={county.pk}")
    assert page.context["organisation"] == county
    response = client.post(URL + f"?organisation={county.pk}", _form(result_entry_days=5))
    assert response.status_code == 302
    assert DeadlineRegime.objects.get(organisation=county).rules["result_entry"]["days"] == 5
