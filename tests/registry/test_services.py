"""Registry services: validation, history of changed fields only, bulk upsert, check items."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import IntegrityError, transaction

from core.errors import ServiceError
from core.models import AuditEntry
from core.uscc import check_digit
from registry.models import CheckItem, PollutionSource, SourceChange
from registry.services import (
    checkitem_create,
    checkitem_publish,
    checkitem_publish_year,
    checkitem_update,
    source_bulk_upsert,
    source_create,
    source_set_status,
    source_update,
)
from tests.registry.conftest import source_data, uscc_for

pytestmark = pytest.mark.django_db


def bad_checksum_code() -> str:
    good = uscc_for()
    wrong = "0" if good[17] != "0" else "1"
    return good[:17] + wrong


@pytest.mark.smoke
def test_create_records_history_and_audit(county, county_clerk):
    source = source_create(actor=county_clerk, organisation=county, data=source_data())
    assert source.managed_by == "county"
    assert source.county_code == "410823"
    change = source.changes.get()
    assert change.action == "create" and change.actor == county_clerk
    assert AuditEntry.objects.filter(action="registry.source_create", object_id=str(source.pk))


@pytest.mark.smoke
def test_update_records_only_the_fields_that_changed(source, county_clerk):
    source_update(
        actor=county_clerk,
        source=source,
        data={
            "name": source.name,  # unchanged
            "company_name": source.company_name,  # unchanged
            "complaints_12m": 3,
            "credit_rating": "red",
            "tags": ["涉VOCs", "涉VOCs", " 园区内 "],
        },
    )
    change = source.changes.get(action="update")
    assert change.changes == {
        "complaints_12m": [0, 3],
        "credit_rating": ["unrated", "red"],
        "tags": [[], ["涉VOCs", "园区内"]],
    }
    assert change.actor_name == str(county_clerk)
    entry = AuditEntry.objects.get(action="registry.source_update")
    assert entry.before == {"complaints_12m": 0, "credit_rating": "unrated", "tags": []}


@pytest.mark.smoke
def test_it_records_nothing_when_nothing_changed(source, county_clerk):
    before = AuditEntry.objects.count()
    source_update(
        actor=county_clerk,
        source=source,
        data={"name": f"  {source.name} ", "uscc": source.uscc.lower()},
    )
    assert not source.changes.filter(action="update").exists()
    assert AuditEntry.objects.count() == before


@pytest.mark.smoke
def test_it_refuses_a_special_object_without_a_reason(county, county_clerk, source):
    with pytest.raises(ServiceError) as exc:
        source_create(
            actor=county_clerk, organisation=county, data=source_data(supervision_class="special")
        )
    assert "special_reason" in exc.value.message_dict
    with pytest.raises(ServiceError):
        source_update(actor=county_clerk, source=source, data={"supervision_class": "special"})
    source.refresh_from_db()
    assert source.supervision_class == "general"
    source_update(
        actor=county_clerk,
        source=source,
        data={"supervision_class": "special", "special_reason": "上年度被列入重点督办"},
    )
    source.refresh_from_db()
    assert source.supervision_class == "special"


def test_the_database_also_refuses_a_special_object_without_a_reason(source):
    with pytest.raises(IntegrityError), transaction.atomic():
        PollutionSource.objects.filter(pk=source.pk).update(supervision_class="special")


@pytest.mark.smoke
def test_it_refuses_a_bad_check_digit_unless_accepted(county, county_clerk):
    code = bad_checksum_code()
    with pytest.raises(ServiceError) as exc:
        source_create(actor=county_clerk, organisation=county, data=source_data(uscc=code))
    message = exc.value.message_dict["uscc"][0]
    assert check_digit(code[:17]) in message
    assert not PollutionSource.objects.filter(uscc=code).exists()

    source = source_create(
        actor=county_clerk,
        organisation=county,
        data=source_data(uscc=code.lower()),
        accept_bad_checksum=True,
    )
    assert source.uscc == code and source.uscc_checksum_ok is False
    # Editing other fields keeps the accepted code without asking again.
    source_update(actor=county_clerk, source=source, data={"uscc": code, "phone": "0391-7221234"})
    source.refresh_from_db()
    assert source.phone == "0391-7221234" and source.uscc_checksum_ok is False
    # Correcting it clears the flag, and the history says so.
    good = code[:17] + check_digit(code[:17])
    source_update(actor=county_clerk, source=source, data={"uscc": good})
    source.refresh_from_db()
    assert source.uscc_checksum_ok is True
    assert source.changes.filter(action="update").first().changes == {
        "uscc": [code, good],
        "uscc_checksum_ok": [False, True],
    }


@pytest.mark.smoke
def test_it_refuses_a_malformed_credit_code_even_when_accepting_bad_digits(county, county_clerk):
    with pytest.raises(ServiceError) as exc:
        source_create(
            actor=county_clerk,
            organisation=county,
            data=source_data(uscc="9141082312345"),
            accept_bad_checksum=True,
        )
    assert "uscc" in exc.value.message_dict


@pytest.mark.smoke
def test_it_refuses_incoherent_dates(county, county_clerk):
    with pytest.raises(ServiceError) as exc:
        source_create(
            actor=county_clerk,
            organisation=county,
            data=source_data(
                permit_valid_from=date(2025, 1, 1),
                permit_valid_until=date(2024, 1, 1),
                last_penalty_date=date.today() + timedelta(days=3),
            ),
        )
    assert {"permit_valid_until", "last_penalty_date"} <= set(exc.value.message_dict)


@pytest.mark.smoke
def test_it_refuses_unknown_fields_and_bad_choices(county, county_clerk):
    with pytest.raises(ServiceError) as exc:
        source_create(
            actor=county_clerk,
            organisation=county,
            data=source_data(colour="red", credit_rating="purple", pollution_types=["air", "x"]),
        )
    assert {"colour", "credit_rating", "pollution_types"} <= set(exc.value.message_dict)


@pytest.mark.smoke
def test_it_refuses_a_duplicate_source_code(source, county, county_clerk):
    with pytest.raises(ServiceError) as exc:
        source_create(
            actor=county_clerk,
            organisation=county,
            data=source_data(source_code=source.source_code),
        )
    assert "source_code" in exc.value.message_dict


def test_it_refuses_a_clerk_writing_for_another_county(other_county, outsider_clerk, source):
    with pytest.raises(ServiceError):
        source_update(actor=outsider_clerk, source=source, data={"phone": "1"})
    with pytest.raises(ServiceError):
        source_create(actor=outsider_clerk, organisation=source.organisation, data=source_data())
    source_create(actor=outsider_clerk, organisation=other_county, data=source_data())


def test_it_refuses_an_inspector_or_a_leader_writing_sources(source, inspector_a, county_leader):
    for actor in (inspector_a, county_leader):
        with pytest.raises(ServiceError):
            source_update(actor=actor, source=source, data={"phone": "1"})
    source.refresh_from_db()
    assert source.phone == ""


def test_a_city_team_keeps_city_managed_sources(orgs, county_clerk):
    team = orgs["city_team:410800"]
    source = source_create(actor=None, organisation=team, data=source_data())
    assert source.managed_by == "city" and source.county_code == ""
    with pytest.raises(ServiceError):
        source_create(actor=None, organisation=orgs["city_bureau:410800"], data=source_data())
    with pytest.raises(ServiceError):
        source_create(actor=None, organisation=team, data=source_data(managed_by="county"))


@pytest.mark.smoke
def test_set_status_records_a_status_change(source, county_clerk):
    source_set_status(
        actor=county_clerk, source=source, status="suspended", status_date=date(2025, 3, 1)
    )
    source.refresh_from_db()
    assert (source.status, source.status_date) == ("suspended", date(2025, 3, 1))
    change = source.changes.get(action="status")
    assert change.changes == {
        "status": ["active", "suspended"],
        "status_date": [None, "2025-03-01"],
    }
    with pytest.raises(ServiceError):
        source_set_status(actor=county_clerk, source=source, status="suspended")


# --- bulk upsert ---------------------------------------------------------------------------


def test_bulk_upsert_counts_and_history(county, county_clerk, make_source):
    kept = make_source(source_code="B-KEEP", complaints_12m=1)
    changed = make_source(source_code="B-CHANGE", credit_rating="green")
    rows = [
        {"source_code": "B-KEEP", "name": kept.name, "complaints_12m": 1},
        {"source_code": "B-CHANGE", "credit_rating": "yellow", "tags": "涉危废,园区"},
        source_data(source_code="B-NEW-1"),
        source_data(source_code="B-NEW-2", supervision_class="key"),
    ]
    audit_before = AuditEntry.objects.count()
    counts = source_bulk_upsert(
        actor=county_clerk,
        organisation_by_code={row["source_code"]: county for row in rows},
        rows=rows,
    )
    assert counts == (2, 1, 1)
    changed.refresh_from_db()
    assert changed.credit_rating == "yellow" and changed.tags == ["涉危废", "园区"]
    assert changed.changes.get(action="update").changes == {
        "credit_rating": ["green", "yellow"],
        "tags": [[], ["涉危废", "园区"]],
    }
    assert not kept.changes.filter(action="update").exists()
    new = PollutionSource.objects.get(source_code="B-NEW-2")
    assert new.supervision_class == "key" and new.managed_by == "county"
    assert new.changes.get().action == "create"
    # One audit entry for the batch.
    assert AuditEntry.objects.count() == audit_before + 1
    entry = AuditEntry.objects.get(action="registry.source_bulk_upsert")
    assert entry.after["created"]["codes"] == ["B-NEW-1", "B-NEW-2"]
    assert entry.after["updated"]["codes"] == ["B-CHANGE"]


def test_bulk_upsert_is_all_or_nothing(county, county_clerk, make_source):
    make_source(source_code="B-OLD", complaints_12m=0)
    rows = [
        source_data(source_code="B-GOOD"),
        source_data(source_code="B-BAD", supervision_class="special"),
        {"source_code": "B-OLD", "complaints_12m": 5},
    ]
    with pytest.raises(ServiceError) as exc:
        source_bulk_upsert(
            actor=county_clerk,
            organisation_by_code={row["source_code"]: county for row in rows},
            rows=rows,
        )
    assert any(m.startswith("B-BAD: ") for m in exc.value.messages)
    assert not PollutionSource.objects.filter(source_code="B-GOOD").exists()
    assert PollutionSource.objects.get(source_code="B-OLD").complaints_12m == 0


def test_bulk_upsert_refuses_a_source_of_another_organisation(
    county, other_county, county_clerk, other_source
):
    rows = [{"source_code": other_source.source_code, "complaints_12m": 9}]
    with pytest.raises(ServiceError) as exc:
        source_bulk_upsert(
            actor=county_clerk, organisation_by_code={rows[0]["source_code"]: county}, rows=rows
        )
    assert other_source.source_code in exc.value.messages[0]
    with pytest.raises(ServiceError):  # and may not write for the other county at all
        source_bulk_upsert(
            actor=county_clerk,
            organisation_by_code={rows[0]["source_code"]: other_county},
            rows=rows,
        )
    other_source.refresh_from_db()
    assert other_source.complaints_12m == 0


def test_bulk_upsert_needs_acceptance_for_bad_check_digits(county, county_clerk):
    rows = [source_data(source_code="B-CHK", uscc=bad_checksum_code())]
    org_by_code = {"B-CHK": county}
    with pytest.raises(ServiceError):
        source_bulk_upsert(actor=county_clerk, organisation_by_code=org_by_code, rows=rows)
    source_bulk_upsert(
        actor=county_clerk, organisation_by_code=org_by_code, rows=rows, accept_bad_checksum=True
    )
    assert PollutionSource.objects.get(source_code="B-CHK").uscc_checksum_ok is False


def test_bulk_upsert_refuses_duplicate_codes_in_one_batch(county, county_clerk):
    rows = [source_data(source_code="B-DUP"), source_data(source_code="B-DUP")]
    with pytest.raises(ServiceError):
        source_bulk_upsert(actor=county_clerk, organisation_by_code={"B-DUP": county}, rows=rows)
    assert not SourceChange.objects.exists()


# --- check items ---------------------------------------------------------------------------


def item_data(**overrides) -> dict:
    data = {
        "year": 2026,
        "code": "HB-001",
        "name": "污染防治设施运行情况",
        "legal_basis": "《中华人民共和国环境保护法》第二十四条",
        "checking_body": "焦作市生态环境局武陟分局",
        "target_classes": ["key", "general"],
        "method": "on_site",
        "required_expertise": ["air", "water"],
    }
    data.update(overrides)
    return data


@pytest.mark.smoke
def test_checkitem_create_update_and_publish(county, county_clerk, county_leader):
    item = checkitem_create(actor=county_clerk, organisation=county, data=item_data())
    assert item.required_expertise == ["air", "water"] and item.published_at is None
    checkitem_update(actor=county_clerk, item=item, data={"is_key_item": True})
    item.refresh_from_db()
    assert item.is_key_item
    with pytest.raises(ServiceError):  # publishing is the leader's approval
        checkitem_publish(actor=county_clerk, item=item)
    checkitem_publish(actor=county_leader, item=item)
    item.refresh_from_db()
    assert item.published_at is not None
    with pytest.raises(ServiceError):
        checkitem_update(actor=county_clerk, item=item, data={"name": "改名"})
    with pytest.raises(ServiceError):
        checkitem_publish(actor=county_leader, item=item)
    assert AuditEntry.objects.filter(action="registry.checkitem_publish").count() == 1


def test_it_refuses_a_duplicate_item_code_in_the_same_year(county, county_clerk):
    checkitem_create(actor=county_clerk, organisation=county, data=item_data())
    with pytest.raises(ServiceError) as exc:
        checkitem_create(actor=county_clerk, organisation=county, data=item_data())
    assert "code" in exc.value.message_dict
    checkitem_create(actor=county_clerk, organisation=county, data=item_data(year=2027))
    assert CheckItem.objects.count() == 2


def test_it_refuses_an_unknown_expertise_or_class(county, county_clerk):
    with pytest.raises(ServiceError) as exc:
        checkitem_create(
            actor=county_clerk,
            organisation=county,
            data=item_data(required_expertise=["cooking"], target_classes=["vip"]),
        )
    assert {"required_expertise", "target_classes"} <= set(exc.value.message_dict)


def test_a_leader_publishes_the_rest_of_a_years_list_at_once(county, county_clerk, county_leader):
    first = checkitem_create(actor=county_clerk, organisation=county, data=item_data(code="A"))
    checkitem_create(actor=county_clerk, organisation=county, data=item_data(code="B"))
    checkitem_create(actor=county_clerk, organisation=county, data=item_data(code="C", year=2027))
    checkitem_publish(actor=county_leader, item=first)
    with pytest.raises(ServiceError):
        checkitem_publish_year(actor=county_clerk, organisation=county, year=2026)
    assert checkitem_publish_year(actor=county_leader, organisation=county, year=2026) == 1
    assert not CheckItem.objects.filter(year=2026, published_at__isnull=True).exists()
    assert CheckItem.objects.get(code="C").published_at is None
    with pytest.raises(ServiceError):  # nothing left
        checkitem_publish_year(actor=county_leader, organisation=county, year=2026)
