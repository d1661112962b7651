"""Reads of the public portal: what anyone may see without logging in.

A draw becomes public when it is committed (its manifest hash, quotas and pool sizes); its
manifest once the earlier draws whose results it embeds are disclosed
(``lottery.selectors.can_see_manifest``); its drawn list, teams, witness values and seed only
once it is disclosed, after the inspections. Prepared (uncommitted) and discarded draws are
never shown; an abandoned draw (committed, never executed) stays public with its reason. Plans and check items are public once published (below).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet
from django.http import Http404

from core.models import Organisation
from lottery.models import Draw, Plan
from registry.models import CheckItem
from registry.selectors import checkitem_list_published

# An abandoned draw was committed, so it stays public (with its reason) beside the draw that
# replaced it: a commitment never disappears.
PUBLIC_STATUSES = [Draw.Status.COMMITTED, Draw.Status.EXECUTED, Draw.Status.ABANDONED]


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


def public_sibling_draws(draw: Draw) -> list[Draw]:
    """The other public draws of the same plan, in order of commitment: an abandoned
    commitment and the draw that replaced it are always shown together."""
    return list(
        public_draw_list()
        .filter(plan_id=draw.plan_id)
        .exclude(pk=draw.pk)
        .order_by("committed_at", "pk")
    )


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


# --- plans and the check-item list ------------------------------------------------------
# A plan is public once published (never a draft or an approved plan waiting to be
# published); a check item once its bureau has published it (after which it is frozen).


def in_organisation_tree(organisation_id: int, *, field: str = "organisation") -> Q:
    """Records of an organisation and of everything under it in the tree (a province, its
    city bureaus, and their teams and county bureaus: three levels, so three joins)."""
    return (
        Q(**{f"{field}_id": organisation_id})
        | Q(**{f"{field}__parent_id": organisation_id})
        | Q(**{f"{field}__parent__parent_id": organisation_id})
    )


def public_plan_list(
    *, organisation_id: int | None = None, year: int | None = None
) -> QuerySet[Plan]:
    """Published plans, newest period first, each with the number of its public draws."""
    qs = (
        Plan.objects.filter(status=Plan.Status.PUBLISHED, published_at__isnull=False)
        .select_related("organisation")
        .annotate(public_draws=Count("draws", filter=Q(draws__status__in=PUBLIC_STATUSES)))
    )
    if organisation_id is not None:
        qs = qs.filter(in_organisation_tree(organisation_id))
    if year is not None:
        qs = qs.filter(year=year)
    return qs.order_by(
        "-year",
        F("quarter").desc(nulls_first=True),
        "organisation__division_code",
        "organisation__kind",
        "pk",
    )


def public_plan_get(*, pk: int) -> Plan:
    """One published plan, or 404 (a draft or an unpublished plan does not exist publicly)."""
    try:
        return public_plan_list().get(pk=pk)
    except Plan.DoesNotExist as exc:
        raise Http404 from exc


def public_plan_draws(plan: Plan) -> QuerySet[Draw]:
    """The plan's draws that the public may see, as the draw pages show them."""
    return public_draw_list().filter(plan=plan)


def public_plan_years() -> list[int]:
    return list(
        Plan.objects.filter(status=Plan.Status.PUBLISHED, published_at__isnull=False)
        .order_by("-year")
        .values_list("year", flat=True)
        .distinct()
    )


def public_checkitem_list(
    *, organisation_id: int | None = None, year: int | None = None
) -> QuerySet[CheckItem]:
    """Published check items (随机抽查事项清单), one bureau's list after another."""
    qs = checkitem_list_published(year=year)
    if organisation_id is not None:
        qs = qs.filter(in_organisation_tree(organisation_id))
    return qs.order_by("-year", "organisation__division_code", "organisation__kind", "code")


def public_checkitem_years() -> list[int]:
    return list(
        CheckItem.objects.filter(published_at__isnull=False)
        .order_by("-year")
        .values_list("year", flat=True)
        .distinct()
    )


@dataclass(frozen=True)
class TreeOption:
    organisation: Organisation
    depth: int

    @property
    def label(self) -> str:
        """The name, indented by its depth in the tree (the option of a <select>)."""
        return "\u3000" * self.depth + self.organisation.name


def organisation_tree_options(owners: QuerySet[Organisation]) -> list[TreeOption]:
    """``owners`` and their ancestors in tree order (province, its cities, their teams and
    counties), for a filter whose choice includes everything below it. One query."""
    nodes: dict[int, tuple[tuple, Organisation]] = {}
    for org in owners.select_related("parent__parent"):
        chain = [org, org.parent, org.parent.parent if org.parent else None]
        chain = [o for o in chain if o is not None][::-1]  # root first
        for depth, node in enumerate(chain):
            path = tuple((o.division_code, o.kind, o.pk) for o in chain[: depth + 1])
            nodes.setdefault(node.pk, (path, node))
    return [
        TreeOption(organisation=node, depth=len(path) - 1)
        for path, node in sorted(nodes.values(), key=lambda pair: pair[0])
    ]


def public_plan_organisations() -> list[TreeOption]:
    return organisation_tree_options(
        Organisation.objects.filter(
            plans__status=Plan.Status.PUBLISHED, plans__published_at__isnull=False
        ).distinct()
    )


def public_checkitem_organisations() -> list[TreeOption]:
    return organisation_tree_options(
        Organisation.objects.filter(check_items__published_at__isnull=False).distinct()
    )


def public_counts() -> dict[str, int]:
    """The figures on the portal's home page."""
    return {
        "checkitems": CheckItem.objects.filter(published_at__isnull=False).count(),
        "plans": Plan.objects.filter(
            status=Plan.Status.PUBLISHED, published_at__isnull=False
        ).count(),
        "draws": Draw.objects.filter(status__in=PUBLIC_STATUSES).count(),
    }


def draw_trail_anchor(draw: Draw):
    """The audit entry that recorded the draw's commitment: its number and hash are a
    checkpoint of the trail, published with the draw (``verify_audit_chain --checkpoint
    SEQ:HASH`` finds a trail rewritten since)."""
    from core.models import AuditEntry

    return (
        AuditEntry.objects.filter(
            object_type="lottery.draw", object_id=str(draw.pk), action="draw.commit"
        )
        .only("seq", "hash", "at")
        .first()
    )
