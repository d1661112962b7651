"""The public portal's draw pages: no login. Every committed draw's commitment; its manifest
once no earlier draw whose results it embeds is confidential; after disclosure the full
record, with the record JSON and the script that checks it.

Thin: ``publication.selectors`` decides what is public, ``lottery.display`` shapes it the same
way the staff pages and the PDF do.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header

from lottery import engine
from lottery.display import draw_result, manifest_summary
from lottery.models import Draw
from lottery.selectors import can_see_manifest, confidential_earlier_draws
from lottery.services import draw_log_manifest_view, draw_record
from publication.selectors import (
    is_disclosed,
    public_draw_get,
    public_draw_list,
    public_organisations,
)

PAGE_SIZE = 30


def draw_list(request: HttpRequest) -> HttpResponse:
    division = request.GET.get("org", "")
    division = division if division.isdigit() and len(division) <= 6 else ""
    page = Paginator(public_draw_list(division_code=division), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
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
            "public": True,
        },
    )


def _json(data_bytes: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data_bytes, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def _require_manifest(request: HttpRequest, draw: Draw, via: str) -> None:
    """404 (as for everything not public yet) unless the manifest may be shown to the
    request's user: it embeds earlier draws' results, which must be disclosed first. A
    logged-in operator who sees them before that is audited."""
    confidential = confidential_earlier_draws(draw)
    if not can_see_manifest(request.user, draw, confidential=confidential):
        raise Http404
    draw_log_manifest_view(actor=request.user, draw=draw, confidential=confidential, via=via)


def draw_manifest(request: HttpRequest, pk: int) -> HttpResponse:
    draw = public_draw_get(pk=pk)
    _require_manifest(request, draw, "public manifest.json")
    return _json(draw.manifest_json.encode("utf-8"), f"draw-{draw.number}-manifest.json")


def draw_record_json(request: HttpRequest, pk: int) -> HttpResponse:
    draw = public_draw_get(pk=pk)
    if not is_disclosed(draw):
        raise Http404
    _require_manifest(request, draw, "public record.json")
    body = json.dumps(draw_record(draw), ensure_ascii=False, indent=1, sort_keys=True)
    return _json(body.encode("utf-8"), f"draw-{draw.number}-record.json")


def verify_script(request: HttpRequest) -> FileResponse:
    """``lottery/engine.py`` itself, named for what the public uses it for."""
    return FileResponse(
        Path(engine.__file__).open("rb"),
        as_attachment=True,
        filename="verify_draw.py",
        content_type="text/x-python; charset=utf-8",
    )
