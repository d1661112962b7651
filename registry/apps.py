from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    """检查对象名录库: pollution sources, their classes, tags and history."""

    name = "registry"
    verbose_name = _("Object registry")

    def ready(self):
        from core.navigation import NavItem, nav_register
        from core.roles import Cap
        from exchange.specs import register_import

        nav_register(
            NavItem("sources", _("Object registry"), "registry:source_list", Cap.VIEW_REGISTRY, 10),
            NavItem(
                "checkitems", _("Check-item list"), "registry:checkitem_list", Cap.VIEW_REGISTRY, 30
            ),
        )
        register_import(
            "sources",
            "registry.imports.SourceImportSpec",
            page="registry:source_list",
            page_label=_("Open the object registry"),
        )
