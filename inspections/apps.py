from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionsConfig(AppConfig):
    """Inspection tasks, the five result types and follow-up of problems."""

    name = "inspections"
    verbose_name = _("Inspections")

    def ready(self) -> None:
        from inspections import receivers  # noqa: F401
