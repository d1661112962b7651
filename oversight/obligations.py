"""The oversight's reports and returns as obligations of the daily deadline job.

Registered from ``OversightConfig.ready()`` with ``deadlines.providers.register``, so the
``deadlines`` app never imports this one. What it adds (docs/oversight.md, “Deadlines”):

- each city team: the quarterly report to the province and its return to the province, due at
  the quarter's end; the annual report and statistics table, due 20 December; all three moved
  to the last working day before when the day is not a working day;
- each county bureau and city team: the year-end report to the city bureau (003 §八(一)
  “每年年底前”), due 31 December, moved the same way;
- and it conditions the deadlines app's own quarterly plan (by the 5th) and quarter's checks
  (by the 25th): done only once the plans return, respectively the results return, has been
  generated and reports the plan published, respectively no check still open (003 §七(六)).

A report obligation is done when a version of that report has been built (status done).
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models.fields.json import KT
from django.urls import reverse
from django.utils.translation import gettext as _

from core.models import Organisation
from deadlines.models import Obligation
from deadlines.providers import Provider, Wanted
from lottery.selectors import DRAWING_KINDS

K = Obligation.Kind
R = Obligation.Responsible

#: Obligation kind → report kind that fulfils it.
FULFILLED_BY = {
    K.QUARTERLY_REPORT: "quarterly",
    K.ANNUAL_REPORT: "annual",
    K.CITY_RETURN: "city_return",
    K.YEAR_END_REPORT: "year_end",
    K.QUARTERLY_PLAN: "plans_return",
    K.QUARTER_DONE: "results_return",
}
YEARLY_KINDS = {K.ANNUAL_REPORT, K.YEAR_END_REPORT}


class _NotCovered(Exception):
    pass


def last_working_day_by(day: date, days=None) -> date:
    """``day`` itself when it is a working day, else the last working day before it (a report
    the recipient must *have* by then; see docs/oversight.md). Raises ``_NotCovered``.
    ``days``: a ``selectors._Days`` to reuse (it loads each year's schedule once)."""
    from oversight import selectors as sel

    days = days or sel._Days()
    try:
        while not days._working(day):
            day -= timedelta(days=1)
    except sel.CalendarNotCovered as exc:
        raise _NotCovered(exc) from None
    return day


def quarter_end(year: int, quarter: int) -> date:
    month = 3 * quarter
    following = date(year + (month == 12), month % 12 + 1, 1)
    return following - timedelta(days=1)


def _dates(day: date, days) -> dict:
    from lottery.deadline_rules import cannot_compute_text

    try:
        return {"due_on": last_working_day_by(day, days)}
    except _NotCovered:
        return {"due_on": None, "due_problem": str(cannot_compute_text([day.year]))[:200]}


def wanted(today: date, horizon: date) -> list[Wanted]:
    """This and last quarter's reports of each city team, this and last year's yearly ones of
    each bureau (the job drops what is too old or too far ahead)."""
    this = (today.year, (today.month - 1) // 3 + 1)
    last = (this[0] - 1, 4) if this[1] == 1 else (this[0], this[1] - 1)
    years = [today.year - 1, today.year]
    from oversight.selectors import _Days

    link = reverse("oversight:reports")
    days = _Days()
    found = []
    units = Organisation.objects.filter(kind__in=DRAWING_KINDS, is_active=True).order_by(
        "division_code", "pk"
    )
    for org in units:
        name = org.short_name or org.name
        team = org.kind == Organisation.Kind.CITY_TEAM
        for year in years:
            found.append(
                Wanted(
                    kind=K.YEAR_END_REPORT,
                    key=f"org{org.pk}-{year}",
                    organisation_id=org.pk,
                    title=_("%(org)s: the %(year)s year-end report to the city bureau")
                    % {"org": name, "year": year},
                    link=link,
                    responsible=R.REVIEWER if team else R.LEADER,
                    year=year,
                    **_dates(date(year, 12, 31), days),
                )
            )
            if team:
                found.append(
                    Wanted(
                        kind=K.ANNUAL_REPORT,
                        key=f"org{org.pk}-{year}",
                        organisation_id=org.pk,
                        title=_(
                            "%(org)s: the %(year)s annual report and statistics table to the "
                            "province"
                        )
                        % {"org": name, "year": year},
                        link=link,
                        responsible=R.REVIEWER,
                        year=year,
                        **_dates(date(year, 12, 20), days),
                    )
                )
        if not team:
            continue
        for year, quarter in (last, this):
            for kind, title in (
                (K.QUARTERLY_REPORT, _("%(org)s: the %(year)s Q%(q)s report to the province")),
                (K.CITY_RETURN, _("%(org)s: the %(year)s Q%(q)s return to the province")),
            ):
                found.append(
                    Wanted(
                        kind=kind,
                        key=f"org{org.pk}-{year}q{quarter}",
                        organisation_id=org.pk,
                        title=title % {"org": name, "year": year, "q": quarter},
                        link=link,
                        responsible=R.REVIEWER,
                        year=year,
                        quarter=quarter,
                        **_dates(quarter_end(year, quarter), days),
                    )
                )
    return found


def done(obligations: list) -> set[int]:
    """Of the obligations (saved or not), the ``id()`` of those a built report fulfils: one
    query for all of them."""
    from oversight.models import Report

    asked = [o for o in obligations if o.kind in FULFILLED_BY and o.organisation_id]
    if not asked:
        return set()
    built = Report.objects.filter(
        status=Report.Status.DONE,
        organisation_id__in={o.organisation_id for o in asked},
        kind__in={FULFILLED_BY[o.kind] for o in asked},
        year__in={o.year for o in asked},
    ).values_list(
        "organisation_id",
        "kind",
        "year",
        "quarter",
        KT("data__plan__status"),
        KT("data__totals__open"),
    )
    have = set()
    for org_id, kind, year, quarter, plan_status, still_open in built:
        if kind == "plans_return" and plan_status != "published":
            continue  # a return made before the plan was published returns no plan
        if kind == "results_return" and str(still_open) != "0":
            continue  # a return made while checks are still open does not report the results
        have.add((org_id, kind, year, quarter))
    return {
        id(o)
        for o in asked
        if (
            o.organisation_id,
            FULFILLED_BY[o.kind],
            o.year,
            0 if o.kind in YEARLY_KINDS else o.quarter,
        )
        in have
    }


PROVIDER = Provider(
    name="oversight",
    kinds=frozenset({K.QUARTERLY_REPORT, K.ANNUAL_REPORT, K.CITY_RETURN, K.YEAR_END_REPORT}),
    conditions=frozenset({K.QUARTERLY_PLAN, K.QUARTER_DONE}),
    wanted=wanted,
    done=done,
)
