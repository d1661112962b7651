"""The oversight's background jobs: building a report."""

from celery import shared_task


@shared_task
def report_build_task(report_id: int) -> str | None:
    """Build one queued report; a second delivery finds it claimed and returns None."""
    from oversight.services import report_build

    report = report_build(report_id=report_id)
    return report.status if report is not None else None


@shared_task
def archive_build_task(archive_id: int) -> str | None:
    """Build one queued archive; a second delivery returns None."""
    from oversight.services import archive_build

    archive = archive_build(archive_id=archive_id)
    return archive.status if archive is not None else None
