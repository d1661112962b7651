"""Published inspection results (一公开): frozen snapshots, corrections beside the original,
withholding with a reason and a leader's decision, and batches for the national platform.

A published entry is never edited and never deleted: a later change of the result (5 → 1
after the investigation, a withdrawal) is a new entry that points at the one it corrects.
Only ``is_current`` moves, once, from true to false when a correction replaces the entry;
PostgreSQL triggers (migration 0002) refuse every other UPDATE and every DELETE.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class WithholdReason(models.TextChoices):
    """Why a result may be withheld or narrowed (004 §二(七); 002 指引 三)."""

    STATE_SECRET = "state_secret", _("State secret")
    TRADE_SECRET = "trade_secret", _("Trade secret")
    PRIVACY = "privacy", _("Personal privacy")


#: Fields a narrowed publication may leave out. The inspectors and the publishing body are
#: always shown: the public must know who checked.
NARROWABLE_FIELDS = {
    "company_name": _("Company name"),
    "uscc": _("Credit code"),
    "check_items": _("Check items"),
    "problems": _("Problems and their handling"),
}


class Withholding(models.Model):
    """A leader's decision to withhold a result, or to publish it without some fields."""

    class Scope(models.TextChoices):
        WHOLE = "whole", _("Withhold the whole result")
        NARROW = "narrow", _("Publish without some fields")

    task = models.ForeignKey(
        "inspections.InspectionTask", on_delete=models.PROTECT, related_name="withholdings"
    )
    reason = models.CharField(_("reason"), max_length=20, choices=WithholdReason.choices)
    detail = models.TextField(_("explanation"))
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices)
    fields = models.JSONField(_("fields left out"), default=list, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("withholding")
        verbose_name_plural = _("withholdings")
        ordering = ["task", "-decided_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(detail=""), name="withholding_has_detail"),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} · {self.get_reason_display()}"


class PublishedResult(models.Model):
    """One published entry of an inspection's result: what the public saw, as it was."""

    task = models.ForeignKey(
        "inspections.InspectionTask", on_delete=models.PROTECT, related_name="published"
    )
    organisation = models.ForeignKey(
        "core.Organisation",
        verbose_name=_("publishing body"),
        on_delete=models.PROTECT,
        related_name="published_results",
    )
    record_version = models.PositiveIntegerField(_("record version"))
    random = models.BooleanField(_("random spot check"))
    correction_of = models.OneToOneField(
        "self",
        verbose_name=_("corrects"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrected_by",
    )
    correction_reason = models.TextField(_("reason for the correction"), blank=True)
    withdrawn = models.BooleanField(_("withdrawn"), default=False)
    is_current = models.BooleanField(_("current"), default=True)
    # The snapshot.
    company_name = models.CharField(_("company name"), max_length=200, blank=True)
    uscc = models.CharField(_("credit code"), max_length=18, blank=True)
    source_name = models.CharField(_("source name"), max_length=200, blank=True)
    publisher_name = models.CharField(_("publishing body"), max_length=200)
    division_code = models.CharField(_("division code"), max_length=6)
    plan_title = models.CharField(_("plan"), max_length=200, blank=True)
    draw_number = models.CharField(_("draw number"), max_length=40, blank=True)
    check_items = models.JSONField(_("check items"), default=list)
    item_codes = models.JSONField(_("check item codes"), default=list)
    checked_on = models.DateField(_("date of the check"), null=True)
    result_type = models.PositiveSmallIntegerField(_("result type"), null=True)
    result_label = models.CharField(_("result"), max_length=100, blank=True)
    inspectors = models.JSONField(_("inspectors"), default=list)
    problems = models.JSONField(_("problems and their handling"), default=list)
    withheld = models.BooleanField(_("withheld"), default=False)
    withheld_reason = models.CharField(
        _("reason withheld"), max_length=20, choices=WithholdReason.choices, blank=True
    )
    withheld_fields = models.JSONField(_("fields left out"), default=list, blank=True)
    published_at = models.DateTimeField(_("published at"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("published result")
        verbose_name_plural = _("published results")
        ordering = ["-published_at", "-pk"]
        indexes = [
            models.Index(fields=["is_current", "-published_at"], name="pubres_current_date"),
            models.Index(fields=["uscc"], name="pubres_uscc"),
            models.Index(fields=["division_code", "checked_on"], name="pubres_division_date"),
            models.Index(fields=["task", "-record_version"], name="pubres_task_version"),
            models.Index(
                fields=["withheld_reason"],
                condition=Q(withheld=True, is_current=True),
                name="pubres_withheld",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(correction_of__isnull=True) | ~Q(correction_reason=""),
                name="pubres_correction_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(withheld=False) | ~Q(withheld_reason=""),
                name="pubres_withheld_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company_name or '—'} · {self.checked_on}"


class PendingPublication(models.Model):
    """An approved random-check result waiting to be published: the deadline job's work
    list. Made when the leader approves (or corrects) the result, removed when published."""

    task = models.OneToOneField(
        "inspections.InspectionTask", on_delete=models.CASCADE, related_name="pending_publication"
    )
    due_on = models.DateField(_("publish by"), null=True, blank=True)
    publish_from = models.DateField(_("published automatically from"), db_index=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("pending publication")
        verbose_name_plural = _("pending publications")

    def __str__(self) -> str:
        return f"{self.task_id} → {self.publish_from}"


class NationalExport(models.Model):
    """One batch for the national enterprise credit publicity system (or the provincial
    platform), in the national record's field layout. Each published entry goes into at most
    one batch, so a re-export carries only what is new or corrected."""

    organisation = models.ForeignKey(
        "core.Organisation", on_delete=models.PROTECT, related_name="national_exports"
    )
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("until"))
    created_at = models.DateTimeField(_("made at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    entries = models.ManyToManyField(PublishedResult, through="NationalExportLine")
    rows = models.PositiveIntegerField(_("rows"))
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64)
    content = models.BinaryField(_("file"))

    class Meta:
        verbose_name = _("national export")
        verbose_name_plural = _("national exports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.organisation} {self.period_start}–{self.period_end}"


class NationalExportLine(models.Model):
    export = models.ForeignKey(NationalExport, on_delete=models.PROTECT, related_name="lines")
    entry = models.OneToOneField(
        PublishedResult, on_delete=models.PROTECT, related_name="national_export_line"
    )

    def __str__(self) -> str:
        return f"{self.export_id} · {self.entry_id}"
