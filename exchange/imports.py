"""Import jobs: upload, dry run, commit. The only writers of ``ImportJob``; also its selectors.

The flow: ``import_job_create`` refuses an unusable file on the spot (nothing is stored) and
saves the upload; ``import_job_validate`` runs the dry run; ``import_job_request_commit`` records
the user's decision; ``import_job_commit`` validates again and writes every row through the
app's bulk service, all or nothing. Small files run inline; larger ones in Celery tasks that
call the same functions. Each worker step claims its job with a conditional UPDATE, so running a
task twice (a retry, a redelivered message) does nothing the second time.

A copy of a whole registry (``registry_export_request``) is written the same way, by a worker
that claims its ``RegistryExport`` row, and is served to the requester alone.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import uuid
from datetime import date, datetime, time, timedelta
from pathlib import PurePath
from time import monotonic
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.audit import audit_record
from core.errors import ServiceError
from core.models import User
from core.outbox import outbox_enqueue
from core.roles import Cap, user_can
from core.selectors import scope_queryset
from exchange.excel import (
    ImportBlocked,
    StructureError,
    ValidationResult,
    commit,
    error_report_workbook,
    open_table,
    validate,
)
from exchange.excel.reader import (
    MAX_UPLOAD_BYTES,
    estimate_rows,
    max_rows,
    sniff,
    too_many_rows,
)
from exchange.excel.spec import is_blank
from exchange.models import ImportJob, RegistryExport
from exchange.specs import IMPORT_SPECS, spec_for
from exchange.stalled import StalledJob, stalled_job_kinds
from exchange.stalled import register as register_stalled

logger = logging.getLogger(__name__)

# Files up to this many rows are checked and imported during the request; larger ones in Celery.
INLINE_MAX_ROWS = 2000
# A claim older than this is taken over (the worker that held it died); progress renews it.
STALE_CLAIM = timedelta(minutes=15)
# A running job whose worker gave no sign of life for this long (``heartbeat_at``) is taken
# from it by the ``jobs-stalled-sweep`` beat job: queued again, or failed after
# ``JOB_REQUEUES`` such losses. A working job beats at least every few seconds.
HEARTBEAT_TIMEOUT = timedelta(minutes=10)
JOB_REQUEUES = 2
Status = ImportJob.Status


# --- selectors ------------------------------------------------------------------------------


def import_job_list_for_user(*, user) -> QuerySet[ImportJob]:
    """The jobs of every organisation ``user`` may see, newest first."""
    return scope_queryset(ImportJob.objects.select_related("organisation", "created_by"), user)


def import_job_get_for_user(*, user, pk: int) -> ImportJob:
    """One job, or 404 for anyone outside its organisation's scope."""
    try:
        return import_job_list_for_user(user=user).get(pk=pk)
    except ImportJob.DoesNotExist as exc:
        raise Http404 from exc


def user_can_import(user) -> bool:
    return user_can(user, Cap.EDIT_REGISTRY) and getattr(user, "organisation_id", None) is not None


def user_can_commit(user, job: ImportJob) -> bool:
    """Only an editor of the job's own organisation commits it (a city reviewer may look)."""
    return user_can_import(user) and user.organisation_id == job.organisation_id


# --- services -------------------------------------------------------------------------------


def import_job_create(*, actor: User, kind: str, filename: str, data: bytes) -> ImportJob:
    """Store an upload for the actor's organisation, after the whole-file checks.

    A file that cannot be imported at all (not Excel/CSV, wrong sheet or headers, formulas,
    merged cells, empty) raises ``StructureError`` and nothing is stored. Files up to
    ``INLINE_MAX_ROWS`` rows are checked before this returns; larger ones are queued.
    """
    if not user_can_import(actor):
        raise ServiceError(_("You may not import into the registries."))
    if len(data) > MAX_UPLOAD_BYTES:
        raise StructureError(
            _("The file is larger than %(limit)s MB. Split it into several files.")
            % {"limit": MAX_UPLOAD_BYTES // (1024 * 1024)}
        )
    spec = spec_for(kind)
    sniff(data)  # not Excel or CSV at all: refused at once
    # A cheap estimate (the sheet's declared size, or the CSV's lines), not a parse: a large
    # file is opened only by the worker, so the web process never holds its cells.
    estimate = estimate_rows(data)
    if estimate > max_rows():
        raise too_many_rows(estimate)
    in_background = estimate > INLINE_MAX_ROWS
    rows_total = estimate
    if not in_background:
        table = open_table(data, spec)  # the structural checks; rows are read later
        if not any(any(not is_blank(c) for c in cells) for _number, cells in table.rows):
            raise StructureError(_("The file has headers but no data rows."))
        rows_total = table.row_count
        del table
    with transaction.atomic():
        job = ImportJob(
            organisation=actor.organisation,
            created_by=actor,
            kind=kind,
            original_name=(filename or "upload")[-200:],
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            rows_total=rows_total,
            in_background=in_background,
            language=translation.get_language() or "",
        )
        # Stored under a short name of its own: the name as uploaded (kept above, for people)
        # may be longer than any file system or the column allows.
        suffix = PurePath(filename or "").suffix.lower()[:10]
        job.file.save(f"{job.sha256[:16]}{suffix}", ContentFile(data), save=False)
        job.save()
        audit_record(
            actor=actor,
            action="import.upload",
            obj=job,
            after={
                "kind": kind,
                "file": job.original_name,
                "sha256": job.sha256,
                "rows": job.rows_total,
            },
        )
        if in_background:
            _enqueue("import_validate", job.pk)  # in the outbox, with the job
    if not in_background:
        import_job_validate(job_id=job.pk)
        job.refresh_from_db()
    return job


def _enqueue(task_name: str, job_id: int) -> None:
    """Queue ``exchange.tasks.<task_name>(job_id)`` through the outbox, in the caller's
    transaction: the job and its message are saved together, and sent once the broker can
    take it (the page says “queued” meanwhile)."""
    outbox_enqueue(f"exchange.tasks.{task_name}", job_id)


class _Progress:
    """Records how far a job's check has come, so the page polling the job shows it at once.
    Each report also renews the claim, so a long job is never mistaken for an abandoned one.

    A commit reads its rows inside its own transaction (it writes them as it goes), where an
    update of the job would stay invisible until the end. For a job in the background (whose
    page polls) the reports then go through a connection of their own, in autocommit, as
    best effort: a report that cannot be written at once is skipped, the job's outcome is
    recorded by the commit itself. An inline job's request simply waits for the outcome.
    """

    def __init__(self, job_id: int, *, in_background: bool):
        self.job_id = job_id
        self.in_background = in_background
        self._side: BaseDatabaseWrapper | None = None  # its own connection, opened on first need

    def __call__(self, done: int, total: int) -> None:
        now = timezone.now()
        if not connection.in_atomic_block:
            ImportJob.objects.filter(pk=self.job_id).update(
                rows_done=done, rows_total=max(total, done), claimed_at=now, heartbeat_at=now
            )
            return
        if not self.in_background:
            return
        quote = connection.ops.quote_name
        try:
            if self._side is None:
                self._side = connections.create_connection(DEFAULT_DB_ALIAS)
                if self._side.vendor == "postgresql":
                    with self._side.cursor() as cursor:
                        cursor.execute("SET lock_timeout = '1s'")
            with self._side.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {quote(ImportJob._meta.db_table)} SET {quote('rows_done')} = %s, "
                    f"{quote('rows_total')} = %s, {quote('claimed_at')} = %s, "
                    f"{quote('heartbeat_at')} = %s WHERE {quote('id')} = %s",
                    [done, max(total, done), now, now, self.job_id],
                )
        except DatabaseError:
            logger.warning("import job %s: progress not recorded", self.job_id, exc_info=True)

    def close(self) -> None:
        if self._side is not None:
            self._side.close()
            self._side = None


def _in_language(job: ImportJob) -> translation.override:
    """The uploader's language, for what a worker writes: a task runs outside any request, in
    the server's default language, whoever asked for the import."""
    return translation.override(job.language or settings.LANGUAGE_CODE)


def _progress(job: ImportJob) -> _Progress:
    return _Progress(job.pk, in_background=job.in_background)


def _error_report_file(result: ValidationResult) -> ContentFile | None:
    if not result.error_count and not result.warning_count:
        return None
    return ContentFile(error_report_workbook(result), name=f"{uuid.uuid4().hex}.xlsx")


def _store_report(job: ImportJob, result: ValidationResult, **fields: Any) -> None:
    report_file = _error_report_file(result)
    if job.error_report:
        job.error_report.delete(save=False)
    job.error_report = ""
    if report_file is not None:
        job.error_report.save(report_file.name, report_file, save=False)
    ImportJob.objects.filter(pk=job.pk).update(
        report=result.report(),
        error_report=job.error_report.name or "",
        rows_total=len(result.rows),
        rows_done=len(result.rows),
        claimed_at=None,
        updated_at=timezone.now(),
        **fields,
    )


def _fail(job_id: int, message: str) -> None:
    ImportJob.objects.filter(pk=job_id).update(
        status=Status.FAILED, message=message, claimed_at=None, updated_at=timezone.now()
    )


def import_job_validate(*, job_id: int) -> ImportJob | None:
    """The dry run of one job. Returns None when another run has it or it is already done."""
    now = timezone.now()
    claimed = (
        ImportJob.objects.filter(pk=job_id)
        .filter(
            Q(status=Status.UPLOADED)
            | Q(status=Status.VALIDATING, claimed_at__lt=now - STALE_CLAIM)
        )
        .update(status=Status.VALIDATING, claimed_at=now, heartbeat_at=now, rows_done=0, message="")
    )
    if not claimed:
        return None
    job = ImportJob.objects.select_related("organisation", "created_by").get(pk=job_id)
    with _in_language(job):
        _validate_claimed(job)
    job.refresh_from_db()
    return job


def _validate_claimed(job: ImportJob) -> None:
    try:
        with job.file.open("rb") as handle:
            data = handle.read()
        result = validate(
            spec_for(job.kind),
            data,
            actor=job.created_by,
            organisation=job.organisation,
            progress=_progress(job),
        )
    except ServiceError as exc:  # StructureError included
        _fail(job.pk, "\n".join(exc.messages))
    except Exception:
        logger.exception("import job %s: validation crashed", job.pk)
        _fail(job.pk, _("The check failed because of an internal error. Try again later."))
    else:
        _store_report(job, result, status=Status.VALIDATED, validated_at=timezone.now())


def import_job_request_commit(*, actor: User, job: ImportJob, accept_warnings: bool) -> ImportJob:
    """The user's decision to import a checked file. Commits inline for a small file and
    queues a task for a large one. Refuses while the dry run has errors, or has warnings the
    user did not accept."""
    if not user_can_commit(actor, job):
        raise ServiceError(
            _("Only an editor of %(org)s may import this file.") % {"org": job.organisation}
        )
    if job.status != Status.VALIDATED:
        raise ServiceError(
            _("This file cannot be imported now (its status is “%(status)s”).")
            % {"status": job.get_status_display()}
        )
    if job.report.get("errors"):
        raise ServiceError(_("Correct the errors in the file and upload it again."))
    if job.report.get("warnings") and not accept_warnings:
        raise ServiceError(_("The file has warnings: tick “accept the warnings” to import it."))
    with transaction.atomic():
        claimed = ImportJob.objects.filter(pk=job.pk, status=Status.VALIDATED).update(
            status=Status.COMMITTING,
            accept_warnings=accept_warnings,
            committed_by=actor,
            claimed_at=None,
            rows_done=0,
            message="",
        )
        if claimed and job.in_background:
            _enqueue("import_commit", job.pk)  # in the outbox, with the decision
    if not claimed:  # a second click, or a second tab
        raise ServiceError(_("This file is already being imported."))
    if not job.in_background:
        import_job_commit(job_id=job.pk)
    job.refresh_from_db()
    return job


def import_job_commit(*, job_id: int) -> ImportJob | None:
    """Validate the file again against the registry as it is now, then write all rows in one
    transaction through the app's bulk service. Returns None when there is nothing to do."""
    now = timezone.now()
    claimed = (
        ImportJob.objects.filter(pk=job_id, status=Status.COMMITTING)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - STALE_CLAIM))
        .update(claimed_at=now, heartbeat_at=now)
    )
    if not claimed:
        return None
    job = ImportJob.objects.select_related("organisation", "created_by", "committed_by").get(
        pk=job_id
    )
    with _in_language(job):
        _commit_claimed(job)
    job.refresh_from_db()
    return job


def _commit_claimed(job: ImportJob) -> None:
    def on_success(result: ValidationResult, counts: tuple[int, int, int]) -> None:
        created, updated, unchanged = counts
        outcome = {"created": created, "updated": updated, "unchanged": unchanged}
        ImportJob.objects.filter(pk=job.pk).update(
            status=Status.COMMITTED,
            result=outcome,
            report=result.report(),
            committed_at=timezone.now(),
            rows_done=len(result.rows),
            claimed_at=None,
            updated_at=timezone.now(),
        )
        audit_record(
            actor=job.committed_by,
            action="import.commit",
            obj=job,
            before={"status": Status.COMMITTING},
            after={
                **outcome,
                "kind": job.kind,
                "file": job.original_name,
                "sha256": job.sha256,
                "accept_warnings": job.accept_warnings,
            },
        )

    progress = _progress(job)
    try:
        with job.file.open("rb") as handle:
            data = handle.read()
        commit(
            spec_for(job.kind),
            data,
            actor=job.committed_by,
            organisation=job.organisation,
            accept_warnings=job.accept_warnings,
            progress=progress,
            on_success=on_success,
        )
    except ImportBlocked as exc:
        # The registry changed since the dry run: show the new report, import nothing.
        _store_report(
            job,
            exc.result,
            status=Status.VALIDATED,
            validated_at=timezone.now(),
            message=_("The registry changed since the check. %(reason)s")
            % {"reason": exc.messages[0]},
        )
    except ServiceError as exc:
        _fail(job.pk, "\n".join(exc.messages))
    except Exception:
        logger.exception("import job %s: commit crashed", job.pk)
        _fail(job.pk, _("The import failed because of an internal error; nothing was written."))
    finally:
        progress.close()


# Jobs that can change no more: their files are only kept for the user to look back at.
FINISHED = (Status.COMMITTED, Status.FAILED)


def import_jobs_purge_files(*, today: date | None = None) -> int:
    """Delete the upload and the error report of every job that ended (imported or refused)
    more than ``SJSJ_IMPORT_FILE_RETENTION_DAYS`` days before ``today``. The job stays, with
    its report and counts; its file fields are blanked and ``files_purged_at`` set. A job still
    running or awaiting the user's decision keeps its files. Returns how many jobs were purged:
    a second run finds none. A file already gone from the disk is no obstacle; one that cannot
    be deleted leaves its job for the next run.
    """
    today = today or timezone.localdate()
    days = settings.SJSJ_IMPORT_FILE_RETENTION_DAYS
    cutoff = timezone.make_aware(datetime.combine(today - timedelta(days=days), time.min))
    due = ImportJob.objects.filter(files_purged_at__isnull=True).filter(
        Q(status=Status.COMMITTED, committed_at__lt=cutoff)
        | Q(status=Status.FAILED, updated_at__lt=cutoff)
    )
    purged = 0
    for job_id in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            # Locked and checked again, so two purges at once delete and record each job once.
            job = due.select_for_update(skip_locked=True).filter(pk=job_id).first()
            if job is None:
                continue
            names = {"file": job.file.name, "error_report": job.error_report.name}
            try:
                for field in (job.file, job.error_report):
                    if field.name:
                        field.storage.delete(field.name)  # a missing file is not an error
            except OSError:
                logger.warning("import job %s: files not deleted", job.pk, exc_info=True)
                continue
            ImportJob.objects.filter(pk=job.pk).update(
                file="", error_report="", files_purged_at=timezone.now()
            )
            audit_record(
                actor=None,
                action="import.purge_files",
                obj=job,
                before=names,
                after={"retention_days": days},
            )
            purged += 1
    return purged


def registry_export(*, actor: User, kind: str, target, heartbeat=None) -> int:
    """Write every record of one registry that ``actor`` may see to ``target`` (a binary file),
    in the import template's layout, so it can be edited and imported back. Returns the number
    of rows. Who took a copy of a whole registry is recorded in the audit trail. ``heartbeat``,
    if given, is called every few hundred records (a worker's sign of life)."""
    from exchange.excel import spec_export

    if not user_can(actor, Cap.VIEW_REGISTRY):
        raise ServiceError(_("You may not export the registries."))
    spec = spec_for(kind)
    records = spec.export_rows(user=actor)
    if heartbeat is not None:
        records = _beating(records, heartbeat)
    count = spec_export(spec, records, target)
    audit_record(
        actor=actor,
        action="export.registry",
        object_type=kind,
        object_repr=str(spec.title),
        after={"kind": kind, "rows": count},
    )
    return count


def _beating(records, heartbeat, every: int = 500):
    for number, record in enumerate(records, 1):
        if number % every == 0:
            heartbeat()
        yield record


class _ExportHeartbeat:
    """Renews an export's ``heartbeat_at`` while its file is written. The writing runs in a
    transaction, where the update would stay invisible until the end, so the beats go through
    a connection of their own, at most every ``interval`` seconds, as best effort."""

    def __init__(self, export_id: int, interval: float = 10.0):
        self.export_id = export_id
        self.interval = interval
        self._last = 0.0
        self._side: BaseDatabaseWrapper | None = None

    def __call__(self) -> None:
        if monotonic() - self._last < self.interval:
            return
        self._last = monotonic()
        quote = connection.ops.quote_name
        try:
            if self._side is None:
                self._side = connections.create_connection(DEFAULT_DB_ALIAS)
            with self._side.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {quote(RegistryExport._meta.db_table)} SET "
                    f"{quote('heartbeat_at')} = %s, {quote('claimed_at')} = %s "
                    f"WHERE {quote('id')} = %s",
                    [timezone.now(), timezone.now(), self.export_id],
                )
        except DatabaseError:
            logger.warning("registry export %s: heartbeat not recorded", self.export_id)

    def close(self) -> None:
        if self._side is not None:
            self._side.close()
            self._side = None


# --- whole-registry exports in the background ------------------------------------------------
# Writing a large registry takes a minute (65 s for 300,000 sources), longer than a proxy waits
# for a response; so a worker writes the file and the requester's page polls until it is ready.

ExportStatus = RegistryExport.Status


def registry_export_request(*, actor: User, kind: str) -> RegistryExport:
    """Record the actor's request for a copy of one registry and queue its building."""
    if not user_can(actor, Cap.VIEW_REGISTRY):
        raise ServiceError(_("You may not export the registries."))
    if kind not in IMPORT_SPECS:
        raise ServiceError(_("There is no such registry."))
    with transaction.atomic():
        export = RegistryExport.objects.create(
            requested_by=actor, kind=kind, language=translation.get_language() or ""
        )
        _enqueue("registry_export_build", export.pk)
    return export


def registry_export_build(*, export_id: int) -> RegistryExport | None:
    """Write the file of one requested export. Returns None when another run has it or it is
    already done, so a task delivered twice builds the file once."""
    now = timezone.now()
    claimed = (
        RegistryExport.objects.filter(pk=export_id, status=ExportStatus.REQUESTED)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - STALE_CLAIM))
        .update(claimed_at=now, heartbeat_at=now)
    )
    if not claimed:
        return None
    export = RegistryExport.objects.select_related("requested_by").get(pk=export_id)
    with translation.override(export.language or settings.LANGUAGE_CODE):
        _build_claimed(export)
    export.refresh_from_db()
    return export


def _build_claimed(export: RegistryExport) -> None:
    heartbeat = _ExportHeartbeat(export.pk)
    try:
        # The audit entry of the copy is written with the file's record: both or neither.
        with tempfile.TemporaryFile() as spool, transaction.atomic():
            rows = registry_export(
                actor=export.requested_by, kind=export.kind, target=spool, heartbeat=heartbeat
            )
            spool.seek(0)
            export.file.save(f"{uuid.uuid4().hex}.xlsx", File(spool), save=False)
            RegistryExport.objects.filter(pk=export.pk).update(
                status=ExportStatus.READY,
                file=export.file.name,
                rows=rows,
                claimed_at=None,
                finished_at=timezone.now(),
            )
    except ServiceError as exc:
        _export_failed(export, "\n".join(exc.messages))
    except Exception:
        logger.exception("registry export %s: crashed", export.pk)
        _export_failed(export, _("The export failed because of an internal error. Try again."))
    finally:
        heartbeat.close()


def _export_failed(export: RegistryExport, message: str) -> None:
    if export.file.name:
        export.file.storage.delete(export.file.name)
    RegistryExport.objects.filter(pk=export.pk).update(
        status=ExportStatus.FAILED,
        file="",
        message=message,
        claimed_at=None,
        finished_at=timezone.now(),
    )


def registry_export_get_for_user(*, user, pk: int) -> RegistryExport:
    """An export is its requester's alone: anybody else is told it does not exist."""
    export = RegistryExport.objects.filter(pk=pk, requested_by_id=user.pk).first()
    if export is None or not user_can(user, Cap.VIEW_REGISTRY):
        raise Http404
    return export


def registry_export_record_download(*, actor: User, export: RegistryExport) -> None:
    """Who fetched the file, and when: the copy itself was recorded (``export.registry``, with
    its row count) when the file was written."""
    audit_record(
        actor=actor,
        action="export.download",
        obj=export,
        after={"kind": export.kind, "rows": export.rows},
    )


def registry_exports_purge_files(*, today: date | None = None) -> int:
    """Delete the files of exports finished more than ``SJSJ_IMPORT_FILE_RETENTION_DAYS`` days
    before ``today``; the rows stay, with ``file_purged_at`` set. Returns how many: a second
    run finds none."""
    today = today or timezone.localdate()
    days = settings.SJSJ_IMPORT_FILE_RETENTION_DAYS
    cutoff = timezone.make_aware(datetime.combine(today - timedelta(days=days), time.min))
    due = RegistryExport.objects.filter(
        file_purged_at__isnull=True, status=ExportStatus.READY, finished_at__lt=cutoff
    )
    purged = 0
    for export_id in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            export = due.select_for_update(skip_locked=True).filter(pk=export_id).first()
            if export is None:
                continue
            try:
                if export.file.name:
                    export.file.storage.delete(export.file.name)
            except OSError:
                logger.warning("registry export %s: file not deleted", export.pk, exc_info=True)
                continue
            RegistryExport.objects.filter(pk=export.pk).update(
                file="", file_purged_at=timezone.now()
            )
            purged += 1
    return purged


# --- jobs whose worker was lost ---------------------------------------------------------------
# A worker killed mid-job (out of memory, a deploy, a host lost) leaves its job claimed, its
# transaction rolled back by the database. Celery redelivers the message only after the
# broker's visibility timeout, if at all; this sweep does not wait for that.


def _stalled(kind: StalledJob, now):
    cutoff = now - HEARTBEAT_TIMEOUT
    claimed = kind.claimed
    return kind.model._default_manager.filter(
        **{"status": kind.status, f"{claimed}__isnull": False}
    ).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, **{f"{claimed}__lt": cutoff})
    )


# What a lost job becomes, by model and status: the task that runs it again, the fields that
# make it claimable again, and the fields (and reason) that fail it. Apps above this one
# register theirs (``exchange.stalled.register``, from their ``ready()``).
register_stalled(
    StalledJob(
        name="exchange.import_validate",
        model=ImportJob,
        status=Status.VALIDATING,
        task_name="exchange.tasks.import_validate",
        requeue={"status": Status.UPLOADED},
        fail={"status": Status.FAILED, "updated_at": "now"},
        reason=gettext_lazy(
            "The check was interrupted: the worker checking the file stopped %(n)s times. "
            "Upload the file again later."
        ),
    )
)
register_stalled(
    StalledJob(
        name="exchange.import_commit",
        model=ImportJob,
        status=Status.COMMITTING,
        task_name="exchange.tasks.import_commit",
        fail={"status": Status.FAILED, "updated_at": "now"},
        reason=gettext_lazy(
            "The import was interrupted: the worker importing the file stopped %(n)s times; "
            "nothing was written. Upload the file again later."
        ),
    )
)
register_stalled(
    StalledJob(
        name="exchange.registry_export_build",
        model=RegistryExport,
        status=RegistryExport.Status.REQUESTED,
        task_name="exchange.tasks.registry_export_build",
        fail={"status": RegistryExport.Status.FAILED, "finished_at": "now"},
        reason=gettext_lazy(
            "The export was interrupted: the worker writing the file stopped %(n)s times. "
            "Ask for the copy again later."
        ),
    )
)


def jobs_recover_stalled(*, now: datetime | None = None) -> dict[str, int]:
    """The ``jobs-stalled-sweep`` beat job. Every job of a registered kind (imports being
    checked or imported, exports being written, and what upper apps registered: the
    oversight's reports and archives being built) whose worker stopped beating for
    ``HEARTBEAT_TIMEOUT`` is queued again (through the outbox) or, after ``JOB_REQUEUES``
    re-queues, failed with the reason in the requester's language.
    Each job is taken with a conditional UPDATE: running the sweep twice, or two sweeps at
    once, re-queue a job once. Returns the counts ``{"requeued": n, "failed": m}``."""
    now = now or timezone.now()
    counts = {"requeued": 0, "failed": 0}
    for kind in stalled_job_kinds():
        stalled = _stalled(kind, now)
        for job in list(stalled.only("pk", "attempts", "language")):
            if job.attempts < JOB_REQUEUES:
                outcome = "requeued"
                fields = {**kind.requeue, "attempts": job.attempts + 1}
            else:
                outcome = "failed"
                with translation.override(job.language or settings.LANGUAGE_CODE):
                    message = str(kind.reason % {"n": job.attempts + 1})
                fields = {k: now if v == "now" else v for k, v in kind.fail.items()}
                fields["message"] = message
            with transaction.atomic():
                # Taken again, conditionally: a sweep running beside this one takes it once.
                if not stalled.filter(pk=job.pk, attempts=job.attempts).update(
                    **{kind.claimed: None}, **fields
                ):
                    continue
                if outcome == "requeued":
                    outbox_enqueue(kind.task_name, job.pk)
            counts[outcome] += 1
            logger.warning("%s %s: worker lost, %s", kind.name, job.pk, outcome)
    return counts
