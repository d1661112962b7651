from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublicationConfig(AppConfig):
    """The public portal: item list, plans, draw records and results."""

    name = "publication"
    verbose_name = _("Publication")

    def ready(self):
        from core.navigation import NavItem, nav_register
        from publication import receivers  # noqa: F401

        nav_register(
            NavItem(
                "public_checkitems", _("Check-item list"), "publication:checkitem_list", None, 10
            ),
            NavItem("public_plans", _("Spot-check plans"), "publication:plan_list", None, 20),
            NavItem("public_draws", _("Draw records"), "publication:draw_list", None, 30),
            NavItem("public_results", _("Inspection results"), "publication:result_list", None, 35),
            NavItem(
                "public_audit", _("Audit checkpoints"), "publication:audit_checkpoints", None, 40
            ),
            NavItem("public_disclosure", _("Disclosure rate"), "publication:disclosure", None, 38),
            public=True,
        )
        from core.roles import Cap

        nav_register(
            NavItem("publish", _("Publication"), "publication:manage", Cap.APPROVE, 75),
        )
