"""The trail cannot be rewritten quietly: its chain is keyed (HMAC under SJSJ_AUDIT_KEY, kept
outside the database), and its head is published hourly as checkpoints on the public portal.
A rewrite by someone with the database but not the key breaks the chain; a rewrite with the
key, or a TRUNCATE with the head reset, no longer contains a published checkpoint."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from core.audit import (
    GENESIS_HASH,
    audit_checkpoint_publish,
    audit_key,
    audit_record,
    entry_hash,
)
from core.models import AuditChainHead, AuditCheckpoint, AuditEntry
from core.tasks import audit_checkpoint_publish_task
from tests.sql import triggers_off

pytestmark = pytest.mark.django_db


def _entries(n=6):
    for i in range(n):
        audit_record(actor=None, action="test.event", object_type="x", object_id=str(i))


def _rehash_without_key(start_seq: int, *, key: bytes | None = None) -> None:
    """What an intruder with the database but not the key can do: delete an entry and
    re-chain the rest with plain SHA-256, fixing the head. With ``key``: one who holds the
    audit key as well, so the rewritten chain is keyed and consistent in itself."""
    with triggers_off():
        AuditEntry.objects.filter(seq=start_seq).delete()
        prev = AuditEntry.objects.filter(seq=start_seq - 1).values_list("hash", flat=True).first()
        prev = prev or GENESIS_HASH
        seq = start_seq
        for entry in AuditEntry.objects.filter(seq__gt=start_seq).order_by("seq"):
            digest = entry_hash(
                seq=seq,
                at=entry.at,
                actor_id=entry.actor_id,
                actor_name=entry.actor_name,
                organisation_code=entry.organisation_code,
                action=entry.action,
                object_type=entry.object_type,
                object_id=entry.object_id,
                object_repr=entry.object_repr,
                before=entry.before,
                after=entry.after,
                prev_hash=prev,
                key=key,
            )
            AuditEntry.objects.filter(pk=entry.pk).update(
                seq=seq, prev_hash=prev, hash=digest, keyed=key is not None
            )
            prev, seq = digest, seq + 1
        AuditChainHead.objects.filter(id=1).update(last_seq=seq - 1, last_hash=prev)


def test_new_entries_are_keyed_and_a_rewrite_without_the_key_is_found(db):
    _entries()
    assert set(AuditEntry.objects.values_list("keyed", flat=True)) == {True}
    call_command("verify_audit_chain")
    _rehash_without_key(3)
    with pytest.raises(CommandError, match="not keyed|altered"):
        call_command("verify_audit_chain")


def test_a_deleted_entry_rechained_with_the_key_misses_the_published_checkpoint(
    db, client, tmp_path
):
    """The key alone does not let a rewrite pass: the chain is consistent again, but the head
    published before it is no longer in it, whether the checkpoints are read from the portal's
    file or from the (append-only) table."""
    _entries()
    assert audit_checkpoint_publish_task() == AuditEntry.objects.count()
    kept = tmp_path / "audit-checkpoints.json"
    kept.write_bytes(client.get("/public/audit-checkpoints.json").content)
    _entries(2)  # the trail goes on after the checkpoint
    call_command("verify_audit_chain", "--checkpoints", str(kept))

    _rehash_without_key(3, key=audit_key())
    with pytest.raises(CommandError, match="rewritten"):
        call_command("verify_audit_chain", "--checkpoints", str(kept))
    with pytest.raises(CommandError, match="rewritten"):
        call_command("verify_audit_chain")  # the checkpoints stored in the database


def test_a_truncated_trail_with_its_head_reset_misses_the_published_checkpoint(
    db, client, tmp_path
):
    _entries()
    assert audit_checkpoint_publish_task() == AuditEntry.objects.count()
    assert audit_checkpoint_publish_task() is None  # run twice: published once
    assert AuditCheckpoint.objects.count() == 1
    published = client.get("/public/audit-checkpoints.json")
    assert published.status_code == 200
    kept = tmp_path / "audit-checkpoints.json"
    kept.write_bytes(published.content)
    page = client.get("/public/audit-checkpoints/").content.decode()
    assert AuditCheckpoint.objects.get().hash in page

    call_command("verify_audit_chain", "--checkpoints", str(kept))
    # The database owner empties the trail and resets the head, and the checkpoint table too.
    with triggers_off(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditentry")
        cursor.execute("DELETE FROM core_auditcheckpoint")
        cursor.execute(
            "UPDATE core_auditchainhead SET last_seq = 0, last_hash = %s", [GENESIS_HASH]
        )
    call_command("verify_audit_chain")  # in itself, an empty trail is consistent
    with pytest.raises(CommandError, match="rewritten"):
        call_command("verify_audit_chain", "--checkpoints", str(kept))
    seq = json.loads(kept.read_text())["checkpoints"][0]["seq"]
    digest = json.loads(kept.read_text())["checkpoints"][0]["hash"]
    with pytest.raises(CommandError):
        call_command("verify_audit_chain", "--checkpoint", f"{seq}:{digest}")


def test_checkpoints_are_append_only(db):
    _entries(2)
    checkpoint = audit_checkpoint_publish()
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL triggers")
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError), transaction.atomic():
        AuditCheckpoint.objects.filter(pk=checkpoint.pk).update(
            hash=hashlib.sha256(b"x").hexdigest()
        )


def test_each_public_draw_page_carries_a_checkpoint_of_its_commitment(
    county, county_clerk, county_leader, client
):
    from tests.lottery.scenario import build_world, make_draw, make_plan

    build_world(county)
    draw = make_draw(
        make_plan(county, county_clerk, county_leader), county_clerk, stage="committed"
    )
    entry = AuditEntry.objects.get(action="draw.commit", object_id=str(draw.pk))
    page = client.get(f"/public/draws/{draw.pk}/").content.decode()
    assert f"第 {entry.seq} 条" in page and entry.hash in page
    call_command("verify_audit_chain", "--checkpoint", f"{entry.seq}:{entry.hash}")
