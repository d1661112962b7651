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
        parent = org.parent
        chain = [o for o in (org, parent, parent.parent if parent else None) if o is not None]
        chain.reverse()  # root first
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


# --- published inspection results ---------------------------------------------------------
# A published entry is public as it was published (a frozen snapshot); the list shows each
# inspection once, by its current entry, and its page shows every entry (the corrections).

RESULT_FILTERS = ("q", "org", "year", "quarter", "item", "result", "random")


def division_range(organisation: Organisation) -> tuple[str, str]:
    """The division codes under an organisation, as a half-open range that the
    (division_code, checked_on) index serves: a province 41xxxx, a city 4108xx, a county."""
    code = organisation.division_code
    if code.endswith("0000"):
        prefix = code[:2]
    elif code.endswith("00"):
        prefix = code[:4]
    else:
        return code, code + "\uffff"
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def public_result_list(filters: dict) -> QuerySet:
    """Current published entries matching ``filters`` (already cleaned by the form)."""
    from publication.models import PublishedResult

    qs = PublishedResult.objects.filter(is_current=True)
    q = (filters.get("q") or "").strip()
    if q:
        code = q.upper()
        if len(code) == 18 and code.isalnum():
            qs = qs.filter(uscc=code)
        else:
            qs = qs.filter(company_name__icontains=q)
    organisation = filters.get("org")
    if organisation is not None:
        if organisation.kind in (Organisation.Kind.COUNTY_BUREAU, Organisation.Kind.CITY_TEAM):
            qs = qs.filter(organisation=organisation)  # a bureau that publishes: its own
        else:
            low, high = division_range(organisation)
            qs = qs.filter(division_code__gte=low, division_code__lt=high)
    if filters.get("year"):
        qs = qs.filter(checked_on__year=filters["year"])
        if filters.get("quarter"):
            qs = qs.filter(checked_on__quarter=filters["quarter"])
    if filters.get("item"):
        qs = qs.filter(item_codes__icontains=f'"{filters["item"]}"')
    if filters.get("result"):
        qs = qs.filter(result_type=filters["result"])
    if filters.get("random") in ("1", "0"):
        qs = qs.filter(random=filters["random"] == "1")
    return qs.order_by("-published_at", "-pk")


def public_result_get(*, pk: int):
    """One published entry (current or not), or 404."""
    from publication.models import PublishedResult

    entry = PublishedResult.objects.filter(pk=pk).first()
    if entry is None:
        raise Http404
    return entry


def public_result_history(entry) -> list:
    """Every entry of the same inspection, oldest first: the original and its corrections."""
    from publication.models import PublishedResult

    return list(
        PublishedResult.objects.filter(task_id=entry.task_id).order_by("published_at", "pk")
    )


def _published_version() -> int:
    """The newest published entry's id: what the portal's per-process caches are keyed on,
    so a new publication (or correction, or withholding) is seen at once. One index probe."""
    from publication.models import PublishedResult

    return PublishedResult.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def public_result_organisations() -> list[TreeOption]:
    from django.core.cache import cache

    key = f"publication:result-orgs:{_published_version()}"
    options = cache.get(key)
    if options is None:
        options = _result_organisations()
        cache.set(key, options, 600)
    return options


def _result_organisations() -> list[TreeOption]:
    from django.db.models import Exists, OuterRef

    from publication.models import PublishedResult

    # A semi-join: one index probe per organisation, not a scan of a million results.
    return organisation_tree_options(
        Organisation.objects.filter(
            Exists(PublishedResult.objects.filter(organisation_id=OuterRef("pk")))
        )
    )


def withheld_counts() -> dict[str, int]:
    """How many current results are withheld, by reason (the portal says so)."""
    from django.core.cache import cache

    key = f"publication:withheld:{_published_version()}"
    counts = cache.get(key)
    if counts is None:
        counts = _withheld_counts()
        cache.set(key, counts, 600)
    return counts


def _withheld_counts() -> dict[str, int]:
    from publication.models import PublishedResult, WithholdReason

    rows = (
        PublishedResult.objects.filter(is_current=True, withheld=True)
        .values("withheld_reason")
        .annotate(n=Count("pk"))
    )
    found = {r["withheld_reason"]: r["n"] for r in rows}
    return {str(label): found.get(value, 0) for value, label in WithholdReason.choices}


#: Results are published within 20 working days of the check's end (000 §五(五)).
PUBLISH_WORKING_DAYS = 20


def disclosure_rates(*, year: int, today) -> list[dict]:
    """Per bureau, quarter and year: results published ÷ results due (001 §二(四), 003 §二
    want 100%). A random check's result is due once its check ended more than 20 working
    days ago, or once it is published (early publication counts). Withdrawn results do not
    count as published. One query."""
    from django.db.models import Exists, OuterRef
    from django.db.models.functions import ExtractQuarter

    from core.calendar import CalendarNotCovered, add_working_days
    from inspections.models import InspectionTask
    from publication.models import PublishedResult

    try:
        cutoff = add_working_days(today, -PUBLISH_WORKING_DAYS)
    except CalendarNotCovered:
        cutoff = None  # only what is published counts as due: never a guess
    published = Exists(
        PublishedResult.objects.filter(task=OuterRef("pk"), is_current=True, withdrawn=False)
    )
    due_q = Q(pub=True) | Q(handling_ended_on__lte=cutoff) if cutoff else Q(pub=True)
    rows = (
        InspectionTask.objects.filter(kind=InspectionTask.Kind.DRAWN, handling_ended_on__year=year)
        .exclude(state=InspectionTask.State.CANCELLED)
        .annotate(pub=published, q=ExtractQuarter("handling_ended_on"))
        .values("organisation_id", "organisation__name", "organisation__division_code", "q")
        .annotate(n_published=Count("pk", filter=Q(pub=True)), due=Count("pk", filter=due_q))
        .order_by("organisation__division_code", "organisation_id", "q")
    )
    table: dict[int, dict] = {}
    for row in rows:
        entry = table.setdefault(
            row["organisation_id"],
            {
                "organisation": row["organisation__name"],
                "quarters": {q: {"published": 0, "due": 0} for q in (1, 2, 3, 4)},
                "published": 0,
                "due": 0,
            },
        )
        entry["quarters"][row["q"]] = {"published": row["n_published"], "due": row["due"]}
        entry["published"] += row["n_published"]
        entry["due"] += row["due"]
    for entry in table.values():
        for cell in [*entry["quarters"].values(), entry]:
            cell["rate"] = round(100 * cell["published"] / cell["due"], 1) if cell["due"] else None
    return list(table.values())
