"""Quarters and the inspection period of a plan: the one place that says which dates belong to
which plan period, used by the service that validates a plan, its form and the demo."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils.translation import gettext as _


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def next_quarter(day: date) -> tuple[int, int]:
    year, quarter = quarter_of(day)
    return (year + 1, 1) if quarter == 4 else (year, quarter + 1)


def period_bounds(year: int, quarter: int | None) -> tuple[date, date]:
    """First and last day of the quarter, or of the year when ``quarter`` is None."""
    if quarter is None:
        return date(year, 1, 1), date(year, 12, 31)
    first = 3 * (quarter - 1) + 1
    after = date(year + 1, 1, 1) if quarter == 4 else date(year, first + 3, 1)
    return date(year, first, 1), after - timedelta(days=1)


def default_inspection_period(year: int, quarter: int | None) -> tuple[date, date]:
    """From the day after the draw deadline (the 10th) to the 25th of the period's last
    month, when 本溪 wants the quarter's checks done and published. The plan form's script
    (plan_form.html) computes the same defaults in the browser."""
    if quarter is None:
        return date(year, 1, 11), date(year, 12, 25)
    first = 3 * (quarter - 1) + 1
    return date(year, first, 11), date(year, first + 2, 25)


def inspection_period_error(
    *, year: int, quarter: int | None, start: date, end: date
) -> str | None:
    """Why ``start``–``end`` is no inspection period for the plan's year (and quarter), or
    None. A quarterly plan's checks happen within its quarter, an annual plan's within its
    year: otherwise the coverage and frequency counts of the quarters would not add up."""
    if end < start:
        return _("The inspection period ends before it starts.")
    first, last = period_bounds(year, quarter)
    if first <= start and end <= last:
        return None
    if quarter is None:
        return _("The inspection period must lie within %(year)s (%(first)s – %(last)s).") % {
            "year": year,
            "first": first.isoformat(),
            "last": last.isoformat(),
        }
    return _(
        "The inspection period must lie within %(year)s Q%(quarter)s (%(first)s – %(last)s)."
    ) % {"year": year, "quarter": quarter, "first": first.isoformat(), "last": last.isoformat()}
