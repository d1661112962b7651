"""Reads of the object registry and the check-item list, already scoped to the user.

Every page, API endpoint and export goes through these, so who sees what is decided here
(and in ``core.selectors``) only. Outside the user's scope a record does not exist (404).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.http import Http404

from core.roles import Cap, user_can
from core.selectors import organisations_visible_to, scope_queryset
from registry.models import CheckItem, PollutionSource, SourceChange


def user_may_edit_registry_of(user, organisation_id: int | None) -> bool:
    """Registry editors (clerks) change only their own organisation's records; a city team's
    clerk therefore changes the city-managed sources, which belong to the team."""
    return (
        organisation_id is not None
        and user_can(user, Cap.EDIT_REGISTRY)
        and user.organisation_id == organisation_id
    )


def user_may_publish_checkitems_of(user, organisation_id: int | None) -> bool:
    """Publishing the check-item list is an approval: a leader of the same organisation."""
    return (
        organisation_id is not None
        and user_can(user, Cap.APPROVE)
        and user.organisation_id == organisation_id
    )


# The list counts at most this many rows: an exact total over 100,000 rows on every page is
# the one slow query a registry list does not need (“more than 10,000” is enough to know).
COUNT_CAP = 10_000


def _json_list_contains(field: str, value: str) -> Q:
    """Rows whose JSON list ``field`` holds ``value``.

    PostgreSQL: ``@>`` (jsonb containment, GIN-indexable). SQLite has no containment lookup,
    so it matches the quoted value inside the stored JSON text (values are JSON-escaped the
    same way on both sides).
    """
    if connection.vendor == "postgresql":
        return Q(**{f"{field}__contains": [value]})
    return Q(**{f"{field}__icontains": json.dumps(value)})


def source_search_q(text: str) -> Q:
    """Free-text search: name or company (substring), credit code or source code (prefix)."""
    text = text.strip()
    upper = text.upper().replace(" ", "")
    return (
        Q(name__icontains=text)
        | Q(company_name__icontains=text)
        | Q(uscc__startswith=upper)
        | Q(source_code__startswith=text)
        | Q(source_code__startswith=upper)
    )


SOURCE_FILTERS = (
    "q",
    "organisation",
    "supervision_class",
    "status",
    "positive_list",
    "credit_rating",
    "permit_category",
    "pollution_type",
    "managed_by",
    "tag",
)


def source_apply_filters(qs: QuerySet, filters: Mapping[str, Any] | None) -> QuerySet:
    """Narrow ``qs`` by the list filters; blank or missing values do not filter.

    ``organisation`` may be an Organisation or its pk; ``positive_list`` a bool (None: any).
    """
    filters = filters or {}
    unknown = set(filters) - set(SOURCE_FILTERS)
    if unknown:
        raise ValueError(f"unknown source filters: {sorted(unknown)}")
    if q := (filters.get("q") or "").strip():
        qs = qs.filter(source_search_q(q))
    if org := filters.get("organisation"):
        qs = qs.filter(organisation=org)
    for field in (
        "supervision_class",
        "status",
        "credit_rating",
        "permit_category",
        "managed_by",
    ):
        if value := filters.get(field):
            qs = qs.filter(**{field: value})
    if filters.get("positive_list") is not None:
        qs = qs.filter(positive_list=filters["positive_list"])
    if value := filters.get("pollution_type"):
        qs = qs.filter(_json_list_contains("pollution_types", value))
    if value := (filters.get("tag") or "").strip():
        qs = qs.filter(_json_list_contains("tags", value))
    return qs


def source_list_for_user(*, user, filters: Mapping[str, Any] | None = None) -> QuerySet:
    """The sources ``user`` may see, narrowed by ``filters`` (see ``SOURCE_FILTERS``), ordered
    by source code (unique and indexed, so keyset pagination is stable and cheap)."""
    # The visible organisations are resolved first (one small query): with their ids as
    # literals the planner walks the (organisation, source_code) index for a county instead
    # of scanning the whole source-code index behind an opaque subquery (70 ms → 1 ms at 100k).
    org_ids = list(organisations_visible_to(user).values_list("pk", flat=True))
    qs = PollutionSource.objects.filter(organisation_id__in=org_ids).select_related("organisation")
    return source_apply_filters(qs, filters).order_by("source_code")


def source_get_for_user(*, user, pk: int) -> PollutionSource:
    """One source, or 404 when it is outside ``user``'s scope (never reveal that it exists)."""
    try:
        return (
            scope_queryset(PollutionSource.objects.all(), user)
            .select_related("organisation")
            .get(pk=pk)
        )
    except (PollutionSource.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def source_history(*, source: PollutionSource) -> QuerySet[SourceChange]:
    """A source's change history, newest first (the caller already holds a visible source)."""
    return source.changes.select_related("actor").order_by("-at", "-id")


def source_companies_sharing_uscc(*, user, source: PollutionSource) -> QuerySet:
    """The other sites (visible to ``user``) of the same company, by credit code."""
    if not source.uscc:
        return PollutionSource.objects.none()
    return (
        scope_queryset(PollutionSource.objects.filter(uscc=source.uscc), user)
        .exclude(pk=source.pk)
        .select_related("organisation")
        .order_by("source_code")[:50]
    )


# --- keyset pages -------------------------------------------------------------------------


@dataclass
class KeysetPage:
    """One page of a list ordered by a key (ties broken by id), with cursors for the
    neighbours."""

    items: list
    next_key: str | None
    previous_key: str | None
    total: int
    total_capped: bool


def count_capped(qs: QuerySet, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """COUNT over at most ``cap + 1`` rows: (count, True when there are more than ``cap``)."""
    count = qs.order_by().values("pk")[: cap + 1].count()
    return min(count, cap), count > cap


def _cursor(item, key: str) -> str:
    return f"{getattr(item, key)}{_CURSOR_SEP}{item.pk}"


# Between the key and the id in a cursor: a key is unique per organisation only, so a list
# across bureaus breaks ties by id. A bare key (an older link) still works.
_CURSOR_SEP = "~"


def _after(qs: QuerySet, key: str, cursor: str, direction: str) -> QuerySet:
    value, sep, pk = cursor.rpartition(_CURSOR_SEP)
    if not sep or not (pk.isascii() and pk.isdigit() and len(pk) <= 18):  # an id fits a bigint
        return qs.filter(**{f"{key}__{direction}": cursor})
    return qs.filter(
        Q(**{f"{key}__{direction}": value}) | Q(**{key: value, f"pk__{direction}": int(pk)})
    )


def keyset_page(
    qs: QuerySet,
    *,
    key: str,
    after: str | None = None,
    before: str | None = None,
    size: int = 50,
    with_total: bool = True,
) -> KeysetPage:
    """The page after ``after`` (or before ``before``) in ascending (``key``, id) order.

    Each page is an index range scan of ``size + 1`` rows, however deep: no OFFSET.
    """
    if before:
        rows = list(_after(qs, key, before, "lt").order_by(f"-{key}", "-pk")[: size + 1])
        has_more_before = len(rows) > size
        items = list(reversed(rows[:size]))
        previous_key = _cursor(items[0], key) if has_more_before and items else None
        next_key = _cursor(items[-1], key) if items else None
    else:
        page_qs = _after(qs, key, after, "gt") if after else qs
        rows = list(page_qs.order_by(key, "pk")[: size + 1])
        items = rows[:size]
        next_key = _cursor(items[-1], key) if len(rows) > size else None
        previous_key = _cursor(items[0], key) if after and items else None
    total, capped = count_capped(qs) if with_total else (0, False)
    return KeysetPage(items, next_key, previous_key, total, capped)


# --- check items --------------------------------------------------------------------------

CHECKITEM_FILTERS = ("q", "organisation", "year", "published", "is_key_item", "method")


def checkitem_apply_filters(qs: QuerySet, filters: Mapping[str, Any] | None) -> QuerySet:
    filters = filters or {}
    unknown = set(filters) - set(CHECKITEM_FILTERS)
    if unknown:
        raise ValueError(f"unknown check-item filters: {sorted(unknown)}")
    if q := (filters.get("q") or "").strip():
        qs = qs.filter(Q(name__icontains=q) | Q(code__icontains=q) | Q(legal_basis__icontains=q))
    if org := filters.get("organisation"):
        qs = qs.filter(organisation=org)
    if year := filters.get("year"):
        qs = qs.filter(year=year)
    if filters.get("published") is not None:
        qs = qs.filter(published_at__isnull=not filters["published"])
    if filters.get("is_key_item") is not None:
        qs = qs.filter(is_key_item=filters["is_key_item"])
    if method := filters.get("method"):
        qs = qs.filter(method=method)
    return qs


def checkitem_list_for_user(*, user, filters: Mapping[str, Any] | None = None) -> QuerySet:
    """The check items ``user`` may see (published or not), newest year first."""
    qs = scope_queryset(CheckItem.objects.all(), user).select_related("organisation")
    return checkitem_apply_filters(qs, filters).order_by(
        "-year", "organisation__division_code", "organisation__kind", "code"
    )


def checkitem_get_for_user(*, user, pk: int) -> CheckItem:
    """One check item, or 404 outside ``user``'s scope."""
    try:
        return (
            scope_queryset(CheckItem.objects.all(), user).select_related("organisation").get(pk=pk)
        )
    except (CheckItem.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def checkitem_list_published(*, organisation=None, year: int | None = None) -> QuerySet:
    """Published items for the public portal (no user: the public reads them without login)."""
    qs = CheckItem.objects.filter(published_at__isnull=False).select_related("organisation")
    if organisation is not None:
        qs = qs.filter(organisation=organisation)
    if year is not None:
        qs = qs.filter(year=year)
    return qs.order_by("-year", "organisation__division_code", "code")
