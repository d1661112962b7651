"""Reads of the oversight dashboard: every figure computed from the records, scoped to the user.

The dashboard's figures come from a fixed number of GROUP BY queries over all the bureaus of
the user's scope at once, so the page costs the same whether a city has 3 or 20 counties. Each
task figure is a named filter (``TASK_FILTERS``): the dashboard counts it, the drill-down lists
it, so a number and the list behind it cannot disagree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.calendar import CalendarNotCovered, _Calendar
from core.models import Organisation, Role
from core.roles import Cap, user_can
from core.selectors import organisations_visible_to
from core.vocab import SupervisionClass
from inspections.models import InspectionRecord, InspectionTask
from inspectors.models import Inspector
from lottery.display import deadline_status
from lottery.models import Draw, Plan, Substitution
from lottery.periods import period_bounds, quarter_of
from lottery.selectors import DRAWING_KINDS, quarter_standings
from oversight import regimes
from publication.models import PublishedResult
from registry.models import PollutionSource

CLASSES = [c.value for c in SupervisionClass]
CLASS_LABELS = dict(SupervisionClass.choices)
State = InspectionTask.State
OPEN_STATES = [State.ASSIGNED, State.IN_PROGRESS, State.RECORDED, State.SUBMITTED]
ENTRY_WORKING_DAYS = 7
PUBLISH_WORKING_DAYS = 20
SOON_WORKING_DAYS = 10

GREEN, AMBER, RED, NEUTRAL = "green", "amber", "red", "neutral"
TONE_ORDER = {NEUTRAL: 0, GREEN: 1, AMBER: 2, RED: 3}


# --- who may see what ---------------------------------------------------------------------------


def can_oversee(user) -> bool:
    """The dashboard: the city team's reviewers, the province, administrators, and a county
    leader (who sees the own bureau's row only: the scope does that)."""
    return user_can(user, Cap.REVIEW_COUNTIES) or user_can(user, Cap.VIEW_REPORTS)


def can_see_bureau(user) -> bool:
    """A bureau's own figures: its clerks and leaders (and anyone who oversees)."""
    return can_oversee(user) or user_can(user, Cap.VIEW_DRAWS)


def is_province_level(user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or user.role == Role.ADMIN:
        return True
    org = user.organisation
    return org is not None and org.kind == Organisation.Kind.PROVINCE


def units_for_user(*, user, city: str = "") -> list[Organisation]:
    """The county bureaus and city teams the user oversees (city team first, then by division
    code); ``city`` (four digits) narrows to one city, and a city outside the scope is a 404."""
    units = organisations_visible_to(user).filter(kind__in=DRAWING_KINDS)
    if city:
        units = units.filter(division_code__startswith=city)
    found = sorted(
        units, key=lambda o: (o.division_code[:4], o.kind != "city_team", o.division_code)
    )
    if city and not found:
        raise Http404
    return found


def unit_get_for_user(*, user, pk: int) -> Organisation:
    try:
        return organisations_visible_to(user).filter(kind__in=DRAWING_KINDS).get(pk=pk)
    except Organisation.DoesNotExist:
        raise Http404 from None


def city_names(prefixes: set[str]) -> dict[str, str]:
    """The city bureau's (or team's) short name of each four-digit prefix, in one query."""
    names: dict[str, str] = {}
    for org in Organisation.objects.filter(
        kind__in=[Organisation.Kind.CITY_BUREAU, Organisation.Kind.CITY_TEAM],
        division_code__in=[p + "00" for p in prefixes],
    ).order_by("kind"):
        names.setdefault(org.division_code[:4], org.short_name or org.name)
    return names


# --- the period -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    year: int
    quarter: int
    today: date

    @property
    def start(self) -> date:
        return period_bounds(self.year, self.quarter)[0]

    @property
    def end(self) -> date:
        return period_bounds(self.year, self.quarter)[1]

    @property
    def year_start(self) -> date:
        return date(self.year, 1, 1)

    @property
    def half_start(self) -> date:
        return date(self.year, 1 if self.quarter <= 2 else 7, 1)

    def cycle3_start(self, anchor: int = regimes.GENERAL_CYCLE_DEFAULT_ANCHOR) -> date:
        return date(self.year - (self.year - anchor) % 3, 1, 1)

    @property
    def plan_due(self) -> date:
        return date(self.year, 3 * (self.quarter - 1) + 1, 5)

    @property
    def results_due(self) -> date:
        return date(self.year, 3 * self.quarter, 25)

    @property
    def ended(self) -> bool:
        return self.today > self.end

    @property
    def previous(self) -> tuple[int, int]:
        return (self.year - 1, 4) if self.quarter == 1 else (self.year, self.quarter - 1)

    @property
    def following(self) -> tuple[int, int]:
        return (self.year + 1, 1) if self.quarter == 4 else (self.year, self.quarter + 1)

    def query(self) -> str:
        return f"year={self.year}&quarter={self.quarter}"


def parse_period(params, today: date) -> tuple[Period, str]:
    """The quarter asked for, or this quarter with a message saying why the request was not
    understood (never an error page)."""
    year, quarter = quarter_of(today)
    raw_year, raw_quarter = str(params.get("year", "")), str(params.get("quarter", ""))
    bad = ""
    try:
        new_year = int(raw_year) if raw_year else year
        if not 2000 <= new_year <= 2100:
            raise ValueError
    except ValueError:
        bad, new_year = raw_year, year
    try:
        new_quarter = int(raw_quarter) if raw_quarter else quarter
        if new_quarter not in (1, 2, 3, 4):
            raise ValueError
    except ValueError:
        bad, new_quarter = bad or raw_quarter, quarter
    if bad:
        message = _("“%(v)s” is not a year and quarter we understand: showing %(y)s Q%(q)s.") % {
            "v": bad[:20],
            "y": year,
            "q": quarter,
        }
        return Period(year, quarter, today), message
    return Period(new_year, new_quarter, today), ""


# --- working-day deadlines of the quarter's tasks ------------------------------------------------


class _Days:
    """Working-day arithmetic over the calendar, each year's schedule read once (one query per
    year touched, never one per task)."""

    def __init__(self):
        self.calendars: dict[int, _Calendar | None] = {}

    def _working(self, day: date) -> bool:
        if day.year not in self.calendars:
            try:
                self.calendars[day.year] = _Calendar({day.year})
            except CalendarNotCovered:
                self.calendars[day.year] = None
        calendar = self.calendars[day.year]
        if calendar is None:
            raise CalendarNotCovered([day.year])
        return calendar.is_working_day(day)

    def add(self, start: date, n: int) -> date:
        """``n`` working days after ``start`` (before it when negative), as
        ``core.calendar.add_working_days`` counts them."""
        step = timedelta(days=1 if n > 0 else -1)
        day, left = start, abs(n)
        while left:
            day += step
            if self._working(day):
                left -= 1
        return day


def publication_dues(ended_days: list[date]) -> dict[date, date]:
    """Each end-of-check day's publication deadline (20 working days); a day whose deadline
    falls in a year without its official schedule is left out (never guessed)."""
    days = _Days()
    dues = {}
    for start in ended_days:
        try:
            dues[start] = days.add(start, PUBLISH_WORKING_DAYS)
        except CalendarNotCovered:
            continue
    return dues


def working_days_after(start: date, n: int) -> date | None:
    try:
        return _Days().add(start, n)
    except CalendarNotCovered:
        return None


def task_class():
    """A task's class: the stratum it was drawn in, else (a targeted check) its source's class.
    Two correlated lookups by primary key rather than joins: a join would hash the whole drawn
    list (a million rows at a city's scale) for the quarter's few thousand tasks."""
    from lottery.models import DrawSelection

    stratum = DrawSelection.objects.filter(pk=OuterRef("selection_id")).values("stratum")[:1]
    source_class = PollutionSource.objects.filter(pk=OuterRef("source_id")).values(
        "supervision_class"
    )[:1]
    return Coalesce(Subquery(stratum), Subquery(source_class), output_field=CharField())


def quarter_tasks(
    *, organisation_ids, period: Period, through_quarter: int | None = None
) -> QuerySet[InspectionTask]:
    """The quarter's tasks (their inspection period starts in the quarter; with
    ``through_quarter`` those of the year's quarters 1 to that one), annotated with the
    figures' inputs: class, first entry of a result, first and current publication, and the
    publication deadline. Two queries to read the calendar, none per task."""
    if through_quarter is None:
        start, end = period.start, period.end
    else:
        start, end = period.year_start, period_bounds(period.year, through_quarter)[1]
    base = InspectionTask.objects.filter(
        organisation_id__in=organisation_ids,
        period_start__gte=start,
        period_start__lte=end,
    )
    ended = sorted(
        d
        for d in base.exclude(handling_ended_on=None)
        .order_by()
        .values_list("handling_ended_on", flat=True)
        .distinct()
        if d is not None
    )
    dues = publication_dues(ended)
    if dues:
        pub_due = Cast(
            Case(
                *[When(handling_ended_on=d, then=Value(due)) for d, due in dues.items()],
                default=Value(None),
                output_field=DateField(),
            ),
            DateField(),
        )
    else:
        pub_due = Cast(Value(None), DateField())
    first_entry = (
        InspectionRecord.objects.filter(task=OuterRef("pk"), result_type__isnull=False)
        .order_by("created_at")
        .values("created_at")[:1]
    )
    first_pub = (
        PublishedResult.objects.filter(task=OuterRef("pk"))
        .order_by("published_at")
        .values("published_at")[:1]
    )
    return base.annotate(
        klass=task_class(),
        entered_on=TruncDate(Subquery(first_entry)),
        first_pub_on=TruncDate(Subquery(first_pub)),
        pub_now=Exists(
            PublishedResult.objects.filter(task=OuterRef("pk"), is_current=True, withdrawn=False)
        ),
        pub_due=pub_due,
    )


def task_filters(today: date) -> dict[str, Q]:
    """Each task figure as a filter over ``quarter_tasks``: counted by the dashboard, listed by
    the drill-down."""
    live = ~Q(state=State.CANCELLED)
    drawn = live & Q(kind=InspectionTask.Kind.DRAWN)
    return {
        "tasks": live,
        "random": drawn,
        "targeted": live & Q(kind=InspectionTask.Kind.TARGETED),
        "inspected": Q(state=State.APPROVED),
        "open": Q(state__in=OPEN_STATES),
        "entered_on_time": live & Q(entered_on__isnull=False, entered_on__lte=F("entry_due")),
        "entered_late": live & Q(entered_on__isnull=False, entered_on__gt=F("entry_due")),
        "entry_overdue": live & Q(entered_on__isnull=True, entry_due__lt=today),
        "published_on_time": drawn & Q(first_pub_on__isnull=False, first_pub_on__lte=F("pub_due")),
        "published_late": drawn & Q(first_pub_on__isnull=False, first_pub_on__gt=F("pub_due")),
        "publication_overdue": drawn & Q(first_pub_on__isnull=True, pub_due__lt=today),
        "disclosed": drawn & Q(pub_now=True),
        "disclosure_due": drawn & (Q(pub_now=True) | Q(pub_due__lt=today)),
        "off_site": live & Q(mode="off_site"),
        "joint": Q(state=State.APPROVED, joint=True),
    }


TASK_METRIC_LABELS = {
    "tasks": gettext_lazy("Tasks of the quarter"),
    "random": gettext_lazy("Random spot checks"),
    "targeted": gettext_lazy("Targeted checks"),
    "inspected": gettext_lazy("Inspected (approved)"),
    "open": gettext_lazy("Still open"),
    "entered_on_time": gettext_lazy("Results entered on time"),
    "entered_late": gettext_lazy("Results entered late"),
    "entry_overdue": gettext_lazy("Result entry overdue"),
    "published_on_time": gettext_lazy("Published on time"),
    "published_late": gettext_lazy("Published late"),
    "publication_overdue": gettext_lazy("Publication overdue"),
    "disclosed": gettext_lazy("Results disclosed"),
    "disclosure_due": gettext_lazy("Results due for disclosure"),
    "off_site": gettext_lazy("Off-site supervisions"),
    "joint": gettext_lazy("Completed joint inspections"),
    "overdue": gettext_lazy("Overdue results (entry or publication)"),
}


#: The same filters as ``task_filters``, in SQL over the columns of ``quarter_tasks`` (one
#: row per task): the dashboard aggregates the annotated tasks once instead of repeating each
#: correlated subquery inside every FILTER. ``test_every_task_figure_equals_its_drill_down``
#: holds the two to the same counts.
_LIVE = "state <> 'cancelled'"
_DRAWN = f"{_LIVE} AND kind = 'drawn'"
TASK_SQL = {
    "tasks": _LIVE,
    "random": _DRAWN,
    "targeted": f"{_LIVE} AND kind = 'targeted'",
    "inspected": "state = 'approved'",
    "open": "state IN ('assigned', 'in_progress', 'recorded', 'submitted')",
    "entered_on_time": f"{_LIVE} AND entered_on IS NOT NULL AND entered_on <= entry_due",
    "entered_late": f"{_LIVE} AND entered_on IS NOT NULL AND entered_on > entry_due",
    "entry_overdue": f"{_LIVE} AND entered_on IS NULL AND entry_due < %(today)s",
    "published_on_time": f"{_DRAWN} AND first_pub_on IS NOT NULL AND first_pub_on <= pub_due",
    "published_late": f"{_DRAWN} AND first_pub_on IS NOT NULL AND first_pub_on > pub_due",
    "publication_overdue": f"{_DRAWN} AND first_pub_on IS NULL AND pub_due < %(today)s",
    "disclosed": f"{_DRAWN} AND pub_now",
    "disclosure_due": f"{_DRAWN} AND (pub_now OR pub_due < %(today)s)",
    "off_site": f"{_LIVE} AND mode = 'off_site'",
    "joint": "state = 'approved' AND joint",
}
_TASK_COLUMNS = (
    "organisation_id",
    "klass",
    "state",
    "kind",
    "mode",
    "joint",
    "entry_due",
    "entered_on",
    "first_pub_on",
    "pub_now",
    "pub_due",
)


def _sql_date(day: date) -> str:
    """A date literal: typed on PostgreSQL; on SQLite, which keeps dates as ISO text, the text."""
    from django.db import connection

    iso = day.isoformat()  # a date's ISO form: digits and dashes only
    return f"DATE '{iso}'" if connection.vendor == "postgresql" else f"'{iso}'"


def _sql_fence() -> str:
    """``OFFSET 0`` keeps PostgreSQL from pulling a subquery up (SQLite wants no OFFSET alone)."""
    from django.db import connection

    return " OFFSET 0" if connection.vendor == "postgresql" else ""


def _sql_quarter(column: str) -> str:
    """The quarter (1-4) of a date column, in the database's dialect."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return f"EXTRACT(QUARTER FROM {column})::int"
    return f"((CAST(substr({column}, 6, 2) AS INTEGER) + 2) / 3)"


def _grouped(query: str, params) -> dict[tuple[int, str], dict]:
    """Run a GROUP BY (unit, class) and key its rows. On PostgreSQL without JIT: the plans'
    cost estimates (a CASE of the quarter's deadlines, correlated subqueries) make the JIT
    compile for seconds what runs in a fraction of one."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(query, params)
        names = [c[0] for c in cursor.description]
        return {(row[0], row[1]): dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def count_quarter_tasks(*, organisation_ids, period: Period) -> dict[tuple[int, str], dict]:
    """Every task figure per unit and class, in one query: the annotated quarter's tasks (each
    subquery once per task) aggregated by the filters of ``TASK_SQL``."""

    inner = quarter_tasks(organisation_ids=organisation_ids, period=period).order_by()
    sql, params = inner.values(*_TASK_COLUMNS).query.sql_with_params()
    today = _sql_date(period.today)
    counts = ", ".join(
        f"count(*) FILTER (WHERE {cond.replace('%(today)s', today)}) AS {name}"
        for name, cond in TASK_SQL.items()
    )
    # OFFSET 0 keeps PostgreSQL from pulling the subquery up, which would evaluate each
    # correlated subquery once per FILTER that names its column.
    query = f"SELECT organisation_id, klass, {counts} FROM ({sql}{_sql_fence()}) t GROUP BY 1, 2"
    return _grouped(query, params)


def disclosure_by_quarter(
    *, units: list[Organisation], period: Period, rows: list | None = None
) -> dict[int, float | None]:
    """The disclosure rate of each quarter of the year up to ``period``'s over ``units`` (the
    dashboard's definition, ``TASK_SQL``): the chart of the rate over time. The chosen quarter
    is added up from the dashboard's ``rows`` when given; the earlier ones take one pass (none
    in the first quarter); later quarters have none yet."""
    rates: dict[int, float | None] = {q: None for q in (1, 2, 3, 4)}
    if rows is not None:
        disclosed = sum(r.counts["disclosed"] for r in rows)
        due = sum(r.counts["disclosure_due"] for r in rows)
        rates[period.quarter] = _pct(disclosed, due)
        last = period.quarter - 1
    else:
        last = period.quarter
    if last < 1:
        return rates
    inner = quarter_tasks(
        organisation_ids=[o.pk for o in units], period=period, through_quarter=last
    ).order_by()
    sql, params = inner.values(*_TASK_COLUMNS, "period_start").query.sql_with_params()
    today = _sql_date(period.today)
    disclosed_sql = TASK_SQL["disclosed"].replace("%(today)s", today)
    due_sql = TASK_SQL["disclosure_due"].replace("%(today)s", today)
    query = (
        f"SELECT {_sql_quarter('period_start')} AS q, 'all' AS klass, "
        f"count(*) FILTER (WHERE {disclosed_sql}) AS disclosed, "
        f"count(*) FILTER (WHERE {due_sql}) AS due "
        f"FROM ({sql}{_sql_fence()}) t GROUP BY 1, 2"
    )
    for (q, _all), found in _grouped(query, params).items():
        rates[q] = _pct(found["disclosed"], found["due"])
    return rates


def count_coverage(
    *, organisation_ids, period: Period, cycle3: bool = True
) -> dict[tuple[int, str], dict]:
    """Distinct sources checked (approved) per unit and class in the year, the half-year and
    the three-year cycle, and joint inspections of the year and the quarter: one pass that first
    reduces the tasks to one row per source."""

    # The three-year cycle is read only when a unit's regime has one (本溪 2025).
    start = min(period.cycle3_start(), period.year_start) if cycle3 else period.year_start
    inner = (
        InspectionTask.objects.filter(
            organisation_id__in=organisation_ids,
            state=State.APPROVED,
            period_start__gte=start,
            period_start__lte=period.end,
        )
        .annotate(klass=task_class())
        .order_by()
        .values("organisation_id", "klass", "source_id", "period_start", "joint")
    )
    sql, params = inner.query.sql_with_params()
    year, half = _sql_date(period.year_start), _sql_date(period.half_start)
    cycle = _sql_date(period.cycle3_start())
    quarter = _sql_date(period.start)
    query = f"""
        SELECT organisation_id, klass,
               count(*) FILTER (WHERE last >= {year}) AS year,
               count(*) FILTER (WHERE last >= {half}) AS half,
               count(*) FILTER (WHERE last >= {cycle}) AS cycle3,
               count(*) FILTER (WHERE joint_last >= {year}) AS joint_year,
               count(*) FILTER (WHERE joint_last >= {quarter}) AS joint_quarter
        FROM (
            SELECT organisation_id, klass, source_id, max(period_start) AS last,
                   max(period_start) FILTER (WHERE joint) AS joint_last
            FROM ({sql}) t GROUP BY 1, 2, 3
        ) s GROUP BY 1, 2
    """
    return _grouped(query, params)


# --- the dashboard's rows ------------------------------------------------------------------------


@dataclass
class Figure:
    key: str
    label: str
    text: str
    tone: str
    rule: str
    url: str = ""
    value: float | int | None = None


@dataclass
class BureauRow:
    organisation: Organisation
    plan: Plan | None
    draw: Draw | None
    regime: regimes.Regime
    deadline: dict
    plan_late: bool
    quotas: list[dict] = field(default_factory=list)
    classes: list[dict] = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    key_minimum: int = 0
    figures: list[Figure] = field(default_factory=list)

    # The quota overview's dict interface (templates and tests read row["draw"]).
    def __getitem__(self, key):
        return getattr(self, key)

    @property
    def required(self) -> int:
        return sum(q["required"] for q in self.quotas)

    @property
    def drawn(self) -> int:
        return sum(q["drawn"] or 0 for q in self.quotas)

    @property
    def tone(self) -> str:
        return max((f.tone for f in self.figures), key=TONE_ORDER.__getitem__, default=NEUTRAL)

    @property
    def late(self) -> bool:
        return self.tone == RED

    def figure(self, key: str) -> Figure | None:
        return next((f for f in self.figures if f.key == key), None)


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _share_tone(done: int, expected: float, *, final: bool) -> str:
    """Green at or above what is expected by now, amber below it while there is time, red below
    half of it (or below it once the period is over)."""
    if expected <= 0 or done >= expected:
        return GREEN
    if final or done < expected / 2:
        return RED
    return AMBER


def bureau_rows(*, units: list[Organisation], period: Period, drill=None) -> list[BureauRow]:
    """Every figure of every unit, in a fixed number of queries (see the module's docstring).
    ``drill(org, metric, klass="")`` gives a figure's drill-down URL."""
    drill = drill or (lambda *a, **k: "")
    ids = [o.pk for o in units]
    today = period.today
    standings = {
        s.organisation.pk: s
        for s in quarter_standings(organisations=units, year=period.year, quarter=period.quarter)
    }
    # The quarter's tasks: one GROUP BY per unit and class.
    filters = task_filters(today)
    task_counts = count_quarter_tasks(organisation_ids=ids, period=period)
    # Coverage, staff ratio progress and joint inspections: approved tasks of the windows.
    cycle3 = any(regimes.regime_for(organisation=o).general_cycle_anchor is not None for o in units)
    coverage = count_coverage(organisation_ids=ids, period=period, cycle3=cycle3)
    registry: dict[tuple[int, str], int] = {}
    for src in (
        PollutionSource.objects.filter(organisation_id__in=ids, status="active")
        .values("organisation_id", "supervision_class")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        registry[(src["organisation_id"], src["supervision_class"])] = src["n"]
    staff = dict(
        Inspector.objects.certified(min(today, period.end))
        .filter(organisation_id__in=ids)
        .values("organisation_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("organisation_id", "n")
    )
    draw_ids = [s.draw.pk for s in standings.values() if s.draw is not None]
    subs: dict[int, dict[str, int]] = {}
    for sub in (
        Substitution.objects.filter(draw_id__in=draw_ids, status=Substitution.Status.APPROVED)
        .values("draw__organisation_id", "kind")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        subs.setdefault(sub["draw__organisation_id"], {})[sub["kind"]] = sub["n"]

    rows = []
    for org in units:
        standing = standings[org.pk]
        draw = standing.draw
        regime = regimes.regime_for(organisation=org, plan=standing.plan)
        plan = standing.plan
        plan_published = plan.published_at.date() if plan and plan.published_at else None
        plan_late = (plan_published or today) > period.plan_due
        quotas = [
            {
                "class": q["class"],
                "label": CLASS_LABELS.get(q["class"], q["class"]),
                "required": q["required"],
                "pool": q.get("pool"),
                "drawn": standing.drawn.get(q["class"], 0) if standing.executed else None,
            }
            for q in (draw.quotas if draw else [])
        ]
        quota_by_class = {q["class"]: q for q in quotas}
        row = BureauRow(
            organisation=org,
            plan=plan,
            draw=draw,
            regime=regime,
            deadline=deadline_status(standing, today),
            plan_late=plan_late,
            quotas=quotas,
        )
        totals = {name: 0 for name in filters}
        for klass in CLASSES:
            counts = task_counts.get((org.pk, klass), {})
            for name in filters:
                totals[name] += counts.get(name, 0)
            quota = quota_by_class.get(klass)
            pool = (
                quota["pool"]
                if quota and quota["pool"] is not None
                else registry.get((org.pk, klass), 0)
            )
            row.classes.append(
                {
                    "class": klass,
                    "label": CLASS_LABELS[klass],
                    "pool": pool,
                    "required": quota["required"] if quota else None,
                    "drawn": quota["drawn"] if quota else None,
                    "short": bool(
                        quota and quota["drawn"] is not None and quota["drawn"] < quota["required"]
                    ),
                    **{name: counts.get(name, 0) for name in filters},
                    "urls": {
                        name: drill(org, name, klass)
                        for name in ("inspected", "entered_on_time", "published_on_time", "open")
                    },
                    "pool_url": drill(org, "pool", klass),
                }
            )
        row.counts = totals
        row.figures = _figures(
            row,
            period=period,
            coverage=coverage,
            registry=registry,
            staff=staff.get(org.pk, 0),
            subs=subs.get(org.pk, {}),
            drill=drill,
        )
        rows.append(row)
    return rows


def _figures(row: BureauRow, *, period, coverage, registry, staff, subs, drill) -> list[Figure]:
    org, regime, counts, today = row.organisation, row.regime, row.counts, period.today
    figures: list[Figure] = []

    # The quota: drawn against required, per class (the draw's own arithmetic).
    key_class = next((c for c in row.classes if c["class"] == "key"), None)
    key_minimum = (
        math.ceil(regime.key_percent * key_class["pool"] / 100)
        if regime.key_percent and key_class
        else 0
    )
    row.key_minimum = key_minimum
    if row.draw is not None and row.draw.status == Draw.Status.EXECUTED:
        short = [q for q in row.quotas if (q["drawn"] or 0) < q["required"]]
        key_short = key_class is not None and (key_class["drawn"] or 0) < key_minimum
        if key_class is not None:
            key_class["short"] = key_class["short"] or key_short
        tone = RED if short or key_short else GREEN
        text = f"{row.drawn} / {row.required}"
        if key_short and key_class is not None:
            text += " · " + str(_("key %(d)s of %(m)s")) % {
                "d": key_class["drawn"] or 0,
                "m": key_minimum,
            }
    elif row.deadline["late"]:
        tone, text = RED, _("not drawn")
    else:
        tone, text = AMBER, _("not drawn")
    figures.append(
        Figure(
            "quota",
            _("Drawn / required"),
            text,
            tone,
            regime.key_rule() + " · " + regime.quota_rule(),
            drill(org, "random"),
            row.drawn,
        )
    )

    # Inspected by the 25th of the quarter's last month.
    inspected = counts["inspected"]
    if not counts["tasks"]:
        tone = NEUTRAL
    elif inspected >= counts["tasks"]:
        tone = GREEN
    else:
        tone = RED if today > period.results_due else AMBER
    figures.append(
        Figure(
            "inspected",
            _("Inspected / tasks"),
            f"{inspected} / {counts['tasks']}",
            tone,
            str(regimes.RESULTS_RULE),
            drill(org, "inspected"),
            inspected,
        )
    )
    figures.append(
        Figure(
            "entry",
            _("Entered on time"),
            f"{counts['entered_on_time']} / {counts['entered_on_time'] + counts['entered_late'] + counts['entry_overdue']}",
            RED
            if counts["entry_overdue"]
            else (
                AMBER
                if counts["entered_late"]
                else (GREEN if counts["entered_on_time"] else NEUTRAL)
            ),
            str(regimes.ENTRY_RULE),
            drill(org, "entered_on_time"),
            counts["entered_on_time"],
        )
    )
    figures.append(
        Figure(
            "publication",
            _("Published on time"),
            f"{counts['published_on_time']} / {counts['published_on_time'] + counts['published_late'] + counts['publication_overdue']}",
            RED
            if counts["publication_overdue"]
            else (
                AMBER
                if counts["published_late"]
                else (GREEN if counts["published_on_time"] else NEUTRAL)
            ),
            str(regimes.PUBLICATION_RULE),
            drill(org, "published_on_time"),
            counts["published_on_time"],
        )
    )

    # Key coverage in the regime's cycle.
    key_pool = registry.get((org.pk, "key"), 0)
    cov = coverage.get((org.pk, "key"), {})
    if regime.key_cycle == "half_year":
        covered = cov.get("half", 0)
        elapsed, length = (period.quarter - 1) % 2 + 1, 2
    else:
        covered = cov.get("year", 0)
        elapsed, length = period.quarter, 4
    expected = key_pool * elapsed / length
    final = period.ended and elapsed == length
    figures.append(
        Figure(
            "key_coverage",
            _("Key coverage"),
            f"{covered} / {key_pool}",
            _share_tone(covered, expected, final=final) if regime.key_cycle else NEUTRAL,
            regime.coverage_rule(),
            drill(org, "key_coverage"),
            _pct(covered, key_pool),
        )
    )
    # General coverage in the three-year cycle.
    general_pool = registry.get((org.pk, "general"), 0)
    general_covered = coverage.get((org.pk, "general"), {}).get("cycle3", 0)
    if regime.general_cycle_anchor is None:
        general_text = "—"
    else:
        general_text = f"{general_covered} / {general_pool}"
    anchor = regime.general_cycle_anchor or regimes.GENERAL_CYCLE_DEFAULT_ANCHOR
    quarters_in = (period.year - period.cycle3_start(anchor).year) * 4 + period.quarter
    figures.append(
        Figure(
            "general_coverage",
            _("General coverage (3 years)"),
            general_text,
            _share_tone(
                general_covered,
                general_pool * quarters_in / 12,
                final=period.ended and quarters_in == 12,
            )
            if regime.general_cycle_anchor
            else NEUTRAL,
            regime.general_rule(),
            drill(org, "general_coverage") if regime.general_cycle_anchor else "",
            _pct(general_covered, general_pool) if regime.general_cycle_anchor else None,
        )
    )
    # Staff ratio: general objects checked this year against 1:N per on-staff inspector.
    general_year = coverage.get((org.pk, "general"), {}).get("year", 0)
    if regime.staff_objects:
        target = staff * regime.staff_objects
        figures.append(
            Figure(
                "staff_ratio",
                _("Staff ratio progress"),
                f"{general_year} / {target}",
                _share_tone(
                    general_year,
                    target * period.quarter / 4,
                    final=period.ended and period.quarter == 4,
                ),
                regime.staff_rule(),
                drill(org, "staff_ratio"),
                general_year,
            )
        )
    else:
        figures.append(
            Figure("staff_ratio", _("Staff ratio progress"), "—", NEUTRAL, regime.staff_rule())
        )
    # Joint inspections of key objects: at least 5% a year and one each quarter.
    joint_year = cov.get("joint_year", 0)
    joint_quarter = cov.get("joint_quarter", 0)
    if regime.joint_percent:
        share_ok = key_pool and 100 * joint_year >= regime.joint_percent * key_pool
        if joint_quarter < 1:
            tone = RED if period.ended else AMBER
        elif not share_ok:
            tone = RED if period.ended and period.quarter == 4 else AMBER
        else:
            tone = GREEN
        text = f"{joint_quarter} · {_pct(joint_year, key_pool) or 0}%"
    else:
        tone, text = NEUTRAL, f"{joint_quarter}"
    figures.append(
        Figure(
            "joint",
            _("Joint inspections (quarter · year share)"),
            text,
            tone,
            regime.joint_rule(),
            drill(org, "joint"),
            joint_quarter,
        )
    )
    figures.append(
        Figure(
            "off_site",
            _("Off-site supervisions"),
            str(counts["off_site"]),
            NEUTRAL,
            str(regimes.OFF_SITE_RULE),
            drill(org, "off_site"),
            counts["off_site"],
        )
    )
    replaced = subs.get(Substitution.Kind.OBJECT, 0)
    recused = subs.get(Substitution.Kind.INSPECTOR, 0)
    figures.append(
        Figure(
            "substitutions",
            _("Substitutions · recusals"),
            f"{replaced} · {recused}",
            NEUTRAL,
            str(regimes.SUBSTITUTION_RULE),
            drill(org, "substitutions"),
            replaced + recused,
        )
    )
    figures.append(
        Figure(
            "random_targeted",
            _("Random · targeted"),
            f"{counts['random']} · {counts['targeted']}",
            NEUTRAL,
            str(regimes.TARGETED_RULE),
            drill(org, "targeted"),
            counts["targeted"],
        )
    )
    rate = _pct(counts["disclosed"], counts["disclosure_due"])
    figures.append(
        Figure(
            "disclosure",
            _("Disclosure rate"),
            "—" if rate is None else f"{rate}%",
            NEUTRAL if rate is None else (GREEN if rate >= 100 else (AMBER if rate >= 90 else RED)),
            str(regimes.DISCLOSURE_RULE),
            drill(org, "disclosed"),
            rate,
        )
    )
    overdue = (
        int(row.plan_late and row.plan is None)
        + int(row.deadline["late"] and not (row.draw and row.draw.status == Draw.Status.EXECUTED))
        + counts["entry_overdue"]
        + counts["publication_overdue"]
    )
    late_words = []
    if row.plan is None and row.plan_late:
        late_words.append(str(_("plan overdue")))
    if row.deadline["late"] and not (row.draw and row.draw.status == Draw.Status.EXECUTED):
        late_words.append(str(_("draw overdue")))
    if counts["entry_overdue"]:
        late_words.append(str(_("entry %(n)s")) % {"n": counts["entry_overdue"]})
    if counts["publication_overdue"]:
        late_words.append(str(_("publication %(n)s")) % {"n": counts["publication_overdue"]})
    figures.append(
        Figure(
            "overdue",
            _("Overdue items"),
            str(overdue) + (f" ({', '.join(late_words)})" if late_words else ""),
            RED if overdue else GREEN,
            " · ".join(
                str(r)
                for r in (
                    regimes.PLAN_RULE,
                    regimes.DRAW_RULE,
                    regimes.ENTRY_RULE,
                    regimes.PUBLICATION_RULE,
                )
            ),
            drill(org, "overdue"),
            overdue,
        )
    )
    return figures


def result_mix(*, units: list[Organisation], period: Period) -> dict[int, int]:
    """The approved results of the quarter's tasks by result type (one query)."""
    rows = (
        InspectionRecord.objects.filter(
            approved=True,
            task__organisation_id__in=[o.pk for o in units],
            task__period_start__gte=period.start,
            task__period_start__lte=period.end,
            result_type__isnull=False,
        )
        .values("result_type")
        .annotate(n=Count("task_id", distinct=True))
        .order_by()
    )
    return {r["result_type"]: r["n"] for r in rows if r["result_type"] is not None}


# --- the drill-down lists -------------------------------------------------------------------------


def drill_tasks(*, organisation, period: Period, metric: str, klass: str = "") -> QuerySet:
    """The tasks behind a task figure of one unit (``overdue``: entry or publication)."""
    filters = task_filters(period.today)
    if metric == "overdue":
        condition = filters["entry_overdue"] | filters["publication_overdue"]
    else:
        condition = filters[metric]
    tasks = quarter_tasks(organisation_ids=[organisation.pk], period=period).filter(condition)
    if klass:
        tasks = tasks.filter(klass=klass)  # type: ignore[misc]  # quarter_tasks annotates klass
    return tasks.select_related("source", "selection__draw").order_by("pk")


def drill_coverage(*, organisation, period: Period, metric: str, regime) -> QuerySet:
    """The sources of the coverage figures that were checked (approved) in the cycle."""
    if metric == "key_coverage":
        klass = "key"
        start = period.half_start if regime.key_cycle == "half_year" else period.year_start
    elif metric == "general_coverage":
        klass = "general"
        start = period.cycle3_start(
            regime.general_cycle_anchor or regimes.GENERAL_CYCLE_DEFAULT_ANCHOR
        )
    else:  # staff_ratio: general objects checked this year
        klass, start = "general", period.year_start
    checked = (
        InspectionTask.objects.filter(
            organisation_id=organisation.pk,
            state=State.APPROVED,
            period_start__gte=start,
            period_start__lte=period.end,
        )
        .annotate(klass=task_class())
        .filter(klass=klass)
        .values("source_id")
    )
    return PollutionSource.objects.filter(pk__in=Subquery(checked)).order_by("source_code")


def drill_pool(*, organisation, klass: str) -> QuerySet[PollutionSource]:
    return PollutionSource.objects.filter(
        organisation_id=organisation.pk, status="active", supervision_class=klass
    ).order_by("source_code")


def drill_substitutions(*, organisation, period: Period) -> QuerySet[Substitution]:
    return (
        Substitution.objects.filter(
            draw__organisation_id=organisation.pk,
            draw__plan__year=period.year,
            draw__plan__quarter=period.quarter,
            status=Substitution.Status.APPROVED,
        )
        .select_related("draw", "inspector", "decided_by")
        .order_by("decided_at", "pk")
    )


# --- a bureau's own view ---------------------------------------------------------------------------


def due_soon(*, organisation, today: date) -> dict:
    """What falls due for the bureau in the next ten working days: result entries, publications,
    and the next quarter's plan and draw."""
    limit = working_days_after(today, SOON_WORKING_DAYS)
    if limit is None:
        return {"limit": None, "entries": [], "publications": [], "deadlines": []}
    entries = list(
        InspectionTask.objects.filter(
            organisation_id=organisation.pk,
            entry_due__gte=today,
            entry_due__lte=limit,
            state__in=[State.ASSIGNED, State.IN_PROGRESS, State.RECORDED],
        )
        .exclude(records__result_type__isnull=False)
        .select_related("source", "selection__draw")
        .order_by("entry_due", "pk")[:200]
    )
    start = limit - timedelta(days=60)
    period = Period(today.year, quarter_of(today)[1], today)
    tasks = (
        InspectionTask.objects.filter(
            organisation_id=organisation.pk,
            kind=InspectionTask.Kind.DRAWN,
            handling_ended_on__gte=start,
            handling_ended_on__lte=today,
        )
        .exclude(state=State.CANCELLED)
        .exclude(published__isnull=False)
        .select_related("source", "selection__draw")
    )
    ended = {t.handling_ended_on for t in tasks if t.handling_ended_on is not None}
    dues = publication_dues(sorted(ended)) or {}
    publications = sorted(
        (
            (dues[t.handling_ended_on], t)
            for t in tasks
            if t.handling_ended_on in dues and today <= dues[t.handling_ended_on] <= limit
        ),
        key=lambda pair: (pair[0], pair[1].pk),
    )
    deadlines = []
    for year, quarter in (quarter_of(today), period.following):
        p = Period(year, quarter, today)
        if today <= p.plan_due <= limit:
            deadlines.append(
                {"what": _("Quarterly plan Q%(q)s") % {"q": quarter}, "due": p.plan_due}
            )
        if today <= date(year, 3 * (quarter - 1) + 1, 10) <= limit:
            deadlines.append(
                {
                    "what": _("Quarterly draw Q%(q)s") % {"q": quarter},
                    "due": date(year, 3 * (quarter - 1) + 1, 10),
                }
            )
        if today <= p.results_due <= limit:
            deadlines.append(
                {"what": _("Results of Q%(q)s reported") % {"q": quarter}, "due": p.results_due}
            )
    return {
        "limit": limit,
        "entries": entries,
        "publications": [{"due": due, "task": t} for due, t in publications],
        "deadlines": deadlines,
    }


# --- the province: its cities -------------------------------------------------------------------


def city_summaries(rows: list[BureauRow]) -> list[dict]:
    """The dashboard's rows added up per city (sums of the same counts; worst colour)."""
    cities: dict[str, dict] = {}
    for row in rows:
        prefix = row.organisation.division_code[:4]
        city = cities.setdefault(
            prefix,
            {
                "prefix": prefix,
                "units": 0,
                "late_draws": 0,
                "required": 0,
                "drawn": 0,
                "entry_overdue": 0,
                "publication_overdue": 0,
                "disclosed": 0,
                "disclosure_due": 0,
                "red": 0,
            },
        )
        city["units"] += 1
        city["late_draws"] += int(row.deadline["late"])
        city["required"] += row.required
        city["drawn"] += row.drawn
        for key in ("entry_overdue", "publication_overdue", "disclosed", "disclosure_due"):
            city[key] += row.counts[key]
        city["red"] += int(row.tone == RED)
    names = city_names(set(cities))
    for prefix, city in cities.items():
        city["name"] = names.get(prefix, prefix)
        city["rate"] = _pct(city["disclosed"], city["disclosure_due"])
    return sorted(cities.values(), key=lambda c: c["prefix"])


# --- reports ---------------------------------------------------------------------------------------


def reports_for_user(*, user):
    """Reports ``user`` may read: the city team its own (every version, running or not) and
    the built returns and year-end reports of its counties; a bureau's clerks and leaders their
    own bureau's (every version) and the city's circulars; the province the built reports of
    its cities but the circulars; nobody else."""
    from oversight.models import Report

    if not getattr(user, "is_authenticated", False):
        return Report.objects.none()
    reports = Report.objects.select_related("organisation", "requested_by")
    if user.is_superuser or user.role == Role.ADMIN:
        return reports
    org = user.organisation
    if org is None:
        return Report.objects.none()
    done = Report.Status.DONE
    if org.kind == Organisation.Kind.CITY_TEAM and can_oversee(user):
        return reports.filter(
            Q(organisation=org)
            | Q(
                organisation__kind=Organisation.Kind.COUNTY_BUREAU,
                organisation__division_code__startswith=org.scope_prefix,
                kind__in=Report.BUREAU_KINDS,
                status=done,
            )
        )
    if is_province_level(user) and can_oversee(user):
        return reports.filter(
            organisation__division_code__startswith=org.scope_prefix, status=done
        ).exclude(kind=Report.Kind.CIRCULAR)
    if can_see_bureau(user):
        return reports.filter(
            Q(
                organisation__kind=Organisation.Kind.CITY_TEAM,
                organisation__division_code=org.city_code,
                kind=Report.Kind.CIRCULAR,
                status=done,
            )
            | Q(organisation=org, kind__in=Report.BUREAU_KINDS)
        )
    return Report.objects.none()


def report_get_for_user(*, user, pk: int):
    from oversight.models import Report

    try:
        return reports_for_user(user=user).get(pk=pk)
    except Report.DoesNotExist:
        raise Http404 from None


# --- draw filings --------------------------------------------------------------------------------


def filings_for_user(*, user):
    """Filed draws the user may see: the city team those filed with it, the province those of
    its cities, a bureau its own. Number, time, who and digest only: never the drawn list."""
    from oversight.models import DrawFiling

    if not can_see_bureau(user):
        return DrawFiling.objects.none()
    return DrawFiling.objects.filter(
        draw__organisation__in=organisations_visible_to(user)
    ).select_related("draw__plan", "draw__organisation", "filed_by", "filed_with")


def draws_to_file(*, organisation) -> QuerySet[Draw]:
    """The bureau's executed draws not filed yet."""
    return (
        Draw.objects.filter(organisation=organisation, status=Draw.Status.EXECUTED)
        .filter(filing__isnull=True)
        .select_related("plan")
        .order_by("-executed_at")
    )


# --- archives ----------------------------------------------------------------------------------


def archives_for_user(*, user):
    """Archives the user may read: a bureau's own (its clerks and leaders) and those of the city
    team's counties; the province's are not its to read."""
    from oversight.models import Archive

    if not can_see_bureau(user):
        return Archive.objects.none()
    archives = Archive.objects.select_related("organisation", "requested_by")
    if user.is_superuser or user.role == Role.ADMIN:
        return archives
    org = user.organisation
    if org is None:
        return Archive.objects.none()
    if org.kind == Organisation.Kind.CITY_TEAM and user_can(user, Cap.REVIEW_COUNTIES):
        return archives.filter(organisation__in=organisations_visible_to(user))
    return archives.filter(organisation=org)


def archive_get_for_user(*, user, pk: int):
    from oversight.models import Archive

    try:
        return archives_for_user(user=user).get(pk=pk)
    except Archive.DoesNotExist:
        raise Http404 from None
