"""Inspection tasks, the five result types and follow-up of problems.

A task follows the draw as it stands (``lottery.selectors.effective_selections``); its team is
never copied here but read from ``lottery.selectors.effective_teams``. A record is append-only:
every change of a result is a new version with its reason, actor and time.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Trigger(models.TextChoices):
    """Why a targeted (non-random) check was opened (003 §三, §七(一)3; 004 §二(六))."""

    COMPLAINT = "complaint", _("Complaint or report")
    MEDIA = "media", _("Media exposure")
    REFERRAL = "referral", _("Referral from another body")
    OFF_SITE_CLUE = "off_site_clue", _("Clue found off-site")
    SPECIAL_OBJECT = "special_object", _("Special object checked at any time")


class InspectionTask(models.Model):
    """One inspection of one source: drawn (one per effective drawn source) or targeted."""

    class Kind(models.TextChoices):
        DRAWN = "drawn", _("Random spot check")
        TARGETED = "targeted", _("Targeted check (not random)")

    class State(models.TextChoices):
        ASSIGNED = "assigned", _("Assigned")
        IN_PROGRESS = "in_progress", _("In progress")
        RECORDED = "recorded", _("Recorded")
        SUBMITTED = "submitted", _("Submitted")
        APPROVED = "approved", _("Approved")
        CANCELLED = "cancelled", _("Cancelled")

    organisation = models.ForeignKey(
        "core.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="inspection_tasks",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    selection = models.OneToOneField(
        "lottery.DrawSelection",
        verbose_name=_("drawn source"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inspection_task",
    )
    source = models.ForeignKey(
        "registry.PollutionSource",
        verbose_name=_("source"),
        on_delete=models.PROTECT,
        related_name="inspection_tasks",
    )
    mode = models.CharField(
        _("mode"),
        max_length=10,
        choices=[("on_site", _("On-site inspection")), ("off_site", _("Off-site supervision"))],
        default="on_site",
    )
    trigger = models.CharField(_("trigger"), max_length=20, choices=Trigger.choices, blank=True)
    trigger_detail = models.TextField(_("trigger details"), blank=True)
    # An off-site clue or a complaint opens a linked on-site check (004 §二(六)).
    opened_from = models.ForeignKey(
        "self",
        verbose_name=_("opened from"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="follow_on_checks",
    )
    check_items = models.ManyToManyField(
        "registry.CheckItem", verbose_name=_("check items"), related_name="+", blank=True
    )
    joint = models.BooleanField(_("joint inspection"), default=False)
    joint_sections = models.TextField(_("sections taking part"), blank=True)
    joint_authorities = models.TextField(_("other authorities taking part"), blank=True)
    period_start = models.DateField(_("inspection from"))
    period_end = models.DateField(_("inspection until"))
    state = models.CharField(
        _("state"), max_length=12, choices=State.choices, default=State.ASSIGNED
    )
    cancel_reason = models.TextField(_("reason for cancellation"), blank=True)
    return_reason = models.TextField(_("reason for return"), blank=True)
    # The check and its handling ended: the 7-working-day entry deadline runs from here.
    handling_ended_on = models.DateField(_("check and handling ended"), null=True, blank=True)
    entry_due = models.DateField(_("result entry due"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("inspection task")
        verbose_name_plural = _("inspection tasks")
        ordering = ["pk"]
        permissions = [("view_inspection_task", "Can see this inspection task")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="drawn", selection__isnull=False, trigger="")
                | Q(kind="targeted", selection__isnull=True) & ~Q(trigger=""),
                name="inspection_task_kind_matches",
            ),
            models.CheckConstraint(
                condition=~Q(state="cancelled") | ~Q(cancel_reason=""),
                name="inspection_task_cancel_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "state"])]

    def __str__(self) -> str:
        return f"{self.source} · {self.get_kind_display()}"

    def audit_repr(self) -> str:
        """How the audit trail names the task: a drawn one by its number, never by its source,
        since which sources were drawn is confidential until disclosure and the trail is read
        by administrators (its entries are written as the team opens and works the task)."""
        if self.kind != self.Kind.DRAWN:
            return str(self)
        return f"#{self.pk} · {self.get_kind_display()}"


class ResultType(models.IntegerChoices):
    """The five result types (002 指引 三 (一)–(五))."""

    NO_PROBLEM = 1, _("No problem found")
    NOT_DISCLOSED = 2, _("Did not disclose information it must disclose")
    CORRECTED = 3, _("Problem found, corrected after instruction")
    NON_COOPERATION = 4, _("Serious non-cooperation with the inspection")
    FURTHER_HANDLING = 5, _("Problem found, needs further handling")


RESULT_HELP: dict[int, Promise] = {
    ResultType.NO_PROBLEM: _("No violation of laws, regulations or rules was found."),
    ResultType.NOT_DISCLOSED: _(
        "The object did not disclose, as required, information it must disclose."
    ),
    ResultType.CORRECTED: _(
        "A problem was found and the object corrected it at once after being instructed to."
    ),
    ResultType.NON_COOPERATION: _(
        "The object refused entry, refused to provide materials, or obstructed the inspection."
    ),
    ResultType.FURTHER_HANDLING: _(
        "A problem was found that needs further handling; if the investigation finds no "
        "violation the result becomes type 1, if a case is filed it stays type 5."
    ),
}


class NonCooperationGround(models.TextChoices):
    """The three grounds of a type 4 result (002 指引 三(四))."""

    REFUSED_ENTRY = "refused_entry", _("Refused entry to the site")
    REFUSED_MATERIALS = "refused_materials", _("Refused to provide materials")
    OBSTRUCTED = "obstructed", _("Obstructed the inspection otherwise")


class OffSiteMeans(models.TextChoices):
    """Means of off-site supervision (004 §二(六))."""

    ONLINE_MONITORING = "online_monitoring", _("Online monitoring")
    METERING = "metering", _("Separate electricity metering")
    REMOTE = "remote", _("Remote check")
    VIDEO = "video", _("Video surveillance")
    DRONE = "drone", _("Drone")


class InspectionRecord(models.Model):
    """One version of a task's record (append-only). The highest version is the current one;
    ``approved`` marks the version publication uses."""

    task = models.ForeignKey(
        InspectionTask, on_delete=models.PROTECT, related_name="records", db_index=False
    )
    version = models.PositiveIntegerField(_("version"))
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    members = models.ManyToManyField(
        "inspectors.Inspector", verbose_name=_("members present"), related_name="+", blank=True
    )
    # Per member present: certificate shown, purpose stated ({inspector pk: true}).
    credentials_shown = models.JSONField(_("certificate shown, purpose stated"), default=dict)
    experts = models.TextField(_("experts taking part"), blank=True)
    body_camera_refs = models.TextField(_("body camera file references"), blank=True)
    witnesses = models.JSONField(_("witnesses"), default=list, blank=True)
    representative = models.CharField(_("source's representative"), max_length=100, blank=True)
    off_site_means = models.JSONField(_("off-site means"), default=list, blank=True)
    covered_from = models.DateField(_("period covered from"), null=True, blank=True)
    covered_until = models.DateField(_("period covered until"), null=True, blank=True)
    result_type = models.PositiveSmallIntegerField(
        _("result type"), choices=ResultType.choices, null=True, blank=True
    )
    ground = models.CharField(
        _("ground"), max_length=20, choices=NonCooperationGround.choices, blank=True
    )
    conclusion = models.TextField(_("investigation's conclusion"), blank=True)
    case_filed = models.BooleanField(_("case filed"), default=False)
    summary = models.TextField(_("summary"), blank=True)
    reason = models.TextField(_("reason for this version"), blank=True)
    approved = models.BooleanField(_("approved"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("inspection record")
        verbose_name_plural = _("inspection records")
        ordering = ["task", "version"]
        constraints = [
            models.UniqueConstraint(fields=["task", "version"], name="record_version_once"),
            models.CheckConstraint(
                condition=~Q(result_type=4) | ~Q(ground=""), name="record_type4_has_ground"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task} · v{self.version}"

    def audit_repr(self) -> str:
        return f"{self.task.audit_repr()} · v{self.version}"


class Finding(models.Model):
    """The finding on one check item, in one version of the record (清单式)."""

    class Outcome(models.TextChoices):
        COMPLIANT = "compliant", _("Compliant")
        PROBLEM = "problem", _("Problem found")
        NOT_APPLICABLE = "not_applicable", _("Not applicable")

    record = models.ForeignKey(InspectionRecord, on_delete=models.CASCADE, related_name="findings")
    check_item = models.ForeignKey(
        "registry.CheckItem", verbose_name=_("check item"), on_delete=models.PROTECT
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        constraints = [
            models.UniqueConstraint(fields=["record", "check_item"], name="finding_item_once")
        ]

    def __str__(self) -> str:
        return f"{self.check_item} · {self.get_outcome_display()}"


class Problem(models.Model):
    """A problem found, and its follow-up to a closed loop (台账, 闭环)."""

    class Handling(models.TextChoices):
        CORRECTED_ON_SPOT = "corrected", _("Corrected on the spot")
        RECTIFICATION_ORDER = "order", _("Rectification order")
        CASE_FILED = "case", _("Case filed")
        NOT_PENALISED = "minor", _("Not penalised (minor-violation list)")
        TRANSFERRED = "transferred", _("Transferred to another department")
        TRANSFERRED_JUDICIAL = "judicial", _("Transferred to the judicial organs")

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        VERIFIED = "verified", _("Rectification verified")
        CLOSED = "closed", _("Closed")

    task = models.ForeignKey(InspectionTask, on_delete=models.PROTECT, related_name="problems")
    check_item = models.ForeignKey(
        "registry.CheckItem",
        verbose_name=_("check item"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    description = models.TextField(_("problem"))
    legal_basis = models.TextField(_("legal basis"), blank=True)
    handling = models.CharField(_("handling"), max_length=12, choices=Handling.choices)
    rectification_due = models.DateField(_("rectification deadline"), null=True, blank=True)
    document_number = models.CharField(_("document number"), max_length=100, blank=True)
    document_date = models.DateField(_("document date"), null=True, blank=True)
    receiving_body = models.CharField(_("receiving body"), max_length=200, blank=True)
    minor_list_entry = models.CharField(_("minor-violation list entry"), max_length=200, blank=True)
    evidence = models.TextField(_("rectification evidence"), blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verification = models.TextField(_("verification"), blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("problem")
        verbose_name_plural = _("problems")
        ordering = ["task", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="closed") | ~Q(evidence=""), name="problem_closed_has_evidence"
            ),
        ]

    def __str__(self) -> str:
        return self.description[:60]


class RecordDraft(models.Model):
    """What a team member typed into the record form and has not saved as a version yet.

    Saved by the server as they go (every change, a few seconds apart), so a dropped
    connection or a closed phone loses nothing. ``base_version`` is the version the form
    started from: a draft made over an older version is offered back, never applied blindly.
    """

    task = models.ForeignKey(InspectionTask, on_delete=models.CASCADE, related_name="drafts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    base_version = models.PositiveIntegerField(_("started from version"))
    data = models.JSONField(_("form data"), default=dict)
    saved_at = models.DateTimeField(_("saved at"), auto_now=True)

    class Meta:
        verbose_name = _("record draft")
        verbose_name_plural = _("record drafts")
        constraints = [
            models.UniqueConstraint(fields=["task", "user"], name="record_draft_one_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.task_id} · {self.user_id}"


def evidence_upload_to(evidence: "Evidence", filename: str) -> str:
    """Evidence lives under MEDIA_ROOT/evidence/<division code>/<year>/, named by a random id;
    MEDIA_ROOT is never served by the web server, only through the audited download view."""
    import uuid

    from django.utils import timezone

    year = timezone.now().year
    division = evidence.task.organisation.division_code
    return f"evidence/{division}/{year}/{uuid.uuid4().hex}{evidence.kind_suffix()}"


class Evidence(models.Model):
    """A photo or PDF attached to a task (the check) or to a problem (its rectification)."""

    class Kind(models.TextChoices):
        JPEG = "image/jpeg", "JPEG"
        PNG = "image/png", "PNG"
        WEBP = "image/webp", "WebP"
        PDF = "application/pdf", "PDF"

    task = models.ForeignKey(InspectionTask, on_delete=models.PROTECT, related_name="evidence")
    problem = models.ForeignKey(
        Problem, null=True, blank=True, on_delete=models.PROTECT, related_name="evidence_files"
    )
    file = models.FileField(_("file"), upload_to=evidence_upload_to, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=40, choices=Kind.choices)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    description = models.CharField(_("description"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")
        ordering = ["task", "pk"]

    def __str__(self) -> str:
        return self.original_name

    def kind_suffix(self) -> str:
        suffixes: dict[str, str] = {
            self.Kind.JPEG: ".jpg",
            self.Kind.PNG: ".png",
            self.Kind.WEBP: ".webp",
            self.Kind.PDF: ".pdf",
        }
        return suffixes.get(self.content_type, ".bin")

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")
