from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublicationConfig(AppConfig):
    """The public portal: item list, plans, draw records and results."""

    name = "publication"
    verbose_name = _("Publication")
