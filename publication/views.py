"""The public portal's pages: no login. Every committed draw's commitment; its manifest
once no earlier draw whose results it embeds is confidential; after disclosure the full
record, with the record JSON and the script that checks it. The published spot-check plans
and the published check-item lists (随机抽查事项清单).

Thin: ``publication.selectors`` decides what is public, ``lottery.display`` shapes it the same
way the staff pages and the PDF do.
"""

from __future__ import annotations

import json
from typing import cast

from django.contrib import messages
from django.db.models import Field
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import gettext as _

from core import views as core_views
from core.models import AuditCheckpoint
from core.paging import page_for_request
from exchange.excel import export_response
from lottery import readers
from lottery.display import class_label, describe_rules, draw_result, manifest_summary
from lottery.selectors import can_see_manifest
from publication.selectors import (
    draw_trail_anchor,
    is_disclosed,
    public_checkitem_list,
    public_checkitem_organisations,
    public_checkitem_years,
    public_draw_get,
    public_draw_list,
    public_organisations,
    public_plan_draws,
    public_plan_get,
    public_plan_list,
    public_plan_organisations,
    public_plan_years,
    public_sibling_draws,
)
from registry.models import CheckItem

PAGE_SIZE = 30


def home(request: HttpRequest) -> HttpResponse:
    """The site's front page: the public portal for visitors, each role's own home page
    (``core.views.home``) once signed in."""
    if request.user.is_authenticated:
        return core_views.home(request)  # type: ignore[arg-type]  # signed in: a User
    return render(request, "publication/home.html")


def draw_list(request: HttpRequest) -> HttpResponse:
    division = request.GET.get("org", "")
    division = division if division.isascii() and division.isdigit() and len(division) <= 6 else ""
    _say_ignored(request, ["org"] if request.GET.get("org") and not division else [])
    page = page_for_request(request, public_draw_list(division_code=division), PAGE_SIZE)
    return render(
        request,
        "publication/draw_list.html",
        {
            "page": page,
            "division": division,
            "organisations": public_organisations(),
            "extra_query": f"org={division}" if division else "",
        },
    )


def draw_detail(request: HttpRequest, pk: int) -> HttpResponse:
    draw = public_draw_get(pk=pk)
    disclosed = is_disclosed(draw)
    manifest_visible = can_see_manifest(request.user, draw)
    result = (
        draw_result(
            draw,
            page=request.GET.get("page") or 1,
            stratum=request.GET.get("class", ""),
            query=request.GET.get("q", "")[:100],
        )
        if disclosed
        else None
    )
    if result is not None:
        # Requests still open or refused are internal; what changed the result is public.
        result.substitutions = [
            row for row in result.substitutions if row.substitution.status == "approved"
        ]
    return render(
        request,
        "publication/draw_detail.html",
        {
            "draw": draw,
            "summary": manifest_summary(draw),
            "disclosed": disclosed,
            "manifest_visible": manifest_visible,
            "entropy": list(draw.entropy.all()) if disclosed else [],
            "result": result,
            "plan_draws": public_sibling_draws(draw),
            "anchor": draw_trail_anchor(draw),
            "public": True,
        },
    )


def _json(data_bytes: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data_bytes, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def draw_manifest(request: HttpRequest, pk: int) -> HttpResponse:
    """404 (as for everything not public yet) unless the manifest may be shown to the
    request's user: it embeds earlier draws' results, which must be disclosed first. A
    logged-in operator who sees them before that is audited (``lottery.readers``)."""
    draw = public_draw_get(pk=pk)
    manifest = readers.draw_manifest_for_user(user=request.user, draw=draw, via="public manifest")
    if manifest is None:
        raise Http404
    return _json(manifest.encode("utf-8"), f"draw-{draw.number}-manifest.json")


def draw_record_json(request: HttpRequest, pk: int) -> HttpResponse:
    draw = public_draw_get(pk=pk)
    if not is_disclosed(draw):
        raise Http404
    record = readers.draw_record_for_user(
        user=request.user, draw=draw, via="public record", public=True
    )
    if record is None:
        raise Http404
    body = json.dumps(record, ensure_ascii=False, indent=1, sort_keys=True)
    return _json(body.encode("utf-8"), f"draw-{draw.number}-record.json")


# --- the audit trail's published checkpoints -------------------------------------------


def audit_checkpoints(request: HttpRequest) -> HttpResponse:
    """The audit chain's head as published hour by hour: anyone may keep a copy, and a trail
    rewritten later no longer contains them (``verify_audit_chain --checkpoints``)."""
    page = page_for_request(request, AuditCheckpoint.objects.order_by("-seq"), PAGE_SIZE)
    return render(request, "publication/audit_checkpoints.html", {"page": page})


def audit_checkpoints_json(request: HttpRequest) -> HttpResponse:
    data = {
        "checkpoints": [
            {"seq": c.seq, "hash": c.hash, "published_at": c.published_at.isoformat()}
            for c in AuditCheckpoint.objects.order_by("seq")
        ]
    }
    return _json(
        json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"), "audit-checkpoints.json"
    )


# --- plans and the check-item list ------------------------------------------------------

CHECKITEM_PAGE_SIZE = 50


def _tree_filters(request: HttpRequest) -> dict[str, int | None]:
    """``org`` (an organisation: it and everything under it) and ``year`` from the query
    string; anything else in them is ignored, as on the draw list."""
    org = request.GET.get("org", "")
    year = request.GET.get("year", "")
    filters = {
        "organisation_id": int(org) if org.isascii() and org.isdigit() and len(org) <= 9 else None,
        "year": int(year) if year.isascii() and year.isdigit() and len(year) == 4 else None,
    }
    _say_ignored(
        request,
        [
            name
            for name, key in (("org", "organisation_id"), ("year", "year"))
            if request.GET.get(name) and filters[key] is None
        ],
    )
    return filters


def _say_ignored(request: HttpRequest, names: list[str]) -> None:
    """Filters that made no sense are ignored, and the page says which (as on the results)."""
    if names and not request.path.endswith((".csv", ".xlsx", ".json")):
        messages.warning(
            request,
            _("These filters made no sense and were ignored: %(names)s.")
            % {"names": "、".join(names)},
        )


def _filter_context(filters: dict[str, int | None]) -> dict:
    query = {
        key: value
        for key, value in (("org", filters["organisation_id"]), ("year", filters["year"]))
        if value is not None
    }
    return {
        "selected_org": filters["organisation_id"],
        "selected_year": filters["year"],
        "extra_query": urlencode(query),
    }


def plan_list(request: HttpRequest) -> HttpResponse:
    filters = _tree_filters(request)
    page = page_for_request(request, public_plan_list(**filters), PAGE_SIZE)
    return render(
        request,
        "publication/plan_list.html",
        {
            "page": page,
            "organisations": public_plan_organisations(),
            "years": public_plan_years(),
            **_filter_context(filters),
        },
    )


def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = public_plan_get(pk=pk)
    return render(
        request,
        "publication/plan_detail.html",
        {
            "plan": plan,
            "classes": [class_label(c) for c in plan.classes],
            "rules": describe_rules(plan.rules),
            "check_items": plan.check_items.order_by("code"),
            "draws": public_plan_draws(plan),
        },
    )


def checkitem_list(request: HttpRequest) -> HttpResponse:
    filters = _tree_filters(request)
    page = page_for_request(request, public_checkitem_list(**filters), CHECKITEM_PAGE_SIZE)
    for item in page:
        item.class_labels = [class_label(c) for c in item.target_classes]  # for the template
    return render(
        request,
        "publication/checkitem_list.html",
        {
            "page": page,
            "organisations": public_checkitem_organisations(),
            "years": public_checkitem_years(),
            **_filter_context(filters),
        },
    )


CHECKITEM_EXPORT_FIELDS = [
    "organisation",
    "year",
    "code",
    "name",
    "is_key_item",
    "legal_basis",
    "checking_body",
    "target_objects",
    "target_classes",
    "content",
    "method",
    "published_at",
]


def _checkitem_cell(item: CheckItem, field: str):
    if field == "organisation":
        return item.organisation.name
    if field == "method":
        return item.get_method_display()
    if field == "target_classes":
        return [class_label(c) for c in item.target_classes] or None
    return getattr(item, field) if getattr(item, field) != "" else None


def checkitem_export(request: HttpRequest) -> HttpResponseBase:
    """The list as filtered, every page, as an Excel workbook."""
    items = public_checkitem_list(**_tree_filters(request))
    return export_response(
        [
            str(cast(Field, CheckItem._meta.get_field(f)).verbose_name)
            for f in CHECKITEM_EXPORT_FIELDS
        ],
        ([_checkitem_cell(item, f) for f in CHECKITEM_EXPORT_FIELDS] for item in items.iterator()),
        filename=f"随机抽查事项清单_{timezone.localdate():%Y%m%d}.xlsx",
        sheet_name=_("Check-item list"),
    )
