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
