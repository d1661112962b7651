from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LotteryConfig(AppConfig):
    """Plans, ratio rules and the provably fair draw (摇号)."""

    name = "lottery"
    verbose_name = _("Plans and draws")

    def ready(self) -> None:
        from core.audit import audit_cross_check_register
        from lottery.verification import draws_against_trail

        audit_cross_check_register(draws_against_trail)
