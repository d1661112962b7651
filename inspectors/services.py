"""The only writers of the inspector registry.

Each service is atomic, checks that the actor may edit the inspector's organisation (``actor``
None means the system: demo data, management commands), refuses bad input with a translated
``ServiceError`` before changing anything, keeps the registry's own history
(``InspectorChange``: only the fields that really changed) and appends an audit entry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any, NamedTuple, cast

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Field
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record, model_snapshot, to_jsonable
from core.errors import ServiceError
from core.fields import FieldError, required_message, uscc_malformed_message
from core.models import Organisation, Role, User
from core.uscc import UsccStatus, uscc_status
from core.uscc import normalise as normalise_uscc
from inspectors.fields import INSPECTOR
from inspectors.models import Conflict, Inspector, InspectorChange, Unavailability
from inspectors.selectors import user_may_edit_inspectors_of

# What create/update/bulk upsert may set (``inspectors.fields``). Organisation, user link and
# is_active have their own services, so that moving, linking and deactivating are explicit,
# audited acts.
EDITABLE_FIELDS = tuple(INSPECTOR.names(editable=True))
_DEFAULTS: dict[str, Any] = {
    name: cast(Field, Inspector._meta.get_field(name)).get_default()
    for name in EDITABLE_FIELDS
    if name != "name"
}
_BULK_CHUNK = 900  # stays under SQLite's bound-parameter limit for IN (...)


class UpsertResult(NamedTuple):
    created: int
    updated: int
    unchanged: int


# --------------------------------------------------------------------------- validation


def _require_edit(actor: User | None, organisation: Organisation | int) -> None:
    if actor is None:  # the system itself: demo data, management commands
        return
    if not user_may_edit_inspectors_of(actor, organisation):
        raise PermissionDenied(_("You may not change the inspectors of this organisation."))


def _clean_fields(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Normalise the editable fields present in ``data`` by their declared rules; collect
    per-field errors."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        errors["__all__"] = [
            _("Unknown fields: %(fields)s.") % {"fields": ", ".join(sorted(unknown))}
        ]
    for field in EDITABLE_FIELDS:
        if field not in data:
            continue
        try:
            cleaned[field] = INSPECTOR[field].rule.clean(data[field])
        except FieldError as exc:
            errors.setdefault(field, []).append(exc.message)
    return cleaned, errors


def _check_whole(values: Mapping[str, Any], errors: dict[str, list[str]]) -> None:
    """Rules across fields, on the record as it would be saved."""
    if not values.get("name"):
        errors.setdefault("name", []).append(required_message())
    if values.get("kind") == Inspector.Kind.ENFORCEMENT and not values.get("certificate_number"):
        errors.setdefault("certificate_number", []).append(
            _("Enforcement staff need an enforcement certificate number.")
        )
    if values.get("kind") == Inspector.Kind.EXPERT and (
        values.get("certificate_number") or values.get("certificate_valid_until")
    ):
        errors.setdefault("certificate_number", []).append(
            _(
                "A technical expert holds no enforcement certificate: leave the number and its "
                "validity blank, or record the person as enforcement staff."
            )
        )


def inspector_check_record(values: Mapping[str, Any]) -> dict[str, list[str]]:
    """The rules across fields on a record's values: {field: [message]}. The importer asks it
    for each row, so the dry run points at the cell with the message the commit would give."""
    errors: dict[str, list[str]] = {}
    _check_whole(values, errors)
    return errors


def _certificate_taken_message(number: str) -> str:
    # Says nothing about whose it is: the holder may be outside the actor's scope.
    return _("The enforcement certificate number %(number)s is already registered.") % {
        "number": number
    }


def _certificate_taken(number: str, *, exclude_pk: int | None = None) -> bool:
    qs = Inspector.objects.filter(kind=Inspector.Kind.ENFORCEMENT, certificate_number=number)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


def _diff(instance: Inspector, values: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields whose value really changes (JSON-ready)."""
    changes = {}
    for field, new in values.items():
        old = getattr(instance, field)
        if old != new:
            changes[field] = [old, new]
    return to_jsonable(changes)


def _history(inspector: Inspector, actor: User | None, action: str, changes: dict | None = None):
    return InspectorChange(
        inspector=inspector,
        at=timezone.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=str(actor)[:150] if getattr(actor, "pk", None) else "system",
        action=action,
        changes=changes or {},
    )


# --------------------------------------------------------------------------- inspectors


@transaction.atomic
def inspector_create(
    *, actor: User | None, organisation: Organisation, data: Mapping[str, Any]
) -> Inspector:
    """Add a person to ``organisation``'s registry.

    Enforcement staff need a certificate number no one else holds; technical experts hold
    none. ``data`` holds any of ``EDITABLE_FIELDS``.
    """
    _require_edit(actor, organisation)
    cleaned, errors = _clean_fields(data)
    values = {**_DEFAULTS, **cleaned}
    _check_whole(values, errors)
    if (
        not errors
        and values["kind"] == Inspector.Kind.ENFORCEMENT
        and _certificate_taken(values["certificate_number"])
    ):
        errors["certificate_number"] = [_certificate_taken_message(values["certificate_number"])]
    if errors:
        raise ServiceError(errors)
    inspector = Inspector(organisation=organisation, **values)
    try:
        with transaction.atomic():
            inspector.save()
    except IntegrityError as exc:  # a concurrent create took the number first
        raise ServiceError(
            {"certificate_number": [_certificate_taken_message(values["certificate_number"])]}
        ) from exc
    _history(inspector, actor, InspectorChange.Action.CREATE).save()
    audit_record(
        actor=actor, action="inspector.create", obj=inspector, after=model_snapshot(inspector)
    )
    return inspector


@transaction.atomic
def inspector_update(
    *, actor: User | None, inspector: Inspector, data: Mapping[str, Any]
) -> Inspector:
    """Change some of ``EDITABLE_FIELDS``. Records only the fields that really change.

    Nothing changed: no history row, no audit entry. Returns the fresh record.
    """
    # Lock the row: two clerks saving at once must not each record a diff against the same
    # old values and lose the other's change.
    locked = Inspector.objects.select_for_update().get(pk=inspector.pk)
    _require_edit(actor, locked.organisation_id)
    cleaned, errors = _clean_fields(data)
    merged = {field: getattr(locked, field) for field in EDITABLE_FIELDS} | cleaned
    _check_whole(merged, errors)
    changes = _diff(locked, cleaned)
    if (
        not errors
        and merged["kind"] == Inspector.Kind.ENFORCEMENT
        and ("certificate_number" in changes or "kind" in changes)
        and _certificate_taken(merged["certificate_number"], exclude_pk=locked.pk)
    ):
        errors["certificate_number"] = [_certificate_taken_message(merged["certificate_number"])]
    if errors:
        raise ServiceError(errors)
    if not changes:
        return locked
    before = {field: old for field, (old, _new) in changes.items()}
    for field in changes:
        setattr(locked, field, cleaned[field])
    try:
        with transaction.atomic():
            locked.save(update_fields=[*changes, "updated_at"])
    except IntegrityError as exc:
        raise ServiceError(
            {"certificate_number": [_certificate_taken_message(merged["certificate_number"])]}
        ) from exc
    _history(locked, actor, InspectorChange.Action.UPDATE, changes).save()
    audit_record(
        actor=actor,
        action="inspector.update",
        obj=locked,
        before=before,
        after={field: new for field, (_old, new) in changes.items()},
    )
    return locked


def _set_active(
    *, actor: User | None, inspector: Inspector, active: bool, reason: str
) -> Inspector:
    locked = Inspector.objects.select_for_update().get(pk=inspector.pk)
    _require_edit(actor, locked.organisation_id)
    reason = (reason or "").strip()
    if locked.is_active == active:
        return locked
    locked.is_active = active
    locked.save(update_fields=["is_active", "updated_at"])
    changes: dict[str, list[Any]] = {"is_active": [not active, active]}
    if reason:
        changes["reason"] = ["", reason]
    _history(locked, actor, InspectorChange.Action.STATUS, changes).save()
    audit_record(
        actor=actor,
        action="inspector.reactivate" if active else "inspector.deactivate",
        obj=locked,
        before={"is_active": not active},
        after={"is_active": active, "reason": reason},
    )
    return locked


@transaction.atomic
def inspector_deactivate(
    *, actor: User | None, inspector: Inspector, reason: str = ""
) -> Inspector:
    """Take someone out of the registry (left, retired, transferred). Kept for the record;
    an inactive inspector is never drawn. Idempotent."""
    return _set_active(actor=actor, inspector=inspector, active=False, reason=reason)


@transaction.atomic
def inspector_reactivate(
    *, actor: User | None, inspector: Inspector, reason: str = ""
) -> Inspector:
    """Undo ``inspector_deactivate``. Idempotent."""
    return _set_active(actor=actor, inspector=inspector, active=True, reason=reason)


@transaction.atomic
def inspector_link_user(*, actor: User | None, inspector: Inspector, user) -> Inspector:
    """Link an inspector account of the same organisation to this record (or unlink: None)."""
    locked = Inspector.objects.select_for_update().get(pk=inspector.pk)
    _require_edit(actor, locked.organisation_id)
    if user is not None:
        if user.role != Role.INSPECTOR:
            raise ServiceError(_("Only an inspector's account can be linked to the registry."))
        if user.organisation_id != locked.organisation_id:
            raise ServiceError(_("The account belongs to another organisation."))
        other = Inspector.objects.filter(user=user).exclude(pk=locked.pk).first()
        if other is not None:
            raise ServiceError(
                _("The account is already linked to %(name)s.") % {"name": other.name}
            )
    old_id = locked.user_id
    new_id = user.pk if user is not None else None
    if old_id == new_id:
        return locked
    locked.user = user
    locked.save(update_fields=["user", "updated_at"])
    _history(locked, actor, InspectorChange.Action.UPDATE, {"user": [old_id, new_id]}).save()
    audit_record(
        actor=actor,
        action="inspector.link_user",
        obj=locked,
        before={"user": old_id},
        after={"user": new_id},
    )
    return locked


# --------------------------------------------------------------------------- availability


@transaction.atomic
def unavailability_add(
    *, actor: User | None, inspector: Inspector, start: date, end: date, reason: str, note: str = ""
) -> Unavailability:
    """Record leave, training or a secondment: the inspector is not drawn in that period."""
    locked = Inspector.objects.select_for_update().get(pk=inspector.pk)
    _require_edit(actor, locked.organisation_id)
    errors: dict[str, list[str]] = {}
    if start is None or end is None:
        errors["start"] = [_("Give the first and the last day.")]
    elif start > end:
        errors["end"] = [_("The last day comes before the first day.")]
    if reason not in Unavailability.Reason.values:
        errors["reason"] = [_("Unknown reason: %(value)s.") % {"value": reason}]
    note = (note or "").strip()
    if len(note) > 200:
        errors["note"] = [_("At most 200 characters.")]
    if errors:
        raise ServiceError(errors)
    period = Unavailability.objects.create(
        inspector=locked, start=start, end=end, reason=reason, note=note
    )
    _history(
        locked,
        actor,
        InspectorChange.Action.AVAILABILITY,
        {
            "unavailable": [None, f"{start.isoformat()}–{end.isoformat()}"],
            "unavailability_reason": [None, reason],
        },
    ).save()
    audit_record(
        actor=actor,
        action="inspector.unavailability_add",
        obj=locked,
        after=model_snapshot(period),
    )
    return period


@transaction.atomic
def unavailability_remove(*, actor: User | None, unavailability: Unavailability) -> None:
    """Delete a period recorded by mistake or cancelled (kept in history and audit)."""
    period = (
        Unavailability.objects.select_for_update()
        .select_related("inspector")
        .get(pk=unavailability.pk)
    )
    inspector = period.inspector
    _require_edit(actor, inspector.organisation_id)
    snapshot = model_snapshot(period)
    period.delete()
    _history(
        inspector,
        actor,
        InspectorChange.Action.AVAILABILITY,
        {
            "unavailable": [f"{period.start.isoformat()}–{period.end.isoformat()}", None],
            "unavailability_reason": [period.reason, None],
        },
    ).save()
    audit_record(
        actor=actor, action="inspector.unavailability_remove", obj=inspector, before=snapshot
    )


# --------------------------------------------------------------------------- conflicts


def _conflict_target(conflict: Conflict) -> str:
    """How the history names a conflict's target (kept as text: it must outlive renames)."""
    source = conflict.source
    if source is not None:
        return f"{source.name}（{source.source_code}）"
    return conflict.company_uscc


@transaction.atomic
def conflict_declare(
    *,
    actor: User | None,
    inspector: Inspector,
    reason: str,
    source=None,
    company_uscc: str = "",
    valid_from: date | None = None,
    valid_until: date | None = None,
) -> Conflict:
    """Declare that ``inspector`` must not inspect ``source``, or any site of the company
    with credit code ``company_uscc`` (exactly one of the two). A reason is required.

    A code with a wrong check digit is accepted (published codes have typos; the conflict
    must still match the registry's copy of it); a string that is not a code at all is not.
    """
    locked = Inspector.objects.select_for_update().get(pk=inspector.pk)
    _require_edit(actor, locked.organisation_id)
    reason = (reason or "").strip()
    company_uscc = normalise_uscc(company_uscc)
    valid_from = valid_from or timezone.localdate()
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["reason"] = [_("Give the reason for the recusal.")]
    if (source is None) == (not company_uscc):
        errors["__all__"] = [
            _("Name either one pollution source or one company credit code, not both.")
            if source is not None
            else _("Name the pollution source or the company credit code concerned.")
        ]
    if company_uscc and uscc_status(company_uscc) is UsccStatus.MALFORMED:
        errors["company_uscc"] = [uscc_malformed_message(company_uscc)]
    if valid_until is not None and valid_until < valid_from:
        errors["valid_until"] = [_("The end date comes before the start date.")]
    if not errors:
        same = Conflict.objects.in_force(valid_from).filter(inspector=locked)
        same = (
            same.filter(source=source)
            if source is not None
            else same.filter(company_uscc=company_uscc)
        )
        if same.exists():
            errors["__all__"] = [_("This recusal is already declared.")]
    if errors:
        raise ServiceError(errors)
    conflict = Conflict.objects.create(
        inspector=locked,
        source=source,
        company_uscc=company_uscc if source is None else "",
        reason=reason,
        valid_from=valid_from,
        valid_until=valid_until,
        declared_by=actor if getattr(actor, "pk", None) else None,
    )
    _history(
        locked,
        actor,
        InspectorChange.Action.CONFLICT,
        {"conflict": [None, _conflict_target(conflict)], "reason": [None, reason]},
    ).save()
    audit_record(
        actor=actor, action="inspector.conflict_declare", obj=locked, after=model_snapshot(conflict)
    )
    return conflict


@transaction.atomic
def conflict_withdraw(*, actor: User | None, conflict: Conflict, reason: str) -> Conflict:
    """End a recusal. It stays on record (who declared it, who withdrew it and why) and is
    ignored by draws from now on. A reason is required."""
    locked = (
        Conflict.objects.select_for_update(of=("self",))
        .select_related("inspector", "source")
        .get(pk=conflict.pk)
    )
    _require_edit(actor, locked.inspector.organisation_id)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError({"reason": [_("Give the reason for withdrawing the recusal.")]})
    if locked.withdrawn_at is not None:
        raise ServiceError(_("This recusal has already been withdrawn."))
    locked.withdrawn_at = timezone.now()
    locked.withdrawn_by = actor if getattr(actor, "pk", None) else None
    locked.withdrawal_reason = reason
    locked.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_reason"])
    _history(
        locked.inspector,
        actor,
        InspectorChange.Action.CONFLICT,
        {"conflict": [_conflict_target(locked), None], "withdrawal_reason": [None, reason]},
    ).save()
    audit_record(
        actor=actor,
        action="inspector.conflict_withdraw",
        obj=locked.inspector,
        object_repr=str(locked)[:200],
        before={"conflict": locked.pk, "withdrawn_at": None},
        after={"conflict": locked.pk, "withdrawn_at": locked.withdrawn_at, "reason": reason},
    )
    return locked


# --------------------------------------------------------------------------- bulk upsert


def _chunks(items: list, size: int = _BULK_CHUNK) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


@transaction.atomic
def inspector_bulk_upsert(
    *,
    actor: User | None,
    organisation_by_code: Mapping[str, Organisation],
    rows: Iterable[Mapping[str, Any]],
) -> UpsertResult:
    """Create or update many inspectors at once (the Excel import).

    Each row is a mapping of ``EDITABLE_FIELDS`` plus ``organisation`` (a key of
    ``organisation_by_code``; may be left out when that mapping holds one organisation) and an
    optional ``row`` (the line number used in messages). Enforcement staff are matched by
    certificate number, technical experts by name within their organisation. On an update only
    the fields present in the row are compared and written, so a file without some columns
    wipes nothing.

    All rows are validated first; any error raises one ``ServiceError`` listing every
    “Row N: …” and nothing is written. Then one transaction: bulk_create, bulk_update, history
    rows for the updated ones, one audit entry. A fixed number of queries per ~900 rows.
    Returns (created, updated, unchanged).
    """
    rows = list(rows)
    errors: list[tuple[int, str]] = []
    single_org = (
        next(iter(organisation_by_code.values())) if len(organisation_by_code) == 1 else None
    )
    prepared: list[tuple[int, Organisation, dict[str, Any]]] = []

    def row_error(line: int, message: str) -> None:
        errors.append((line, _("Row %(row)s: %(message)s") % {"row": line, "message": message}))

    for index, raw in enumerate(rows, start=1):
        line = raw.get("row") or index
        line = int(line) if str(line).isdigit() else index
        code = raw.get("organisation")
        organisation = organisation_by_code.get(code) if code not in (None, "") else single_org
        if organisation is None:
            row_error(line, _("unknown organisation “%(code)s”.") % {"code": code or ""})
            continue
        if actor is not None and not user_may_edit_inspectors_of(actor, organisation):
            row_error(
                line,
                _("you may not change the inspectors of %(organisation)s.")
                % {"organisation": organisation},
            )
            continue
        data = {k: v for k, v in raw.items() if k not in ("organisation", "row")}
        cleaned, field_errors = _clean_fields(data)
        if field_errors:
            for messages in field_errors.values():
                for message in messages:
                    row_error(line, message)
            continue
        prepared.append((line, organisation, cleaned))

    # One query per chunk for existing enforcement staff, one for experts.
    numbers = sorted(
        {
            c["certificate_number"]
            for _l, _o, c in prepared
            if c.get("kind", _DEFAULTS["kind"]) == Inspector.Kind.ENFORCEMENT
            and c.get("certificate_number")
        }
    )
    by_number: dict[str, Inspector] = {}
    for chunk in _chunks(numbers):
        for inspector in Inspector.objects.select_for_update().filter(
            kind=Inspector.Kind.ENFORCEMENT, certificate_number__in=chunk
        ):
            by_number[inspector.certificate_number] = inspector
    expert_keys = {
        (o.pk, c.get("name", "")) for _l, o, c in prepared if c.get("kind") == Inspector.Kind.EXPERT
    }
    experts: dict[tuple[int, str], list[Inspector]] = {}
    if expert_keys:
        for inspector in Inspector.objects.select_for_update().filter(
            kind=Inspector.Kind.EXPERT,
            organisation_id__in={k[0] for k in expert_keys},
            name__in={k[1] for k in expert_keys},
        ):
            experts.setdefault((inspector.organisation_id, inspector.name), []).append(inspector)

    to_create: list[Inspector] = []
    to_update: list[tuple[Inspector, dict[str, list[Any]]]] = []
    seen_numbers: dict[str, int] = {}
    seen_experts: dict[tuple[int, str], int] = {}
    unchanged = 0
    for line, organisation, cleaned in prepared:
        kind = cleaned.get("kind", _DEFAULTS["kind"])
        existing: Inspector | None = None
        if kind == Inspector.Kind.ENFORCEMENT:
            number = cleaned.get("certificate_number", "")
            if number in seen_numbers:
                row_error(
                    line,
                    _("certificate number %(number)s also appears in row %(other)s.")
                    % {"number": number, "other": seen_numbers[number]},
                )
                continue
            if number:
                seen_numbers[number] = line
            existing = by_number.get(number)
        else:
            key = (organisation.pk, cleaned.get("name", ""))
            if key in seen_experts:
                row_error(
                    line,
                    _("the expert %(name)s also appears in row %(other)s.")
                    % {"name": key[1], "other": seen_experts[key]},
                )
                continue
            seen_experts[key] = line
            matches = experts.get(key, [])
            if len(matches) > 1:
                row_error(
                    line,
                    _("several technical experts are named %(name)s: edit them one by one.")
                    % {"name": key[1]},
                )
                continue
            existing = matches[0] if matches else None

        if existing is None:
            values = {**_DEFAULTS, **cleaned}
            whole: dict[str, list[str]] = {}
            _check_whole(values, whole)
            for messages in whole.values():
                for message in messages:
                    row_error(line, message)
            if not whole:
                to_create.append(Inspector(organisation=organisation, **values))
            continue

        if (
            existing.organisation_id != organisation.pk
            and actor is not None
            and not user_may_edit_inspectors_of(actor, existing.organisation_id)
        ):
            # Certificate numbers are unique nationwide; say so without naming the holder.
            row_error(line, _certificate_taken_message(existing.certificate_number))
            continue
        merged = {field: getattr(existing, field) for field in EDITABLE_FIELDS} | cleaned
        whole = {}
        _check_whole(merged, whole)
        if whole:
            for messages in whole.values():
                for message in messages:
                    row_error(line, message)
            continue
        changes = _diff(existing, cleaned)
        if existing.organisation_id != organisation.pk:
            changes["organisation"] = [existing.organisation_id, organisation.pk]
        if not changes:
            unchanged += 1
            continue
        for field in cleaned:
            setattr(existing, field, cleaned[field])
        existing.organisation = organisation
        to_update.append((existing, changes))

    if errors:
        errors.sort(key=lambda item: item[0])  # stable: a row's messages keep their order
        raise ServiceError([message for _line, message in errors])

    now = timezone.now()
    try:
        with transaction.atomic():
            created = Inspector.objects.bulk_create(to_create, batch_size=500)
            if to_update:
                fields = sorted({f for _i, ch in to_update for f in ch} | {"updated_at"})
                for inspector, _changes in to_update:
                    inspector.updated_at = now
                Inspector.objects.bulk_update(
                    [i for i, _c in to_update], fields=fields, batch_size=500
                )
    except IntegrityError as exc:  # a concurrent import registered the same number
        raise ServiceError(
            _(
                "Another change registered some of these certificate numbers meanwhile: import again."
            )
        ) from exc
    history = [_history(i, actor, InspectorChange.Action.CREATE) for i in created]
    history += [_history(i, actor, InspectorChange.Action.UPDATE, ch) for i, ch in to_update]
    InspectorChange.objects.bulk_create(history, batch_size=1000)
    if created or to_update:
        audit_record(
            actor=actor,
            action="inspector.bulk_upsert",
            object_type=Inspector._meta.label_lower,
            object_repr=f"{len(created)} created, {len(to_update)} updated",
            after={
                "created": [[i.pk, i.name, i.certificate_number] for i in created],
                "updated": {str(i.pk): ch for i, ch in to_update},
                "unchanged": unchanged,
            },
        )
    return UpsertResult(len(created), len(to_update), unchanged)
