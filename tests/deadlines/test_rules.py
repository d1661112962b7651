"""The deadline regimes' dates, across the 2025 National Day and the 2026 Spring Festival
with their adjusted working days (调休), and "cannot be computed" for a year not loaded."""

from datetime import date

import pytest
from django.utils import translation

from core.calendar import is_working_day
from core.errors import ServiceError
from lottery.deadline_rules import (
    DEADLINE_PRESETS,
    DeadlineNotComputable,
    after_due,
    annual_due,
    quarter_due,
    validate_deadline_rules,
)
from lottery.models import DeadlineRegime
from lottery.selectors import draw_due_date, quarter_standings

pytestmark = pytest.mark.django_db
ALL = list(DEADLINE_PRESETS)
HENGSHUI = DEADLINE_PRESETS["hengshui_gxq_2023"].rules


@pytest.mark.parametrize("code", ALL)
def test_twenty_working_days_after_26_september_2025_is_30_october(calendar_loaded, code):
    rules = DEADLINE_PRESETS[code].rules
    # 28 Sep (Sunday) and 11 Oct (Saturday) are worked, 1-8 October are not.
    assert after_due(rules, "result_publication", date(2025, 9, 26)).due == date(2025, 10, 30)
    assert after_due(rules, "result_entry", date(2025, 9, 26)).due == date(2025, 10, 13)


@pytest.mark.parametrize("code", ALL)
def test_the_2026_spring_festival_and_its_saturday_working_days(calendar_loaded, code):
    rules = DEADLINE_PRESETS[code].rules
    # Holidays 15-23 February; 14 and 28 February (Saturdays) are worked.
    assert after_due(rules, "result_publication", date(2026, 2, 10)).due == date(2026, 3, 16)
    assert after_due(rules, "result_entry", date(2026, 2, 12)).due == date(2026, 2, 28)


def test_hengshui_draws_in_the_last_five_working_days_of_the_previous_quarter(calendar_loaded):
    due = quarter_due(HENGSHUI, "quarterly_draw", 2025, 4)
    assert (due.opens, due.due) == (date(2025, 9, 25), date(2025, 9, 30))
    window = [
        d
        for d in (date(2025, 9, day) for day in range(due.opens.day, due.due.day + 1))
        if is_working_day(d)
    ]
    assert window == [date(2025, 9, d) for d in (25, 26, 28, 29, 30)]  # 28th: a Sunday worked
    q1 = quarter_due(HENGSHUI, "quarterly_draw", 2026, 1)
    assert (q1.opens, q1.due) == (date(2025, 12, 25), date(2025, 12, 31))


@pytest.mark.parametrize("code", ALL)
def test_the_calendar_free_rules(code):
    rules = DEADLINE_PRESETS[code].rules
    assert annual_due(rules, "check_items", 2026).due == date(2026, 1, 5)
    assert annual_due(rules, "annual_plan", 2026).due == date(2026, 4, 30)
    assert quarter_due(rules, "quarterly_plan", 2026, 2).due == date(2026, 4, 5)
    assert quarter_due(rules, "quarter_done", 2026, 2).due == date(2026, 6, 25)
    if code != "hengshui_gxq_2023":
        assert quarter_due(rules, "quarterly_draw", 2026, 2).due == date(2026, 4, 10)


def test_a_year_without_its_schedule_cannot_be_computed(calendar_loaded):
    with pytest.raises(DeadlineNotComputable) as caught:
        after_due(HENGSHUI, "result_publication", date(2026, 12, 20))
    assert caught.value.years == [2027]
    assert "2027" in caught.value.message and "无法计算" in caught.value.message
    with translation.override("en"), pytest.raises(DeadlineNotComputable) as caught:
        quarter_due(HENGSHUI, "quarterly_draw", 2027, 2)
    assert caught.value.message == ("Cannot be computed: the 2027 holiday schedule is not loaded.")


@pytest.mark.parametrize(
    ("event", "rule", "words"),
    [
        ("check_items", {"kind": "fixed", "month": 2, "day": 30}, "2/30"),
        ("quarterly_draw", {"kind": "quarter_day", "month": 1, "day": 0}, "1"),
        ("quarterly_draw", {"kind": "window_before_quarter", "days": 0}, "1"),
        ("result_entry", {"kind": "fixed", "month": 1, "day": 1}, "不能"),
        ("result_publication", {"kind": "working_days", "days": "20"}, "整数"),
    ],
)
def test_refused_rules_get_a_chinese_sentence(event, rule, words):
    rules = {**DEADLINE_PRESETS["benxi_2025"].rules, event: rule}
    with pytest.raises(ServiceError) as caught:
        validate_deadline_rules(rules)
    assert words in caught.value.message
    assert any("\u4e00" <= ch <= "\u9fff" for ch in caught.value.message)


def test_every_preset_is_valid():
    for preset in DEADLINE_PRESETS.values():
        assert validate_deadline_rules(preset.rules)


def test_the_draw_due_date_follows_the_organisations_regime(calendar_loaded, county):
    assert draw_due_date(2025, 4, organisation=county) == date(2025, 10, 10)  # 本溪, default
    DeadlineRegime.objects.create(organisation=county, code="own", name="衡水", rules=HENGSHUI)
    assert draw_due_date(2025, 4, organisation=county) == date(2025, 9, 30)
    standing = quarter_standings(organisations=[county], year=2025, quarter=4)[0]
    assert (standing.opens, standing.due) == (date(2025, 9, 25), date(2025, 9, 30))
    # 2028 Q1's window lies in 2027, whose schedule is not loaded: said, not guessed.
    standing = quarter_standings(organisations=[county], year=2028, quarter=1)[0]
    assert standing.due is None and "2027" in standing.due_problem
    assert standing.days_late(date(2028, 3, 1)) == 0
