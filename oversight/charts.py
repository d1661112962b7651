"""The dashboard's chart data, handed to ``static/oversight/dashboard.js`` through
``json_script`` (the CSP forbids inline scripts)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from inspections.models import ResultType


def dashboard_chart(rows, mix: dict[int, int], over_time: dict[int, float | None]) -> dict:
    names = [r.organisation.short_name or r.organisation.name for r in rows]
    return {
        "names": names,
        "series": {
            "required": [r.required for r in rows],
            "drawn": [r.drawn for r in rows],
            "inspected": [r.counts["inspected"] for r in rows],
            "disclosure": [r.figure("disclosure").value for r in rows],
            "joint": [r.figure("joint").value for r in rows],
        },
        "labels": {
            "required": _("Required"),
            "drawn": _("Drawn"),
            "inspected": _("Inspected"),
            "disclosure": _("Disclosure rate (%)"),
            "joint": _("Joint inspections this quarter"),
            "progress": _("Progress per unit"),
            "mix": _("Result types"),
            "over_time": _("Disclosure rate by quarter (%)"),
        },
        "over_time": {
            "quarters": [f"Q{q}" for q in over_time],
            "rates": list(over_time.values()),  # None: a quarter still to come
        },
        "mix": [
            {"name": str(label), "value": mix.get(value, 0)} for value, label in ResultType.choices
        ],
    }
