"""The exchange's Celery tasks: thin, each calls a service and is harmless to run twice.

Until issue 11 these were ``core.tasks.<name>``. Messages queued under those names (in the
broker, or in the outbox while it was down) must still run after an upgrade, so each task is
registered under its old name as well.
"""

from celery import shared_task


@shared_task
def import_validate(job_id: int) -> str | None:
    """The dry run of a large import. Claims the job first: a second run returns None."""
    from exchange.imports import import_job_validate

    job = import_job_validate(job_id=job_id)
    return job.status if job is not None else None


@shared_task
def import_commit(job_id: int) -> str | None:
    """The all-or-nothing write of a large import. Claims the job first, like the dry run."""
    from exchange.imports import import_job_commit

    job = import_job_commit(job_id=job_id)
    return job.status if job is not None else None


@shared_task
def import_files_purge() -> int:
    """Every night: delete the files of imports that ended, and of registry exports written,
    longer ago than the retention. Returns how many jobs and exports lost their files."""
    from exchange.imports import import_jobs_purge_files, registry_exports_purge_files

    return import_jobs_purge_files() + registry_exports_purge_files()


@shared_task
def registry_export_build(export_id: int) -> str | None:
    """Write the file of a whole-registry export. Claims the export first: a second run
    returns None."""
    from exchange.imports import registry_export_build as build

    export = build(export_id=export_id)
    return export.status if export is not None else None


@shared_task
def jobs_stalled_sweep() -> dict[str, int]:
    """Every few minutes: queue again, or fail with the reason, the imports and exports (and
    the upper apps' registered jobs: reports, archives) whose worker stopped giving signs of
    life. Running it twice changes nothing more."""
    from exchange.imports import jobs_recover_stalled

    return jobs_recover_stalled()


# Renamed tasks, by their old names: the same functions, for messages queued before the move.
LEGACY_NAMES = {
    f"core.tasks.{task.__name__}": task
    for task in (
        import_validate,
        import_commit,
        import_files_purge,
        registry_export_build,
        jobs_stalled_sweep,
    )
}
for _old_name, _task in LEGACY_NAMES.items():
    shared_task(name=_old_name)(_task.run)
