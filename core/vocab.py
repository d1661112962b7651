"""Vocabularies shared by several apps (stored values are stable English codes)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Expertise(models.TextChoices):
    """业务专长: what an inspector knows and what a check item requires."""

    HAZARDOUS_WASTE = "hazardous_waste", _("Hazardous waste")
    RADIATION = "radiation", _("Radiation safety")
    AUTO_MONITORING = "auto_monitoring", _("Automatic monitoring")
    AIR = "air", _("Air")
    WATER = "water", _("Water")
    SOIL = "soil", _("Soil")
    NOISE = "noise", _("Noise")
    SOLID_WASTE = "solid_waste", _("Solid waste")
    EIA = "eia", _("Environmental impact assessment")
    PERMIT = "permit", _("Discharge permits")


class SupervisionClass(models.TextChoices):
    KEY = "key", _("Key object")
    GENERAL = "general", _("General object")
    SPECIAL = "special", _("Special object")


class CheckMethod(models.TextChoices):
    ON_SITE = "on_site", _("On-site inspection")
    DOCUMENTARY = "documentary", _("Documentary review")
    OFF_SITE = "off_site", _("Off-site supervision")
