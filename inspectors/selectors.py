"""Reads of the inspector registry, already scoped to what the user may see.

Every page, export and API endpoint goes through ``inspector_list_for_user`` or
``inspector_get_for_user``; the lottery uses ``inspectors_eligible`` and ``conflicts_for``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from core.models import Organisation
from core.roles import Cap, user_can
from core.selectors import scope_queryset
from core.uscc import normalise as normalise_uscc
from inspectors.models import (
    Conflict,
    Inspector,
    InspectorChange,
    InspectorQuerySet,
    Unavailability,
)


def user_may_edit_inspectors_of(user, organisation: Organisation | int | None) -> bool:
    """Only registry editors (clerks) of the inspector's own organisation change it."""
    if organisation is None or not user_can(user, Cap.EDIT_REGISTRY):
        return False
    org_id = organisation if isinstance(organisation, int) else organisation.pk
    return user.organisation_id is not None and user.organisation_id == org_id


def expertise_filter(code: str) -> Q:
    """Inspectors whose expertise list holds ``code`` (JSON containment where supported)."""
    if connection.features.supports_json_field_contains:
        return Q(expertise__contains=[code])
    # SQLite: the list is stored as JSON text, and codes are plain identifiers.
    return Q(expertise__icontains=f'"{code}"')


def inspector_list_for_user(*, user, filters: Mapping[str, Any] | None = None) -> InspectorQuerySet:
    """Inspectors ``user`` may see, filtered by already-cleaned values.

    ``filters`` keys (all optional; empty values are ignored): ``q`` (name or certificate
    number, partial), ``organisation`` (an id), ``kind``, ``on_staff`` (bool), ``expertise``
    (a code), ``certificate_status`` (valid / expiring / expired / unknown / none),
    ``available_on`` (a date: not on leave, training or secondment that day), ``is_active``
    (bool; ``None`` for both). Inspectors.forms.InspectorFilterForm produces exactly these.
    """
    filters = filters or {}
    qs = scope_queryset(Inspector.objects.all(), user).select_related("organisation")
    q = (filters.get("q") or "").strip()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(certificate_number__icontains=q.replace(" ", "")))
    organisation = filters.get("organisation")
    if organisation:
        qs = qs.filter(organisation_id=getattr(organisation, "pk", organisation))
    if filters.get("kind"):
        qs = qs.filter(kind=filters["kind"])
    if filters.get("on_staff") is not None:
        qs = qs.filter(on_staff=filters["on_staff"])
    if filters.get("expertise"):
        qs = qs.filter(expertise_filter(filters["expertise"]))
    if filters.get("certificate_status"):
        qs = qs.with_certificate_status(filters["certificate_status"], timezone.localdate())
    if filters.get("available_on"):
        qs = qs.available(filters["available_on"])
    if filters.get("is_active") is not None:
        qs = qs.filter(is_active=filters["is_active"])
    return qs.order_by("organisation__division_code", "organisation__kind", "name", "id")


def inspector_get_for_user(*, user, pk: int) -> Inspector:
    """One inspector, or 404 for anyone outside its organisation's scope."""
    try:
        return (
            scope_queryset(Inspector.objects.all(), user)
            .select_related("organisation", "user")
            .get(pk=pk)
        )
    except (Inspector.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def inspector_detail_related(inspector: Inspector) -> dict[str, Any]:
    """Availability, conflicts and history for the detail page and the API."""
    return {
        "unavailabilities": list(inspector.unavailabilities.order_by("-start", "-id")),
        "conflicts": list(
            inspector.conflicts.select_related("source", "declared_by", "withdrawn_by").order_by(
                "withdrawn_at", "-valid_from", "-id"
            )
        ),
        "changes": list(
            InspectorChange.objects.filter(inspector=inspector).order_by("-at", "-id")[:200]
        ),
    }


def inspector_with_related_queryset(qs: QuerySet) -> QuerySet:
    """``qs`` with availability and conflicts prefetched (for the API's nested lists)."""
    return qs.prefetch_related(
        Prefetch("unavailabilities", queryset=Unavailability.objects.order_by("-start", "-id")),
        Prefetch(
            "conflicts", queryset=Conflict.objects.select_related("source").order_by("-valid_from")
        ),
    )


def inspectors_own_record(user) -> Inspector | None:
    """The registry record linked to ``user`` (an inspector's own), or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Inspector.objects.select_related("organisation").filter(user=user).first()


def inspectors_eligible(
    *, organisation_ids: Iterable[int], on: date, until: date | None = None
) -> QuerySet:
    """The pool a draw may pick team members from.

    Enforcement staff of these organisations who are on staff, active and hold a certificate
    valid through ``[on, until]`` (a recorded expiry date is required: an inspection by
    someone whose certificate lapsed before it happened is open to challenge), and who have
    no leave, training or secondment overlapping that period (``until`` defaults to ``on``). Technical experts
    are never in it: they may assist but never count as team members. Not scoped to a user:
    the lottery's own services decide who may run a draw. Ordered by id, so the pool is stable.
    """
    return (
        Inspector.objects.filter(organisation_id__in=list(organisation_ids))
        .certified(until or on)
        .available(on, until)
        .order_by("id")
    )


def conflicts_for(
    *,
    inspector_ids: Iterable[int],
    source_ids: Sequence[int],
    uscc_list: Sequence[str] | None = None,
    on: date,
) -> dict[int, set[int]]:
    """Which of ``inspector_ids`` must recuse themselves from which of ``source_ids`` on ``on``.

    ``uscc_list``, when given, runs parallel to ``source_ids`` (``uscc_list[i]`` is the
    credit code of ``source_ids[i]``, blank if it has none) and saves a look-up; otherwise the
    codes are read from the object registry. A conflict declared on a company credit code
    applies to every source sharing that code; one declared on a source to that source only.
    Withdrawn conflicts, and those not yet or no longer valid on ``on``, are ignored.
    Returns ``{source_id: {inspector_id, ...}}`` with only the sources that have a conflict.

    Conflicts are few and pools large, so the pool is never sent to the database: one query
    for the conflicts in force, and at most one for the sources sharing their credit codes.
    """
    pool = set(source_ids)
    inspector_ids = list(inspector_ids)
    if not pool or not inspector_ids:
        return {}
    declared = list(
        Conflict.objects.in_force(on)
        .filter(inspector_id__in=inspector_ids)
        .values_list("inspector_id", "source_id", "company_uscc")
    )
    result: dict[int, set[int]] = defaultdict(set)
    codes = set()
    for inspector_id, source_id, company_uscc in declared:
        if source_id is not None:
            if source_id in pool:
                result[source_id].add(inspector_id)
        else:
            codes.add(normalise_uscc(company_uscc))
    if codes:
        sources_by_uscc: dict[str, list[int]] = defaultdict(list)
        pairs: Iterable[tuple[int, str]]
        if uscc_list is None:
            from registry.models import PollutionSource

            pairs = PollutionSource.objects.filter(uscc__in=codes).values_list("pk", "uscc")
        else:
            if len(uscc_list) != len(source_ids):
                raise ValueError("uscc_list must run parallel to source_ids")
            pairs = zip(source_ids, uscc_list, strict=True)
        for source_id, code in pairs:
            code = normalise_uscc(code or "")
            if source_id in pool and code in codes:
                sources_by_uscc[code].append(source_id)
        for inspector_id, source_id, company_uscc in declared:
            if source_id is None:
                for target in sources_by_uscc.get(normalise_uscc(company_uscc), ()):
                    result[target].add(inspector_id)
    return dict(result)
