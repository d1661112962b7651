"""What every app shares: the organisation tree, users and roles, the audit log, the calendar."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Organisation(models.Model):
    """A bureau or team. Scoping follows the administrative division code."""

    class Kind(models.TextChoices):
        PROVINCE = "province", _("Provincial department")
        CITY_BUREAU = "city_bureau", _("City bureau")
        CITY_TEAM = "city_team", _("City enforcement team")
        COUNTY_BUREAU = "county_bureau", _("County bureau")

    name = models.CharField(_("name"), max_length=100)
    short_name = models.CharField(_("short name"), max_length=40, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    division_code = models.CharField(
        _("division code"),
        max_length=6,
        help_text=_("Six-digit administrative division code (GB/T 2260)."),
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["division_code", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["division_code", "kind"], name="org_unique_code_kind"),
            models.CheckConstraint(
                condition=Q(division_code__regex=r"^[0-9]{6}$"), name="org_division_code_6_digits"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def scope_prefix(self) -> str:
        """The division-code prefix this organisation oversees (county: all six digits)."""
        if self.kind == self.Kind.PROVINCE:
            return self.division_code[:2]
        if self.kind in (self.Kind.CITY_BUREAU, self.Kind.CITY_TEAM):
            return self.division_code[:4]
        return self.division_code

    @property
    def city_code(self) -> str:
        return self.division_code[:4] + "00"


class Role(models.TextChoices):
    INSPECTOR = "inspector", _("Inspector")
    CLERK = "clerk", _("Bureau clerk")
    LEADER = "leader", _("Bureau leader")
    CITY_REVIEWER = "city_reviewer", _("City team reviewer")
    PROVINCE_VIEWER = "province_viewer", _("Province viewer")
    ADMIN = "admin", _("System administrator")


class User(AbstractUser):
    """A staff member. The public never logs in, so every user belongs to one organisation."""

    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.CLERK)
    display_name = models.CharField(_("display name"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username


class AuditEntry(models.Model):
    """One line of the append-only, hash-chained audit log. Written only by ``core.audit``."""

    seq = models.PositiveBigIntegerField(_("sequence"), unique=True)
    at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        # Never cascade or null out: the log must not change when a user does.
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
    )
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    organisation_code = models.CharField(_("organisation"), max_length=40, blank=True)
    action = models.CharField(_("action"), max_length=80, db_index=True)
    object_type = models.CharField(_("object type"), max_length=80, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)
    # HMAC-SHA256 under SJSJ_AUDIT_KEY (kept outside the database) rather than plain SHA-256:
    # whoever can write the database but lacks the key cannot re-hash a rewritten chain.
    # Entries made before keying stay verifiable; after the first keyed entry, every later
    # entry must be keyed.
    keyed = models.BooleanField(_("keyed"), default=False)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-seq"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_repr}"


class AuditCheckpoint(models.Model):
    """The chain's head (sequence number and hash) as published at a moment: copied to the
    public portal, where anyone may keep it. A later rewrite of the trail, even by someone
    holding the audit key, no longer ends at a published checkpoint, and
    ``verify_audit_chain --checkpoints`` says so. Append-only on PostgreSQL."""

    seq = models.PositiveBigIntegerField(_("sequence"), unique=True)
    hash = models.CharField(_("hash"), max_length=64)
    published_at = models.DateTimeField(_("published at"), auto_now_add=True)

    class Meta:
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")
        ordering = ["-seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash[:16]}"


class AuditChainHead(models.Model):
    """A single row holding the chain's last sequence number and hash.

    Appenders lock it, so entries get gap-free sequence numbers; and because it remembers the
    last hash, deleting the newest entries is detected too.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="audit_head_singleton")]

    def __str__(self) -> str:
        return f"audit head #{self.last_seq}"


class CalendarYear(models.Model):
    """A year whose official holiday schedule (State Council notice) has been loaded.

    Working-day arithmetic refuses to guess for a year that is not here.
    """

    year = models.PositiveSmallIntegerField(_("year"), primary_key=True)
    source = models.CharField(
        pgettext_lazy("holiday schedule", "source"), max_length=200, blank=True
    )
    notice = models.CharField(_("official notice"), max_length=300, blank=True)
    loaded_at = models.DateTimeField(_("loaded at"), auto_now=True)

    class Meta:
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)


class CalendarDay(models.Model):
    """A day that differs from the Monday-to-Friday rule: a holiday or an adjusted working day."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Public holiday (day off)")
        ADJUSTED_WORKDAY = "adjusted_workday", _("Adjusted working day")

    date = models.DateField(_("date"), primary_key=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}"


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


class OutboxMessage(models.Model):
    """A Celery task to send, written in the same transaction as the change that needs it.

    ``core.outbox.outbox_enqueue`` stores the row and tries to send it once the transaction
    commits; the ``outbox-dispatch`` beat job sends whatever is still unsent (the broker was
    down). A sender claims a row with ``SELECT … FOR UPDATE SKIP LOCKED``, so two senders never
    send the same row twice. Every task sent this way is harmless to run twice.
    """

    task_name = models.CharField(_("task"), max_length=200)
    args = models.JSONField(_("arguments"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    dispatched_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["created_at"],
                name="outbox_pending",
                condition=Q(dispatched_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.task_name}{tuple(self.args)!r}"
