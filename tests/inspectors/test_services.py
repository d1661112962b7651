from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import translation

from core.errors import ServiceError
from core.models import AuditEntry
from inspectors.models import Conflict, Inspector, InspectorChange, Unavailability
from inspectors.services import (
    conflict_declare,
    conflict_withdraw,
    inspector_bulk_upsert,
    inspector_create,
    inspector_deactivate,
    inspector_link_user,
    inspector_update,
    unavailability_add,
    unavailability_remove,
)

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


def test_it_creates_an_inspector_with_history_and_an_audit_entry(county_clerk, county, today):
    inspector = inspector_create(
        actor=county_clerk,
        organisation=county,
        data={
            "name": "李娜",
            "certificate_number": " 4108 2320 2300 12 ",
            "certificate_valid_until": today + timedelta(days=400),
            "expertise": ["water", "air", "water"],
        },
    )
    assert inspector.certificate_number == "41082320230012"
    assert inspector.expertise == ["water", "air"]
    assert inspector.kind == Inspector.Kind.ENFORCEMENT and inspector.on_staff
    change = InspectorChange.objects.get(inspector=inspector)
    assert change.action == "create" and change.actor == county_clerk
    entry = AuditEntry.objects.get(action="inspector.create")
    assert entry.object_id == str(inspector.pk)
    assert entry.after["certificate_number"] == "41082320230012"


def test_it_records_only_the_fields_that_changed(county_clerk, county, make_inspector, today):
    inspector = make_inspector(county, department="执法一科", post="科员")
    new_date = today + timedelta(days=800)
    inspector_update(
        actor=county_clerk,
        inspector=inspector,
        data={
            "name": inspector.name,  # unchanged
            "department": "执法二科",
            "post": "科员",  # unchanged
            "certificate_valid_until": new_date,
        },
    )
    change = InspectorChange.objects.filter(inspector=inspector, action="update").get()
    assert change.changes == {
        "department": ["执法一科", "执法二科"],
        "certificate_valid_until": [
            (today + timedelta(days=365)).isoformat(),
            new_date.isoformat(),
        ],
    }
    entry = AuditEntry.objects.get(action="inspector.update")
    assert entry.before == {
        "department": "执法一科",
        "certificate_valid_until": (today + timedelta(days=365)).isoformat(),
    }
    assert entry.after["department"] == "执法二科"


def test_it_records_nothing_when_nothing_changed(county_clerk, county, make_inspector):
    inspector = make_inspector(county, department="执法一科")
    audits = AuditEntry.objects.count()
    inspector_update(
        actor=county_clerk,
        inspector=inspector,
        data={"department": "执法一科", "name": inspector.name, "expertise": []},
    )
    assert not InspectorChange.objects.filter(inspector=inspector, action="update").exists()
    assert AuditEntry.objects.count() == audits


def test_it_refuses_enforcement_staff_without_a_certificate_in_chinese(county_clerk, county):
    with translation.override("zh-hans"), pytest.raises(ServiceError) as exc:
        inspector_create(
            actor=county_clerk,
            organisation=county,
            data={"name": "王强", "kind": "enforcement", "certificate_number": "  "},
        )
    assert exc.value.message_dict["certificate_number"] == ["执法人员必须填写执法证号。"]
    assert not Inspector.objects.exists()


def test_it_accepts_a_technical_expert_without_a_certificate(county_clerk, county, today):
    expert = inspector_create(
        actor=county_clerk,
        organisation=county,
        data={"name": "赵教授", "kind": "expert", "expertise": ["radiation"]},
    )
    assert expert.certificate_number == ""
    assert not expert.is_certified(today)


def test_it_refuses_a_certificate_number_for_a_technical_expert(county_clerk, county):
    with pytest.raises(ServiceError) as exc:
        inspector_create(
            actor=county_clerk,
            organisation=county,
            data={"name": "赵教授", "kind": "expert", "certificate_number": "41082320230099"},
        )
    assert "certificate_number" in exc.value.message_dict


def test_it_refuses_a_certificate_number_already_registered_anywhere(
    county_clerk, outsider_clerk, county, other_county, make_inspector
):
    taken = make_inspector(other_county, name="温县某人")
    with translation.override("zh-hans"), pytest.raises(ServiceError) as exc:
        inspector_create(
            actor=county_clerk,
            organisation=county,
            data={"name": "李娜", "certificate_number": taken.certificate_number.lower()},
        )
    message = exc.value.message_dict["certificate_number"][0]
    assert taken.certificate_number in message and "已" in message
    assert "温县某人" not in message  # the holder is outside the clerk's scope


def test_it_refuses_to_take_over_a_number_on_update(county_clerk, county, make_inspector):
    first = make_inspector(county, name="甲")
    second = make_inspector(county, name="乙")
    with pytest.raises(ServiceError):
        inspector_update(
            actor=county_clerk,
            inspector=second,
            data={"certificate_number": first.certificate_number},
        )
    second.refresh_from_db()
    assert second.certificate_number != first.certificate_number


def test_the_database_refuses_duplicate_numbers_and_enforcement_without_one(county):
    Inspector.objects.create(organisation=county, name="甲", certificate_number="X1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Inspector.objects.create(organisation=county, name="乙", certificate_number="X1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Inspector.objects.create(organisation=county, name="丙", certificate_number="")
    # Experts share the blank number freely.
    Inspector.objects.create(organisation=county, name="丁", kind="expert")
    Inspector.objects.create(organisation=county, name="戊", kind="expert")


def test_the_database_refuses_a_period_ending_before_it_starts(county, make_inspector):
    inspector = make_inspector(county)
    with pytest.raises(IntegrityError), transaction.atomic():
        Unavailability.objects.create(
            inspector=inspector, start=date(2026, 3, 2), end=date(2026, 3, 1), reason="leave"
        )


def test_it_refuses_a_clerk_of_another_county(outsider_clerk, county, make_inspector):
    inspector = make_inspector(county)
    with pytest.raises(PermissionDenied):
        inspector_update(actor=outsider_clerk, inspector=inspector, data={"post": "科长"})
    with pytest.raises(PermissionDenied):
        inspector_create(
            actor=outsider_clerk, organisation=county, data={"name": "x", "certificate_number": "1"}
        )


def test_it_refuses_an_inspector_or_a_reviewer_as_editor(
    inspector_a, city_reviewer, county, make_inspector
):
    inspector = make_inspector(county)
    for user in (inspector_a, city_reviewer):
        with pytest.raises(PermissionDenied):
            inspector_update(actor=user, inspector=inspector, data={"post": "科长"})


def test_deactivating_records_the_status_and_is_idempotent(county_clerk, county, make_inspector):
    inspector = make_inspector(county)
    inspector_deactivate(actor=county_clerk, inspector=inspector, reason="调离")
    inspector_deactivate(actor=county_clerk, inspector=inspector, reason="调离")
    inspector.refresh_from_db()
    assert not inspector.is_active
    changes = InspectorChange.objects.filter(inspector=inspector, action="status")
    assert changes.count() == 1
    assert changes.get().changes["is_active"] == [True, False]


def test_unavailability_add_and_remove(county_clerk, county, make_inspector):
    inspector = make_inspector(county)
    period = unavailability_add(
        actor=county_clerk,
        inspector=inspector,
        start=date(2026, 4, 1),
        end=date(2026, 4, 10),
        reason="training",
        note="省厅执法培训",
    )
    with pytest.raises(ServiceError):
        unavailability_add(
            actor=county_clerk,
            inspector=inspector,
            start=date(2026, 4, 10),
            end=date(2026, 4, 1),
            reason="leave",
        )
    unavailability_remove(actor=county_clerk, unavailability=period)
    assert not Unavailability.objects.exists()
    assert InspectorChange.objects.filter(inspector=inspector, action="availability").count() == 2


def test_a_conflict_needs_a_reason_and_exactly_one_target(
    county_clerk, county, make_inspector, make_source
):
    inspector = make_inspector(county)
    source = make_source(county)
    with pytest.raises(ServiceError) as exc:
        conflict_declare(actor=county_clerk, inspector=inspector, source=source, reason=" ")
    assert "reason" in exc.value.message_dict
    with pytest.raises(ServiceError):
        conflict_declare(actor=county_clerk, inspector=inspector, reason="亲属任职")
    with pytest.raises(ServiceError):
        conflict_declare(
            actor=county_clerk,
            inspector=inspector,
            source=source,
            company_uscc=source.uscc,
            reason="亲属任职",
        )
    with pytest.raises(ServiceError) as exc:
        conflict_declare(
            actor=county_clerk, inspector=inspector, company_uscc="not-a-code", reason="亲属任职"
        )
    assert "company_uscc" in exc.value.message_dict
    assert not Conflict.objects.exists()


def test_a_conflict_is_declared_and_withdrawn_with_reasons(
    county_clerk, county, make_inspector, make_source
):
    inspector = make_inspector(county)
    source = make_source(county)
    conflict = conflict_declare(
        actor=county_clerk,
        inspector=inspector,
        company_uscc=source.uscc.lower(),
        reason="配偶在该公司任职",
    )
    assert conflict.company_uscc == source.uscc
    with pytest.raises(ServiceError):
        conflict_declare(
            actor=county_clerk, inspector=inspector, company_uscc=source.uscc, reason="重复"
        )
    with pytest.raises(ServiceError):
        conflict_withdraw(actor=county_clerk, conflict=conflict, reason="")
    conflict_withdraw(actor=county_clerk, conflict=conflict, reason="配偶已离职")
    conflict.refresh_from_db()
    assert conflict.withdrawn_at is not None and conflict.withdrawal_reason == "配偶已离职"
    assert conflict.withdrawn_by == county_clerk
    with pytest.raises(ServiceError):
        conflict_withdraw(actor=county_clerk, conflict=conflict, reason="again")


def test_linking_an_account_requires_an_inspector_of_the_same_organisation(
    county_clerk, inspector_a, county, other_county, make_inspector
):
    record = make_inspector(county)
    with pytest.raises(ServiceError):
        inspector_link_user(actor=county_clerk, inspector=record, user=county_clerk)
    inspector_link_user(actor=county_clerk, inspector=record, user=inspector_a)
    record.refresh_from_db()
    assert record.user == inspector_a
    other = make_inspector(county, name="另一人")
    with pytest.raises(ServiceError):
        inspector_link_user(actor=county_clerk, inspector=other, user=inspector_a)


# ----------------------------------------------------------------- bulk upsert


def _row(number, **extra):
    row = {
        "organisation": "410823",
        "name": "张伟",
        "kind": "enforcement",
        "certificate_number": number,
        "certificate_valid_until": date(2028, 12, 31),
        "department": "执法一科",
        "on_staff": True,
    }
    row.update(extra)
    return row


def test_bulk_upsert_creates_updates_and_counts_unchanged(county_clerk, county):
    orgs = {"410823": county}
    result = inspector_bulk_upsert(
        actor=county_clerk,
        organisation_by_code=orgs,
        rows=[_row("A1"), _row("A2", name="李娜"), _row("A3", name="王强", kind="enforcement")]
        + [{"organisation": "410823", "name": "赵教授", "kind": "expert"}],
    )
    assert tuple(result) == (4, 0, 0)
    assert InspectorChange.objects.filter(action="create").count() == 4

    result = inspector_bulk_upsert(
        actor=county_clerk,
        organisation_by_code=orgs,
        rows=[
            _row("A1"),  # unchanged
            _row("A2", name="李娜", department="执法二科"),  # one field changed
            {"certificate_number": "a3", "kind": "enforcement", "post": "科长"},  # partial row
            {"organisation": "410823", "name": "赵教授", "kind": "expert", "post": "高工"},
        ],
    )
    assert tuple(result) == (0, 3, 1)
    a2 = Inspector.objects.get(certificate_number="A2")
    assert a2.changes.get(action="update").changes == {"department": ["执法一科", "执法二科"]}
    a3 = Inspector.objects.get(certificate_number="A3")
    assert a3.post == "科长" and a3.department == "执法一科"  # missing columns wipe nothing
    assert a3.changes.get(action="update").changes == {"post": ["", "科长"]}
    assert Inspector.objects.filter(kind="expert").count() == 1
    assert AuditEntry.objects.filter(action="inspector.bulk_upsert").count() == 2


def test_bulk_upsert_reports_every_bad_row_and_writes_nothing(county_clerk, county):
    with translation.override("zh-hans"), pytest.raises(ServiceError) as exc:
        inspector_bulk_upsert(
            actor=county_clerk,
            organisation_by_code={"410823": county},
            rows=[
                {**_row("B1"), "row": 2},
                {**_row(""), "row": 3},
                {**_row("B1", name="重复"), "row": 4},
                {**_row("B5", expertise=["telepathy"]), "row": 5},
                {**_row("B6", organisation="999999"), "row": 6},
            ],
        )
    messages = exc.value.messages
    assert [m.split("：")[0] for m in messages] == ["第 3 行", "第 4 行", "第 5 行", "第 6 行"]
    assert "执法证号" in messages[0] and "第 2 行" in messages[1]
    assert not Inspector.objects.exists()


def test_bulk_upsert_will_not_overwrite_another_countys_inspector(
    county_clerk, county, other_county, make_inspector
):
    theirs = make_inspector(other_county, name="温县某人")
    with pytest.raises(ServiceError):
        inspector_bulk_upsert(
            actor=county_clerk,
            organisation_by_code={"410823": county},
            rows=[_row(theirs.certificate_number)],
        )
    theirs.refresh_from_db()
    assert theirs.organisation == other_county and theirs.name == "温县某人"


def test_bulk_upsert_refuses_organisations_the_actor_may_not_edit(county_clerk, other_county):
    with pytest.raises(ServiceError):
        inspector_bulk_upsert(
            actor=county_clerk,
            organisation_by_code={"410825": other_county},
            rows=[_row("C1", organisation="410825")],
        )


def test_bulk_upsert_uses_a_fixed_number_of_queries(
    county_clerk, county, django_assert_max_num_queries
):
    rows = [_row(f"N{i:05d}", name=f"人员{i}") for i in range(300)]
    inspector_bulk_upsert(actor=county_clerk, organisation_by_code={"410823": county}, rows=rows)
    changed = [_row(f"N{i:05d}", name=f"人员{i}", post="科员") for i in range(300)]
    # Lookups, one bulk update, one history insert, the audit entry: not one per row.
    with django_assert_max_num_queries(20):
        result = inspector_bulk_upsert(
            actor=county_clerk, organisation_by_code={"410823": county}, rows=changed
        )
    assert tuple(result) == (0, 300, 0)
