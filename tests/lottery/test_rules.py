"""Quotas for every preset, against arithmetic done by hand (written out in each test)."""

import pytest
from django.utils import translation

from core.errors import ServiceError
from lottery.rules import (
    PRESETS,
    ClassFacts,
    cycle_quarters_left,
    quota_for_class,
    source_weight,
    validate_rules,
)


def quota(preset, klass, *, quarter=1, year=2026, pool=0, drawn=0, uncovered=None, staff=0):
    facts = ClassFacts(
        pool_size=pool,
        drawn_this_year=drawn,
        uncovered_in_cycle=pool if uncovered is None else uncovered,
        staff_count=staff,
    )
    return quota_for_class(
        rules=PRESETS[preset].rules, klass=klass, year=year, quarter=quarter, facts=facts
    )


def test_every_preset_validates():
    for preset in PRESETS.values():
        assert validate_rules(preset.rules) is preset.rules


class TestLuliang2020County:
    def test_key_quarter_one(self):
        # 25% per quarter of 37 key objects: ceil(9.25) = 10. Coverage within the year:
        # 37 uncovered / 4 quarters left = 9.25 -> 10. Quota = max(10, 10) = 10.
        q = quota("luliang_2020_county", "key", pool=37)
        assert q.required == 10 and q.tiered

    def test_key_last_quarter_must_finish_coverage(self):
        # Q4: 25% of 37 = 10, but 20 key objects are still uncovered and only 1 quarter is
        # left in the year: 20 / 1 = 20. Quota = 20.
        q = quota("luliang_2020_county", "key", quarter=4, pool=37, uncovered=20)
        assert q.required == 20

    def test_general_by_staff_ratio(self):
        # 1:10 with 23 on-staff inspectors = 230 a year. Q1: 230 / 4 = 57.5 -> 58.
        assert quota("luliang_2020_county", "general", pool=400, staff=23).required == 58
        # Q3 after 120 drawn in Q1-Q2: (230 - 120) / 2 = 55.
        assert (
            quota(
                "luliang_2020_county", "general", quarter=3, pool=400, staff=23, drawn=120
            ).required
            == 55
        )

    def test_general_ratio_never_exceeds_the_pool(self):
        q = quota("luliang_2020_county", "general", pool=30, staff=23)
        assert q.required == 30


class TestLuliang2020City:
    def test_key_five_percent_of_the_area(self):
        # 5% of the area's 412 key objects per quarter: ceil(20.6) = 21.
        assert quota("luliang_2020_city", "key", pool=412).required == 21

    def test_general_one_to_five(self):
        # 1:5 with 40 team inspectors = 200 a year -> 50 a quarter.
        assert quota("luliang_2020_city", "general", pool=3000, staff=40).required == 50


class TestShanxi2024:
    def test_ratios_from_the_annual_plan_defaults(self):
        # key 25% of 80 = 20; general 5% of 1,000 = 50; special 50% of 9 = ceil(4.5) = 5.
        assert quota("shanxi_2024", "key", pool=80).required == 20
        assert quota("shanxi_2024", "general", pool=1000).required == 50
        assert quota("shanxi_2024", "special", pool=9).required == 5

    def test_risk_weights(self):
        rules = PRESETS["shanxi_2024"].rules
        assert (
            source_weight(rules, credit_rating="green", days_since_penalty=None, complaints_12m=0)
            == 1
        )
        assert (
            source_weight(rules, credit_rating="red", days_since_penalty=None, complaints_12m=0)
            == 3
        )
        assert (
            source_weight(rules, credit_rating="yellow", days_since_penalty=None, complaints_12m=0)
            == 2
        )
        assert (
            source_weight(rules, credit_rating="green", days_since_penalty=100, complaints_12m=0)
            == 2
        )
        assert (
            source_weight(rules, credit_rating="green", days_since_penalty=400, complaints_12m=3)
            == 2
        )
        assert (
            source_weight(rules, credit_rating="green", days_since_penalty=400, complaints_12m=2)
            == 1
        )


class TestWuzhi2021:
    def test_plan_ratios(self):
        # 25% of 18 key = ceil(4.5) = 5; 5% of 210 general = ceil(10.5) = 11.
        assert quota("wuzhi_2021", "key", pool=18).required == 5
        assert quota("wuzhi_2021", "general", pool=210).required == 11


class TestBenxi2025County:
    def test_key_25_percent_and_yearly_coverage(self):
        # 25% of 41 = ceil(10.25) = 11; coverage 41/4 = ceil(10.25) = 11.
        assert quota("benxi_2025_county", "key", pool=41).required == 11

    def test_general_covered_within_three_years(self):
        # Cycle anchored on 2025; in 2026 Q1, 7 quarters of 2025 ... : years into cycle = 1,
        # quarters left in the cycle = (3 - 1) * 4 - 0 = 8. 600 uncovered / 8 = 75.
        assert cycle_quarters_left("three_years", 2026, 1, 2025) == 8
        assert quota("benxi_2025_county", "general", pool=900, uncovered=600).required == 75

    def test_special_has_no_minimum(self):
        q = quota("benxi_2025_county", "special", pool=12)
        assert q.required == 0 and q.lines

    def test_frequency_cap_and_positive_list_are_configured(self):
        kinds = {r["kind"]: r for r in PRESETS["benxi_2025_county"].rules}
        assert kinds["frequency_cap"] == {
            "kind": "frequency_cap",
            "max_per_year": 2,
            "exempt_classes": ["special"],
        }
        assert kinds["positive_list"]["mode"] == "off_site"


def test_benxi_city_team_draws_only_city_managed_objects():
    kinds = {r["kind"]: r for r in PRESETS["benxi_2025_city"].rules}
    assert kinds["pool"]["scope"] == "city_managed"


class TestHengshuiHighTechZone2023:
    def test_key_half_and_half_year_coverage(self):
        # 50% of 27 = ceil(13.5) = 14; coverage within the half-year: 27 / 2 = ceil(13.5) = 14.
        assert quota("hengshui_gxq_2023", "key", pool=27).required == 14
        # Q2, 9 still uncovered in H1, 1 quarter left in the half-year: 9; 50% = 14 -> 14.
        assert quota("hengshui_gxq_2023", "key", quarter=2, pool=27, uncovered=9).required == 14
        # Q2 with 20 uncovered: 20 / 1 = 20 > 14 -> 20.
        assert quota("hengshui_gxq_2023", "key", quarter=2, pool=27, uncovered=20).required == 20

    def test_general_one_to_ten_and_special_half(self):
        # 1:10 with 12 inspectors = 120 a year -> 30 a quarter; special 50% of 7 = 4.
        assert quota("hengshui_gxq_2023", "general", pool=500, staff=12).required == 30
        assert quota("hengshui_gxq_2023", "special", pool=7).required == 4

    def test_joint_inspection_share(self):
        # 5% of 27 key a year = ceil(1.35) = 2 a year -> ceil(2 / 4) = 1 this quarter.
        assert quota("hengshui_gxq_2023", "key", pool=27).joint == 1


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ("nope", "list"),
        ([{"kind": "magic"}], "unknown kind"),
        ([{"kind": "class_percentage", "class": "key", "percent": 120, "per": "quarter"}], "100"),
        ([{"kind": "class_percentage", "class": "vip", "percent": 20, "per": "quarter"}], "class"),
        ([{"kind": "staff_ratio", "class": "general", "objects_per_inspector": 0}], "at least"),
        ([{"kind": "coverage", "class": "key", "cycle": "decade"}], "cycle"),
        ([{"kind": "pool", "scope": "own"}, {"kind": "pool", "scope": "own"}], "only one"),
        ([{"kind": "risk_weight", "credit": {"red": 99}}], "1"),
    ],
)
def test_bad_rules_are_refused_with_the_rule_named(rules, message):
    with translation.override("en"), pytest.raises(ServiceError) as excinfo:
        validate_rules(rules)
    assert message in " ".join(excinfo.value.messages)
