"""执法检查人员名录库: certified inspectors, experts, availability, conflicts.

Data and database constraints only; every write goes through ``inspectors.services``.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# A certificate that runs out within this many days is shown as "expiring".
EXPIRING_WITHIN_DAYS = 60


class CertificateStatus(models.TextChoices):
    """What the list badge and the certificate filter show (computed, never stored)."""

    VALID = "valid", _("Valid")
    EXPIRING = "expiring", _("Expiring soon")
    EXPIRED = "expired", _("Expired")
    UNKNOWN = "unknown", _("Validity not recorded")
    NONE = "none", _("No certificate (expert)")


class InspectorQuerySet(models.QuerySet):
    """The two rules the draw depends on, as query filters (mirrored by ``Inspector`` methods)."""

    def certified(self, on: date) -> InspectorQuerySet:
        """Enforcement staff, on staff, active, with a certificate valid on ``on``.

        A certificate without a recorded expiry date does not count: an inspection by someone
        whose certificate may have lapsed is open to challenge, so the clerk must record it.
        """
        return self.filter(
            kind=Inspector.Kind.ENFORCEMENT,
            on_staff=True,
            is_active=True,
            certificate_valid_until__gte=on,
        ).exclude(certificate_number="")

    def available(self, on: date, until: date | None = None) -> InspectorQuerySet:
        """Without any leave, training or secondment overlapping ``[on, until]``."""
        until = until or on
        busy = Unavailability.objects.filter(start__lte=until, end__gte=on).values("inspector_id")
        return self.exclude(pk__in=busy)

    def with_certificate_status(self, status: str, today: date) -> InspectorQuerySet:
        soon = today + timedelta(days=EXPIRING_WITHIN_DAYS)
        enforcement = self.filter(kind=Inspector.Kind.ENFORCEMENT)
        if status == CertificateStatus.VALID:  # valid today, including those expiring soon
            return enforcement.filter(certificate_valid_until__gte=today)
        if status == CertificateStatus.EXPIRING:
            return enforcement.filter(
                certificate_valid_until__gte=today, certificate_valid_until__lte=soon
            )
        if status == CertificateStatus.EXPIRED:
            return enforcement.filter(certificate_valid_until__lt=today)
        if status == CertificateStatus.UNKNOWN:
            return enforcement.filter(certificate_valid_until__isnull=True)
        if status == CertificateStatus.NONE:
            return self.filter(kind=Inspector.Kind.EXPERT)
        return self


class Inspector(models.Model):
    """One person of the inspector registry: enforcement staff or a technical expert."""

    class Kind(models.TextChoices):
        ENFORCEMENT = "enforcement", _("Enforcement staff")
        EXPERT = "expert", _("Technical expert")

    class Gender(models.TextChoices):
        MALE = "male", _("Male")
        FEMALE = "female", _("Female")

    organisation = models.ForeignKey(
        "core.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="inspectors",
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inspector_record",
    )
    name = models.CharField(pgettext_lazy("person", "name"), max_length=50)
    kind = models.CharField(
        _("type"), max_length=20, choices=Kind.choices, default=Kind.ENFORCEMENT
    )
    department = models.CharField(_("department (unit)"), max_length=100, blank=True)
    post = models.CharField(_("post"), max_length=50, blank=True)
    certificate_number = models.CharField(
        _("enforcement certificate number"), max_length=30, blank=True
    )
    certificate_valid_until = models.DateField(_("certificate valid until"), null=True, blank=True)
    enforcement_scope = models.TextField(_("enforcement type (scope)"), blank=True)
    on_staff = models.BooleanField(_("on staff and in post"), default=True)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, blank=True)
    years_of_service = models.PositiveSmallIntegerField(
        _("years of service"), null=True, blank=True
    )
    expertise = models.JSONField(_("expertise"), default=list, blank=True)
    professional_category = models.CharField(_("professional category"), max_length=50, blank=True)
    region_code = models.CharField(
        _("region"),
        max_length=6,
        blank=True,
        help_text=_("Six-digit administrative division code."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = InspectorQuerySet.as_manager()

    class Meta:
        verbose_name = _("inspector")
        verbose_name_plural = _("inspectors")
        ordering = ["organisation_id", "name", "id"]
        constraints = [
            # Certificate numbers are issued once per person; experts carry none.
            models.UniqueConstraint(
                fields=["certificate_number"],
                condition=Q(kind="enforcement"),
                name="inspector_unique_certificate_enforcement",
            ),
            models.CheckConstraint(
                condition=~Q(kind="enforcement") | ~Q(certificate_number=""),
                name="inspector_enforcement_needs_certificate",
            ),
            models.CheckConstraint(
                condition=~Q(kind="expert") | Q(certificate_number=""),
                name="inspector_expert_has_no_certificate",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["enforcement", "expert"]), name="inspector_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(gender__in=["", "male", "female"]), name="inspector_gender_valid"
            ),
            models.CheckConstraint(
                condition=Q(region_code="") | Q(region_code__regex=r"^[0-9]{6}$"),
                name="inspector_region_code_6_digits",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="inspector_name_not_blank"),
        ]
        indexes = [
            models.Index(fields=["organisation", "kind", "is_active"], name="insp_org_kind_active"),
            models.Index(fields=["certificate_valid_until"], name="insp_cert_valid_until"),
            models.Index(fields=["name"], name="insp_name"),
        ]

    def __str__(self) -> str:
        if self.certificate_number:
            return f"{self.name}（{self.certificate_number}）"
        return self.name

    def is_certified(self, on: date) -> bool:
        """May count as a team member on ``on`` (same rule as ``InspectorQuerySet.certified``)."""
        return (
            self.kind == self.Kind.ENFORCEMENT
            and self.on_staff
            and self.is_active
            and bool(self.certificate_number)
            and self.certificate_valid_until is not None
            and self.certificate_valid_until >= on
        )

    def certificate_status_on(self, on: date) -> str:
        if self.kind != self.Kind.ENFORCEMENT:
            return CertificateStatus.NONE
        if self.certificate_valid_until is None:
            return CertificateStatus.UNKNOWN
        if self.certificate_valid_until < on:
            return CertificateStatus.EXPIRED
        if self.certificate_valid_until <= on + timedelta(days=EXPIRING_WITHIN_DAYS):
            return CertificateStatus.EXPIRING
        return CertificateStatus.VALID

    @property
    def certificate_status(self) -> str:
        return self.certificate_status_on(timezone.localdate())

    def get_certificate_status_display(self) -> str:
        return str(CertificateStatus(self.certificate_status).label)

    def get_expertise_display(self) -> list[str]:
        from core.vocab import Expertise

        labels = dict(Expertise.choices)
        return [str(labels.get(code, code)) for code in self.expertise or []]


class Unavailability(models.Model):
    """A period an inspector cannot be drawn: leave, training, secondment."""

    class Reason(models.TextChoices):
        LEAVE = "leave", _("Leave")
        TRAINING = "training", _("Training")
        SECONDMENT = "secondment", _("Secondment")
        OTHER = "other", _("Other")

    inspector = models.ForeignKey(
        Inspector,
        verbose_name=_("inspector"),
        on_delete=models.CASCADE,
        related_name="unavailabilities",
    )
    start = models.DateField(_("from"))
    end = models.DateField(_("to"))
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("unavailability")
        verbose_name_plural = _("unavailabilities")
        ordering = ["-start", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start__lte=models.F("end")), name="unavail_start_le_end"
            ),
            models.CheckConstraint(
                condition=Q(reason__in=["leave", "training", "secondment", "other"]),
                name="unavail_reason_valid",
            ),
        ]
        indexes = [models.Index(fields=["inspector", "start", "end"], name="unavail_insp_period")]

    def __str__(self) -> str:
        return f"{self.inspector.name} {self.start}–{self.end} {self.get_reason_display()}"


class ConflictQuerySet(models.QuerySet):
    def in_force(self, on: date) -> ConflictQuerySet:
        """Declared, not withdrawn, and ``on`` within its validity."""
        return self.filter(withdrawn_at__isnull=True, valid_from__lte=on).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=on)
        )


class Conflict(models.Model):
    """回避: an inspector must not inspect one source, or any site of one company.

    Exactly one target: a single source, or a company credit code (which covers every
    source sharing it, in any county). Withdrawn conflicts are kept for the record.
    """

    inspector = models.ForeignKey(
        Inspector, verbose_name=_("inspector"), on_delete=models.CASCADE, related_name="conflicts"
    )
    source = models.ForeignKey(
        "registry.PollutionSource",
        verbose_name=_("pollution source"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inspector_conflicts",
    )
    company_uscc = models.CharField(
        _("company credit code"),
        max_length=18,
        blank=True,
        help_text=_("Unified social credit code: the recusal covers every site of the company."),
    )
    reason = models.TextField(_("reason"))
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("declared by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("declared at"), auto_now_add=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("withdrawn by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    withdrawal_reason = models.TextField(_("reason for withdrawal"), blank=True)

    objects = ConflictQuerySet.as_manager()

    class Meta:
        verbose_name = _("conflict of interest")
        verbose_name_plural = _("conflicts of interest")
        ordering = ["-valid_from", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(source__isnull=False) & Q(company_uscc=""))
                | (Q(source__isnull=True) & ~Q(company_uscc="")),
                name="conflict_one_target",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="conflict_reason_required"),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_from__lte=models.F("valid_until")),
                name="conflict_from_le_until",
            ),
        ]
        indexes = [
            models.Index(fields=["company_uscc"], name="conflict_uscc"),
            models.Index(fields=["inspector", "withdrawn_at"], name="conflict_insp_withdrawn"),
        ]

    def __str__(self) -> str:
        target = self.company_uscc or (self.source.name if self.source is not None else "")
        return f"{self.inspector.name} ↔ {target}"

    def is_in_force(self, on: date) -> bool:
        return (
            self.withdrawn_at is None
            and self.valid_from <= on
            and (self.valid_until is None or self.valid_until >= on)
        )


class InspectorChange(models.Model):
    """The registry's own history of one inspector: who changed which field, when."""

    class Action(models.TextChoices):
        CREATE = "create", pgettext_lazy("inspector history", "Created")
        UPDATE = "update", pgettext_lazy("inspector history", "Updated")
        STATUS = "status", _("Status changed")
        AVAILABILITY = "availability", _("Availability changed")
        CONFLICT = "conflict", _("Conflict of interest")

    inspector = models.ForeignKey(
        Inspector, verbose_name=_("inspector"), on_delete=models.CASCADE, related_name="changes"
    )
    at = models.DateTimeField(_("time"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    changes = models.JSONField(_("changes"), default=dict, blank=True)

    class Meta:
        verbose_name = _("inspector change")
        verbose_name_plural = _("inspector changes")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["inspector", "at"], name="inspchange_insp_at")]

    def __str__(self) -> str:
        return f"{self.inspector_id} {self.action} {self.at:%Y-%m-%d %H:%M}"
