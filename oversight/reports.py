"""What each report says, its statistics table, and its PDF and Excel files.

The statistics table's layout is declared once, in ``STATISTICS_COLUMNS`` (key, Chinese header):
the Excel file, the PDF and docs/oversight.md follow it. The figures come from the dashboard's
selectors (``oversight.selectors.bureau_rows``), so a report and the dashboard agree.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from datetime import date

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from core.models import Organisation
from exchange.excel.export import write_workbook
from oversight import selectors as sel

#: The statistics table: one row per county bureau and city team, in this order of columns.
STATISTICS_COLUMNS: list[tuple[str, object]] = [
    ("rank", _("Rank")),
    ("unit", _("Unit")),
    ("division_code", _("Division code")),
    ("regime", _("Regime")),
    ("required", _("Required to draw")),
    ("drawn", _("Drawn")),
    ("key_minimum", _("Key objects the regime requires")),
    ("tasks", _("Tasks")),
    ("random", _("Random spot checks")),
    ("targeted", _("Targeted checks")),
    ("inspected", _("Inspected (approved)")),
    ("open", _("Still open")),
    ("entered_on_time", _("Results entered on time")),
    ("entered_late", _("Results entered late")),
    ("entry_overdue", _("Result entry overdue")),
    ("published_on_time", _("Published on time")),
    ("published_late", _("Published late")),
    ("publication_overdue", _("Publication overdue")),
    ("disclosure_rate", _("Disclosure rate (%)")),
    ("off_site", _("Off-site supervisions")),
    ("joint", _("Completed joint inspections")),
    ("red", _("Figures in red")),
    ("late_items", _("Late items")),
]

CEASED_COLUMNS: list[tuple[str, object]] = [
    ("unit", _("Unit")),
    ("source_code", _("Source code")),
    ("company_name", _("Company of the source")),
    ("uscc", _("Credit code")),
    ("status_date", _("Cancelled on")),
    ("recorded_at", _("Recorded at")),
]


#: A results return and a year-end report: the statistics table's columns, the issuer's own row.
RESULTS_COLUMNS = [c for c in STATISTICS_COLUMNS if c[0] != "rank"]

#: The plans return (by the 5th, 003 §七(六)): the issuer's quarterly plan and draw.
PLANS_COLUMNS: list[tuple[str, object]] = [
    ("unit", _("Unit")),
    ("division_code", _("Division code")),
    ("regime", _("Regime")),
    ("plan_title", _("Quarterly plan")),
    ("plan_status", _("Plan status")),
    ("plan_published_on", _("Plan published on")),
    ("planned_start", _("Checks from")),
    ("planned_end", _("Checks until")),
    ("required", _("Required to draw")),
    ("drawn", _("Drawn")),
    ("key_minimum", _("Key objects the regime requires")),
    ("draw_number", _("Draw number")),
    ("draw_executed_on", _("Draw executed on")),
]

#: The city team's return to the province: the statistics table and when each unit returned.
CITY_RETURN_COLUMNS = STATISTICS_COLUMNS + [
    ("plans_returned_on", _("Plans returned on")),
    ("results_returned_on", _("Results returned on")),
]

#: The bureau's year-end report: its own row for each quarter of the year.
YEAR_END_COLUMNS = [("quarter", _("Quarter"))] + RESULTS_COLUMNS

#: The self-check sheet (自查自纠, 004 §四(二)): each dashboard figure against its rule.
SELF_CHECK_COLUMNS: list[tuple[str, object]] = [
    ("item", _("Item checked")),
    ("rule", _("Requirement")),
    ("finding", _("Situation")),
    ("result", _("Finding")),
]

SUMMED = [
    "required",
    "drawn",
    "key_minimum",
    "tasks",
    "random",
    "targeted",
    "inspected",
    "open",
    "entered_on_time",
    "entered_late",
    "entry_overdue",
    "published_on_time",
    "published_late",
    "publication_overdue",
    "off_site",
    "joint",
]


@dataclass(frozen=True)
class Layout:
    """One report kind's table: its sheet name, its columns (key, Chinese header) and the
    columns summed in its totals row (none: no totals row)."""

    sheet: str
    columns: list
    totals: tuple[str, ...] = ()


#: The new reports' and returns' layouts, in one place (docs/oversight.md lists them): a
#: province's own format replaces an entry here.
LAYOUTS: dict[str, Layout] = {
    "plans_return": Layout(
        "季度检查计划报送表", PLANS_COLUMNS, ("required", "drawn", "key_minimum")
    ),
    "results_return": Layout("季度检查结果报送表", RESULTS_COLUMNS, tuple(SUMMED)),
    "city_return": Layout("季度汇总上报表", CITY_RETURN_COLUMNS, tuple(SUMMED)),
    "year_end": Layout("年度工作情况表", YEAR_END_COLUMNS, tuple(SUMMED)),
    "self_check": Layout("季度自查自纠表", SELF_CHECK_COLUMNS),
}


def digest(data) -> str:
    """SHA-256 of the canonical JSON of the figures (sorted keys, UTF-8, no spaces)."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def annual_report_due(year: int) -> date | None:
    """The annual report and statistics table go to the province by 20 December (001 §三(四)).
    When the 20th is not a working day the report is due on the last working day before it
    (20 December 2026 is a Sunday: Friday 18 December). See docs/oversight.md."""
    from oversight.obligations import _NotCovered, last_working_day_by

    try:
        return last_working_day_by(date(year, 12, 20))
    except _NotCovered:
        return None


def _late_items(row) -> list[str]:
    items = []
    if row.plan is None and row.plan_late:
        items.append(str(_("no quarterly plan")))
    if row.deadline["late"]:
        items.append(str(row.deadline["text"]))
    if row.counts["entry_overdue"]:
        items.append(str(_("%(n)s result entries overdue")) % {"n": row.counts["entry_overdue"]})
    if row.counts["publication_overdue"]:
        items.append(
            str(_("%(n)s publications overdue")) % {"n": row.counts["publication_overdue"]}
        )
    return items


def statistics_rows(rows) -> list[dict]:
    """The dashboard's rows as the statistics table, ranked: fewest figures in red first, then
    fewest overdue items, then the highest disclosure rate."""
    table = []
    for row in rows:
        counts = row.counts
        rate = row.figure("disclosure").value
        table.append(
            {
                "unit": row.organisation.short_name or row.organisation.name,
                "division_code": row.organisation.division_code,
                "kind": row.organisation.kind,
                "regime": row.regime.name,
                "required": row.required,
                "drawn": row.drawn,
                "key_minimum": row.key_minimum,
                **{
                    k: counts[k]
                    for k in (
                        "tasks",
                        "random",
                        "targeted",
                        "inspected",
                        "open",
                        "entered_on_time",
                        "entered_late",
                        "entry_overdue",
                        "published_on_time",
                        "published_late",
                        "publication_overdue",
                        "off_site",
                        "joint",
                    )
                },
                "disclosure_rate": rate,
                "red": sum(1 for f in row.figures if f.tone == sel.RED),
                "red_figures": [str(f.label) for f in row.figures if f.tone == sel.RED],
                "late_items": "；".join(_late_items(row)),
            }
        )
    table.sort(
        key=lambda r: (
            r["red"],
            r["entry_overdue"] + r["publication_overdue"],
            -(r["disclosure_rate"] if r["disclosure_rate"] is not None else -1),
            r["division_code"],
        )
    )
    for rank, r in enumerate(table, start=1):
        r["rank"] = rank
    return table


def city_units(issuer: Organisation) -> list[Organisation]:
    prefix = issuer.division_code[:4]
    units = Organisation.objects.filter(
        division_code__startswith=prefix, kind__in=sel.DRAWING_KINDS
    )
    return sorted(units, key=lambda o: (o.kind != "city_team", o.division_code))


def report_data(report, progress=lambda pct: None) -> dict:
    """The figures behind a report, as JSON-ready data (what the digest covers)."""
    issuer = report.organisation
    units = city_units(issuer)
    today = timezone.localdate()
    data: dict = {
        "kind": report.kind,
        "issuer": issuer.name,
        "division_code": issuer.division_code,
        "year": report.year,
        "quarter": report.quarter,
        "computed_on": today.isoformat(),
    }
    if report.kind == "ceased":
        data["ceased"] = ceased_rows(units, sel.Period(report.year, report.quarter, today))
        progress(90)
        return data
    if report.kind in LAYOUTS:
        data |= layout_data(report, units, today, progress)
        return data
    quarters = [report.quarter] if report.quarter else [1, 2, 3, 4]
    tables = {}
    for i, quarter in enumerate(quarters, start=1):
        rows = sel.bureau_rows(units=units, period=sel.Period(report.year, quarter, today))
        tables[str(quarter)] = statistics_rows(rows)
        progress(10 + 70 * i // len(quarters))
    data["tables"] = tables
    if report.kind == "annual":
        due = annual_report_due(report.year)
        data["due"] = due.isoformat() if due else None
    if report.kind == "quarterly":
        data["typical_cases"] = typical_cases(units, report.year, report.quarter)
    return data


def _own_row(row) -> dict:
    """A unit's statistics row without its rank (a bureau's return is about itself)."""
    (only,) = statistics_rows([row])
    only.pop("rank")
    return only


def _plan_row(row) -> dict:
    plan, draw = row.plan, row.draw
    executed = draw is not None and draw.executed_at is not None
    return {
        "unit": row.organisation.short_name or row.organisation.name,
        "division_code": row.organisation.division_code,
        "regime": row.regime.name,
        "plan_title": plan.title if plan else "",
        "plan_status": str(plan.get_status_display()) if plan else str(_("no quarterly plan")),
        "plan_published_on": (
            timezone.localtime(plan.published_at).date().isoformat()
            if plan and plan.published_at
            else ""
        ),
        "planned_start": plan.planned_start.isoformat() if plan and plan.planned_start else "",
        "planned_end": plan.planned_end.isoformat() if plan and plan.planned_end else "",
        "required": row.required,
        "drawn": row.drawn,
        "key_minimum": row.key_minimum,
        "draw_number": draw.number if executed else "",
        "draw_executed_on": (
            timezone.localtime(draw.executed_at).date().isoformat() if executed else ""
        ),
    }


_RESULT_WORDS = {
    sel.GREEN: _("Met"),
    sel.AMBER: _("Behind, still in time"),
    sel.RED: _("Not met: to rectify"),
    sel.NEUTRAL: _("Counted only"),
}


def _returned_on(units, year: int, quarter: int) -> dict[tuple[int, str], str]:
    """When each unit first returned its plans and its results of the quarter (a built return)."""
    from django.db.models import Min

    from oversight.models import Report

    first = (
        Report.objects.filter(
            organisation__in=units,
            kind__in=["plans_return", "results_return"],
            year=year,
            quarter=quarter,
            status=Report.Status.DONE,
        )
        .values("organisation_id", "kind")
        .annotate(at=Min("finished_at"))
        .order_by()
    )
    return {
        (r["organisation_id"], r["kind"]): timezone.localtime(r["at"]).date().isoformat()
        for r in first
    }


def layout_data(report, units, today, progress) -> dict:
    """The rows and totals of a report declared in ``LAYOUTS`` (what its files show)."""
    kind = report.kind
    layout = LAYOUTS[kind]
    own = [report.organisation]
    data: dict = {"layout": kind}
    if kind == "year_end":
        rows = []
        for quarter in (1, 2, 3, 4):
            (row,) = sel.bureau_rows(units=own, period=sel.Period(report.year, quarter, today))
            rows.append({"quarter": quarter, **_own_row(row)})
            progress(10 + 20 * quarter)
    else:
        period = sel.Period(report.year, report.quarter, today)
        scope = units if kind == "city_return" else own
        bureau_rows = sel.bureau_rows(units=scope, period=period)
        progress(60)
        if kind == "plans_return":
            (row,) = bureau_rows
            rows = [_plan_row(row)]
            data["plan"] = {
                "title": row.plan.title if row.plan else None,
                "status": row.plan.status if row.plan else None,
            }
        elif kind == "results_return":
            rows = [_own_row(bureau_rows[0])]
        elif kind == "city_return":
            rows = statistics_rows(bureau_rows)
            returned = _returned_on(scope, report.year, report.quarter)
            ids = {str(o.division_code) + o.kind: o.pk for o in scope}
            for r in rows:
                pk = ids[r["division_code"] + r["kind"]]
                r["plans_returned_on"] = returned.get((pk, "plans_return"), "")
                r["results_returned_on"] = returned.get((pk, "results_return"), "")
        else:  # self_check
            (row,) = bureau_rows
            rows = [
                {
                    "item": str(f.label),
                    "rule": str(f.rule),
                    "finding": str(f.text),
                    "result": str(_RESULT_WORDS[f.tone]),
                    "tone": f.tone,
                }
                for f in row.figures
            ]
            data["late_items"] = _late_items(row)
            data["summary"] = {
                tone: sum(1 for r in rows if r["tone"] == tone)
                for tone in (sel.GREEN, sel.AMBER, sel.RED, sel.NEUTRAL)
            }
    data["rows"] = rows
    if layout.totals:
        data["totals"] = {k: sum(r.get(k) or 0 for r in rows) for k in layout.totals}
    progress(90)
    return data


def layout_table(data: dict) -> tuple[list[str], list[list]]:
    """A declared layout's header and rows (the totals row last, under 合计), as both the
    PDF and the Excel file show them."""
    layout = LAYOUTS[data["layout"]]
    headers = [str(label) for _key, label in layout.columns]
    rows = [[r.get(key, "") for key, _label in layout.columns] for r in data["rows"]]
    if layout.totals:
        total = [data["totals"].get(key, "") for key, _label in layout.columns]
        total[0] = str(_("Total"))
        rows.append(total)
    return headers, rows


def typical_cases(units, year: int, quarter: int) -> list[dict]:
    from oversight.models import TypicalCase

    start, end = sel.period_bounds(year, quarter)
    return [
        {
            "unit": c.task.organisation.short_name or c.task.organisation.name,
            "source": c.task.source.name,
            "company": c.task.source.company_name,
            "note": c.note,
        }
        for c in TypicalCase.objects.filter(
            task__organisation__in=units, task__period_start__gte=start, task__period_start__lte=end
        ).select_related("task__organisation", "task__source")
    ]


def ceased_rows(units, period) -> list[dict]:
    """衡水's quarterly list of ceased enterprises: sources whose status changed to cancelled
    (注销) in the quarter, from the registry's change history."""
    from registry.models import SourceChange

    changes = (
        SourceChange.objects.filter(
            source__organisation__in=units,
            action=SourceChange.Action.STATUS,
            changes__status__1="cancelled",
            at__date__gte=period.start,
            at__date__lte=period.end,
        )
        .select_related("source__organisation")
        .order_by("source__organisation__division_code", "at", "pk")
    )
    return [
        {
            "unit": c.source.organisation.short_name or c.source.organisation.name,
            "source_code": c.source.source_code,
            "company_name": c.source.company_name,
            "uscc": c.source.uscc,
            "status_date": (c.changes.get("status_date") or [None, None])[1],
            "recorded_at": timezone.localtime(c.at).strftime("%Y-%m-%d %H:%M"),
        }
        for c in changes
    ]


def render_pdf(report, data: dict) -> bytes:
    from weasyprint import HTML  # heavy: only in the worker

    with translation.override("zh-hans"):
        html = render_to_string(
            "oversight/pdf/report.html",
            {
                "report": report,
                "data": data,
                "columns": STATISTICS_COLUMNS,
                "layout": layout_table(data) if "layout" in data else None,
                "ceased_columns": CEASED_COLUMNS,
                "tables": _pdf_tables(data),
                "digest": digest(data),
                "printed_at": timezone.localtime(),
            },
        )
    return HTML(string=html).write_pdf()


def _pdf_tables(data: dict) -> list[dict]:
    return [
        {
            "quarter": quarter,
            "rows": [[r.get(key, "") for key, _label in STATISTICS_COLUMNS] for r in rows],
            "late": [r for r in rows if r["late_items"]],
        }
        for quarter, rows in (data.get("tables") or {}).items()
    ]


def render_xlsx(data: dict) -> bytes:
    buffer = io.BytesIO()
    with translation.override("zh-hans"):
        if "layout" in data:
            headers, rows = layout_table(data)
            write_workbook(buffer, headers, rows, sheet_name=LAYOUTS[data["layout"]].sheet)
        elif "ceased" in data:
            headers = [str(label) for _key, label in CEASED_COLUMNS]
            rows = [[r[k] for k, _l in CEASED_COLUMNS] for r in data["ceased"]]
            write_workbook(buffer, headers, rows, sheet_name="注销企业清单")
        else:
            headers = [str(_("Quarter"))] + [str(label) for _key, label in STATISTICS_COLUMNS]
            rows = [
                [quarter] + [r.get(key, "") for key, _label in STATISTICS_COLUMNS]
                for quarter, table in data["tables"].items()
                for r in table
            ]
            write_workbook(buffer, headers, rows, sheet_name="统计表")
    return buffer.getvalue()
