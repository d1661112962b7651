"""What must be done by when (obligations), and what people were told (notifications).

An obligation is derived from state by the daily job (``deadlines.services.deadlines_run``):
the quarterly plan and draw of each bureau, each ended check's result entry and publication,
and the warnings (certificates, leave in a plan's period, a missing holiday schedule). Its
``key`` names the thing it concerns, so the job making it twice makes it once.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Obligation(models.Model):
    class Kind(models.TextChoices):
        CHECK_ITEMS = "check_items", _("Check-item list for the year")
        ANNUAL_PLAN = "annual_plan", _("Annual plan")
        QUARTERLY_PLAN = "quarterly_plan", _("Quarterly plan")
        QUARTERLY_DRAW = "quarterly_draw", _("Quarterly draw")
        RESULT_ENTRY = "result_entry", _("Result entry")
        RESULT_PUBLICATION = "result_publication", _("Result publication")
        QUARTER_DONE = "quarter_done", _("Quarter's checks done and returned")
        CERTIFICATE = "certificate", _("Enforcement certificate expiring")
        LEAVE = "leave", _("Inspector unavailable during a plan's period")
        CALENDAR = "calendar", _("Holiday schedule not loaded")
        # Reports and returns of the oversight (registered by ``oversight`` as a provider).
        QUARTERLY_REPORT = "quarterly_report", _("Quarterly report to the province")
        ANNUAL_REPORT = "annual_report", _("Annual report and statistics table")
        CITY_RETURN = "city_return", _("City team's return to the province")
        YEAR_END_REPORT = "year_end_report", _("Year-end report to the city bureau")

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        REMINDED = "reminded", _("Reminded")
        DONE = "done", _("Done")
        OVERDUE = "overdue", _("Overdue")
        ESCALATED = "escalated", _("Escalated")

    class Responsible(models.TextChoices):
        CLERK = "clerk", _("Bureau clerk")
        LEADER = "leader", _("Bureau leader")
        TEAM = "team", _("The inspection team")
        REVIEWER = "reviewer", _("City team reviewer")
        ADMIN = "admin", _("System administrator")

    organisation = models.ForeignKey(
        "core.Organisation",
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    key = models.CharField(_("concerns"), max_length=100)
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    quarter = models.PositiveSmallIntegerField(_("quarter"), null=True, blank=True)
    # The object it concerns (typed, nullable: at most one is set).
    plan = models.ForeignKey(
        "lottery.Plan", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    task = models.ForeignKey(
        "inspections.InspectionTask",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    inspector = models.ForeignKey(
        "inspectors.Inspector", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    responsible = models.CharField(_("responsible"), max_length=10, choices=Responsible.choices)
    responsible_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(_("title"), max_length=300)
    link = models.CharField(_("link"), max_length=300, blank=True)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    opens_on = models.DateField(_("not before"), null=True, blank=True)
    remind_on = models.DateField(_("remind on"), null=True, blank=True)
    due_problem = models.CharField(_("why no due date"), max_length=200, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    overdue_at = models.DateTimeField(_("overdue at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        verbose_name = _("obligation")
        verbose_name_plural = _("obligations")
        ordering = ["due_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "key"], name="obligation_unique_key"),
            models.CheckConstraint(
                condition=Q(state__in=["open", "reminded", "done", "overdue", "escalated"]),
                name="obligation_state_valid",
            ),
        ]
        indexes = [models.Index(fields=["state", "due_on"], name="obligation_state_due")]

    def __str__(self) -> str:
        return self.title


class Notification(models.Model):
    """One message to one person: a reminder, an overdue notice, an escalation or a warning.
    Each obligation tells each person at each stage once (the unique constraint)."""

    class Stage(models.TextChoices):
        REMINDER = "reminder", _("Reminder")
        OVERDUE = "overdue", _("Overdue")
        ESCALATION = "escalation", _("Escalation")
        WARNING = "warning", _("Warning")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    obligation = models.ForeignKey(
        Obligation, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices)
    text = models.CharField(_("text"), max_length=500)
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "obligation", "stage"], name="notification_once_per_stage"
            )
        ]
        indexes = [
            models.Index(
                fields=["recipient"],
                condition=Q(read_at__isnull=True),
                name="notification_unread",
            )
        ]

    def __str__(self) -> str:
        return self.text
