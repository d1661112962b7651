"""The Excel exchange's records: import jobs and whole-registry exports.

Both tables were created by ``core`` and keep their names (``core_importjob``,
``core_registryexport``): the models moved here in issue 11 without copying a row.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import Organisation


def import_upload_to(job: "ImportJob", filename: str) -> str:
    """Uploads are kept under MEDIA_ROOT/imports/<division code>/<year>/, named by a random id
    (the user's file name is stored separately and never used as a path)."""
    import uuid
    from pathlib import PurePath

    from django.utils import timezone

    suffix = PurePath(filename).suffix.lower()
    suffix = suffix if suffix in (".xlsx", ".csv") else ".bin"
    year = job.created_at.year if job.created_at else timezone.now().year
    return f"imports/{job.organisation.division_code}/{year}/{uuid.uuid4().hex}{suffix}"


class ImportJob(models.Model):
    """One uploaded Excel/CSV file on its way into a registry: dry run, then commit.

    ``status`` moves uploaded → validating → validated (or failed) → committing → committed.
    Workers claim a job with a conditional UPDATE on ``status``/``claimed_at``, so a task that
    runs twice, or two workers, never validate or commit the same job twice.
    """

    class Kind(models.TextChoices):
        SOURCES = "sources", _("Pollution sources")
        INSPECTORS = "inspectors", _("Inspectors")

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        VALIDATING = "validating", _("Checking")
        VALIDATED = "validated", _("Checked")
        FAILED = "failed", _("Refused")
        COMMITTING = "committing", _("Importing")
        COMMITTED = "committed", _("Imported")

    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="import_jobs",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to=import_upload_to, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveBigIntegerField(_("size in bytes"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.UPLOADED
    )
    in_background = models.BooleanField(_("runs in the background"), default=False)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    message = models.TextField(_("message"), blank=True)
    report = models.JSONField(_("dry-run report"), default=dict, blank=True)
    error_report = models.FileField(
        _("error report"), upload_to="imports/reports/", max_length=200, blank=True
    )
    accept_warnings = models.BooleanField(_("warnings accepted"), default=False)
    committed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    result = models.JSONField(_("result"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    validated_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    committed_at = models.DateTimeField(_("imported at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # The uploader's interface language: the worker writes the row errors and the message in
    # it, not in the server's default. (The Excel error report is Chinese, like the template.)
    language = models.CharField(_("language"), max_length=15, blank=True)
    # Set when the retention purge deleted the upload and the error report (both fields blank).
    files_purged_at = models.DateTimeField(_("files removed at"), null=True, blank=True)
    # Renewed by the worker while it checks or imports (with each progress report); the
    # job-heartbeat sweep re-queues or fails a job whose worker stopped renewing it.
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    # How many times the sweep re-queued the job after its worker was lost.
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)

    class Meta:
        db_table = "core_importjob"  # created by core, before the model moved here
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organisation", "-created_at"], name="importjob_org")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["sources", "inspectors"]), name="importjob_kind"
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "uploaded",
                        "validating",
                        "validated",
                        "failed",
                        "committing",
                        "committed",
                    ]
                ),
                name="importjob_status",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.original_name}"

    @property
    def is_running(self) -> bool:
        return self.status in (self.Status.UPLOADED, self.Status.VALIDATING, self.Status.COMMITTING)

    @property
    def is_queued(self) -> bool:
        """Waiting for a worker: queued, not yet taken up (the message may still be in the
        outbox, while the broker is unreachable)."""
        return self.in_background and (
            self.status == self.Status.UPLOADED
            or (self.status == self.Status.COMMITTING and self.claimed_at is None)
        )

    @property
    def progress_percent(self) -> int:
        if not self.rows_total:
            return 0
        return min(100, round(100 * self.rows_done / self.rows_total))

    @property
    def file_retention_days(self) -> int:
        return settings.SJSJ_IMPORT_FILE_RETENTION_DAYS

    @property
    def can_commit(self) -> bool:
        return self.status == self.Status.VALIDATED and not self.report.get("errors")


class RegistryExport(models.Model):
    """A copy of a whole registry, built by a worker for the one user who asked for it.

    ``status`` moves requested → ready (or failed). The worker claims the row with a
    conditional UPDATE on ``claimed_at``, so a task that runs twice builds the file once. The
    file is served to ``requested_by`` only, and deleted by the nightly retention purge.
    """

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Being prepared")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ImportJob.Kind.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.REQUESTED
    )
    file = models.FileField(_("file"), upload_to="exports/", max_length=200, blank=True)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    message = models.TextField(_("message"), blank=True)
    # The requester's interface language, for the message a worker writes.
    language = models.CharField(_("language"), max_length=15, blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Set when the retention purge deleted the file (the field is then blank).
    file_purged_at = models.DateTimeField(_("file removed at"), null=True, blank=True)
    # Renewed by the worker while it writes the file; see ``ImportJob.heartbeat_at``.
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)

    class Meta:
        db_table = "core_registryexport"  # created by core, before the model moved here
        verbose_name = _("registry export")
        verbose_name_plural = _("registry exports")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["sources", "inspectors"]), name="registryexport_kind"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["requested", "ready", "failed"]),
                name="registryexport_status",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_running(self) -> bool:
        return self.status == self.Status.REQUESTED

    @property
    def is_queued(self) -> bool:
        return self.status == self.Status.REQUESTED and self.claimed_at is None

    @property
    def file_retention_days(self) -> int:
        return settings.SJSJ_IMPORT_FILE_RETENTION_DAYS
