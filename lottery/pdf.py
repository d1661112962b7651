"""The draw record as a PDF (摇号记录): A4, Chinese, to print, sign and file.

Rendered by WeasyPrint from ``lottery/pdf/draw_record.html`` with the Noto CJK fonts of the
Debian package ``fonts-noto-cjk`` (found through fontconfig; WeasyPrint embeds the subset of
glyphs used). Always in Chinese, whatever the interface language: it is an official record.
"""

from __future__ import annotations

import json

from django.template.loader import render_to_string
from django.utils import timezone, translation

from lottery.display import draw_result, manifest_summary
from lottery.models import Draw, Plan


def draw_record_context(draw: Draw) -> dict:
    """Everything the paper record shows; the caller has checked the user may see it."""
    manifest = json.loads(draw.manifest_json)
    plan: Plan = draw.plan
    return {
        "draw": draw,
        "plan": plan,
        "organisation": draw.organisation,
        "summary": manifest_summary(draw),
        "entropy": list(draw.entropy.all()),
        "result": draw_result(draw) if draw.status == Draw.Status.EXECUTED else None,
        "check_items": list(plan.check_items.order_by("code")),
        "manifest": manifest,
        "printed_at": timezone.localtime(),
    }


def draw_record_html(draw: Draw) -> str:
    with translation.override("zh-hans"):
        return render_to_string("lottery/pdf/draw_record.html", draw_record_context(draw))


def draw_record_pdf(draw: Draw) -> bytes:
    from weasyprint import HTML  # heavy import: only when a PDF is asked for

    return HTML(string=draw_record_html(draw)).write_pdf()
