from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectorsConfig(AppConfig):
    """执法检查人员名录库: certified inspectors, experts, availability, conflicts."""

    name = "inspectors"
    verbose_name = _("Inspector registry")

    def ready(self):
        from core.navigation import NavItem, nav_register
        from core.roles import Cap
        from exchange.specs import register_import

        nav_register(
            NavItem(
                "inspectors",
                _("Inspector registry"),
                "inspectors:inspector_list",
                Cap.VIEW_REGISTRY,
                20,
            )
        )
        register_import(
            "inspectors",
            "inspectors.imports.InspectorImportSpec",
            page="inspectors:inspector_list",
            page_label=_("Open the inspector registry"),
        )
