from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionsConfig(AppConfig):
    """Inspection tasks, the five result types and follow-up of problems."""

    name = "inspections"
    verbose_name = _("Inspections")

    def ready(self) -> None:
        from core.navigation import NavItem, nav_register
        from core.roles import Cap
        from inspections import receivers  # noqa: F401

        nav_register(
            NavItem("tasks", _("My tasks"), "inspections:my_tasks", Cap.OWN_TASKS, 80),
            NavItem("inspections", _("Inspections"), "inspections:board", Cap.VIEW_DRAWS, 65),
        )
