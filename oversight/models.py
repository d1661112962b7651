"""Reports of the oversight (通报 and reports to the province) and typical cases.

A report is built by a worker from the dashboard's figures; the figures it was built from are
kept with it (``data``) with their SHA-256 digest, and each request makes a new version: earlier
versions stay. At most one build of a report (issuer, kind, year, quarter) runs at a time (a
partial unique constraint): a second request is shown the running one.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def report_upload_to(report: "Report", filename: str) -> str:
    return f"oversight-reports/{report.organisation.division_code}/{report.year}/{filename}"


class Report(models.Model):
    class Kind(models.TextChoices):
        CIRCULAR = "circular", _("Quarterly circular to the counties")
        QUARTERLY = "quarterly", _("Quarterly report to the province")
        ANNUAL = "annual", _("Annual report and statistics table")
        CEASED = "ceased", _("Quarterly list of ceased enterprises")
        CITY_RETURN = "city_return", _("City team's quarterly return to the province")
        PLANS_RETURN = "plans_return", _("Quarterly plans return to the lead department")
        RESULTS_RETURN = "results_return", _("Quarterly results return to the lead department")
        YEAR_END = "year_end", _("Year-end report to the city bureau")
        SELF_CHECK = "self_check", _("Quarterly self-check sheet")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting for the worker")
        RUNNING = "running", _("Being built")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    ACTIVE = ("queued", "running")
    #: Issued by the city team about its city.
    CITY_KINDS = ("circular", "quarterly", "annual", "ceased", "city_return")
    #: Issued by a county bureau or the city team about its own work.
    BUREAU_KINDS = ("plans_return", "results_return", "year_end", "self_check")
    #: Made for a year (quarter 0).
    YEARLY_KINDS = ("annual", "year_end")

    organisation = models.ForeignKey(
        "core.Organisation",
        verbose_name=_("issued by"),
        on_delete=models.PROTECT,
        related_name="oversight_reports",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    quarter = models.PositiveSmallIntegerField(_("quarter"), default=0, help_text=_("0: the year"))
    version = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    message = models.TextField(_("message"), blank=True)
    data = models.JSONField(_("figures behind the report"), null=True, blank=True)
    data_sha256 = models.CharField(_("SHA-256 of the figures"), max_length=64, blank=True)
    pdf = models.FileField(upload_to=report_upload_to, max_length=200, blank=True)
    xlsx = models.FileField(upload_to=report_upload_to, max_length=200, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    # Set when a worker claims the build; the job's claim (see ``exchange.stalled``).
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Renewed by the worker while it builds; the jobs-stalled-sweep queues again (``attempts``
    # times at most) or fails, in the requester's ``language``, a build whose worker was lost.
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    language = models.CharField(_("language"), max_length=15, blank=True)

    class Meta:
        verbose_name = _("oversight report")
        verbose_name_plural = _("oversight reports")
        ordering = ["-year", "-quarter", "kind", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "kind", "year", "quarter", "version"],
                name="oversight_report_version_once",
            ),
            models.UniqueConstraint(
                fields=["organisation", "kind", "year", "quarter"],
                condition=Q(status__in=["queued", "running"]),
                name="oversight_report_one_build_at_a_time",
            ),
            models.CheckConstraint(
                condition=Q(quarter__gte=0, quarter__lte=4), name="oversight_report_quarter"
            ),
            models.CheckConstraint(
                condition=~Q(status="done") | (~Q(data_sha256="") & ~Q(pdf="")),
                name="oversight_report_done_has_files",
            ),
        ]

    def __str__(self) -> str:
        period = f"{self.year}Q{self.quarter}" if self.quarter else str(self.year)
        return f"{self.get_kind_display()} {period} v{self.version}"

    @property
    def is_running(self) -> bool:
        return self.status in self.ACTIVE


class TypicalCase(models.Model):
    """An inspection the city team picked as a typical case for its report to the province
    (kept here rather than as a flag on the inspection record)."""

    task = models.OneToOneField(
        "inspections.InspectionTask",
        verbose_name=_("inspection task"),
        on_delete=models.PROTECT,
        related_name="typical_case",
    )
    note = models.TextField(_("why it is typical"))
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    marked_at = models.DateTimeField(_("marked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("typical case")
        verbose_name_plural = _("typical cases")
        ordering = ["-marked_at"]

    def __str__(self) -> str:
        return str(self.task)

    def audit_repr(self) -> str:
        return self.task.audit_repr()  # a drawn task by its number (core.audit.object_name)


class DrawFiling(models.Model):
    """A bureau's draw filed with its city team (003 §七(二) “抽查结果报市执法队备案”): when, by
    whom, and a SHA-256 digest of what was drawn. Filing does not show the drawn list to the
    city team before the inspections: who may see it is decided by
    ``lottery.selectors.can_see_full_result`` alone; the digest lets the team check the list
    once it is disclosed."""

    draw = models.OneToOneField(
        "lottery.Draw", verbose_name=_("draw"), on_delete=models.PROTECT, related_name="filing"
    )
    filed_with = models.ForeignKey(
        "core.Organisation",
        verbose_name=_("filed with"),
        on_delete=models.PROTECT,
        related_name="draw_filings",
    )
    digest = models.CharField(_("SHA-256 of the draw"), max_length=64)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    filed_at = models.DateTimeField(_("filed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("draw filing")
        verbose_name_plural = _("draw filings")
        ordering = ["-filed_at"]

    def __str__(self) -> str:
        return str(self.draw)


def archive_upload_to(archive: "Archive", filename: str) -> str:
    return f"oversight-archives/{archive.organisation.division_code}/{archive.year}/{filename}"


class Archive(models.Model):
    """A bureau's archive of a year (003 §七(七)): a ZIP of the check-item list, the plans, the
    draw records, the inspection records and results and the handling of violations, with a
    manifest of SHA-256 digests. Built by a worker; every version kept."""

    Status = Report.Status
    ACTIVE = Report.ACTIVE

    organisation = models.ForeignKey(
        "core.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="oversight_archives",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    version = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=10, choices=Report.Status.choices, default="queued"
    )
    message = models.TextField(_("message"), blank=True)
    file = models.FileField(upload_to=archive_upload_to, max_length=200, blank=True)
    manifest_sha256 = models.CharField(_("SHA-256 of the manifest"), max_length=64, blank=True)
    entries = models.PositiveIntegerField(_("files"), default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    # As a report's: the claim, the worker's sign of life, the sweep's re-queues, the language.
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    language = models.CharField(_("language"), max_length=15, blank=True)

    class Meta:
        verbose_name = _("archive")
        verbose_name_plural = _("archives")
        ordering = ["-year", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "year", "version"], name="oversight_archive_version_once"
            ),
            models.UniqueConstraint(
                fields=["organisation", "year"],
                condition=Q(status__in=["queued", "running"]),
                name="oversight_archive_one_build_at_a_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} {self.year} v{self.version}"

    @property
    def is_running(self) -> bool:
        return self.status in self.ACTIVE
