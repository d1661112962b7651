"""Deadline regimes: each seed's deadlines as data, and the pure functions that date them.

A regime is a dict ``{event: rule}``. A rule is one of four kinds:

* ``fixed`` — a day of the year: ``{"month": 1, "day": 5}`` (by 5 January);
* ``quarter_day`` — a day of a month of the quarter: ``{"month": 1, "day": 10}`` (by the 10th
  of the quarter's first month; ``month`` is 1, 2 or 3);
* ``working_days`` — ``{"days": 20, "from": "check_ended"}``: N working days after an event;
* ``window_before_quarter`` — ``{"days": 5}``: within the last N working days of the previous
  quarter (衡水's draw for the next quarter).

Working days come from ``core.calendar``: a year whose holiday schedule is not loaded gives
``DeadlineNotComputable`` ("cannot be computed: the 2027 holiday schedule is not loaded"),
never a Monday-to-Friday guess. These rules are not ``Plan.rules``: a plan's ratio rules are
frozen into its draw's manifest, deadlines are the bureau's own and may change any time.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.calendar import CalendarNotCovered, add_working_days
from core.errors import ServiceError

# --- the events -------------------------------------------------------------------------

EVENTS = {
    "check_items": gettext_lazy("Check-item list for the year"),
    "annual_plan": gettext_lazy("Annual plan published"),
    "quarterly_plan": gettext_lazy("Quarterly plan (and its return to the city team)"),
    "quarterly_draw": gettext_lazy("Quarterly draw"),
    "result_entry": gettext_lazy("Result entered in the system"),
    "result_publication": gettext_lazy("Result published"),
    "quarter_done": gettext_lazy("Quarter's checks done, results returned to the city team"),
}
ANNUAL_EVENTS = {"check_items", "annual_plan"}
QUARTER_EVENTS = {"quarterly_plan", "quarterly_draw", "quarter_done"}
AFTER_EVENTS = {"result_entry", "result_publication"}
KINDS = {
    "check_items": {"fixed"},
    "annual_plan": {"fixed"},
    "quarterly_plan": {"quarter_day"},
    "quarterly_draw": {"quarter_day", "window_before_quarter"},
    "quarter_done": {"quarter_day"},
    "result_entry": {"working_days"},
    "result_publication": {"working_days"},
}
ANCHORS = {
    "handling_ended": gettext_lazy("the check and its handling end"),
    "check_ended": gettext_lazy("the check ends"),
    "task_completed": gettext_lazy("the task is completed"),
    "enforcement_decision": gettext_lazy("the enforcement decision"),
}
MAX_WORKING_DAYS = 120

# --- the presets (one per seed) ---------------------------------------------------------

# 本溪 2025 (003) states most deadlines; a preset takes 本溪's rule where its own seed is
# silent, and says so in ``source``.
_BENXI = {
    "check_items": {"kind": "fixed", "month": 1, "day": 5, "source": "003 §六(一)1"},
    "annual_plan": {"kind": "fixed", "month": 4, "day": 30, "source": "001 §二(三)"},
    "quarterly_plan": {
        "kind": "quarter_day",
        "month": 1,
        "day": 5,
        "source": "003 §六(一)2, §七(六)",
    },
    "quarterly_draw": {"kind": "quarter_day", "month": 1, "day": 10, "source": "003 §七(二)"},
    "result_entry": {
        "kind": "working_days",
        "days": 7,
        "from": "handling_ended",
        "source": "000 §五(二)",
    },
    "result_publication": {
        "kind": "working_days",
        "days": 20,
        "from": "check_ended",
        "source": "003 §八(二)",
    },
    "quarter_done": {
        "kind": "quarter_day",
        "month": 3,
        "day": 25,
        "source": "003 §六(一)2, §七(六)",
    },
}


def _with(**changes: dict) -> dict:
    return copy.deepcopy({**_BENXI, **changes})


@dataclass(frozen=True)
class DeadlinePreset:
    code: str
    name: Any
    source: str
    rules: dict


DEADLINE_PRESETS: dict[str, DeadlinePreset] = {
    p.code: p
    for p in [
        DeadlinePreset(
            "luliang_2020",
            gettext_lazy("Lüliang 2020"),
            "吕环办发〔2020〕97号",
            _with(
                result_publication={
                    "kind": "working_days",
                    "days": 20,
                    "from": "enforcement_decision",
                    "source": "000 §五(五)",
                }
            ),
        ),
        DeadlinePreset("shanxi_2024", gettext_lazy("Shanxi 2024"), "晋环函〔2024〕416号", _with()),
        DeadlinePreset(
            "wuzhi_2021",
            gettext_lazy("Wuzhi 2021"),
            "焦作市生态环境局武陟分局“双随机、一公开”抽查工作细则（2021）",
            _with(
                result_publication={
                    "kind": "working_days",
                    "days": 20,
                    "from": "task_completed",
                    "source": "002 指引 三",
                }
            ),
        ),
        DeadlinePreset(
            "benxi_2025",
            gettext_lazy("Benxi 2025"),
            "本溪市生态环境执法“双随机、一公开”工作实施方案（试行）",
            _with(),
        ),
        DeadlinePreset(
            "hengshui_gxq_2023",
            gettext_lazy("Hengshui High-tech Zone 2023"),
            "衡水高新区2023年日常环境执法暨污染源“双随机、一公开”监管工作方案",
            _with(
                quarterly_draw={"kind": "window_before_quarter", "days": 5, "source": "004 §二(四)"}
            ),
        ),
    ]
}
#: An organisation without its own regime follows 本溪's.
DEFAULT_PRESET = "benxi_2025"


def default_rules() -> dict:
    return copy.deepcopy(DEADLINE_PRESETS[DEFAULT_PRESET].rules)


# --- validation -------------------------------------------------------------------------


def _field_label(key: str) -> str:
    return {"month": _("the month"), "day": _("the day"), "days": _("the working days")}[key]


def _int(rule: dict, key: str, low: int, high: int, label: str) -> int:
    value = rule.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ServiceError(
            _("%(event)s: %(what)s must be a whole number from %(low)s to %(high)s.")
            % {"event": label, "what": _field_label(key), "low": low, "high": high},
            code="deadline_rule",
        )
    return value


def validate_deadline_rules(rules: Any) -> dict:
    """The rules, checked: every event present, each with a rule kind it allows and values
    that make a date. Refusals are ``ServiceError`` with a sentence for the user."""
    if not isinstance(rules, dict):
        raise ServiceError(_("The deadline rules must be a table of events."), code="deadline_rule")
    unknown = set(rules) - set(EVENTS)
    if unknown:
        raise ServiceError(
            _("Unknown deadline events: %(names)s.") % {"names": ", ".join(sorted(unknown))},
            code="deadline_rule",
        )
    clean = {}
    for event, label in EVENTS.items():
        rule = rules.get(event)
        if not isinstance(rule, dict):
            raise ServiceError(
                _("%(event)s: the rule is missing.") % {"event": label}, code="deadline_rule"
            )
        kind = rule.get("kind")
        if kind not in KINDS[event]:
            raise ServiceError(
                _("%(event)s: this kind of rule is not possible here.") % {"event": label},
                code="deadline_rule",
            )
        out = {"kind": kind, "source": str(rule.get("source", ""))[:200]}
        if kind == "fixed":
            out["month"] = _int(rule, "month", 1, 12, str(label))
            out["day"] = _int(rule, "day", 1, 31, str(label))
            try:
                date(2025, out["month"], out["day"])  # 29 February is refused: not every year
            except ValueError:
                raise ServiceError(
                    _("%(event)s: %(month)s/%(day)s is not a date of every year.")
                    % {"event": label, "month": out["month"], "day": out["day"]},
                    code="deadline_rule",
                ) from None
        elif kind == "quarter_day":
            out["month"] = _int(rule, "month", 1, 3, str(label))
            out["day"] = _int(rule, "day", 1, 28, str(label))
        elif kind == "working_days":
            out["days"] = _int(rule, "days", 1, MAX_WORKING_DAYS, str(label))
            anchor = rule.get("from", "check_ended")
            if anchor not in ANCHORS:
                raise ServiceError(
                    _("%(event)s: unknown starting event.") % {"event": label},
                    code="deadline_rule",
                )
            out["from"] = anchor
        elif kind == "window_before_quarter":
            out["days"] = _int(rule, "days", 1, 30, str(label))
        clean[event] = out
    return clean


# --- dating the events ------------------------------------------------------------------


class DeadlineNotComputable(ServiceError):
    """A due date needs a year whose official holiday schedule is not loaded."""

    def __init__(self, years: list[int]):
        self.years = sorted(set(years))
        super().__init__(cannot_compute_text(self.years), code="calendar_not_covered")


def cannot_compute_text(years: list[int]) -> str:
    return _("Cannot be computed: the %(years)s holiday schedule is not loaded.") % {
        "years": "、".join(str(y) for y in sorted(set(years)))
    }


@dataclass(frozen=True)
class Due:
    """When an event is due: by ``due``; for a window, not before ``opens`` either."""

    event: str
    due: date
    opens: date | None = None

    def text(self) -> str:
        if self.opens is not None:
            return _("%(start)s to %(end)s") % {
                "start": self.opens.isoformat(),
                "end": self.due.isoformat(),
            }
        return _("by %(date)s") % {"date": self.due.isoformat()}


def _rule(rules: dict | None, event: str) -> dict:
    rules = rules or DEADLINE_PRESETS[DEFAULT_PRESET].rules
    return rules.get(event) or DEADLINE_PRESETS[DEFAULT_PRESET].rules[event]


def quarter_start(year: int, quarter: int) -> date:
    return date(year, 3 * (quarter - 1) + 1, 1)


def annual_due(rules: dict | None, event: str, year: int) -> Due:
    rule = _rule(rules, event)
    return Due(event, date(year, rule["month"], rule["day"]))


def quarter_due(rules: dict | None, event: str, year: int, quarter: int) -> Due:
    """The due date (or window) of a quarterly event; ``DeadlineNotComputable`` when it
    needs working days of a year with no loaded schedule."""
    rule = _rule(rules, event)
    if rule["kind"] == "window_before_quarter":
        start = quarter_start(year, quarter)
        try:
            last = add_working_days(start, -1)
            first = add_working_days(start, -rule["days"])
        except CalendarNotCovered as exc:
            raise DeadlineNotComputable(exc.years) from None
        return Due(event, last, opens=first)
    month = 3 * (quarter - 1) + rule["month"]
    return Due(event, date(year, month, rule["day"]))


def after_due(rules: dict | None, event: str, start: date) -> Due:
    """N working days after ``start`` (``start`` itself not counted)."""
    rule = _rule(rules, event)
    try:
        return Due(event, add_working_days(start, rule["days"]))
    except CalendarNotCovered as exc:
        raise DeadlineNotComputable(exc.years) from None


def working_days_before(day: date, n: int) -> date:
    """The day ``n`` working days before ``day`` (for reminders)."""
    try:
        return add_working_days(day, -n)
    except CalendarNotCovered as exc:
        raise DeadlineNotComputable(exc.years) from None


def describe_deadline_rule(event: str, rule: dict) -> str:
    """One rule in words (the regime page)."""
    kind = rule["kind"]
    if kind == "fixed":
        return _("by %(month)s/%(day)s each year") % {"month": rule["month"], "day": rule["day"]}
    if kind == "quarter_day":
        return _("by day %(day)s of month %(month)s of the quarter") % rule
    if kind == "working_days":
        return _("%(days)s working days after %(anchor)s") % {
            "days": rule["days"],
            "anchor": ANCHORS.get(rule.get("from"), rule.get("from")),  # type: ignore[arg-type]  # no key: .get(None) gives the default
        }
    return _("within the last %(days)s working days of the previous quarter") % rule


def next_quarter_of(year: int, quarter: int) -> tuple[int, int]:
    return (year + 1, 1) if quarter == 4 else (year, quarter + 1)


def quarter_of_day(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1
