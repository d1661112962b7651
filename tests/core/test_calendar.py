import csv
from datetime import date, timedelta

import pytest

from core.calendar import (
    CalendarNotCovered,
    add_working_days,
    calendar_missing_years,
    is_working_day,
    working_days_between,
)
from core.errors import ServiceError
from core.models import CalendarDay, CalendarYear
from core.services import calendar_import_csv
from tests.conftest import realdata

pytestmark = pytest.mark.smoke


def official_days() -> dict[date, str]:
    path = realdata("holidays/cn_holidays_2024_2026.csv")
    with path.open(encoding="utf-8") as fh:
        return {date.fromisoformat(r["date"]): r["type"] for r in csv.DictReader(fh)}


def test_every_day_of_2024_to_2026_matches_the_official_calendar(calendar_loaded):
    official = official_days()
    day = date(2024, 1, 1)
    mismatches = []
    while day <= date(2026, 12, 31):
        kind = official.get(day)
        expected = kind == "adjusted_workday" if kind else day.weekday() < 5
        if is_working_day(day) != expected:
            mismatches.append(day)
        day += timedelta(days=1)
    assert mismatches == []


def test_twenty_working_days_after_2025_09_26_is_2025_10_30(calendar_loaded):
    # National Day + Mid-autumn 2025: Oct 1-8 off, Sep 28 and Oct 11 (Sat) worked.
    assert add_working_days(date(2025, 9, 26), 20) == date(2025, 10, 30)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2025, 1, 24), 1, date(2025, 1, 26)),  # Sunday 26 Jan is an adjusted working day
        (date(2025, 1, 27), 1, date(2025, 2, 5)),  # Spring Festival 28 Jan - 4 Feb
        (date(2024, 9, 30), 1, date(2024, 10, 8)),  # National Day 2024
        (date(2026, 2, 13), 1, date(2026, 2, 14)),  # Saturday 14 Feb 2026 is worked
        (date(2025, 10, 30), -20, date(2025, 9, 26)),
        (date(2025, 5, 6), 0, date(2025, 5, 6)),
    ],
)
def test_add_working_days_across_holidays(calendar_loaded, start, n, expected):
    assert add_working_days(start, n) == expected


def test_working_days_between_is_the_inverse_of_add(calendar_loaded):
    start = date(2025, 9, 26)
    for n in (1, 5, 20, 60, 200):
        end = add_working_days(start, n)
        assert working_days_between(start, end) == n
        assert working_days_between(end, start) == -n


def test_a_year_with_no_official_schedule_is_refused_not_guessed(calendar_loaded):
    assert not CalendarYear.objects.filter(year=2027).exists()
    with pytest.raises(CalendarNotCovered) as excinfo:
        add_working_days(date(2026, 12, 20), 20)
    assert excinfo.value.years == [2027]
    with pytest.raises(CalendarNotCovered):
        is_working_day(date(2027, 3, 1))
    assert calendar_missing_years(date(2026, 11, 25)) == [2027]


def test_importing_a_year_makes_it_covered_and_counts_it(calendar_loaded):
    text = "date,name,type\n2027-01-01,元旦,holiday\n2027-01-04,测试,holiday\n"
    assert calendar_import_csv(actor=None, text=text, source="test.csv") == [2027]
    assert calendar_missing_years(date(2026, 11, 25)) == []
    # 2026-12-31 (Thu) -> Fri 1 Jan is a holiday, 4 Jan too -> first working day is 5 Jan.
    assert add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 5)


def test_the_official_csv_imports_as_is(db):
    path = realdata("holidays/cn_holidays_2024_2026.csv")
    years = calendar_import_csv(actor=None, text=path.read_text(encoding="utf-8"), source=path.name)
    assert years == [2024, 2025, 2026]
    assert CalendarDay.objects.count() == len(official_days())


@pytest.mark.parametrize(
    "text",
    [
        "when,type\n2027-01-01,holiday\n",  # no date column
        "date,type\n2027-13-01,holiday\n",  # not a date
        "date,type\n2027-01-01,holiday\n2027-01-02,vacation\n",  # unknown type on one row
        "date,type\n2027-01-04,adjusted_workday\n",  # a Monday cannot be an adjusted working day
        "date,type\n2027-01-01,holiday\n2027-01-01,holiday\n",  # duplicate
        "date,type\n",  # empty
    ],
)
def test_a_bad_calendar_file_changes_nothing(calendar_loaded, text):
    before = CalendarDay.objects.count(), CalendarYear.objects.count()
    with pytest.raises(ServiceError):
        calendar_import_csv(actor=None, text=text, source="bad.csv")
    assert (CalendarDay.objects.count(), CalendarYear.objects.count()) == before


def test_a_december_count_that_ends_in_december_needs_no_next_year(calendar_loaded):
    """2027's schedule is not loaded: a count ending within 2026 still works; one that
    crosses into 2027 says it cannot be computed."""
    from datetime import date

    import pytest

    from core.calendar import CalendarNotCovered, add_working_days

    assert add_working_days(date(2026, 12, 1), 7) == date(2026, 12, 10)
    with pytest.raises(CalendarNotCovered):
        add_working_days(date(2026, 12, 20), 10)
