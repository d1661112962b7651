"""The reports' and returns' deadlines among the daily job's obligations (registered by the
oversight through ``deadlines.providers``), under a frozen clock; a built report fulfils its
obligation; the plans and results returns condition the quarterly plan and the quarter's checks.
"""

from __future__ import annotations

from datetime import date

import pytest

from deadlines.models import Notification, Obligation
from deadlines.providers import providers
from deadlines.services import deadlines_run, obligations_sync, responsible_users
from inspections.models import InspectionTask
from oversight.services import report_build, report_request

pytestmark = pytest.mark.django_db
K, S = Obligation.Kind, Obligation.State
REPORT_KINDS = [K.QUARTERLY_REPORT, K.ANNUAL_REPORT, K.CITY_RETURN, K.YEAR_END_REPORT]


def _snapshot() -> list:
    return sorted(
        Obligation.objects.filter(kind__in=REPORT_KINDS).values_list(
            "kind", "key", "state", "due_on", "organisation_id", "responsible"
        )
    )


def _build(actor, kind, year, quarter):
    report, _ = report_request(actor=actor, kind=kind, year=year, quarter=quarter)
    built = report_build(report_id=report.pk)
    assert built.status == "done", built.message
    return built


def test_the_oversight_registers_its_provider():
    assert [p.name for p in providers()].count("oversight") == 1


def test_the_reports_deadlines_under_a_frozen_clock(
    calendar_loaded, orgs, county, city_reviewer, county_leader
):
    team = orgs["city_team:410800"]
    result = obligations_sync(today=date(2026, 12, 1))
    assert result["created"] > 0
    mine = {(o.kind, o.year, o.quarter): o for o in Obligation.objects.filter(organisation=team)}
    # 20 December 2026 is a Sunday: the annual report is due on Friday the 18th (docs).
    annual = mine[(K.ANNUAL_REPORT, 2026, None)]
    assert annual.due_on == date(2026, 12, 18) and annual.responsible == "reviewer"
    assert responsible_users(annual) == [city_reviewer]
    # The quarter's report and return to the province: at the quarter's end (a Thursday).
    assert mine[(K.QUARTERLY_REPORT, 2026, 4)].due_on == date(2026, 12, 31)
    assert mine[(K.CITY_RETURN, 2026, 4)].due_on == date(2026, 12, 31)
    # Q3's fell due on 30 September, further back than the catch-up window: not made.
    assert (K.QUARTERLY_REPORT, 2026, 3) not in mine
    assert mine[(K.YEAR_END_REPORT, 2026, None)].due_on == date(2026, 12, 31)
    # A county bureau: its year-end report to the city bureau, its leader responsible; none
    # of the city team's reports.
    county_kinds = set(
        Obligation.objects.filter(organisation=county, kind__in=REPORT_KINDS).values_list(
            "kind", flat=True
        )
    )
    assert county_kinds == {K.YEAR_END_REPORT}
    year_end = Obligation.objects.get(organisation=county, kind=K.YEAR_END_REPORT)
    assert (year_end.due_on, year_end.responsible) == (date(2026, 12, 31), "leader")
    assert responsible_users(year_end) == [county_leader]
    # Run twice: nothing twice.
    before = _snapshot()
    again = obligations_sync(today=date(2026, 12, 1))
    assert again["created"] == 0 and _snapshot() == before
    # The annual report built: its obligation is done, the others stay.
    _build(city_reviewer, "annual", 2026, 0)
    assert obligations_sync(today=date(2026, 12, 2))["done"] == 1
    annual.refresh_from_db()
    assert annual.state == S.DONE and annual.done_at
    assert Obligation.objects.get(pk=mine[(K.QUARTERLY_REPORT, 2026, 4)].pk).state == S.OPEN
    # The quarterly report and the city's return, then the year-end reports.
    _build(city_reviewer, "quarterly", 2026, 4)
    _build(city_reviewer, "city_return", 2026, 4)
    _build(city_reviewer, "year_end", 2026, 0)
    obligations_sync(today=date(2026, 12, 3))
    states = dict(
        Obligation.objects.filter(organisation=team, kind__in=REPORT_KINDS, year=2026)
        .exclude(quarter__in=[1, 2, 3])
        .values_list("kind", "state")
    )
    assert set(states.values()) == {S.DONE}, states
    assert year_end.__class__.objects.get(pk=year_end.pk).state == S.OPEN  # the county's


def test_a_missed_annual_report_is_overdue_and_escalated(calendar_loaded, orgs, city_reviewer):
    team = orgs["city_team:410800"]
    deadlines_run(today=date(2026, 12, 16))
    annual = Obligation.objects.get(organisation=team, kind=K.ANNUAL_REPORT, year=2026)
    assert annual.state == S.REMINDED  # two working days before the 18th
    deadlines_run(today=date(2026, 12, 21))
    annual.refresh_from_db()
    assert annual.state == S.ESCALATED
    told = set(
        Notification.objects.filter(recipient=city_reviewer, obligation=annual).values_list(
            "stage", flat=True
        )
    )
    assert told == {"reminder", "overdue", "escalation"}
    # Built late: done all the same.
    _build(city_reviewer, "annual", 2026, 0)
    deadlines_run(today=date(2026, 12, 22))
    annual.refresh_from_db()
    assert annual.state == S.DONE


def test_the_plans_return_fulfils_the_quarterly_plan(city, county, county_clerk):
    obligations_sync(today=date(2026, 1, 2))
    plan = Obligation.objects.get(organisation=county, kind=K.QUARTERLY_PLAN, year=2026, quarter=1)
    # The plan is published, but not yet returned to the city team's lead department.
    assert plan.state == S.OPEN and plan.due_on == date(2026, 1, 5)
    obligations_sync(today=date(2026, 1, 2))
    plan.refresh_from_db()
    assert plan.state == S.OPEN
    built = _build(county_clerk, "plans_return", 2026, 1)
    assert built.data["plan"]["status"] == "published"
    obligations_sync(today=date(2026, 1, 3))
    plan.refresh_from_db()
    assert plan.state == S.DONE


def test_the_results_return_fulfils_the_quarters_checks_once_none_is_open(
    city, county, county_clerk
):
    obligations_sync(today=date(2026, 3, 20))
    done = Obligation.objects.get(organisation=county, kind=K.QUARTER_DONE, year=2026, quarter=1)
    assert done.state == S.OPEN and done.due_on == date(2026, 3, 25)
    # A return made while one check is still open does not report the quarter's results.
    task = InspectionTask.objects.filter(organisation=county).order_by("pk").first()
    InspectionTask.objects.filter(pk=task.pk).update(state=InspectionTask.State.SUBMITTED)
    early = _build(county_clerk, "results_return", 2026, 1)
    assert early.data["totals"]["open"] == 1
    InspectionTask.objects.filter(pk=task.pk).update(state=InspectionTask.State.APPROVED)
    obligations_sync(today=date(2026, 3, 21))
    done.refresh_from_db()
    assert done.state == S.OPEN
    # Returned again with every check closed: done.
    again = _build(county_clerk, "results_return", 2026, 1)
    assert again.version == 2 and again.data["totals"]["open"] == 0
    obligations_sync(today=date(2026, 3, 22))
    done.refresh_from_db()
    assert done.state == S.DONE


def test_a_year_without_its_schedule_leaves_the_date_unknown_with_the_year_named(
    calendar_loaded, orgs
):
    team = orgs["city_team:410800"]
    obligations_sync(today=date(2027, 1, 4))  # 2027's schedule is not loaded
    report = Obligation.objects.get(organisation=team, kind=K.QUARTERLY_REPORT, year=2027)
    assert report.due_on is None and "2027" in report.due_problem
    # Last year's year-end report, due 31 December 2026, is still there to do.
    last = Obligation.objects.get(organisation=team, kind=K.YEAR_END_REPORT, year=2026)
    assert last.due_on == date(2026, 12, 31)
