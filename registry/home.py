"""Registry figures for the home pages."""

from django.db.models import Count
from django.urls import reverse
from django.utils.translation import gettext as _

from core.home import Card
from core.roles import Cap, user_can
from core.vocab import SupervisionClass
from registry.selectors import source_list_for_user


def cards(user) -> list[Card]:
    if not user_can(user, Cap.VIEW_REGISTRY) or user_can(user, Cap.OWN_TASKS):
        return []
    counts = dict(
        source_list_for_user(user=user)
        .exclude(status="cancelled")
        .order_by()
        .values_list("supervision_class")
        .annotate(n=Count("pk"))
    )
    total = sum(counts.values())
    note = " · ".join(
        f"{label} {counts.get(value, 0)}" for value, label in SupervisionClass.choices
    )
    return [
        Card(
            "sources",
            _("Sources in the registry"),
            f"{total:,}",
            note,
            reverse("registry:source_list"),
        )
    ]
