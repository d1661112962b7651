"""The only writers of the object registry and the check-item list.

Every service validates first (raising a translated ``ServiceError`` and changing nothing),
then writes in one transaction, records the source's own history (``SourceChange``: only the
fields that changed) and appends an entry to the audit chain.

Field errors are raised as ``ServiceError({field: message})`` so a form can show each message
next to its field; the bulk helper raises a list of “source code: message” lines instead.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from operator import itemgetter
from typing import Any

from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import uscc as uscc_rules
from core.audit import audit_record, model_snapshot, to_jsonable
from core.bulk import SideJob
from core.errors import ServiceError
from core.fields import (
    FieldError,
    Rule,
    required_message,
    uscc_check_digit_message,
    uscc_malformed_message,
)
from core.models import Organisation, User
from core.vocab import SupervisionClass
from registry import bulk
from registry.fields import CHECKITEM, SOURCE
from registry.models import (
    CheckItem,
    ManagedBy,
    PollutionSource,
    SourceChange,
    SourceStatus,
)
from registry.selectors import user_may_edit_registry_of, user_may_publish_checkitems_of

# --- permissions ------------------------------------------------------------------------


def _ensure_can_write(
    actor: User | None, organisation: Organisation, *, publish: bool = False
) -> None:
    """Clerks write only their own organisation's records (leaders publish its items).
    ``actor=None`` is the system (demo seeding, management commands), which may write anywhere."""
    if actor is None:
        return
    allowed = (
        user_may_publish_checkitems_of(actor, organisation.pk)
        if publish
        else user_may_edit_registry_of(actor, organisation.pk)
    )
    if allowed:
        return
    if publish:
        raise ServiceError(
            _("Only a leader of %(org)s may publish its check items.") % {"org": organisation.name}
        )
    raise ServiceError(
        _("You may only change the records of your own organisation (%(org)s).")
        % {"org": getattr(actor.organisation, "name", "—")}
    )


def _managed_by_for(organisation: Organisation) -> str:
    """Sources belong to a county bureau (county-managed) or a city team (city-managed)."""
    if organisation.kind == Organisation.Kind.CITY_TEAM:
        return ManagedBy.CITY
    if organisation.kind == Organisation.Kind.COUNTY_BUREAU:
        return ManagedBy.COUNTY
    raise ServiceError(
        _(
            "Pollution sources are kept by a county bureau or a city enforcement team, not by %(org)s."
        )
        % {"org": organisation.name}
    )


# --- normalising source data ------------------------------------------------------------
#
# Each field's rule is declared once, in ``registry.fields`` (the rule types and their
# messages are ``core.fields``'): the importer, the forms and the API say the same things.

_FieldError = FieldError


def _label(field: str) -> str:
    return str(SOURCE.label(field))


# How each writable field is read (its rule). ``uscc`` is handled apart (it sets
# ``uscc_checksum_ok``, which needs the record: see ``_clean_uscc``).
SOURCE_FIELDS: dict[str, Rule] = {
    name: SOURCE[name].rule for name in SOURCE.names(editable=True) if name != "uscc"
}
WRITABLE_FIELDS = frozenset(SOURCE.names(editable=True))
# The fields a change record and the comparison look at (``uscc_checksum_ok`` follows ``uscc``).
TRACKED_FIELDS = tuple(SOURCE.names(tracked=True))


@dataclass
class _Cleaned:
    values: dict[str, Any]
    errors: dict[str, str]


def _clean_source_data(
    data: Mapping[str, Any],
    *,
    accept_bad_checksum: bool,
    current: Mapping[str, Any] | None,
    today: date | None = None,
) -> _Cleaned:
    """Normalise ``data`` (any subset of the writable fields) and check it.

    ``current`` holds the record's present values (None for a new record); cross-field rules
    are checked against the record as it will be after the write. Pure Python, no queries,
    so the bulk helper can run it for 100,000 rows (passing ``today`` once: looking it up
    costs more than the checks). ``_clean_source_rows`` is the same for many rows at once.
    """
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    rule_of = SOURCE_FIELDS.get
    for key, raw in data.items():
        if key == "uscc":
            continue
        rule = rule_of(key)
        if rule is None:
            errors[key] = _("“%(field)s” is not a field of a pollution source.") % {"field": key}
            continue
        try:
            values[key] = rule.clean(raw)
        except _FieldError as exc:
            errors[key] = exc.message
    if "uscc" in data:
        _clean_uscc(
            data["uscc"],
            values,
            errors,
            current,
            accept_bad_checksum,
            uscc_rules.status_of_normalised,
        )
    _check_across_fields(values, errors, current, today or timezone.localdate())
    return _Cleaned(values, errors)


def _clean_uscc(
    raw: Any,
    values: dict[str, Any],
    errors: dict[str, str],
    current: Mapping[str, Any] | None,
    accept_bad_checksum: bool,
    status_of: Callable[[str], uscc_rules.UsccStatus],
) -> None:
    code = uscc_rules.normalise(str(raw or ""))
    values["uscc"] = code
    values["uscc_checksum_ok"] = True
    if not code:
        return
    status = status_of(code)
    if status is uscc_rules.UsccStatus.MALFORMED:
        errors["uscc"] = uscc_malformed_message(code)
    elif status is uscc_rules.UsccStatus.BAD_CHECK_DIGIT:
        unchanged = current is not None and current.get("uscc") == code
        if accept_bad_checksum or unchanged:
            values["uscc_checksum_ok"] = False
        else:
            errors["uscc"] = uscc_check_digit_message(code)


def _check_across_fields(
    values: dict[str, Any], errors: dict[str, str], current: Mapping[str, Any] | None, today: date
) -> None:
    merged = values if current is None else {**current, **values}
    if merged.get("supervision_class") == SupervisionClass.SPECIAL and not merged.get(
        "special_reason"
    ):
        errors.setdefault(
            "special_reason", _("A special object needs the reason it is specially supervised.")
        )
    start, end = merged.get("permit_valid_from"), merged.get("permit_valid_until")
    if start and end and start > end:
        errors.setdefault(
            "permit_valid_until", _("The permit cannot expire before it becomes valid.")
        )
    penalty = merged.get("last_penalty_date")
    if penalty and penalty > today:
        errors.setdefault("last_penalty_date", _("The last penalty cannot be in the future."))
    if merged.get("positive_list_until") and not merged.get("positive_list"):
        if "positive_list_until" in values:
            errors.setdefault(
                "positive_list_until",
                _("Only a source on the positive list can have a positive-list end date."),
            )
        else:  # taken off the list: its end date goes with it
            values["positive_list_until"] = None
    if (
        current is not None
        and "status" in values
        and values["status"] != current.get("status")
        and "status_date" not in values
    ):
        values["status_date"] = today


def source_check_across_fields(values: dict[str, Any], *, today: date) -> dict[str, str]:
    """The rules across fields (a special object's reason, the permit's dates, …) on the
    values of a new source: {field: message}. The importer asks it for each row, so the dry
    run points at the cell with the message the commit would give."""
    errors: dict[str, str] = {}
    _check_across_fields(values, errors, None, today)
    return errors


_BAD = object()  # a value that did not convert (its message is in the row's errors)


def _clean_source_rows(
    rows: list[Mapping[str, Any]],
    currents: list[Mapping[str, Any] | None],
    *,
    accept_bad_checksum: bool,
    today: date,
) -> list[_Cleaned]:
    """``_clean_source_data`` for each row (with its ``current``), a column at a time.

    Rows with the same fields (every row of an import) are converted field by field: a
    converter's ``many`` takes a whole column when every value is already in its final form
    (C-level checks), otherwise each value goes through the converter as in
    ``_clean_source_data``. The results are the same, row for row.
    """
    results: list[_Cleaned | None] = [None] * len(rows)
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, row in enumerate(rows):
        groups.setdefault(tuple(row), []).append(i)
    status_of = functools.lru_cache(maxsize=None)(uscc_rules.status_of_normalised)
    for keys, indexes in groups.items():
        if any(key != "uscc" and key not in SOURCE_FIELDS for key in keys):
            for i in indexes:
                results[i] = _clean_source_data(
                    rows[i],
                    accept_bad_checksum=accept_bad_checksum,
                    current=currents[i],
                    today=today,
                )
            continue
        group = [rows[i] for i in indexes]
        errors: list[dict[str, str]] = [{} for _i in indexes]
        fields = [key for key in keys if key != "uscc"]
        columns = []
        for field in fields:
            rule = SOURCE_FIELDS[field]
            column = list(map(itemgetter(field), group))
            converted = rule.many(column)
            if converted is None:
                converted = []
                convert = rule.clean
                for j, raw in enumerate(column):
                    try:
                        converted.append(convert(raw))
                    except _FieldError as exc:
                        errors[j][field] = exc.message
                        converted.append(_BAD)
            columns.append(converted)
        if columns:
            values_of = [dict(zip(fields, t, strict=True)) for t in zip(*columns, strict=True)]
        else:
            values_of = [{} for _i in indexes]
        uscc = list(map(itemgetter("uscc"), group)) if "uscc" in keys else None
        for j, i in enumerate(indexes):
            values, row_errors, current = values_of[j], errors[j], currents[i]
            if row_errors:
                values = {k: v for k, v in values.items() if v is not _BAD}
            if uscc is not None:
                _clean_uscc(uscc[j], values, row_errors, current, accept_bad_checksum, status_of)
            _check_across_fields(values, row_errors, current, today)
            results[i] = _Cleaned(values, row_errors)
    return results  # type: ignore[return-value]


def _raise_field_errors(errors: dict[str, str]) -> None:
    if errors:
        raise ServiceError(dict(errors))


def _jsonable(value: Any) -> Any:
    return to_jsonable(value)


def _diff(source: PollutionSource, values: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields whose value really changes (JSON-ready)."""
    changes = {}
    for field, new in values.items():
        old = getattr(source, field)
        if old != new:
            changes[field] = [_jsonable(old), _jsonable(new)]
    return changes


def _actor_name(actor: User | None) -> str:
    return str(actor)[:150] if actor is not None else "system"


def _current_values(source: PollutionSource) -> dict[str, Any]:
    return {field: getattr(source, field) for field in TRACKED_FIELDS}


def _default_county_code(values: dict, organisation: Organisation, *, creating: bool) -> None:
    """A county bureau's sources lie in its county unless told otherwise: an empty (or, for a
    new source, missing) ``county_code`` becomes the bureau's own code."""
    if organisation.kind != Organisation.Kind.COUNTY_BUREAU:
        return
    if values.get("county_code") == "" or (creating and "county_code" not in values):
        values["county_code"] = organisation.division_code


# --- single-source services ---------------------------------------------------------------


def source_create(
    *,
    actor: User | None,
    organisation: Organisation,
    data: Mapping[str, Any],
    accept_bad_checksum: bool = False,
) -> PollutionSource:
    """Register a new source for ``organisation``.

    ``data`` holds the writable fields by their model names (``source_code``, ``name`` and
    ``company_name`` are required). ``managed_by`` follows the organisation (county bureau →
    county, city team → city); ``county_code`` defaults to a county bureau's own code. A credit
    code with a wrong check digit is kept only with ``accept_bad_checksum`` and then flagged.
    """
    _ensure_can_write(actor, organisation)
    managed_by = _managed_by_for(organisation)
    cleaned = _clean_source_data(
        {"uscc": "", **data}, accept_bad_checksum=accept_bad_checksum, current=None
    )
    for required in ("source_code", "name", "company_name"):
        if required not in data:
            cleaned.errors.setdefault(required, required_message())
    if cleaned.values.get("managed_by", managed_by) != managed_by:
        cleaned.errors.setdefault(
            "managed_by",
            _("%(org)s keeps only %(kind)s sources.")
            % {"org": organisation.name, "kind": ManagedBy(managed_by).label},
        )
    _raise_field_errors(cleaned.errors)
    values = cleaned.values
    values["managed_by"] = managed_by
    _default_county_code(values, organisation, creating=True)
    with transaction.atomic():
        if PollutionSource.objects.filter(
            organisation=organisation, source_code=values["source_code"]
        ).exists():
            raise ServiceError(
                {
                    "source_code": _("The source code %(code)s is already registered.")
                    % {"code": values["source_code"]}
                }
            )
        source = PollutionSource.objects.create(organisation=organisation, **values)
        SourceChange.objects.create(
            source=source,
            at=source.created_at,
            actor=actor,
            actor_name=_actor_name(actor),
            action=SourceChange.Action.CREATE,
            changes={},
        )
        audit_record(
            actor=actor,
            action="registry.source_create",
            obj=source,
            after=model_snapshot(source, ["organisation", *TRACKED_FIELDS]),
        )
    return source


def _write_changes(
    *, actor: User | None, source: PollutionSource, values: dict[str, Any], action: str
):
    """Apply ``values`` to a locked ``source``; history + audit only for what changed."""
    changes = _diff(source, values)
    if not changes:
        return changes
    for field in changes:
        setattr(source, field, values[field])
    source.save(update_fields=[*changes, "updated_at"])
    SourceChange.objects.create(
        source=source,
        at=source.updated_at,
        actor=actor,
        actor_name=_actor_name(actor),
        action=action,
        changes=changes,
    )
    audit_record(
        actor=actor,
        action=f"registry.source_{'set_status' if action == 'status' else 'update'}",
        obj=source,
        before={field: old for field, (old, _new) in changes.items()},
        after={field: new for field, (_old, new) in changes.items()},
    )
    return changes


def source_update(
    *,
    actor: User | None,
    source: PollutionSource,
    data: Mapping[str, Any],
    accept_bad_checksum: bool = False,
) -> PollutionSource:
    """Change some fields of ``source`` (``data`` may hold any subset of the writable fields).

    Records one ``SourceChange`` with only the fields whose value really changed, and nothing
    at all when nothing changed. The source code and the organisation do not change here.
    An existing credit code with a wrong check digit may be kept as it is.
    """
    with transaction.atomic():
        # Lock: two clerks saving the same record must not interleave their diffs.
        locked = PollutionSource.objects.select_for_update().select_related("organisation")
        source = locked.get(pk=source.pk)
        _ensure_can_write(actor, source.organisation)
        cleaned = _clean_source_data(
            data, accept_bad_checksum=accept_bad_checksum, current=_current_values(source)
        )
        if "source_code" in cleaned.values and cleaned.values["source_code"] != source.source_code:
            cleaned.errors.setdefault(
                "source_code", _("The source code of a registered source cannot be changed.")
            )
        if cleaned.values.get("managed_by", source.managed_by) != source.managed_by:
            cleaned.errors.setdefault(
                "managed_by",
                _("Which level manages a source follows its organisation; it cannot be edited."),
            )
        _raise_field_errors(cleaned.errors)
        _default_county_code(cleaned.values, source.organisation, creating=False)
        _write_changes(
            actor=actor, source=source, values=cleaned.values, action=SourceChange.Action.UPDATE
        )
    return source


def source_set_status(
    *, actor: User | None, source: PollutionSource, status: str, status_date: date | None = None
) -> PollutionSource:
    """Mark a source active, changed, suspended (停产) or cancelled (注销) as of ``status_date``
    (default today). Sources are never deleted: a cancelled one stays in the registry, out of
    the draw pools."""
    try:
        SOURCE["status"].rule.clean(status)
    except FieldError as exc:
        raise ServiceError({"status": exc.message}) from None
    status_date = status_date or timezone.localdate()
    if status_date > timezone.localdate():
        raise ServiceError({"status_date": _("The status date cannot be in the future.")})
    with transaction.atomic():
        source = (
            PollutionSource.objects.select_for_update()
            .select_related("organisation")
            .get(pk=source.pk)
        )
        _ensure_can_write(actor, source.organisation)
        if source.status == status:
            raise ServiceError(
                {
                    "status": _("The source is already “%(status)s”.")
                    % {"status": SourceStatus(status).label}
                }
            )
        _write_changes(
            actor=actor,
            source=source,
            values={"status": status, "status_date": status_date},
            action=SourceChange.Action.STATUS,
        )
    return source


# --- bulk upsert (the Excel importer) ---------------------------------------------------

AUDIT_CODE_LIMIT = 5000
# Every column a new source is inserted with (the model's defaults fill what a row leaves out).
_INSERT_FIELDS = [
    f.name
    for f in PollutionSource._meta.concrete_fields
    if not f.primary_key and f.name not in ("organisation",)
] + ["organisation_id"]
_DEFAULTS = {
    f.name: f.get_default()
    for f in PollutionSource._meta.concrete_fields
    if not f.primary_key and f.name not in ("organisation", "created_at", "updated_at")
}
_HISTORY_FIELDS = ["source_id", "at", "actor_id", "actor_name", "action", "changes"]
# What ``SourceBulkWriter._check`` leaves for ``_write``: the new sources' codes and
# organisations, their rows encoded (``registry.bulk.encode_rows``), and their history rows
# encoded when the rows carry reserved ids (else the database makes them from the new rows).
_Pending = tuple[
    list[str], list[int], bytes | list[Sequence[Any]], bytes | list[Sequence[Any]] | None
]
_DEADLOCK = "40P01"


def _codes_for_audit(codes: list[str]) -> dict[str, Any]:
    return {"count": len(codes), "codes": codes[:AUDIT_CODE_LIMIT]}


def _diff_values(current: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, list[Any]]:
    return {
        field: [_jsonable(current[field]), _jsonable(new)]
        for field, new in values.items()
        if current[field] != new
    }


def _registry_changed() -> ServiceError:
    return ServiceError(_("The registry changed while importing; nothing was imported. Try again."))


@contextmanager
def _registry_changes_mapped() -> Iterator[None]:
    try:
        yield
    except IntegrityError as exc:
        # Another import registered one of these codes since we looked.
        raise _registry_changed() from exc
    except OperationalError as exc:
        # Two imports locking the same sources in another order: one of them gives way.
        if getattr(exc.__cause__, "sqlstate", None) == _DEADLOCK:
            raise _registry_changed() from exc
        raise


class SourceBulkWriter:
    """``source_bulk_upsert`` for rows that arrive in chunks; made by ``source_bulk_writer``.

    Each ``add`` checks its rows, locks the existing sources they name, and streams the new
    ones into the table at once (COPY on PostgreSQL), each with its “created” history row.
    Updates wait for the end of the block, so every row of the batch is compared with the
    registry as it was before the batch. After the first bad row nothing more is written but
    every row is still checked; the block then raises the complete list and the transaction
    rolls back whatever was written.
    """

    def __init__(self, *, actor: User | None, accept_bad_checksum: bool):
        self.actor = actor
        self.accept_bad_checksum = accept_bad_checksum
        self.counts: tuple[int, int, int] | None = None  # set when the block ends cleanly
        self._now = timezone.now()
        self._today = timezone.localdate()
        self._actor_id = getattr(actor, "pk", None)
        self._actor_name = _actor_name(actor)
        self._messages: list[str] = []
        self._codes: set[str] = set()
        self._managed_by_of: dict[int, str] = {}  # organisations checked, with their level
        self._created: list[str] = []  # source codes of the new sources, in order
        self._updated: list[tuple[dict[str, Any], dict[str, list[Any]]]] = []
        self._changed_fields: set[str] = set()
        self._unchanged = 0
        self._locked: dict[str, dict[str, Any]] = {}  # by ``lock``, for the next ``add``
        self._looked_up: set[str] = set()  # every code ``lock`` looked for (found or not)
        # The new sources of the last ``add``: checked, encoded, not yet written.
        self._pending: _Pending | None = None

    def _fail(self, code: str, errors: dict[str, str]) -> None:
        for field, message in errors.items():
            label = _label(field) if field in WRITABLE_FIELDS else field
            self._messages.append(f"{code}: {label}: {message}")

    def _managed_by(self, org: Organisation) -> str:
        managed_by = self._managed_by_of.get(org.pk)
        if managed_by is None:
            _ensure_can_write(self.actor, org)
            managed_by = self._managed_by_of[org.pk] = _managed_by_for(org)
        return managed_by

    def add(
        self, rows: Iterable[Mapping[str, Any]], organisation_by_code: Mapping[str, Organisation]
    ) -> None:
        """Check these rows (and write the new sources among them, while the batch is clean).

        A row without a code, a code seen before in the batch or one without an organisation
        refuses the batch at once (``ServiceError``), as does an organisation the actor may
        not write for.
        """
        by_code: dict[str, Mapping[str, Any]] = {}
        problems: list[str] = []
        for row in rows:
            code = str(row.get("source_code") or "").strip()
            if not code:
                problems.append(_("A row has no source code."))
            elif code in by_code or code in self._codes:
                problems.append(_("%(code)s: appears more than once.") % {"code": code})
            elif code not in organisation_by_code:
                problems.append(_("%(code)s: no organisation given.") % {"code": code})
            else:
                by_code[code] = row
        if problems:
            raise ServiceError(problems)
        self._codes.update(by_code)
        organisations = {id(org): org for org in map(organisation_by_code.__getitem__, by_code)}
        managed_by_of = {org.pk: self._managed_by(org) for org in organisations.values()}
        with _registry_changes_mapped():
            locked, looked_up = self._locked, self._looked_up
            self._locked, self._looked_up = {}, set()
            # A code ``lock`` looked for and did not find is new: not looked for again.
            missing = [code for code in by_code if code not in looked_up]
            existing = {code: locked[code] for code in by_code if code in locked}
            if missing:
                existing.update(self._lock(missing, organisation_by_code))
            # Keys for the new sources (PostgreSQL), so their history rows go in by COPY too.
            ids = (
                None
                if self._messages
                else bulk.reserve_ids(PollutionSource, len(by_code) - len(existing))
            )
            # The previous chunk's new sources go into the table on a helper thread while
            # these rows are checked (pure Python): the database and Python work at once.
            side = self._write_pending()
            try:
                self._pending = self._check(
                    by_code, organisation_by_code, managed_by_of, existing, ids
                )
            finally:
                if side is not None:
                    side.wait()

    def lock(
        self, codes: list[str], organisation_by_code: Mapping[str, Organisation]
    ) -> dict[str, dict[str, Any]]:
        """Lock the existing sources among ``codes`` (each of its organisation) for this batch
        and return their current values by code (``TRACKED_FIELDS``, ``pk``,
        ``organisation_id``, ``managed_by``), so a caller can compare its rows with exactly
        what the next ``add`` will see (that ``add`` then reads them from here instead of
        asking the database again)."""
        with _registry_changes_mapped():
            found = self._lock(codes, organisation_by_code)
        # Kept for the next ``add`` only: a chunk with nothing to write never calls it, and
        # a re-import must not pile up every record it compared.
        self._locked = found
        self._looked_up = set(codes)
        return {code: dict(record) for code, record in found.items()}

    def _lock(
        self, codes: list[str], organisation_by_code: Mapping[str, Organisation]
    ) -> dict[str, dict[str, Any]]:
        """The sources these rows would update: a code is looked up in the row's own
        organisation only (codes are unique per organisation, and what another bureau
        registered is none of this batch's business)."""
        read = ("pk", "organisation_id", "managed_by", *TRACKED_FIELDS)
        owners = [organisation_by_code[code].pk for code in codes]
        return {
            record["source_code"]: record
            for record in bulk.lock_rows_by_key(
                PollutionSource,
                "source_code",
                codes,
                read,
                owner="organisation_id",
                owners=owners,
            )
        }

    def _write_pending(self) -> SideJob | None:
        """Write the rows waiting from the previous ``add`` (on a helper thread on PostgreSQL,
        returned to be waited for; at once elsewhere)."""
        pending, self._pending = self._pending, None
        if not pending or self._messages:
            return None  # nothing new, or nothing will be kept anyway
        if connection.vendor != "postgresql":
            self._write(pending)
            return None
        return SideJob(lambda: self._write(pending), name="registry-write")

    def _write(self, pending: _Pending) -> None:
        codes, owners, payload, history = pending
        if history is not None:  # the rows carry their reserved ids; the history is ready
            bulk.insert_encoded(PollutionSource, ["id", *_INSERT_FIELDS], payload)
            bulk.insert_encoded(SourceChange, _HISTORY_FIELDS, history)
            return
        bulk.insert_encoded(PollutionSource, _INSERT_FIELDS, payload)
        # One “created” history row per new source, made by the database from the new rows.
        bulk.insert_per_key(
            SourceChange,
            {
                "at": self._now,
                "actor_id": self._actor_id,
                "actor_name": self._actor_name,
                "action": SourceChange.Action.CREATE,
                "changes": {},
            },
            fk="source_id",
            target=PollutionSource,
            key="source_code",
            values=codes,
            owner="organisation_id",
            owners=owners,
        )

    def _check(
        self,
        by_code: dict[str, Mapping[str, Any]],
        organisation_by_code: Mapping[str, Organisation],
        managed_by_of: dict[int, str],
        existing: dict[str, dict[str, Any]],
        ids: list[int] | None,
    ) -> _Pending | None:
        """Check every row; while no row so far was bad, return the new sources' codes and
        their rows encoded for the table (``registry.bulk.encode_rows``); with ``ids`` (one
        reserved key per new source) the rows carry them, and their “created” history rows
        come encoded beside them."""
        now = self._now
        insert_row = itemgetter(*_INSERT_FIELDS)
        messages = self._messages
        codes: list[str] = []
        owners: list[int] = []
        to_insert: list[Sequence[Any]] = []
        new_ids = iter(ids or ())
        pks: list[int] = []
        # Every row is checked first, a column at a time (``existing`` holds only the row's
        # own organisation's sources: see ``_lock``).
        to_clean: list[Mapping[str, Any]] = []
        currents: list[Mapping[str, Any] | None] = []
        for code, row in by_code.items():
            current = existing.get(code)
            if current is None:
                to_clean.append(row if "uscc" in row else {"uscc": "", **row})
            else:
                to_clean.append(row)
            currents.append(current)
        cleaned_rows = iter(
            _clean_source_rows(
                to_clean,
                currents,
                accept_bad_checksum=self.accept_bad_checksum,
                today=self._today,
            )
        )
        for code, row in by_code.items():
            org = organisation_by_code[code]
            current = existing.get(code)
            if current is None:
                cleaned = next(cleaned_rows)
                for required in ("name", "company_name"):
                    if required not in row:
                        cleaned.errors.setdefault(required, required_message())
                managed_by = managed_by_of[org.pk]
                if cleaned.values.get("managed_by", managed_by) != managed_by:
                    cleaned.errors.setdefault(
                        "managed_by",
                        _("%(org)s keeps only %(kind)s sources.")
                        % {"org": org.name, "kind": ManagedBy(managed_by).label},
                    )
                if cleaned.errors:
                    self._fail(code, cleaned.errors)
                    continue
                self._created.append(code)
                if messages:
                    continue  # nothing will be written: only the checks go on
                values = {**_DEFAULTS, **cleaned.values}
                values["managed_by"] = managed_by
                _default_county_code(values, org, creating=False)
                values["organisation_id"] = org.pk
                values["created_at"] = values["updated_at"] = now
                codes.append(code)
                owners.append(org.pk)
                if ids is None:
                    to_insert.append(insert_row(values))
                else:
                    pk = next(new_ids)
                    to_insert.append((pk, *insert_row(values)))
                    pks.append(pk)
                continue
            cleaned = next(cleaned_rows)
            if cleaned.values.get("managed_by", current["managed_by"]) != current["managed_by"]:
                cleaned.errors.setdefault(
                    "managed_by",
                    _(
                        "Which level manages a source follows its organisation; "
                        "it cannot be edited."
                    ),
                )
            if cleaned.errors:
                self._fail(code, cleaned.errors)
                continue
            _default_county_code(cleaned.values, org, creating=False)
            changes = _diff_values(current, cleaned.values)
            if not changes:
                self._unchanged += 1
                continue
            current.update(cleaned.values)
            self._changed_fields.update(changes)
            self._updated.append((current, changes))
        if not codes or messages:
            return None
        if ids is None:
            return codes, owners, bulk.encode_rows(PollutionSource, _INSERT_FIELDS, to_insert), None
        return (
            codes,
            owners,
            bulk.encode_rows(PollutionSource, ["id", *_INSERT_FIELDS], to_insert),
            # Their “created” history rows: the same but for the source.
            bulk.encode_keyed_rows(
                SourceChange,
                _HISTORY_FIELDS,
                pks,
                (now, self._actor_id, self._actor_name, SourceChange.Action.CREATE.value, {}),
            ),
        )

    def _finish(self) -> tuple[int, int, int]:
        """Refuse the batch if any row was bad; else write the last new sources, apply the
        updates, their history and the audit entry."""
        if self._messages:
            raise ServiceError(self._messages)
        with _registry_changes_mapped():
            pending, self._pending = self._pending, None
            if pending:
                self._write(pending)
        now = self._now
        updated = self._updated
        if updated:
            for record, _changes in updated:
                record["updated_at"] = now
            bulk.update_rows(
                PollutionSource,
                [*sorted(self._changed_fields), "updated_at"],
                [record for record, _changes in updated],
            )
        history = [
            {
                "source_id": record["pk"],
                "at": now,
                "actor_id": self._actor_id,
                "actor_name": self._actor_name,
                "action": SourceChange.Action.UPDATE,
                "changes": changes,
            }
            for record, changes in updated
        ]
        bulk.insert_rows(SourceChange, _HISTORY_FIELDS, history)
        created = self._created
        if created or updated:
            audit_record(
                actor=self.actor,
                action="registry.source_bulk_upsert",
                object_type="registry.pollutionsource",
                object_repr=_("%(created)s created, %(updated)s updated, %(unchanged)s unchanged")
                % {"created": len(created), "updated": len(updated), "unchanged": self._unchanged},
                after={
                    "organisations": sorted(self._managed_by_of),
                    "created": _codes_for_audit(created),
                    "updated": _codes_for_audit([r["source_code"] for r, _c in updated]),
                    "unchanged": self._unchanged,
                },
            )
        return len(created), len(updated), self._unchanged


@contextmanager
def source_bulk_writer(
    *, actor: User | None, accept_bad_checksum: bool = False
) -> Iterator[SourceBulkWriter]:
    """Create or update many sources, keyed by ``source_code``, from rows that arrive in
    chunks: ``writer.add(rows, organisation_by_code)`` as often as needed inside the block;
    when the block ends, ``writer.counts`` is (created, updated, unchanged).

    The rules are ``source_bulk_upsert``'s. All or nothing: one transaction for the whole
    block; a bad row anywhere raises ``ServiceError`` listing every problem when the block
    ends, and an exception raised in the block (the caller's own checks failing, say) rolls
    back everything too. ``add`` may run on another thread than the block, one call at a
    time, while that thread holds the block's database connection (``exchange.excel`` does so
    to read the file while the database writes).
    """
    with transaction.atomic():
        writer = SourceBulkWriter(actor=actor, accept_bad_checksum=accept_bad_checksum)
        yield writer
        writer.counts = writer._finish()


def source_bulk_upsert(
    *,
    actor: User | None,
    organisation_by_code: Mapping[str, Organisation],
    rows: Iterable[Mapping[str, Any]],
    accept_bad_checksum: bool = False,
) -> tuple[int, int, int]:
    """Create or update many sources at once, keyed by ``source_code``: (created, updated,
    unchanged).

    Each row is a dict of writable fields and must hold ``source_code``; a field left out
    keeps its current value (new sources get the defaults). ``organisation_by_code`` maps
    each row's source code to the organisation it is written for (extra keys are ignored):
    new sources are created there; an existing source must already belong to it (an import
    never moves a source to another bureau). The actor must be allowed to write for every
    organisation the rows name. All or nothing: any bad row raises ``ServiceError`` listing
    every problem as “source code: field: message”, and nothing is written.

    Built for 100,000 rows: validation is pure Python, existing rows are read (and locked)
    with one query, rows are written with COPY on PostgreSQL (``registry.bulk``), each
    created or updated source gets its ``SourceChange``, and the audit chain gets one entry
    for the whole batch.
    """
    with source_bulk_writer(actor=actor, accept_bad_checksum=accept_bad_checksum) as writer:
        writer.add(rows, organisation_by_code)
    assert writer.counts is not None
    return writer.counts


# --- the check-item list --------------------------------------------------------------------

CHECKITEM_FIELDS = tuple(CHECKITEM.names(editable=True))


def _clean_checkitem_data(data: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """Normalise ``data`` by the declared rules (``registry.fields.CHECKITEM``)."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    unknown = set(data) - set(CHECKITEM_FIELDS)
    for field in sorted(unknown):
        errors[field] = _("“%(field)s” is not a field of a check item.") % {"field": field}
    for name in CHECKITEM_FIELDS:
        declared = CHECKITEM[name]
        if name not in data:
            if creating and declared.required:
                errors[name] = required_message()
            continue
        try:
            value = declared.rule.clean(data[name])
        except FieldError as exc:
            errors[name] = exc.message
            continue
        if declared.required and value in (None, ""):
            errors[name] = required_message()
            continue
        values[name] = value
    _raise_field_errors(errors)
    return values


def _ensure_code_free(organisation: Organisation, year: int, code: str, exclude_pk=None) -> None:
    clash = CheckItem.objects.filter(organisation=organisation, year=year, code=code)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ServiceError(
            {
                "code": _("Item %(code)s already exists in the %(year)s list.")
                % {"code": code, "year": year}
            }
        )


def checkitem_create(
    *, actor: User | None, organisation: Organisation, data: Mapping[str, Any]
) -> CheckItem:
    """Add an item to ``organisation``'s check-item list for ``data['year']`` (unpublished)."""
    _ensure_can_write(actor, organisation)
    _managed_by_for(organisation)  # only bureaus and city teams keep a list
    values = _clean_checkitem_data(data, creating=True)
    with transaction.atomic():
        _ensure_code_free(organisation, values["year"], values["code"])
        item = CheckItem.objects.create(organisation=organisation, **values)
        audit_record(
            actor=actor,
            action="registry.checkitem_create",
            obj=item,
            after=model_snapshot(item, ["organisation", *CHECKITEM_FIELDS]),
        )
    return item


def checkitem_update(*, actor: User | None, item: CheckItem, data: Mapping[str, Any]) -> CheckItem:
    """Change an unpublished item. A published item is frozen: the public has seen it, so a
    change means a new item (or next year's list), never a silent edit."""
    with transaction.atomic():
        item = CheckItem.objects.select_for_update().select_related("organisation").get(pk=item.pk)
        _ensure_can_write(actor, item.organisation)
        if item.is_published:
            raise ServiceError(_("A published check item cannot be changed."))
        values = _clean_checkitem_data(data, creating=False)
        year, code = values.get("year", item.year), values.get("code", item.code)
        if (year, code) != (item.year, item.code):
            _ensure_code_free(item.organisation, year, code, exclude_pk=item.pk)
        changes = {
            field: [_jsonable(getattr(item, field)), _jsonable(value)]
            for field, value in values.items()
            if getattr(item, field) != value
        }
        if not changes:
            return item
        for field in changes:
            setattr(item, field, values[field])
        item.save(update_fields=[*changes, "updated_at"])
        audit_record(
            actor=actor,
            action="registry.checkitem_update",
            obj=item,
            before={field: old for field, (old, _new) in changes.items()},
            after={field: new for field, (_old, new) in changes.items()},
        )
    return item


def checkitem_publish(*, actor: User | None, item: CheckItem) -> CheckItem:
    """Publish an item (公布抽查事项清单). Publication is an approval: a leader of the item's
    own organisation does it (``Cap.APPROVE``). Once published the item is frozen."""
    with transaction.atomic():
        item = CheckItem.objects.select_for_update().select_related("organisation").get(pk=item.pk)
        _ensure_can_write(actor, item.organisation, publish=True)
        if item.is_published:
            raise ServiceError(_("This check item is already published."))
        item.published_at = timezone.now()
        item.save(update_fields=["published_at", "updated_at"])
        audit_record(
            actor=actor,
            action="registry.checkitem_publish",
            obj=item,
            after={"published_at": item.published_at},
        )
    return item


def checkitem_publish_year(*, actor: User | None, organisation: Organisation, year: int) -> int:
    """Publish every unpublished item of ``organisation``'s list for ``year`` at once (the
    yearly list is usually published as a whole, by 5 January). Returns how many were
    published; one audit entry names them."""
    _ensure_can_write(actor, organisation, publish=True)
    with transaction.atomic():
        items = list(
            CheckItem.objects.select_for_update()
            .filter(organisation=organisation, year=year, published_at__isnull=True)
            .order_by("code")
        )
        if not items:
            raise ServiceError(
                _("The %(year)s list of %(org)s has nothing left to publish.")
                % {"year": year, "org": organisation.name}
            )
        now = timezone.now()
        CheckItem.objects.filter(pk__in=[item.pk for item in items]).update(
            published_at=now, updated_at=now
        )
        audit_record(
            actor=actor,
            action="registry.checkitem_publish_year",
            obj=organisation,
            after={"year": year, "published_at": now, "codes": [item.code for item in items]},
        )
    return len(items)
