"""Reads of the public portal: what anyone may see without logging in.

A draw becomes public when it is committed (its manifest hash, quotas and pool sizes); its
manifest once the earlier draws whose results it embeds are disclosed
(``lottery.selectors.can_see_manifest``); its drawn list, teams, witness values and seed only
once it is disclosed, after the inspections. Prepared (uncommitted) and discarded draws are
never shown.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from core.models import Organisation
from lottery.models import Draw

PUBLIC_STATUSES = [Draw.Status.COMMITTED, Draw.Status.EXECUTED]


def public_draw_list(*, division_code: str = "") -> QuerySet[Draw]:
    qs = Draw.objects.filter(status__in=PUBLIC_STATUSES).select_related("organisation", "plan")
    if division_code:
        qs = qs.filter(organisation__division_code__startswith=division_code)
    return qs.order_by("-committed_at", "-pk")


def public_draw_get(*, pk: int) -> Draw:
    try:
        return public_draw_list().get(pk=pk)
    except Draw.DoesNotExist as exc:
        raise Http404 from exc


def is_disclosed(draw: Draw) -> bool:
    """The full record is public: executed, and the disclosure date has been reached."""
    return draw.status == Draw.Status.EXECUTED and draw.disclosed_at is not None


def public_organisations() -> QuerySet[Organisation]:
    """Bureaus that have at least one public draw (for the list's filter)."""
    return (
        Organisation.objects.filter(draws__status__in=PUBLIC_STATUSES)
        .distinct()
        .order_by("division_code", "kind")
    )
