"""Chinese working-day arithmetic on an editable calendar.

A working day is Monday to Friday unless the State Council made it a holiday, plus the
adjusted working days (调休) that fall on weekends. The official schedule for a year is
published late each year, so a year with no schedule loaded is an explicit condition
(``CalendarNotCovered``), never a silent Monday-to-Friday guess.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.utils.translation import gettext as _

from core.errors import ServiceError
from core.models import CalendarDay, CalendarYear


class CalendarNotCovered(ServiceError):
    """Raised when a computation needs a year whose official schedule is not loaded."""

    def __init__(self, years: list[int]):
        self.years = sorted(set(years))
        super().__init__(
            _(
                "The working-day calendar has no official holiday schedule for %(years)s. "
                "An administrator must load it before deadlines in that year can be computed."
            )
            % {"years": ", ".join(str(y) for y in self.years)},
            code="calendar_not_covered",
        )


class _Calendar:
    """The special days of a set of years, loaded in one query."""

    def __init__(self, years: set[int]):
        covered = set(CalendarYear.objects.filter(year__in=years).values_list("year", flat=True))
        missing = years - covered
        if missing:
            raise CalendarNotCovered(list(missing))
        self.special = dict(
            CalendarDay.objects.filter(date__year__in=years).values_list("date", "kind")
        )

    def is_working_day(self, day: date) -> bool:
        kind = self.special.get(day)
        if kind == CalendarDay.Kind.HOLIDAY:
            return False
        if kind == CalendarDay.Kind.ADJUSTED_WORKDAY:
            return True
        return day.weekday() < 5


def _years_between(a: date, b: date) -> set[int]:
    return set(range(min(a, b).year, max(a, b).year + 1))


def is_working_day(day: date) -> bool:
    return _Calendar({day.year}).is_working_day(day)


def add_working_days(start: date, n: int) -> date:
    """The date that is ``n`` working days after ``start`` (``start`` itself not counted).

    "Within 20 working days of the check ending on 2025-09-26" ends on
    ``add_working_days(date(2025, 9, 26), 20)``. ``n`` may be negative (before ``start``);
    ``n == 0`` returns ``start``.
    """
    if n == 0:
        return start
    step = 1 if n > 0 else -1
    remaining = abs(n)
    # Only the years the count actually reaches are needed: a December deadline that ends
    # in December needs no schedule for the next year (which arrives late).
    years: set[int] = set()
    calendar = None
    day = start
    while remaining:
        day += timedelta(days=step)
        if calendar is None or day.year not in years:
            years |= {day.year}
            calendar = _Calendar(years)
        if calendar.is_working_day(day):
            remaining -= 1
    return day


def working_days_between(a: date, b: date) -> int:
    """Working days in the half-open interval (a, b]; negative when b is before a."""
    if a == b:
        return 0
    if b < a:
        return -working_days_between(b, a)
    calendar = _Calendar(_years_between(a, b))
    count = 0
    day = a
    while day < b:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            count += 1
    return count


def calendar_coverage(years: list[int]) -> dict[int, bool]:
    covered = set(CalendarYear.objects.filter(year__in=years).values_list("year", flat=True))
    return {year: year in covered for year in years}


def calendar_missing_years(today: date) -> list[int]:
    """Of this year and the next, those with no official schedule: what dashboards warn about."""
    coverage = calendar_coverage([today.year, today.year + 1])
    return [year for year, ok in coverage.items() if not ok]
