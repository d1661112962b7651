from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    """检查对象名录库: pollution sources, their classes, tags and history."""

    name = "registry"
    verbose_name = _("Object registry")
