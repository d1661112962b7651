"""The append-only, hash-chained audit trail.

Each entry's hash covers its own fields and the previous entry's hash, so editing an entry
breaks its own hash, deleting one breaks the link or the sequence, and deleting the newest
ones is caught by the chain head, which remembers the last hash.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from core.models import AuditChainHead, AuditCheckpoint, AuditEntry

GENESIS_HASH = "0" * 64


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return str(value)


def to_jsonable(value: Any) -> Any:
    """Round-trip through JSON so what is hashed equals what the database stores."""
    if value is None:
        return None
    return json.loads(json.dumps(value, default=_json_default, ensure_ascii=False))


def entry_hash(
    *,
    seq: int,
    at: datetime,
    actor_id: int | None,
    actor_name: str,
    organisation_code: str,
    action: str,
    object_type: str,
    object_id: str,
    object_repr: str,
    before: Any,
    after: Any,
    prev_hash: str,
    key: bytes | None = None,
) -> str:
    """SHA-256 of the entry (entries made before keying), or HMAC-SHA256 under ``key``."""
    payload = {
        "seq": seq,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": actor_id,
        "actor_name": actor_name,
        "organisation_code": organisation_code,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "object_repr": object_repr,
        "before": before,
        "after": after,
        "prev_hash": prev_hash,
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    if key is not None:
        return hmac.new(key, blob.encode("utf-8"), hashlib.sha256).hexdigest()
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def audit_key() -> bytes:
    """The key of the chain and of the digests of confidential values: SJSJ_AUDIT_KEY, kept
    outside the database (derived from SECRET_KEY when unset, e.g. in development)."""
    from django.conf import settings

    return (settings.SJSJ_AUDIT_KEY or f"audit:{settings.SECRET_KEY}").encode("utf-8")


def model_snapshot(instance: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """The concrete field values of ``instance``, for before/after in an audit entry."""
    data = {}
    for field in instance._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        data[field.attname] = field.value_from_object(instance)
    return to_jsonable(data)


def object_name(obj: models.Model) -> str:
    """What the trail calls an object: its ``audit_repr()`` where its model has one (a model
    whose text would name something confidential, e.g. a drawn task's source), else its text."""
    audit_repr = getattr(obj, "audit_repr", None)
    return str(audit_repr()) if callable(audit_repr) else str(obj)


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    before: Any = None,
    after: Any = None,
) -> AuditEntry:
    """Append one entry to the chain. Runs inside the caller's transaction when there is one.

    The chain head row is locked, so concurrent writers queue up and sequence numbers stay
    gap-free; if the caller's transaction rolls back, the entry disappears with the change it
    describes, which is what we want.
    """
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or object_name(obj)[:200]
    actor_id = getattr(actor, "pk", None) if actor is not None else None
    actor_name = str(actor)[:150] if actor is not None and actor_id is not None else "system"
    organisation = getattr(actor, "organisation", None) if actor_id else None
    organisation_code = (
        f"{organisation.division_code}:{organisation.kind}" if organisation is not None else ""
    )
    before, after = to_jsonable(before), to_jsonable(after)
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(
            id=1, defaults={"last_seq": 0, "last_hash": GENESIS_HASH}
        )
        seq = head.last_seq + 1
        at = timezone.now()
        digest = entry_hash(
            seq=seq,
            at=at,
            actor_id=actor_id,
            actor_name=actor_name,
            organisation_code=organisation_code,
            action=action,
            object_type=object_type,
            object_id=object_id,
            object_repr=object_repr,
            before=before,
            after=after,
            prev_hash=head.last_hash,
            key=audit_key(),
        )
        entry = AuditEntry.objects.create(
            seq=seq,
            at=at,
            actor_id=actor_id,
            actor_name=actor_name,
            organisation_code=organisation_code,
            action=action,
            object_type=object_type,
            object_id=object_id,
            object_repr=object_repr,
            before=before,
            after=after,
            prev_hash=head.last_hash,
            hash=digest,
            keyed=True,
        )
        AuditChainHead.objects.filter(id=1).update(last_seq=seq, last_hash=digest)
    return entry


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    message: str


def audit_verify_chain(*, batch_size: int = 5000) -> tuple[int, ChainProblem | None]:
    """Walk the chain in order. Returns (entries checked, first problem or None)."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    last_seq = 0
    key = audit_key()
    keyed_seen = False
    qs = AuditEntry.objects.order_by("seq")
    for entry in qs.iterator(chunk_size=batch_size):
        if entry.seq != expected_seq:
            return checked, ChainProblem(
                expected_seq,
                f"entry #{expected_seq} is missing (removed): the next one found is #{entry.seq}",
            )
        if entry.prev_hash != expected_prev:
            return checked, ChainProblem(
                entry.seq,
                f"entry #{entry.seq} does not link to entry #{entry.seq - 1} "
                "(the previous entry was altered or replaced)",
            )
        recomputed = entry_hash(
            seq=entry.seq,
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
            prev_hash=entry.prev_hash,
            key=key if entry.keyed else None,
        )
        if keyed_seen and not entry.keyed:
            return checked, ChainProblem(
                entry.seq,
                f"entry #{entry.seq} is not keyed although earlier entries are: the chain "
                "was rewritten from there by someone without the audit key",
            )
        keyed_seen = keyed_seen or entry.keyed
        if recomputed != entry.hash:
            return checked, ChainProblem(
                entry.seq, f"entry #{entry.seq} was altered: its content no longer matches its hash"
            )
        expected_prev = entry.hash
        expected_seq += 1
        last_seq = entry.seq
        checked += 1
    head = AuditChainHead.objects.filter(id=1).first()
    if head is not None and (head.last_seq != last_seq or head.last_hash != expected_prev):
        return checked, ChainProblem(
            last_seq + 1,
            f"entries #{last_seq + 1} to #{head.last_seq} are missing (removed from the end)",
        )
    return checked, None


def secret_digest(value: str, *, purpose: str) -> str:
    """What the trail keeps of a confidential value (a witness value, a seed): an HMAC under
    the audit key, which lives outside the database (``SJSJ_AUDIT_KEY``). Whoever holds the
    key and the value (an auditor, after disclosure) can confirm the entry; the trail alone,
    or a copy of the database, reveals nothing, even of a six-digit value."""
    message = f"{purpose}\x00{value}".encode()
    return "hmac-sha256:" + hmac.new(audit_key(), message, hashlib.sha256).hexdigest()


# --- cross-checks: rows that must agree with the trail ------------------------------------
# An app whose rows change only through audited transitions registers a check here (in its
# AppConfig.ready), so ``verify_audit_chain`` also reports a row changed or removed by plain
# SQL without its entry. A check returns ``[(label, [problem, ...]), ...]``.
_CROSS_CHECKS: list = []


def audit_cross_check_register(check) -> None:
    if check not in _CROSS_CHECKS:
        _CROSS_CHECKS.append(check)


def audit_cross_checks() -> list[tuple[str, list[str]]]:
    return [found for check in _CROSS_CHECKS for found in check()]


# --- checkpoints: the head, published ---------------------------------------------------------


def audit_checkpoint_publish() -> AuditCheckpoint | None:
    """Publish the chain's head as a checkpoint if it moved since the last one (the beat job
    ``audit-checkpoint-publish``). Harmless to run twice: the sequence number is unique."""
    head = AuditChainHead.objects.filter(id=1).first()
    if head is None or head.last_seq == 0:
        return None
    last = AuditCheckpoint.objects.order_by("-seq").first()
    if last is not None and last.seq >= head.last_seq:
        return None
    checkpoint, _ = AuditCheckpoint.objects.get_or_create(
        seq=head.last_seq, defaults={"hash": head.last_hash}
    )
    return checkpoint


def audit_verify_checkpoints(checkpoints: list[dict]) -> list[str]:
    """Each published checkpoint ``{"seq": n, "hash": h}`` must still be in the trail: entry
    #n exists and has hash h. A trail rewritten or truncated since then fails here, even if
    its chain is consistent in itself."""
    problems = []
    wanted = {int(c["seq"]): str(c["hash"]) for c in checkpoints}
    found = dict(AuditEntry.objects.filter(seq__in=list(wanted)).values_list("seq", "hash"))
    for seq, digest in sorted(wanted.items()):
        if seq not in found:
            problems.append(f"checkpoint #{seq}: the entry is gone from the trail")
        elif found[seq] != digest:
            problems.append(
                f"checkpoint #{seq}: the trail's hash {found[seq][:16]}… differs from the "
                f"published {digest[:16]}…: the trail was rewritten"
            )
    return problems
