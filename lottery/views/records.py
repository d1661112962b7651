"""Downloads of a draw: its record and manifest (JSON), the signed paper record (PDF), and
the verification script (the public portal serves the same view)."""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header

from core.request_types import AuthenticatedHttpRequest
from lottery import engine, readers, records
from lottery.models import Draw, DrawSelection
from lottery.selectors import can_see_full_result, draw_get_for_user
from lottery.views._common import _refused, _require_draws


def _json_download(data: dict, filename: str) -> HttpResponse:
    body = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True)
    response = HttpResponse(body.encode("utf-8"), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@login_required
def draw_record_json(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The full record (manifest, entropy, seed, result): what ``verify_draw.py`` checks.
    As confidential as the drawn list."""
    draw = draw_get_for_user(user=request.user, pk=pk)
    _require_draws(request)
    record = readers.draw_record_for_user(user=request.user, draw=draw, via="record.json")
    if record is None:
        raise PermissionDenied
    return _json_download(record, f"draw-{draw.number}-record.json")


@login_required
def draw_manifest_json(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The frozen manifest: no randomness in it, but earlier draws' results (coverage tiers,
    previous inspectors): as confidential as the earliest of those (``can_see_manifest``)."""
    draw = draw_get_for_user(user=request.user, pk=pk)
    _require_draws(request)
    manifest = readers.draw_manifest_for_user(user=request.user, draw=draw, via="manifest.json")
    if manifest is None:
        raise PermissionDenied
    response = HttpResponse(
        manifest.encode("utf-8"), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = content_disposition_header(
        True, f"draw-{draw.number}-manifest.json"
    )
    return response


@login_required
def draw_pdf(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse | FileResponse:
    """The signed paper record of the ceremony (A4, Chinese). A large draw's record is laid
    out by a worker; meanwhile the page says so and updates itself (lottery.records)."""
    draw = _record_draw(request, pk)
    try:
        status = records.record_pdf_request(draw)
    except records.FontMissing as exc:
        _refused(request, exc)
        return redirect("lottery:draw_detail", pk=draw.pk)
    if status == "queued":
        return render(request, "lottery/record_wait.html", _record_wait_context(draw))
    if not readers.draw_secrets_for_user(user=request.user, draw=draw, via="pdf"):
        raise PermissionDenied
    return FileResponse(
        draw.record_pdf.open("rb"),
        as_attachment=True,
        filename=f"摇号记录-{draw.number}.pdf",
        content_type="application/pdf",
    )


@login_required
def draw_pdf_status(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Polled by the waiting page (htmx): still being prepared, or a download link."""
    draw = _record_draw(request, pk)
    return render(request, "lottery/_record_status.html", _record_wait_context(draw))


def _record_draw(request: AuthenticatedHttpRequest, pk: int) -> Draw:
    draw = draw_get_for_user(user=request.user, pk=pk)
    _require_draws(request)
    if not can_see_full_result(request.user, draw):
        raise PermissionDenied
    return draw


def _record_wait_context(draw: Draw) -> dict:
    return {
        "draw": draw,
        "ready": records.record_pdf_ready(draw),
        "rows": DrawSelection.objects.filter(draw=draw).count(),
    }


def verify_script(request: HttpRequest) -> FileResponse:
    """The verification script: ``lottery/engine.py`` itself, standard library only. Public:
    the portal (``publication:verify_script``) serves this same view."""
    return FileResponse(
        Path(engine.__file__).open("rb"),
        as_attachment=True,
        filename="verify_draw.py",
        content_type="text/x-python; charset=utf-8",
    )
