from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Core")

    def ready(self):
        from core.auth import connect_signals
        from core.navigation import core_nav_register

        core_nav_register()
        connect_signals()
