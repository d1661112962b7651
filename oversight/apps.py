from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OversightConfig(AppConfig):
    """City and province oversight: the dashboard of every county's figures, drill-downs,
    the province's view of its cities and a bureau's own view (issue 14)."""

    name = "oversight"
    verbose_name = _("Oversight")

    def ready(self) -> None:
        from core.navigation import NavItem, nav_register
        from core.roles import Cap
        from deadlines.providers import register
        from exchange.stalled import register as register_stalled
        from oversight.jobs import STALLED_BUILDS
        from oversight.obligations import PROVIDER

        register(PROVIDER)  # the reports' and returns' deadlines in the daily job
        for kind in STALLED_BUILDS:  # builds whose worker was lost: the jobs-stalled-sweep
            register_stalled(kind)

        nav_register(
            NavItem("oversight", _("Oversight"), "oversight:index", Cap.VIEW_REPORTS, 91),
            NavItem(
                "oversight_reports", _("Oversight reports"), "oversight:reports", Cap.VIEW_DRAWS, 93
            ),
            NavItem(
                "oversight_reports_city",
                _("Oversight reports"),
                "oversight:reports",
                Cap.VIEW_REPORTS,
                93,
            ),
            NavItem("oversight_filings", _("Filed draws"), "oversight:filings", Cap.VIEW_DRAWS, 94),
            NavItem(
                "oversight_filings_city",
                _("Filed draws"),
                "oversight:filings",
                Cap.VIEW_REPORTS,
                94,
            ),
            NavItem("oversight_archives", _("Archives"), "oversight:archives", Cap.VIEW_DRAWS, 95),
            NavItem(
                "oversight_archives_city",
                _("Archives"),
                "oversight:archives",
                Cap.REVIEW_COUNTIES,
                95,
            ),
            NavItem(
                "oversight_bureau",
                _("Our bureau's figures"),
                "oversight:bureau",
                Cap.VIEW_DRAWS,
                92,
            ),
        )
