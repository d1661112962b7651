"""Ratio rules (抽查比例) as configuration, the seed regimes as presets, and quota arithmetic.

A rule set is a JSON list of rules; each rule has a ``kind``. Plans keep a snapshot of the
rules they were made with, and every draw's manifest records it, so a later edit of a rule set
never changes what a past draw should have done.

Kinds (every regime of the seeds is a combination of these):

``class_percentage``  {"class", "percent", "per": "quarter"|"year"}
    at least ``percent``% of the class's pool per quarter (or per year, spread evenly over the
    quarters left, counting what was already drawn this year).
``staff_ratio``       {"class", "objects_per_inspector", "per": "year"}
    1:N: N objects a year per on-staff certified inspector, spread over the quarters left,
    counting what was already drawn this year.
``coverage``          {"class", "cycle": "year"|"half_year"|"three_years", "anchor_year"?}
    every object of the class checked within the cycle: objects not yet covered in the current
    cycle are drawn first (tier 0), and the quota is at least what finishes the cycle in time.
``no_minimum``        {"class"}   no minimum; a check may be launched at any time.
``frequency_cap``     {"max_per_year", "exempt_classes": [...]}
    the same object may be checked for the same item at most N times a year (objects that
    reached the cap are excluded, with that reason); exempt classes are not capped. Coverage
    and the cap count completed spot checks (approved drawn tasks), never draws alone or
    targeted checks: docs/coverage.md.
``positive_list``     {"mode": "off_site"|"exclude"}
    positive-list objects, when drawn, get off-site supervision instead of a visit; or they
    are excluded from the pool.
``risk_weight``       {"credit": {"red": 3, ...}, "penalty_days": 365, "penalty": 2,
                       "complaints_at_least": 3, "complaints": 2}
    integer weights: a source's weight is the largest that applies (1 when none does), so
    red/yellow credit, recent penalties and complaints make a draw more likely.
``pool``              {"scope": "own"|"city_managed"|"city_area"}
    which sources form the pool: the organisation's own; the city-managed sources of the
    city (city team); or every source in the city's area (city team, a share of the whole area).
``joint_share``       {"class", "percent", "per": "year"}
    that share of the class is checked by internal joint inspection (进一次门、查多项事):
    the first drawn objects of the stratum, in the verifiable order, are marked joint.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import ServiceError
from core.vocab import SupervisionClass

CLASSES = [c.value for c in SupervisionClass]
CYCLES = {"year", "half_year", "three_years"}
RULE_KINDS = {
    "class_percentage",
    "staff_ratio",
    "coverage",
    "no_minimum",
    "frequency_cap",
    "positive_list",
    "risk_weight",
    "pool",
    "joint_share",
}
CREDIT_LEVELS = {"green", "blue", "yellow", "red", "black", "unrated"}
MAX_WEIGHT = 10


def _class(rule: dict, where: str) -> str:
    value = rule.get("class")
    if value not in CLASSES:
        raise ServiceError(
            _("%(where)s: unknown class “%(value)s”.") % {"where": where, "value": value}
        )
    return value


def _positive_int(rule: dict, key: str, where: str, *, allow_zero: bool = False) -> int:
    value = rule.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < (0 if allow_zero else 1):
        raise ServiceError(
            _("%(where)s: “%(key)s” must be a whole number of at least %(min)s.")
            % {"where": where, "key": key, "min": 0 if allow_zero else 1}
        )
    return value


def validate_rules(rules: Any) -> list[dict]:
    """Check a rule list and return it unchanged; raise ServiceError naming the bad rule."""
    if not isinstance(rules, list):
        raise ServiceError(_("Ratio rules must be a list."))
    seen_singletons: set[str] = set()
    for index, rule in enumerate(rules, start=1):
        where = _("rule %(n)s") % {"n": index}
        if not isinstance(rule, dict) or rule.get("kind") not in RULE_KINDS:
            raise ServiceError(_("%(where)s: unknown kind of rule.") % {"where": where})
        kind = rule["kind"]
        if kind in {"frequency_cap", "positive_list", "risk_weight", "pool"}:
            if kind in seen_singletons:
                raise ServiceError(
                    _("%(where)s: only one “%(kind)s” rule is allowed.")
                    % {"where": where, "kind": kind}
                )
            seen_singletons.add(kind)
        if kind in {"class_percentage", "joint_share"}:
            _class(rule, where)
            percent = _positive_int(rule, "percent", where)
            if percent > 100:
                raise ServiceError(
                    _("%(where)s: a percentage cannot exceed 100.") % {"where": where}
                )
            if rule.get("per") not in {"quarter", "year"}:
                raise ServiceError(
                    _("%(where)s: “per” must be quarter or year.") % {"where": where}
                )
        elif kind == "staff_ratio":
            _class(rule, where)
            _positive_int(rule, "objects_per_inspector", where)
        elif kind == "coverage":
            _class(rule, where)
            if rule.get("cycle") not in CYCLES:
                raise ServiceError(_("%(where)s: unknown coverage cycle.") % {"where": where})
        elif kind == "no_minimum":
            _class(rule, where)
        elif kind == "frequency_cap":
            _positive_int(rule, "max_per_year", where)
            if any(c not in CLASSES for c in rule.get("exempt_classes", [])):
                raise ServiceError(_("%(where)s: unknown exempt class.") % {"where": where})
        elif kind == "positive_list":
            if rule.get("mode") not in {"off_site", "exclude"}:
                raise ServiceError(
                    _("%(where)s: positive-list mode must be off_site or exclude.")
                    % {"where": where}
                )
        elif kind == "risk_weight":
            for level, weight in (rule.get("credit") or {}).items():
                if (
                    level not in CREDIT_LEVELS
                    or not isinstance(weight, int)
                    or not 1 <= weight <= MAX_WEIGHT
                ):
                    raise ServiceError(
                        _("%(where)s: credit weights are whole numbers from 1 to %(max)s.")
                        % {"where": where, "max": MAX_WEIGHT}
                    )
            for key in ("penalty", "complaints"):
                if key in rule and not (
                    isinstance(rule[key], int) and 1 <= rule[key] <= MAX_WEIGHT
                ):
                    raise ServiceError(
                        _("%(where)s: weights are whole numbers from 1 to %(max)s.")
                        % {"where": where, "max": MAX_WEIGHT}
                    )
        elif kind == "pool" and rule.get("scope") not in {"own", "city_managed", "city_area"}:
            raise ServiceError(_("%(where)s: unknown pool scope.") % {"where": where})
    return rules


def rules_of(rules: list[dict], kind: str) -> list[dict]:
    return [r for r in rules if r["kind"] == kind]


def rule_of(rules: list[dict], kind: str) -> dict | None:
    found = rules_of(rules, kind)
    return found[0] if found else None


# --- presets ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Preset:
    code: str
    name: Any
    source: str
    rules: list[dict]


_RISK = {
    "kind": "risk_weight",
    "credit": {"red": 3, "black": 3, "yellow": 2},
    "penalty_days": 365,
    "penalty": 2,
    "complaints_at_least": 3,
    "complaints": 2,
}

# 本溪 2025: the county bureaus and the city team share every rule but the pool.
_BENXI_2025: list[dict] = [
    {"kind": "class_percentage", "class": "key", "percent": 25, "per": "quarter"},
    {"kind": "coverage", "class": "key", "cycle": "year"},
    {"kind": "coverage", "class": "general", "cycle": "three_years", "anchor_year": 2025},
    {"kind": "no_minimum", "class": "special"},
    {"kind": "frequency_cap", "max_per_year": 2, "exempt_classes": ["special"]},
    {"kind": "positive_list", "mode": "off_site"},
]

PRESETS: dict[str, Preset] = {
    p.code: p
    for p in [
        Preset(
            "luliang_2020_county",
            gettext_lazy("Lüliang 2020, county bureau"),
            "吕环办发〔2020〕97号",
            [
                {"kind": "pool", "scope": "own"},
                {"kind": "class_percentage", "class": "key", "percent": 25, "per": "quarter"},
                {"kind": "coverage", "class": "key", "cycle": "year"},
                {
                    "kind": "staff_ratio",
                    "class": "general",
                    "objects_per_inspector": 10,
                    "per": "year",
                },
                {"kind": "class_percentage", "class": "special", "percent": 25, "per": "quarter"},
                {"kind": "positive_list", "mode": "exclude"},
                {"kind": "risk_weight", "credit": {}, "complaints_at_least": 3, "complaints": 2},
            ],
        ),
        Preset(
            "luliang_2020_city",
            gettext_lazy("Lüliang 2020, city enforcement team"),
            "吕环办发〔2020〕97号",
            [
                {"kind": "pool", "scope": "city_area"},
                {"kind": "class_percentage", "class": "key", "percent": 5, "per": "quarter"},
                {
                    "kind": "staff_ratio",
                    "class": "general",
                    "objects_per_inspector": 5,
                    "per": "year",
                },
                {"kind": "positive_list", "mode": "exclude"},
                {"kind": "risk_weight", "credit": {}, "complaints_at_least": 3, "complaints": 2},
            ],
        ),
        Preset(
            "shanxi_2024",
            gettext_lazy("Shanxi 2024 (ratios set in the annual plan)"),
            "晋环函〔2024〕416号",
            [
                {"kind": "pool", "scope": "own"},
                {"kind": "class_percentage", "class": "key", "percent": 25, "per": "quarter"},
                {"kind": "class_percentage", "class": "general", "percent": 5, "per": "quarter"},
                {"kind": "class_percentage", "class": "special", "percent": 50, "per": "quarter"},
                {"kind": "positive_list", "mode": "off_site"},
                _RISK,
            ],
        ),
        Preset(
            "wuzhi_2021",
            gettext_lazy("Wuzhi 2021 (ratios by the annual plan)"),
            "焦作市生态环境局武陟分局“双随机、一公开”抽查工作细则（2021）",
            [
                {"kind": "pool", "scope": "own"},
                {"kind": "class_percentage", "class": "key", "percent": 25, "per": "quarter"},
                {"kind": "class_percentage", "class": "general", "percent": 5, "per": "quarter"},
            ],
        ),
        Preset(
            "benxi_2025_county",
            gettext_lazy("Benxi 2025, county bureau"),
            "本溪市生态环境执法“双随机、一公开”工作实施方案（试行）",
            [{"kind": "pool", "scope": "own"}, *_BENXI_2025],
        ),
        Preset(
            "benxi_2025_city",
            gettext_lazy("Benxi 2025, city enforcement team"),
            "本溪市生态环境执法“双随机、一公开”工作实施方案（试行）",
            [{"kind": "pool", "scope": "city_managed"}, *_BENXI_2025],
        ),
        Preset(
            "hengshui_gxq_2023",
            gettext_lazy("Hengshui High-tech Zone 2023"),
            "衡水高新区2023年日常环境执法暨污染源“双随机、一公开”监管工作方案",
            [
                {"kind": "pool", "scope": "own"},
                {"kind": "class_percentage", "class": "key", "percent": 50, "per": "quarter"},
                {"kind": "coverage", "class": "key", "cycle": "half_year"},
                {
                    "kind": "staff_ratio",
                    "class": "general",
                    "objects_per_inspector": 10,
                    "per": "year",
                },
                {"kind": "class_percentage", "class": "special", "percent": 50, "per": "quarter"},
                {"kind": "joint_share", "class": "key", "percent": 5, "per": "year"},
                {"kind": "positive_list", "mode": "off_site"},
            ],
        ),
    ]
}

# The regime each seed city's bureaus use in the demo data.
CITY_PRESETS = {
    "141100": ("luliang_2020_county", "luliang_2020_city"),
    "210500": ("benxi_2025_county", "benxi_2025_city"),
    "131100": ("hengshui_gxq_2023", "luliang_2020_city"),
    "410800": ("wuzhi_2021", "shanxi_2024"),
}


def preset_for(*, division_code: str, city_team: bool) -> Preset:
    county, city = CITY_PRESETS.get(division_code[:4] + "00", ("shanxi_2024", "shanxi_2024"))
    # 衡水高新区 has its own regime; the other 衡水 counties follow the high-tech zone's here.
    return PRESETS[city if city_team else county]


# --- quota arithmetic -------------------------------------------------------------------


@dataclass(frozen=True)
class ClassFacts:
    """What the quota of one class in one quarter depends on (all counted by selectors)."""

    pool_size: int  # eligible objects after exclusions
    drawn_this_year: int  # objects drawn in earlier draws of this year (this organisation)
    uncovered_in_cycle: int  # pool members not yet inspected in the cycle (docs/coverage.md)
    staff_count: int  # on-staff certified inspectors of the organisation


@dataclass
class ClassQuota:
    klass: str
    pool_size: int
    drawn_this_year: int
    uncovered_in_cycle: int
    required: int = 0
    lines: list[str] = field(default_factory=list)
    tiered: bool = False  # coverage applies: uncovered objects are drawn first
    joint: int = 0


def quarters_left(quarter: int) -> int:
    """Quarters left in the year, this one included."""
    return 4 - quarter + 1


def cycle_quarters_left(cycle: str, year: int, quarter: int, anchor_year: int | None) -> int:
    if cycle == "year":
        return quarters_left(quarter)
    if cycle == "half_year":
        return 2 - (quarter - 1) % 2
    anchor = anchor_year or year
    years_into_cycle = (year - anchor) % 3
    return (3 - years_into_cycle) * 4 - (quarter - 1)


def quota_for_class(
    *, rules: list[dict], klass: str, year: int, quarter: int, facts: ClassFacts
) -> ClassQuota:
    """This quarter's quota for one class, with the arithmetic written out.

    The quota is the largest minimum that any rule demands, never more than the pool.
    """
    q = ClassQuota(klass, facts.pool_size, facts.drawn_this_year, facts.uncovered_in_cycle)
    candidates = [0]
    left = quarters_left(quarter)
    for rule in rules:
        if rule.get("class") != klass:
            continue
        kind = rule["kind"]
        if kind == "class_percentage" and rule["per"] == "quarter":
            need = math.ceil(facts.pool_size * rule["percent"] / 100)
            q.lines.append(
                _("At least %(pct)s%% per quarter: ⌈%(pool)s × %(pct)s%%⌉ = %(need)s")
                % {"pct": rule["percent"], "pool": facts.pool_size, "need": need}
            )
            candidates.append(need)
        elif kind == "class_percentage":
            yearly = math.ceil(facts.pool_size * rule["percent"] / 100)
            need = math.ceil(max(yearly - facts.drawn_this_year, 0) / left)
            q.lines.append(
                _(
                    "At least %(pct)s%% per year: ⌈%(pool)s × %(pct)s%%⌉ = %(yearly)s a year; "
                    "(%(yearly)s − %(drawn)s already drawn) ÷ %(left)s quarters left → %(need)s"
                )
                % {
                    "pct": rule["percent"],
                    "pool": facts.pool_size,
                    "yearly": yearly,
                    "drawn": facts.drawn_this_year,
                    "left": left,
                    "need": need,
                }
            )
            candidates.append(need)
        elif kind == "staff_ratio":
            yearly = facts.staff_count * rule["objects_per_inspector"]
            need = math.ceil(max(yearly - facts.drawn_this_year, 0) / left)
            q.lines.append(
                _(
                    "1:%(n)s staff ratio: %(staff)s on-staff inspectors × %(n)s = %(yearly)s a "
                    "year; (%(yearly)s − %(drawn)s already drawn) ÷ %(left)s quarters left → %(need)s"
                )
                % {
                    "n": rule["objects_per_inspector"],
                    "staff": facts.staff_count,
                    "yearly": yearly,
                    "drawn": facts.drawn_this_year,
                    "left": left,
                    "need": need,
                }
            )
            candidates.append(need)
        elif kind == "coverage":
            periods = cycle_quarters_left(rule["cycle"], year, quarter, rule.get("anchor_year"))
            need = math.ceil(facts.uncovered_in_cycle / periods)
            q.tiered = True
            q.lines.append(
                _(
                    "Full coverage within the %(cycle)s: %(uncovered)s not yet covered ÷ "
                    "%(periods)s quarters left in the cycle → %(need)s (uncovered objects first)"
                )
                % {
                    "cycle": CYCLE_LABELS[rule["cycle"]],
                    "uncovered": facts.uncovered_in_cycle,
                    "periods": periods,
                    "need": need,
                }
            )
            candidates.append(need)
        elif kind == "no_minimum":
            q.lines.append(_("No minimum: checks may be launched at any time."))
        elif kind == "joint_share":
            yearly = math.ceil(facts.pool_size * rule["percent"] / 100)
            q.joint = math.ceil(yearly / 4)
            q.lines.append(
                _(
                    "Internal joint inspection of %(pct)s%% a year: ⌈%(pool)s × %(pct)s%%⌉ = "
                    "%(yearly)s a year → %(joint)s this quarter (the first drawn)"
                )
                % {
                    "pct": rule["percent"],
                    "pool": facts.pool_size,
                    "yearly": yearly,
                    "joint": q.joint,
                }
            )
    required = max(candidates)
    if required > facts.pool_size:
        q.lines.append(_("Capped at the pool size: %(pool)s") % {"pool": facts.pool_size})
        required = facts.pool_size
    q.required = required
    q.joint = min(q.joint, required)
    if not q.lines:
        q.lines.append(_("No rule for this class: nothing is required."))
    return q


CYCLE_LABELS = {
    "year": gettext_lazy("year"),
    "half_year": gettext_lazy("half-year"),
    "three_years": gettext_lazy("three-year cycle"),
}


def source_weight(
    rules: list[dict], *, credit_rating: str, days_since_penalty: int | None, complaints_12m: int
) -> int:
    """The integer draw weight of one source under the rule set (1 = no extra risk)."""
    rule = rule_of(rules, "risk_weight")
    if rule is None:
        return 1
    weights = [1, int((rule.get("credit") or {}).get(credit_rating, 1))]
    if (
        days_since_penalty is not None
        and "penalty" in rule
        and days_since_penalty <= int(rule.get("penalty_days", 365))
    ):
        weights.append(int(rule["penalty"]))
    if "complaints" in rule and complaints_12m >= int(rule.get("complaints_at_least", 1)):
        weights.append(int(rule["complaints"]))
    return max(weights)
