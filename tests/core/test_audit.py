import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from core.audit import audit_record, audit_verify_chain
from core.models import AuditEntry


def _entries(n=5):
    for i in range(n):
        audit_record(
            actor=None,
            action="test.event",
            object_type="x",
            object_id=str(i),
            after={"i": i, "名称": "测试"},
        )


def _raw(sql, params=()):
    """Bypass the app, as an intruder with database access would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "ALTER TABLE core_auditentry DISABLE TRIGGER core_auditentry_no_update_delete"
            )
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute(
                "ALTER TABLE core_auditentry ENABLE TRIGGER core_auditentry_no_update_delete"
            )


@pytest.mark.smoke
def test_an_untouched_chain_verifies(db):
    _entries()
    checked, problem = audit_verify_chain()
    assert problem is None
    assert checked == AuditEntry.objects.count() >= 5
    call_command("verify_audit_chain")


@pytest.mark.smoke
def test_an_edited_entry_is_named(db):
    _entries()
    target = AuditEntry.objects.get(object_id="2", action="test.event")
    _raw("UPDATE core_auditentry SET after = %s WHERE id = %s", ['{"i": 99}', target.id])
    _checked, problem = audit_verify_chain()
    assert problem is not None and problem.seq == target.seq
    assert "altered" in problem.message
    with pytest.raises(CommandError, match=f"#{target.seq}"):
        call_command("verify_audit_chain")


@pytest.mark.smoke
def test_a_deleted_entry_is_named(db):
    _entries()
    target = AuditEntry.objects.get(object_id="2", action="test.event")
    _raw("DELETE FROM core_auditentry WHERE id = %s", [target.id])
    _checked, problem = audit_verify_chain()
    assert problem is not None and problem.seq == target.seq
    assert "missing" in problem.message


@pytest.mark.smoke
def test_deleting_the_newest_entries_is_caught_by_the_head(db):
    _entries()
    last = AuditEntry.objects.order_by("-seq").first()
    _raw("DELETE FROM core_auditentry WHERE id = %s", [last.id])
    _checked, problem = audit_verify_chain()
    assert problem is not None and problem.seq == last.seq


@pytest.mark.smoke
def test_an_entry_rewritten_with_a_fresh_hash_breaks_the_next_link(db):
    """Even someone holding the audit key (without it the entry itself fails) breaks the
    link to the next entry."""
    from core.audit import audit_key, entry_hash

    _entries()
    e = AuditEntry.objects.get(object_id="1", action="test.event")
    forged = entry_hash(
        seq=e.seq,
        at=e.at,
        actor_id=e.actor_id,
        actor_name=e.actor_name,
        organisation_code=e.organisation_code,
        action=e.action,
        object_type=e.object_type,
        object_id=e.object_id,
        object_repr=e.object_repr,
        before=e.before,
        after={"i": 42},
        prev_hash=e.prev_hash,
        key=audit_key(),
    )
    _raw(
        "UPDATE core_auditentry SET after = %s, hash = %s WHERE id = %s",
        ['{"i": 42}', forged, e.id],
    )
    _checked, problem = audit_verify_chain()
    assert problem is not None and problem.seq == e.seq + 1
    assert "does not link" in problem.message


def test_postgresql_itself_refuses_to_update_or_delete_entries(db):
    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger exists on PostgreSQL")
    _entries(1)
    entry = AuditEntry.objects.first()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(action="forged")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()


def test_a_rolled_back_change_leaves_no_entry(db):
    before = AuditEntry.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(actor=None, action="test.rollback")
        raise RuntimeError
    assert AuditEntry.objects.count() == before
    assert audit_verify_chain()[1] is None
