from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LotteryConfig(AppConfig):
    """Plans, ratio rules and the provably fair draw (摇号)."""

    name = "lottery"
    verbose_name = _("Plans and draws")

    def ready(self) -> None:
        from core.audit import audit_cross_check_register
        from core.navigation import NavItem, nav_register
        from core.roles import Cap
        from lottery.verification import draws_against_trail

        nav_register(
            NavItem("plans", _("Plans"), "lottery:plan_list", Cap.VIEW_PLANS, 50),
            NavItem("draws", _("Draws"), "lottery:draw_list", Cap.VIEW_DRAWS, 60),
            NavItem(
                "approvals", _("Waiting for my approval"), "lottery:approvals", Cap.APPROVE, 70
            ),
            NavItem(
                "review", _("County review"), "lottery:quota_overview", Cap.REVIEW_COUNTIES, 90
            ),
        )
        audit_cross_check_register(draws_against_trail)
