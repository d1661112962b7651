"""Thin Celery tasks: each calls a service or selector and is harmless to run twice."""

import logging

from celery import shared_task
from django.utils import timezone

from core.calendar import calendar_missing_years

logger = logging.getLogger(__name__)


@shared_task
def calendar_coverage_check() -> list[int]:
    """Warn every morning while this year or the next has no official schedule loaded."""
    missing = calendar_missing_years(timezone.localdate())
    if missing:
        logger.warning("Working-day calendar has no official schedule for %s", missing)
    return missing


@shared_task
def ping(value: str) -> str:
    """A round trip through the broker, for the health check and the tests."""
    return f"pong:{value}"


@shared_task
def import_validate(job_id: int) -> str | None:
    """The dry run of a large import. Claims the job first: a second run returns None."""
    from core.imports import import_job_validate

    job = import_job_validate(job_id=job_id)
    return job.status if job is not None else None


@shared_task
def import_commit(job_id: int) -> str | None:
    """The all-or-nothing write of a large import. Claims the job first, like the dry run."""
    from core.imports import import_job_commit

    job = import_job_commit(job_id=job_id)
    return job.status if job is not None else None


@shared_task
def import_files_purge() -> int:
    """Every night: delete the files of imports that ended, and of registry exports written,
    longer ago than the retention. Returns how many jobs and exports lost their files."""
    from core.imports import import_jobs_purge_files, registry_exports_purge_files

    return import_jobs_purge_files() + registry_exports_purge_files()


@shared_task
def registry_export_build(export_id: int) -> str | None:
    """Write the file of a whole-registry export. Claims the export first: a second run
    returns None."""
    from core.imports import registry_export_build as build

    export = build(export_id=export_id)
    return export.status if export is not None else None


@shared_task
def audit_checkpoint_publish_task() -> int | None:
    """Hourly: publish the audit chain's head if it moved. Running twice publishes once."""
    from core.audit import audit_checkpoint_publish

    checkpoint = audit_checkpoint_publish()
    return checkpoint.seq if checkpoint else None


@shared_task
def outbox_dispatch() -> int:
    """Every 30 s: send the outbox's unsent messages (the broker was down when they were
    written). Running it twice, or two at once, sends each message once."""
    from core.outbox import outbox_dispatch_pending

    return outbox_dispatch_pending()


@shared_task
def jobs_stalled_sweep() -> dict[str, int]:
    """Every few minutes: queue again, or fail with the reason, the imports and exports whose
    worker stopped giving signs of life. Running it twice changes nothing more."""
    from core.imports import jobs_recover_stalled

    return jobs_recover_stalled()
