"""Which rule each figure of the dashboard is held to, and where the rule comes from.

A bureau's regime is read from its quarterly plan's frozen rules (the plan of the quarter, as
the draw used them); a bureau without a plan is held to its city's preset
(``lottery.rules.preset_for``). Each threshold names its seed section, shown as the tooltip of
the figure (``title`` attribute) so a reviewer sees why a figure is red.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from lottery.rules import preset_for, rule_of, rules_of

#: Seed sections of each preset's rules: (key ratio, key coverage, staff ratio, joint share).
PRESET_SECTIONS = {
    "luliang_2020_county": {
        "key": "000 §四(一)",
        "coverage": "000 §四(一)",
        "staff": "000 §四(二)",
    },
    "luliang_2020_city": {"key": "000 §四(一)", "staff": "000 §四(二)"},
    "shanxi_2024": {"key": "001 §二(三)"},
    "wuzhi_2021": {"key": "002"},
    "benxi_2025_county": {
        "key": "003 §七(一)1",
        "coverage": "003 §七(一)1",
        "general": "003 §七(一)2",
    },
    "benxi_2025_city": {
        "key": "003 §七(一)4",
        "coverage": "003 §七(一)1",
        "general": "003 §七(一)2",
    },
    "hengshui_gxq_2023": {
        "key": "004 §二(三)",
        "coverage": "004 §二(三)",
        "staff": "004 §二(三)",
        "joint": "004 §二(五)",
    },
}

# Rules every regime shares (the seeds agree on them).
ENTRY_RULE = _("Results entered within 7 working days of the check's end (000 §五(二))")
PUBLICATION_RULE = _("Results published within 20 working days (000 §五(五), 003 §八(二))")
DISCLOSURE_RULE = _("Disclosure rate 100% (001 §二(四), 003 §八(二))")
PLAN_RULE = _("Quarterly plan by the 5th of the quarter's first month (003 §七(六))")
DRAW_RULE = _("Quarterly draw by the 10th of the quarter's first month (003 §七(二))")
RESULTS_RULE = _(
    "Checks done and results reported by the 25th of the quarter's last month (003 §七(六))"
)
SUBSTITUTION_RULE = _(
    "A drawn list is changed only with a leader's approval, e.g. recusal (003 §七(二))"
)
TARGETED_RULE = _(
    "Random checks are the rule; targeted checks are counted apart (003 §三, §七(一)3)"
)
OFF_SITE_RULE = _(
    "Positive-list sources: off-site supervision, no visit except complaints (003 §七(三))"
)
GENERAL_CYCLE_DEFAULT_ANCHOR = 2025


@dataclass(frozen=True)
class Regime:
    """The thresholds one bureau is held to."""

    code: str  # a preset's code, or "" for a plan's own rules
    name: str
    key_percent: int | None
    key_cycle: str | None  # "year" | "half_year" | None
    general_cycle_anchor: int | None  # three-year cycle of general objects, or None
    staff_objects: int | None  # 1:N objects per on-staff inspector a year
    joint_percent: int | None  # share of key objects by joint inspection a year
    sections: dict

    def section(self, what: str) -> str:
        return self.sections.get(what, "")

    def key_rule(self) -> str:
        if self.key_percent is None:
            return str(_("No quarterly minimum of key objects in this regime"))
        return str(_("Key objects: at least %(p)s%% a quarter (%(s)s)")) % {
            "p": self.key_percent,
            "s": self.section("key") or self.name,
        }

    def quota_rule(self) -> str:
        return str(_("Drawn at least the quota the draw computed (%(s)s)")) % {
            "s": self.section("key") or self.name
        }

    def coverage_rule(self) -> str:
        if self.key_cycle is None:
            return str(_("No coverage cycle of key objects in this regime"))
        cycle = _("every half-year") if self.key_cycle == "half_year" else _("every year")
        return str(_("All key objects checked %(cycle)s (%(s)s)")) % {
            "cycle": cycle,
            "s": self.section("coverage"),
        }

    def general_rule(self) -> str:
        if self.general_cycle_anchor is None:
            return str(_("No three-year cycle in this regime; shown for reference (003 §七(一)2)"))
        return str(_("All general objects checked within three years (%(s)s)")) % {
            "s": self.section("general") or "003 §七(一)2"
        }

    def staff_rule(self) -> str:
        if self.staff_objects is None:
            return str(_("No staff ratio in this regime"))
        return str(
            _("At least 1:%(n)s: on-staff inspectors to general objects checked a year (%(s)s)")
        ) % {"n": self.staff_objects, "s": self.section("staff")}

    def joint_rule(self) -> str:
        if self.joint_percent is None:
            return str(_("No joint-inspection share in this regime"))
        return str(
            _(
                "Joint inspections of key objects: at least %(p)s%% a year and one every "
                "quarter (%(s)s)"
            )
        ) % {"p": self.joint_percent, "s": self.section("joint")}


def regime_for(*, organisation, plan=None) -> Regime:
    """The regime the city holds ``organisation`` to: its city's preset
    (``lottery.rules.preset_for``), whatever rules the bureau's own plan chose; a plan with
    lower ratios than the regime shows red on the dashboard. ``plan`` is accepted for callers
    that have it and is not used: the bureau cannot lower its own bar."""
    preset = preset_for(
        division_code=organisation.division_code,
        city_team=organisation.kind == "city_team",
    )
    rules, code, name = preset.rules, preset.code, str(preset.name)
    key_pct = next(
        (
            r["percent"]
            for r in rules_of(rules, "class_percentage")
            if r.get("class") == "key" and r.get("per") == "quarter"
        ),
        None,
    )
    coverage = {r["class"]: r for r in rules_of(rules, "coverage")}
    key_cycle = coverage["key"]["cycle"] if "key" in coverage else None
    general = coverage.get("general")
    anchor = None
    if general and general.get("cycle") == "three_years":
        anchor = general.get("anchor_year") or GENERAL_CYCLE_DEFAULT_ANCHOR
    staff = next(
        (
            r["objects_per_inspector"]
            for r in rules_of(rules, "staff_ratio")
            if r.get("class") == "general"
        ),
        None,
    )
    joint = rule_of(rules, "joint_share")
    return Regime(
        code=code,
        name=name,
        key_percent=key_pct,
        key_cycle=key_cycle if key_cycle in ("year", "half_year") else None,
        general_cycle_anchor=anchor,
        staff_objects=staff,
        joint_percent=joint["percent"] if joint else None,
        sections=PRESET_SECTIONS.get(code, {}),
    )
