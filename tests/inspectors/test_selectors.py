from datetime import timedelta

import pytest

from inspectors.models import Inspector
from inspectors.selectors import (
    conflicts_for,
    inspector_list_for_user,
    inspectors_eligible,
    inspectors_own_record,
)
from inspectors.services import (
    conflict_declare,
    conflict_withdraw,
    inspector_deactivate,
    inspector_link_user,
    unavailability_add,
)

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


# ----------------------------------------------------------------- is_certified


def test_is_certified_holds_through_the_last_valid_day_only(county, make_inspector, today):
    inspector = make_inspector(county, certificate_valid_until=today)
    assert inspector.is_certified(today)
    assert inspector.is_certified(today - timedelta(days=1))
    assert not inspector.is_certified(today + timedelta(days=1))


def test_is_certified_needs_staff_activity_and_a_recorded_date(county, make_inspector, today):
    assert not make_inspector(county, on_staff=False).is_certified(today)
    assert not make_inspector(county, certificate_valid_until=None).is_certified(today)
    assert not make_inspector(county, kind="expert").is_certified(today)
    inactive = make_inspector(county)
    inactive.is_active = False
    assert not inactive.is_certified(today)


def test_the_queryset_rule_agrees_with_is_certified(county, make_inspector, today):
    people = [
        make_inspector(county, certificate_valid_until=today),
        make_inspector(county, certificate_valid_until=today - timedelta(days=1)),
        make_inspector(county, certificate_valid_until=None),
        make_inspector(county, on_staff=False),
        make_inspector(county, kind="expert"),
    ]
    for on in (today - timedelta(days=1), today, today + timedelta(days=1)):
        expected = {p.pk for p in people if p.is_certified(on)}
        assert set(Inspector.objects.certified(on).values_list("pk", flat=True)) == expected


def test_certificate_status_edges(county, make_inspector, today):
    assert make_inspector(county, certificate_valid_until=today).certificate_status == "expiring"
    assert (
        make_inspector(
            county, certificate_valid_until=today + timedelta(days=60)
        ).certificate_status
        == "expiring"
    )
    assert (
        make_inspector(
            county, certificate_valid_until=today + timedelta(days=61)
        ).certificate_status
        == "valid"
    )
    assert (
        make_inspector(county, certificate_valid_until=today - timedelta(days=1)).certificate_status
        == "expired"
    )


# ----------------------------------------------------------------- eligibility


def test_inspectors_eligible_excludes_everyone_who_may_not_go(
    county_clerk, county, other_county, make_inspector, today
):
    ok = make_inspector(county, name="合格")
    make_inspector(county, name="过期", certificate_valid_until=today - timedelta(days=1))
    make_inspector(county, name="不在编", on_staff=False)
    make_inspector(county, name="专家", kind="expert")
    gone = make_inspector(county, name="调离")
    inspector_deactivate(actor=county_clerk, inspector=gone, reason="调离")
    on_leave = make_inspector(county, name="休假")
    unavailability_add(
        actor=county_clerk,
        inspector=on_leave,
        start=today + timedelta(days=3),
        end=today + timedelta(days=5),
        reason="leave",
    )
    make_inspector(other_county, name="外县")

    pool = inspectors_eligible(organisation_ids=[county.pk], on=today)
    assert set(pool.values_list("name", flat=True)) == {"合格", "休假"}
    # The leave overlaps the period, not the day: out for the period, in for the day.
    pool = inspectors_eligible(
        organisation_ids=[county.pk], on=today, until=today + timedelta(days=3)
    )
    assert list(pool) == [ok]
    pool = inspectors_eligible(organisation_ids=[county.pk], on=today + timedelta(days=5))
    assert list(pool) == [ok]
    pool = inspectors_eligible(organisation_ids=[county.pk], on=today + timedelta(days=6))
    assert set(pool.values_list("name", flat=True)) == {"合格", "休假"}


def test_inspectors_eligible_checks_the_certificate_on_the_draw_date(county, make_inspector, today):
    make_inspector(county, certificate_valid_until=today + timedelta(days=10))
    assert inspectors_eligible(organisation_ids=[county.pk], on=today).count() == 1
    assert (
        inspectors_eligible(organisation_ids=[county.pk], on=today + timedelta(days=11)).count()
        == 0
    )


def test_a_certificate_must_last_through_the_planned_period(county, make_inspector, today):
    """Drawn today for inspections until day 30: a certificate lapsing on day 10 would make
    the inspection open to challenge, so its holder is not in the pool."""
    make_inspector(county, name="到期", certificate_valid_until=today + timedelta(days=10))
    make_inspector(county, name="有效", certificate_valid_until=today + timedelta(days=30))

    def pool(until):
        return set(
            inspectors_eligible(organisation_ids=[county.pk], on=today, until=until).values_list(
                "name", flat=True
            )
        )

    assert pool(today + timedelta(days=30)) == {"有效"}
    assert pool(today + timedelta(days=10)) == {"到期", "有效"}


# ----------------------------------------------------------------- conflicts


def test_conflicts_for_by_source_and_by_company_credit_code(
    county_clerk, county, make_inspector, make_source, today
):
    a = make_inspector(county, name="甲")
    b = make_inspector(county, name="乙")
    c = make_inspector(county, name="丙")
    site1 = make_source(county, company="武陟某造纸有限公司")
    site2 = make_source(county, company="武陟某造纸有限公司", uscc=site1.uscc)  # same company
    other = make_source(county, company="武陟某化工有限公司")
    conflict_declare(actor=county_clerk, inspector=a, source=site1, reason="曾在该厂任职")
    conflict_declare(actor=county_clerk, inspector=b, company_uscc=site1.uscc, reason="亲属持股")

    ids = [a.pk, b.pk, c.pk]
    sources = [site1.pk, site2.pk, other.pk]
    expected = {site1.pk: {a.pk, b.pk}, site2.pk: {b.pk}}
    assert conflicts_for(inspector_ids=ids, source_ids=sources, on=today) == expected
    # Same answer when the caller hands in the credit codes itself.
    assert (
        conflicts_for(
            inspector_ids=ids,
            source_ids=sources,
            uscc_list=[site1.uscc, site2.uscc.lower(), other.uscc],
            on=today,
        )
        == expected
    )
    # Only the inspectors asked about.
    assert conflicts_for(inspector_ids=[c.pk], source_ids=sources, on=today) == {}


def test_conflicts_for_ignores_expired_future_and_withdrawn_conflicts(
    county_clerk, county, make_inspector, make_source, today
):
    a = make_inspector(county, name="甲")
    b = make_inspector(county, name="乙")
    c = make_inspector(county, name="丙")
    source = make_source(county)
    conflict_declare(
        actor=county_clerk,
        inspector=a,
        source=source,
        reason="旧事",
        valid_from=today - timedelta(days=400),
        valid_until=today - timedelta(days=1),
    )
    conflict_declare(
        actor=county_clerk,
        inspector=b,
        source=source,
        reason="将来",
        valid_from=today + timedelta(days=1),
    )
    withdrawn = conflict_declare(
        actor=county_clerk, inspector=c, company_uscc=source.uscc, reason="亲属"
    )
    conflict_withdraw(actor=county_clerk, conflict=withdrawn, reason="误报")

    ids = [a.pk, b.pk, c.pk]
    assert conflicts_for(inspector_ids=ids, source_ids=[source.pk], on=today) == {}
    yesterday = today - timedelta(days=1)
    assert conflicts_for(inspector_ids=ids, source_ids=[source.pk], on=yesterday) == {
        source.pk: {a.pk}
    }
    tomorrow = today + timedelta(days=1)
    assert conflicts_for(inspector_ids=ids, source_ids=[source.pk], on=tomorrow) == {
        source.pk: {b.pk}
    }


def test_conflicts_for_takes_a_fixed_number_of_queries(
    county_clerk, county, make_inspector, make_source, today, django_assert_max_num_queries
):
    people = [make_inspector(county, name=f"人{i}") for i in range(5)]
    sources = [make_source(county) for _ in range(30)]
    for person, source in zip(people, sources, strict=False):
        conflict_declare(actor=county_clerk, inspector=person, source=source, reason="亲属")
    with django_assert_max_num_queries(2):
        result = conflicts_for(
            inspector_ids=[p.pk for p in people], source_ids=[s.pk for s in sources], on=today
        )
    assert len(result) == 5


# ----------------------------------------------------------------- scope and filters


def test_the_list_is_scoped_to_the_users_organisations(
    county_clerk, outsider_clerk, city_reviewer, county, other_county, make_inspector
):
    ours = make_inspector(county, name="武陟人")
    theirs = make_inspector(other_county, name="温县人")
    assert list(inspector_list_for_user(user=county_clerk)) == [ours]
    assert list(inspector_list_for_user(user=outsider_clerk)) == [theirs]
    assert set(inspector_list_for_user(user=city_reviewer)) == {ours, theirs}


def test_the_list_filters(county_clerk, county, make_inspector, today):
    water = make_inspector(county, name="王水", expertise=["water", "air"])
    expired = make_inspector(county, name="李旧", certificate_valid_until=today - timedelta(days=3))
    soon = make_inspector(county, name="赵近", certificate_valid_until=today + timedelta(days=30))
    off = make_inspector(county, name="钱外", on_staff=False)
    expert = make_inspector(county, name="孙专", kind="expert", expertise=["radiation"])
    leave = make_inspector(county, name="周假")
    unavailability_add(actor=county_clerk, inspector=leave, start=today, end=today, reason="leave")

    def names(**filters):
        return set(
            inspector_list_for_user(user=county_clerk, filters=filters).values_list(
                "name", flat=True
            )
        )

    assert names(q="王") == {"王水"}
    assert names(q=water.certificate_number[-6:]) == {"王水"}
    assert names(expertise="water") == {"王水"}
    assert names(expertise="radiation") == {"孙专"}
    assert names(kind="expert") == {"孙专"}
    assert names(on_staff=False) == {"钱外"}
    assert names(certificate_status="expired") == {"李旧"}
    assert names(certificate_status="expiring") == {"赵近"}
    assert "李旧" not in names(certificate_status="valid")
    assert "赵近" in names(certificate_status="valid")
    assert "周假" not in names(available_on=today)
    assert "周假" in names(available_on=today + timedelta(days=1))
    inspector_deactivate(actor=county_clerk, inspector=off)
    assert "钱外" not in names(is_active=True)
    assert names(is_active=False) == {"钱外"}
    assert {water.name, expired.name, soon.name, expert.name} <= names()


def test_an_inspector_user_sees_their_own_record(
    county_clerk, inspector_a, inspector_b, county, make_inspector
):
    record = make_inspector(county)
    inspector_link_user(actor=county_clerk, inspector=record, user=inspector_a)
    assert inspectors_own_record(inspector_a) == record
    assert inspectors_own_record(inspector_b) is None
