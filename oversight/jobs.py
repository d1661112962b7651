"""What the ``jobs-stalled-sweep`` (``exchange.imports.jobs_recover_stalled``) does with a
report or archive build whose worker was lost: queued again through the outbox, then, after
``JOB_REQUEUES`` losses, failed with the reason in the requester's language. Registered from
``OversightConfig.ready()``; the builds themselves are in ``oversight.services``."""

from django.utils.translation import gettext_lazy

from exchange.stalled import StalledJob
from oversight.models import Archive, Report

STALLED_BUILDS = (
    StalledJob(
        name="oversight.report_build",
        model=Report,
        status=Report.Status.RUNNING,
        task_name="oversight.tasks.report_build_task",
        requeue={"status": Report.Status.QUEUED, "progress": 0},
        fail={"status": Report.Status.FAILED, "finished_at": "now"},
        claimed="started_at",
        reason=gettext_lazy(
            "The report was interrupted: the worker building it stopped %(n)s times. "
            "Ask for the report again later."
        ),
    ),
    StalledJob(
        name="oversight.archive_build",
        model=Archive,
        status=Archive.Status.RUNNING,
        task_name="oversight.tasks.archive_build_task",
        requeue={"status": Archive.Status.QUEUED},
        fail={"status": Archive.Status.FAILED, "finished_at": "now"},
        claimed="started_at",
        reason=gettext_lazy(
            "The archive was interrupted: the worker building it stopped %(n)s times. "
            "Ask for the archive again later."
        ),
    ),
)
