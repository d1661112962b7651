from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    """Excel and CSV exchange: the import engine, import jobs and whole-registry exports.

    Knows no registry: each app registers its import spec (``register_import``) in its own
    ``ready()``, and the jobs and exports reach it through that spec alone."""

    name = "exchange"
    verbose_name = _("Excel import and export")

    def ready(self):
        from core.navigation import NavItem, nav_register
        from core.roles import Cap

        nav_register(
            NavItem("imports", _("Excel import"), "exchange:import_list", Cap.EDIT_REGISTRY, 40)
        )
