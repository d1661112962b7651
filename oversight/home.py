"""The oversight's home cards: the city team, the province and a county leader see this
quarter's standing at a glance, counted from the dashboard's own rows (``bureau_rows`` over
``units_for_user``, this quarter: what the dashboard shows without a query string), so the
card and the page cannot disagree; a fixed number of queries however many units.

The city team also sees which of this quarter's reports are not ready yet (the circular and
the quarterly report; in the fourth quarter the annual report too)."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.home import Card
from core.models import Organisation, Role
from oversight import selectors as sel


def cards(user) -> list[Card]:
    if not sel.can_oversee(user) or user.is_superuser or user.role == Role.ADMIN:
        return []  # the administrator's home is about the system, not one region
    org = user.organisation
    if org is None:
        return []
    period, _message = sel.parse_period({}, timezone.localdate())
    units = sel.units_for_user(user=user)
    if not units:
        return []
    rows = sel.bureau_rows(units=units, period=period)
    result = [_standing_card(user, rows, period)]
    if org.kind == Organisation.Kind.CITY_TEAM:
        result.append(_reports_card(org, period))
    return result


def overdue_counts(rows) -> dict[str, int]:
    """The dashboard's overdue figures added up (its "Overdue items" column and header)."""
    return {
        "red": sum(1 for r in rows if r.tone == sel.RED),
        "late_draws": sum(1 for r in rows if r.deadline["late"]),
        "overdue": sum(r.figure("overdue").value for r in rows),
        "entry_overdue": sum(r.counts["entry_overdue"] for r in rows),
        "publication_overdue": sum(r.counts["publication_overdue"] for r in rows),
    }


def _standing_card(user, rows, period) -> Card:
    counts = overdue_counts(rows)
    note = _(
        "%(year)s Q%(quarter)s. Overdue items: %(overdue)s (result entries %(entries)s, "
        "publications %(publications)s); draws late: %(draws)s."
    ) % {
        "year": period.year,
        "quarter": period.quarter,
        "overdue": counts["overdue"],
        "entries": counts["entry_overdue"],
        "publications": counts["publication_overdue"],
        "draws": counts["late_draws"],
    }
    if user.organisation.kind == Organisation.Kind.COUNTY_BUREAU:  # the own row only
        red = sum(1 for row in rows for f in row.figures if f.tone == sel.RED)
        return Card(
            "oversight",
            _("Figures in red this quarter"),
            str(red),
            note,
            reverse("lottery:quota_overview"),
            "danger" if red else "success",
        )
    return Card(
        "oversight",
        _("Units in red this quarter"),
        f"{counts['red']} / {len(rows)}",
        note,
        reverse("oversight:province")
        if sel.is_province_level(user)
        else reverse("lottery:quota_overview"),
        "danger" if counts["red"] else "success",
    )


def reports_due(org, period) -> list[str]:
    """This quarter's reports of the city team with no finished version (one query): the
    circular, and those the daily deadline job holds it to (``oversight.obligations``: the
    quarterly report and the return to the province; the annual report in the fourth
    quarter)."""
    from oversight.models import Report

    wanted = [
        (Report.Kind.CIRCULAR, period.quarter),
        (Report.Kind.QUARTERLY, period.quarter),
        (Report.Kind.CITY_RETURN, period.quarter),
    ]
    if period.quarter == 4:
        wanted.append((Report.Kind.ANNUAL, 0))
    done = set(
        Report.objects.filter(
            organisation=org,
            year=period.year,
            status=Report.Status.DONE,
            kind__in=[kind for kind, _q in wanted],
        ).values_list("kind", "quarter")
    )
    return [kind for kind, quarter in wanted if (kind, quarter) not in done]


def _reports_card(org, period) -> Card:
    from oversight.models import Report
    from oversight.reports import annual_report_due

    missing = reports_due(org, period)
    labels = dict(Report.Kind.choices)
    if missing:
        note = _("Not ready: %(what)s.") % {"what": "、".join(str(labels[k]) for k in missing)}
        if Report.Kind.ANNUAL in missing:
            due = annual_report_due(period.year)
            if due is not None:
                note += " " + _("The annual report is due on %(d)s.") % {"d": due.isoformat()}
    else:
        note = _("This quarter's reports are ready.")
    return Card(
        "reports",
        _("Reports due this quarter"),
        str(len(missing)),
        note,
        reverse("oversight:reports"),
        "warning" if missing else "success",
    )
