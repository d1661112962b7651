"""Inspector-registry figures for the home pages."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.home import Card
from core.roles import Cap, user_can
from inspectors.selectors import inspector_list_for_user


def cards(user) -> list[Card]:
    if not user_can(user, Cap.VIEW_REGISTRY) or user_can(user, Cap.OWN_TASKS):
        return []
    today = timezone.localdate()
    people = inspector_list_for_user(user=user)
    certified = people.certified(today).count()
    expiring = (
        people.certified(today)
        .filter(certificate_valid_until__lte=today + timedelta(days=60))
        .count()
    )
    return [
        Card(
            "inspectors",
            _("Certified, on-staff inspectors"),
            f"{certified:,}",
            _("%(n)s certificates expire within 60 days") % {"n": expiring},
            reverse("inspectors:inspector_list"),
            "warning" if expiring else "",
        )
    ]
