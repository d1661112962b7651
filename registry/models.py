"""检查对象名录库 and 抽查事项清单: pollution sources, their history, and the check-item list.

One ``PollutionSource`` row is one site (点位): a company with several sites has several rows
sharing a credit code, each with its own ``source_code``. Rows are never deleted; a closed
site is ``cancelled``. Every write goes through ``registry.services``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.models import Organisation
from core.vocab import CheckMethod, SupervisionClass


class ManagedBy(models.TextChoices):
    CITY = "city", _("City-managed")
    COUNTY = "county", _("County-managed")


class PermitCategory(models.TextChoices):
    KEY = "key", _("Key management")
    SIMPLIFIED = "simplified", _("Simplified management")
    REGISTRATION = "registration", _("Registration management")
    NONE = "none", _("None")


class CreditRating(models.TextChoices):
    GREEN = "green", _("Environmentally trustworthy (green)")
    BLUE = "blue", _("Good (blue)")
    YELLOW = "yellow", _("Warning (yellow)")
    RED = "red", _("Poor (red)")
    BLACK = "black", _("Seriously untrustworthy (black)")
    UNRATED = "unrated", _("Not rated")


class MarketRiskClass(models.TextChoices):
    A = "A", _("Low risk")
    B = "B", _("Ordinary risk")
    C = "C", _("Elevated risk")
    D = "D", _("High risk")
    UNRATED = "unrated", _("Not classified")


class WeatherGrade(models.TextChoices):
    """重污染天气重点行业绩效分级."""

    A = "A", _("Grade A")
    B = "B", _("Grade B")
    C = "C", _("Grade C")
    D = "D", _("Grade D")
    LEADING = "leading", _("Leading enterprise")
    NONE = "none", _("Not graded")


class PollutionType(models.TextChoices):
    WATER = "water", _("Waste water")
    AIR = "air", _("Waste gas")
    HAZARDOUS_WASTE = "hazardous_waste", _("Hazardous waste")
    SOIL = "soil", _("Soil")
    NOISE = "noise", _("Noise")
    SOLID_WASTE = "solid_waste", _("Solid waste")
    OTHER = "other", _("Other")


class HazardousWasteRole(models.TextChoices):
    NONE = "none", _("None")
    GENERATOR = "generator", _("Generator")
    OPERATOR = "operator", _("Licensed operator")


class SourceStatus(models.TextChoices):
    ACTIVE = "active", _("Normal")
    CHANGED = "changed", _("Changed")
    SUSPENDED = "suspended", _("Production suspended")
    CANCELLED = "cancelled", _("Cancelled")


def _in(field: str, choices: type[models.TextChoices]) -> Q:
    return Q(**{f"{field}__in": choices.values})


class PollutionSource(models.Model):
    """污染源/检查对象: one supervised site."""

    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("supervising organisation"),
        on_delete=models.PROTECT,
        related_name="sources",
        db_index=False,  # led by the composite indexes below
    )
    managed_by = models.CharField(
        _("managed by"), max_length=10, choices=ManagedBy.choices, default=ManagedBy.COUNTY
    )
    # Unique within the supervising organisation, not nationally: a bureau's import must not
    # learn that another bureau registered a code (see the constraint below and README,
    # Security). A pool that spans bureaus refuses a code it holds twice (lottery.Pools).
    source_code = models.CharField(_("source code"), max_length=40, db_index=True)
    name = models.CharField(_("source name"), max_length=200)
    company_name = models.CharField(_("company name"), max_length=200)
    uscc = models.CharField(
        _("unified social credit code"), max_length=18, blank=True, db_index=True
    )
    uscc_checksum_ok = models.BooleanField(_("credit code check digit correct"), default=True)
    org_code = models.CharField(_("organisation code"), max_length=12, blank=True)
    permit_number = models.CharField(_("discharge permit number"), max_length=40, blank=True)
    permit_category = models.CharField(
        _("permit management category"),
        max_length=12,
        choices=PermitCategory.choices,
        default=PermitCategory.NONE,
    )
    permit_valid_from = models.DateField(_("permit valid from"), null=True, blank=True)
    permit_valid_until = models.DateField(_("permit valid until"), null=True, blank=True)
    legal_representative = models.CharField(_("legal representative"), max_length=50, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    county_code = models.CharField(_("county division code"), max_length=6, blank=True)
    town = models.CharField(_("town or subdistrict"), max_length=50, blank=True)
    industry_code = models.CharField(_("industry code"), max_length=5, blank=True)
    industry_name = models.CharField(_("industry"), max_length=100, blank=True)
    supervision_class = models.CharField(
        _("supervision class"),
        max_length=10,
        choices=SupervisionClass.choices,
        default=SupervisionClass.GENERAL,
    )
    special_reason = models.TextField(_("reason for special supervision"), blank=True)
    positive_list = models.BooleanField(_("on the positive list"), default=False)
    positive_list_until = models.DateField(_("positive list until"), null=True, blank=True)
    credit_rating = models.CharField(
        _("environmental credit rating"),
        max_length=10,
        choices=CreditRating.choices,
        default=CreditRating.UNRATED,
    )
    market_risk_class = models.CharField(
        _("market supervision credit risk class"),
        max_length=10,
        choices=MarketRiskClass.choices,
        default=MarketRiskClass.UNRATED,
    )
    weather_grade = models.CharField(
        _("heavy-pollution-weather performance grade"),
        max_length=10,
        choices=WeatherGrade.choices,
        default=WeatherGrade.NONE,
    )
    pollution_types = models.JSONField(_("pollution types"), default=list, blank=True)
    hazardous_waste_role = models.CharField(
        _("hazardous waste role"),
        max_length=10,
        choices=HazardousWasteRole.choices,
        default=HazardousWasteRole.NONE,
    )
    violation_record = models.TextField(_("violation record"), blank=True)
    last_penalty_date = models.DateField(_("last penalty date"), null=True, blank=True)
    complaints_12m = models.PositiveIntegerField(_("complaints in the last 12 months"), default=0)
    status = models.CharField(
        _("status"), max_length=10, choices=SourceStatus.choices, default=SourceStatus.ACTIVE
    )
    status_date = models.DateField(_("status date"), null=True, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    latitude = models.DecimalField(
        _("latitude"), max_digits=8, decimal_places=6, null=True, blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("pollution source")
        verbose_name_plural = _("pollution sources")
        ordering = ["source_code"]
        indexes = [
            # The list's usual filter: one bureau's objects of a class in a status.
            models.Index(
                fields=["organisation", "supervision_class", "status"], name="source_org_class_st"
            ),
            # Substring search on name and company name: PostgreSQL gets trigram GIN indexes
            # in migration 0002 (not declared here: SQLite has no equivalent).
        ]
        constraints = [
            models.CheckConstraint(
                condition=_in("managed_by", ManagedBy), name="source_managed_by"
            ),
            models.CheckConstraint(
                condition=_in("permit_category", PermitCategory), name="source_permit_category"
            ),
            models.CheckConstraint(
                condition=_in("supervision_class", SupervisionClass), name="source_class"
            ),
            models.CheckConstraint(
                condition=_in("credit_rating", CreditRating), name="source_credit_rating"
            ),
            models.CheckConstraint(
                condition=_in("market_risk_class", MarketRiskClass), name="source_market_risk"
            ),
            models.CheckConstraint(
                condition=_in("weather_grade", WeatherGrade), name="source_weather_grade"
            ),
            models.CheckConstraint(
                condition=_in("hazardous_waste_role", HazardousWasteRole), name="source_hw_role"
            ),
            models.CheckConstraint(condition=_in("status", SourceStatus), name="source_status"),
            models.UniqueConstraint(
                fields=["organisation", "source_code"], name="source_unique_org_code"
            ),
            models.CheckConstraint(condition=~Q(source_code=""), name="source_code_not_blank"),
            models.CheckConstraint(
                condition=~Q(supervision_class=SupervisionClass.SPECIAL) | ~Q(special_reason=""),
                name="source_special_needs_reason",
            ),
            models.CheckConstraint(
                condition=Q(uscc="") | Q(uscc__regex=r"^[0-9A-HJ-NP-RTUW-Y]{18}$"),
                name="source_uscc_normalised",
            ),
            models.CheckConstraint(
                condition=Q(county_code="") | Q(county_code__regex=r"^[0-9]{6}$"),
                name="source_county_code_6_digits",
            ),
            models.CheckConstraint(
                condition=Q(industry_code="") | Q(industry_code__regex=r"^[A-T]([0-9]{2,4})?$"),
                name="source_industry_code_gbt4754",
            ),
            models.CheckConstraint(
                condition=Q(permit_valid_from__isnull=True)
                | Q(permit_valid_until__isnull=True)
                | Q(permit_valid_from__lte=F("permit_valid_until")),
                name="source_permit_dates_ordered",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="source_longitude_range",
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="source_latitude_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.source_code})"


class SourceChangeAction(models.TextChoices):
    # A context keeps these short words from taking other catalogs' translations.
    CREATE = "create", pgettext_lazy("source history", "Created")
    UPDATE = "update", pgettext_lazy("source history", "Updated")
    STATUS = "status", pgettext_lazy("source history", "Status changed")


class SourceChange(models.Model):
    """One entry of a source's change history (变更记录): which fields changed, old → new."""

    Action = SourceChangeAction

    source = models.ForeignKey(
        PollutionSource,
        verbose_name=_("pollution source"),
        on_delete=models.CASCADE,
        related_name="changes",
        # "sourcechange_source_at" (source, -at) serves every lookup by source: a second
        # index on source alone would only slow the history rows a bulk import writes.
        db_index=False,
    )
    at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Kept even if the account is later renamed or removed: history must still say who.
    actor_name = models.CharField(_("changed by"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    changes = models.JSONField(_("changes"), default=dict, blank=True)

    class Meta:
        verbose_name = _("source change")
        verbose_name_plural = _("source changes")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["source", "-at"], name="sourcechange_source_at")]
        constraints = [
            models.CheckConstraint(
                condition=_in("action", SourceChangeAction), name="sourcechange_action"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


class CheckItem(models.Model):
    """抽查事项清单: one item of a bureau's yearly list. Frozen once published."""

    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="check_items",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    code = models.CharField(_("item code"), max_length=20)
    name = models.CharField(_("item name"), max_length=200)
    legal_basis = models.TextField(_("legal basis"))
    checking_body = models.CharField(_("checking body"), max_length=100)
    # Joint inspections (004 §二(五)): the section of the bureau that leads the item and
    # the sections (or other departments) that cooperate on it.
    responsible_section = models.CharField(_("responsible section"), max_length=100, blank=True)
    cooperating_sections = models.CharField(_("cooperating sections"), max_length=300, blank=True)
    target_objects = models.TextField(_("objects checked"), blank=True)
    target_classes = models.JSONField(_("supervision classes checked"), default=list, blank=True)
    content = models.TextField(_("check content"), blank=True)
    method = models.CharField(
        _("check method"), max_length=12, choices=CheckMethod.choices, default=CheckMethod.ON_SITE
    )
    is_key_item = models.BooleanField(_("key item"), default=False)
    required_expertise = models.JSONField(_("required expertise"), default=list, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("check item")
        verbose_name_plural = _("check items")
        ordering = ["organisation", "-year", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "year", "code"], name="checkitem_unique_org_year_code"
            ),
            models.CheckConstraint(condition=_in("method", CheckMethod), name="checkitem_method"),
            models.CheckConstraint(
                condition=Q(year__gte=2000, year__lte=2100), name="checkitem_year_range"
            ),
            models.CheckConstraint(condition=~Q(code=""), name="checkitem_code_not_blank"),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.code} {self.name}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None
