"""Plans, ratio rule sets and draws.

A draw's results are append-only: ``DrawSelection`` and ``TeamAssignment`` rows are written
once, when the draw executes or a substitution is approved, and never updated or deleted (on
PostgreSQL a trigger refuses it). A change is a new, recorded ``Substitution``.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce, Now
from django.utils.translation import gettext_lazy as _

from core.vocab import SupervisionClass


class RuleSet(models.Model):
    """A named list of ratio rules (see ``lottery.rules``): a preset or a bureau's own."""

    organisation = models.ForeignKey(
        "core.Organisation",
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rule_sets",
        help_text=_("Empty for the presets every bureau may use."),
    )
    code = models.SlugField(_("code"), max_length=60)
    name = models.CharField(_("name"), max_length=100)
    source = models.CharField(_("source document"), max_length=200, blank=True)
    rules = models.JSONField(_("rules"), default=list)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("ratio rule set")
        verbose_name_plural = _("ratio rule sets")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "code"], name="ruleset_unique_code"),
            models.UniqueConstraint(
                fields=["code"],
                condition=Q(organisation__isnull=True),
                name="ruleset_unique_preset",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Plan(models.Model):
    """An annual or quarterly spot-check plan: drafted and submitted by a clerk, approved by a
    leader (or returned to draft with a reason), published. Only a draft can be edited."""

    class Kind(models.TextChoices):
        ANNUAL = "annual", _("Annual plan")
        QUARTERLY = "quarterly", _("Quarterly plan")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Awaiting approval")
        APPROVED = "approved", _("Approved")
        PUBLISHED = "published", _("Published")

    organisation = models.ForeignKey(
        "core.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="plans",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    quarter = models.PositiveSmallIntegerField(_("quarter"), null=True, blank=True)
    title = models.CharField(_("title"), max_length=200)
    check_items = models.ManyToManyField(
        "registry.CheckItem", verbose_name=_("check items"), blank=True, related_name="plans"
    )
    classes = models.JSONField(
        _("supervision classes covered"),
        default=list,
        help_text=_("Which classes of objects this plan draws from."),
    )
    ruleset_code = models.CharField(_("rule set"), max_length=60, blank=True)
    ruleset_name = models.CharField(_("rule set name"), max_length=100, blank=True)
    rules = models.JSONField(_("ratio rules"), default=list)
    team_size = models.PositiveSmallIntegerField(_("inspectors per team"), default=2)
    planned_start = models.DateField(_("inspections from"))
    planned_end = models.DateField(_("inspections until"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    # The last return to draft; every earlier one stays in the audit log (plan.return).
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("returned by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    return_reason = models.TextField(_("reason for return"), blank=True)
    # Quarterly draws go in quarter order; a leader may let this plan's draw go before an
    # earlier quarter's published plan is drawn, with a recorded reason (audited, shown).
    early_draw_reason = models.TextField(_("reason for drawing out of order"), blank=True)
    early_draw_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    early_draw_at = models.DateTimeField(_("out-of-order draw allowed at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        ordering = ["-year", "-quarter", "organisation"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="annual", quarter__isnull=True))
                | (Q(kind="quarterly", quarter__gte=1, quarter__lte=4)),
                name="plan_quarter_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(planned_end__gte=models.F("planned_start")), name="plan_dates_ordered"
            ),
            models.CheckConstraint(condition=Q(team_size__gte=2), name="plan_team_at_least_two"),
            models.UniqueConstraint(
                fields=["organisation", "year", "quarter"],
                condition=Q(kind="quarterly"),
                name="plan_one_quarterly_per_quarter",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def period_label(self) -> str:
        if self.quarter:
            return f"{self.year}Q{self.quarter}"
        return str(self.year)


def draw_record_upload_to(draw: "Draw", filename: str) -> str:
    return f"draw-records/{draw.pk}/{filename}"


class Draw(models.Model):
    """One witnessed draw for a quarterly plan: prepare → commit → entropy → execute."""

    class Status(models.TextChoices):
        PREPARED = "prepared", _("Prepared (pools frozen)")
        COMMITTED = "committed", _("Committed (manifest hash published)")
        EXECUTED = "executed", _("Executed")
        DISCARDED = "discarded", _("Discarded before commitment")
        ABANDONED = "abandoned", _("Abandoned after commitment (reason public)")

    #: Statuses of a draw that no longer holds its plan: the plan may be drawn again. A
    #: discarded draw was never public; an abandoned one stays public beside its successor.
    DEAD_STATUSES = ("discarded", "abandoned")

    plan = models.ForeignKey(
        Plan, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="draws"
    )
    organisation = models.ForeignKey(
        "core.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="draws",
    )
    number = models.CharField(_("draw number"), max_length=40, unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PREPARED
    )
    manifest_json = models.TextField(_("manifest (canonical JSON)"))
    manifest_hash = models.CharField(_("manifest hash"), max_length=64, unique=True)
    quotas = models.JSONField(_("quotas and their arithmetic"), default=list)
    witnesses_required = models.PositiveSmallIntegerField(_("witnesses required"), default=2)
    public_value_spec = models.CharField(
        _("public value named in advance"),
        max_length=300,
        blank=True,
        help_text=_("Optional: a public value named before the draw, e.g. a lottery result."),
    )
    # Version 3 (docs §5): the exact number of ASCII digits of each witness value and of the
    # public value, as fixed in the manifest. 0: a draw prepared with version 2 (any digits).
    entropy_digits = models.PositiveSmallIntegerField(_("digits per witness value"), default=0)
    public_value_digits = models.PositiveSmallIntegerField(
        _("digits of the public value"), default=0
    )
    public_value = models.CharField(_("public value"), max_length=300, blank=True)
    # lottery.forecast at prepare: the teams per inspector the engine is expected to give.
    team_forecast = models.JSONField(_("forecast of the teams"), default=dict, blank=True)
    seed = models.CharField(_("seed"), max_length=64, blank=True)
    result = models.JSONField(_("result as computed"), null=True, blank=True)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    prepared_at = models.DateTimeField(_("prepared at"), auto_now_add=True)
    committed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    committed_at = models.DateTimeField(_("committed at"), null=True, blank=True)
    executed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    executed_at = models.DateTimeField(_("executed at"), null=True, blank=True)
    # A committed draw that cannot execute (e.g. a witness cannot be reached, the venue lost
    # power for days) is abandoned by a leader with a public reason, never silently redone.
    abandoned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    abandoned_at = models.DateTimeField(_("abandoned at"), null=True, blank=True)
    abandon_reason = models.TextField(_("reason for abandoning"), blank=True)
    disclosed_at = models.DateTimeField(
        _("disclosed at"),
        null=True,
        blank=True,
        help_text=_("Until then the drawn list is confidential."),
    )
    # The record PDF as last rendered (lottery.records): kept because a large draw's record
    # takes minutes to lay out. Confidential like the list: served only through the view.
    record_pdf = models.FileField(upload_to=draw_record_upload_to, max_length=200, blank=True)
    record_pdf_state = models.CharField(max_length=200, blank=True, editable=False)
    record_pdf_queued = models.CharField(max_length=200, blank=True, editable=False)

    class Meta:
        verbose_name = _("draw")
        verbose_name_plural = _("draws")
        ordering = ["-prepared_at"]
        constraints = [
            # A plan has at most one live draw: once committed it can never be redone.
            models.UniqueConstraint(
                fields=["plan"],
                condition=~Q(status__in=["discarded", "abandoned"]),
                name="draw_one_live_per_plan",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["prepared", "committed", "discarded", "abandoned"])
                | (Q(status="executed") & ~Q(seed="") & Q(executed_at__isnull=False)),
                name="draw_executed_has_seed",
            ),
            models.CheckConstraint(
                condition=~Q(status="abandoned")
                | (
                    Q(abandoned_at__isnull=False)
                    & ~Q(abandon_reason="")
                    & Q(committed_at__isnull=False)
                    & Q(seed="")
                ),
                name="draw_abandoned_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class DrawExclusion(models.Model):
    """A source left out of a pool at preparation, with the reason (published with the draw)."""

    class Reason(models.TextChoices):
        SUSPENDED = "suspended", _("Suspended (停产)")
        CANCELLED = "cancelled", _("Cancelled (注销)")
        POSITIVE_LIST = "positive_list", _("On the positive list (exempt)")
        FREQUENCY_CAP = "frequency_cap", _("Checked the maximum times this year")

    draw = models.ForeignKey(Draw, on_delete=models.CASCADE, related_name="exclusions")
    source = models.ForeignKey(
        "registry.PollutionSource", on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    detail = models.CharField(_("detail"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("exclusion")
        verbose_name_plural = _("exclusions")
        constraints = [
            models.UniqueConstraint(fields=["draw", "source"], name="exclusion_once_per_draw")
        ]

    def __str__(self) -> str:
        return f"{self.source_id}: {self.reason}"


class DrawEntropy(models.Model):
    """A witness's contribution to the seed, entered at the ceremony after commitment."""

    draw = models.ForeignKey(Draw, on_delete=models.PROTECT, related_name="entropy")
    position = models.PositiveSmallIntegerField(_("order"))
    witness_name = models.CharField(_("witness"), max_length=50)
    witness_role = models.CharField(_("witness's role"), max_length=100, blank=True)
    value = models.CharField(_("value"), max_length=100)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    entered_at = models.DateTimeField(_("entered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("entropy contribution")
        verbose_name_plural = _("entropy contributions")
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["draw", "position"], name="entropy_position_unique")
        ]

    def __str__(self) -> str:
        return f"{self.witness_name}: {self.value}"


class Substitution(models.Model):
    """A recorded change to a fixed draw (recusal, a closed source), approved by a leader."""

    class Kind(models.TextChoices):
        OBJECT = "object", _("Replace a drawn source")
        INSPECTOR = "inspector", _("Replace an inspector")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    draw = models.ForeignKey(Draw, on_delete=models.PROTECT, related_name="substitutions")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    selection = models.ForeignKey(
        "DrawSelection",
        verbose_name=_("drawn source"),
        on_delete=models.PROTECT,
        related_name="substitutions",
    )
    inspector = models.ForeignKey(
        "inspectors.Inspector",
        verbose_name=_("inspector to replace"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.REQUESTED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        verbose_name = _("substitution")
        verbose_name_plural = _("substitutions")
        ordering = ["requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="object", inspector__isnull=True)
                | Q(kind="inspector", inspector__isnull=False),
                name="substitution_inspector_matches_kind",
            ),
            # One open request per drawn source and inspector (0 stands for "the source").
            models.UniqueConstraint(
                models.F("selection"),
                Coalesce("inspector", 0),
                condition=Q(status="requested"),
                name="substitution_one_open_request",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.draw} · {self.get_kind_display()}"


class DrawSelection(models.Model):
    """A drawn source (append-only). ``substitution`` is set on replacements."""

    class Mode(models.TextChoices):
        ON_SITE = "on_site", _("On-site inspection")
        OFF_SITE = "off_site", _("Off-site supervision (positive list)")

    # No index of its own on draw: the unique constraints below begin with it.
    draw = models.ForeignKey(
        Draw, on_delete=models.PROTECT, related_name="selections", db_index=False
    )
    stratum = models.CharField(_("class"), max_length=20, choices=SupervisionClass.choices)
    position = models.PositiveIntegerField(_("position in the verifiable order"))
    source = models.ForeignKey(
        "registry.PollutionSource",
        verbose_name=_("source"),
        on_delete=models.PROTECT,
        related_name="draw_selections",
    )
    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices, default=Mode.ON_SITE)
    joint = models.BooleanField(_("internal joint inspection"), default=False)
    # At most one replacement per substitution (the partial unique constraint below): the
    # draw's own rows, thousands per draw, have none and stay out of that index.
    substitution = models.ForeignKey(
        Substitution,
        verbose_name=_("replaces, by substitution"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replacement_selection",
        db_index=False,
    )
    # Set by the database (the transaction's time): a draw writes thousands of rows.
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        verbose_name = _("drawn source")
        verbose_name_plural = _("drawn sources")
        ordering = ["draw", "stratum", "position"]
        constraints = [
            models.UniqueConstraint(fields=["draw", "source"], name="selection_source_once"),
            models.UniqueConstraint(
                fields=["draw", "stratum", "position"], name="selection_position_once"
            ),
            models.UniqueConstraint(
                fields=["substitution"],
                condition=models.Q(substitution__isnull=False),
                name="selection_replaces_once",
            ),
        ]
        permissions = [("view_drawn_task", _("Can see this drawn source before disclosure"))]

    def __str__(self) -> str:
        return f"{self.draw} #{self.position} {self.source_id}"


class TeamAssignment(models.Model):
    """An inspector in the team for a drawn source (append-only)."""

    class Role(models.TextChoices):
        LEADER = "leader", _("Team leader")
        MEMBER = "member", _("Member")
        EXPERT = "expert", _("Technical expert (assists)")

    # No index of its own on selection: assignment_once begins with it.
    selection = models.ForeignKey(
        DrawSelection, on_delete=models.PROTECT, related_name="team", db_index=False
    )
    inspector = models.ForeignKey(
        "inspectors.Inspector",
        verbose_name=_("inspector"),
        on_delete=models.PROTECT,
        related_name="assignments",
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    substitution = models.ForeignKey(
        Substitution,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replacement_assignments",
        db_index=False,  # partial index below: most rows have none
    )
    # Set by the database (the transaction's time): a draw writes thousands of rows.
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        verbose_name = _("team assignment")
        verbose_name_plural = _("team assignments")
        constraints = [
            # Once per team snapshot (0 stands for the draw's own snapshot).
            models.UniqueConstraint(
                models.F("selection"),
                models.F("inspector"),
                Coalesce("substitution", 0),
                name="assignment_once",
            ),
        ]
        indexes = [
            models.Index(
                fields=["substitution"],
                condition=models.Q(substitution__isnull=False),
                name="assignment_by_substitution",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.selection_id}: {self.inspector_id} ({self.role})"


class CompletedCheck(models.Model):
    """A drawn source's spot check was completed (append-only): the lottery's own record of the
    inspection fact that coverage and the frequency cap rest on (docs/coverage.md).

    Written once, by ``lottery.services.check_completed_record``, when the inspection of the
    drawn source is approved; never updated or deleted (on PostgreSQL a trigger refuses it).
    A targeted check has no drawn source, so it never has one. ``check_items`` are the items
    the check covered (the drawn task's, i.e. its plan's); ``recorded_at`` says which later
    draws may have read the fact (``lottery.selectors.earlier_draws``).
    """

    selection = models.OneToOneField(
        DrawSelection,
        verbose_name=_("drawn source"),
        on_delete=models.PROTECT,
        related_name="completed_check",
    )
    completed_on = models.DateField(_("check completed on"))
    check_items = models.ManyToManyField(
        "registry.CheckItem", verbose_name=_("check items"), related_name="+", blank=True
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("completed spot check")
        verbose_name_plural = _("completed spot checks")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.selection_id} · {self.completed_on}"


class DeadlineRegime(models.Model):
    """A bureau's deadlines as data (``lottery.deadline_rules``): a preset per seed (no
    organisation), or an organisation's own editable copy (at most one). Unlike a plan's ratio
    rules, nothing is frozen: a change applies to every deadline computed from then on."""

    organisation = models.OneToOneField(
        "core.Organisation",
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deadline_regime",
        help_text=_("Empty for the presets."),
    )
    code = models.SlugField(_("code"), max_length=60)
    name = models.CharField(_("name"), max_length=100)
    source = models.CharField(_("source document"), max_length=200, blank=True)
    based_on = models.CharField(_("copied from preset"), max_length=60, blank=True)
    rules = models.JSONField(_("deadline rules"), default=dict)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("deadline regime")
        verbose_name_plural = _("deadline regimes")
        constraints = [
            models.UniqueConstraint(
                fields=["code"],
                condition=Q(organisation__isnull=True),
                name="deadline_regime_unique_preset",
            ),
        ]

    def __str__(self) -> str:
        return self.name
