"""A bureau's archive of a year (003 §七(七) 归档要求) as a ZIP with a manifest of digests.

Read by the bureau and its city team, so it holds only what both may read: a draw's full
record (manifest, witness values, seed, result) and the inspections of its drawn sources only
once the draw is disclosed and none of the earlier draws its manifest embeds is still
confidential (the rule of ``lottery.selectors``); an undisclosed draw appears with its number,
status and manifest hash. A disclosed draw's record also comes as the lottery's PDF
(``03-draws/<number>.pdf``), taken from the lottery's record cache (``lottery.records``): the
stored file when it shows the draw as it is, otherwise rendered through that cache's service.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ServiceError
from inspections.models import InspectionRecord, InspectionTask, Problem
from lottery.models import Draw, Plan
from lottery.selectors import confidential_earlier_draws
from registry.models import CheckItem

ZIP_TIME = (2000, 1, 1, 0, 0, 0)  # fixed, so the same content gives the same bytes


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True, default=str).encode()


def archive_files(organisation, year: int, beat=lambda: None) -> dict[str, bytes]:
    """Every file of the archive by its path. ``beat`` is called as each part is read (the
    worker's sign of life: a draw's record PDF may take a while to render)."""
    from lottery.services import draw_record

    files: dict[str, bytes] = {}
    items = CheckItem.objects.filter(organisation=organisation, year=year).order_by("code")
    files["01-check-items.json"] = _json(
        [
            {"code": i.code, "name": i.name, "legal_basis": i.legal_basis, "body": i.checking_body}
            for i in items
        ]
    )
    plans = Plan.objects.filter(organisation=organisation, year=year).order_by("quarter", "pk")
    for plan in plans:
        beat()
        files[f"02-plans/{plan.period_label}-{plan.pk}.json"] = _json(
            {
                "title": plan.title,
                "kind": plan.kind,
                "year": plan.year,
                "quarter": plan.quarter,
                "status": plan.status,
                "rules": plan.rules,
                "planned_start": plan.planned_start,
                "planned_end": plan.planned_end,
                "published_at": plan.published_at,
            }
        )
    open_draws = set()
    for draw in Draw.objects.filter(organisation=organisation, plan__year=year).order_by("pk"):
        beat()
        disclosed = draw.disclosed_at is not None and not confidential_earlier_draws(draw)
        if disclosed and draw.status == Draw.Status.EXECUTED:
            files[f"03-draws/{draw.number}.json"] = _json(draw_record(draw))
            files[f"03-draws/{draw.number}.pdf"] = _record_pdf(draw)
        else:
            open_draws.add(draw.pk)
            files[f"03-draws/{draw.number}.json"] = _json(
                {
                    "number": draw.number,
                    "status": draw.status,
                    "manifest_hash": draw.manifest_hash,
                    "confidential": True,
                }
            )
    tasks = (
        InspectionTask.objects.filter(organisation=organisation, period_start__year=year)
        .exclude(selection__draw_id__in=open_draws)
        .select_related("source")
        .order_by("pk")
    )
    beat()
    records: dict[int, list[dict[str, object]]] = {}
    for r in InspectionRecord.objects.filter(task__in=tasks).order_by("task_id", "version"):
        records.setdefault(r.task_id, []).append(
            {
                "version": r.version,
                "checked_at": r.checked_at,
                "result_type": r.result_type,
                "summary": r.summary,
                "reason": r.reason,
                "approved": r.approved,
                "created_at": r.created_at,
            }
        )
    files["04-inspections.json"] = _json(
        [
            {
                "task": t.pk,
                "kind": t.kind,
                "source_code": t.source.source_code,
                "company_name": t.source.company_name,
                "state": t.state,
                "period": [t.period_start, t.period_end],
                "handling_ended_on": t.handling_ended_on,
                "records": records.get(t.pk, []),
            }
            for t in tasks
        ]
    )
    files["05-violations.json"] = _json(
        [
            {
                "task": p.task_id,
                "description": p.description,
                "legal_basis": p.legal_basis,
                "handling": p.handling,
                "document_number": p.document_number,
                "state": p.state,
                "closed_at": p.closed_at,
            }
            for p in Problem.objects.filter(task__in=tasks).order_by("task_id", "pk")
        ]
    )
    return files


def _record_pdf(draw: Draw) -> bytes:
    """The draw's record PDF through the lottery's cache: ``record_pdf_request`` serves the
    stored file or renders a small draw at once; a large one it queues for the lottery's
    worker, and this job (a worker itself) does that worker's part, ``record_pdf_render``,
    which renders only if the record is still missing for this state. A server without a
    Chinese font refuses (``FontMissing``), and the archive fails saying why."""
    from lottery.records import (
        record_pdf_ready,
        record_pdf_render,
        record_pdf_request,
        record_state,
    )

    if record_pdf_request(draw) != "ready":
        record_pdf_render(draw_id=draw.pk, state=record_state(draw))
        draw.refresh_from_db(fields=["record_pdf", "record_pdf_state"])
    if not record_pdf_ready(draw):  # the draw changed meanwhile: its new state next time
        raise ServiceError(
            _("Draw %(number)s changed while it was archived; ask for the archive again.")
            % {"number": draw.number},
            code="draw_changed",
        )
    with draw.record_pdf.open("rb") as pdf:
        return pdf.read()


def build_zip(organisation, year: int, beat=lambda: None) -> tuple[bytes, str, int]:
    """The ZIP's bytes, the SHA-256 of its manifest, and the number of files."""
    files = archive_files(organisation, year, beat)
    manifest = {
        "organisation": organisation.name,
        "division_code": organisation.division_code,
        "year": year,
        "built_at": timezone.now().isoformat(),
        "files": [
            {"path": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            for name, data in sorted(files.items())
        ],
    }
    manifest_bytes = _json(manifest)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            archive.writestr(zipfile.ZipInfo(name, ZIP_TIME), data)
        archive.writestr(zipfile.ZipInfo("manifest.json", ZIP_TIME), manifest_bytes)
    return buffer.getvalue(), hashlib.sha256(manifest_bytes).hexdigest(), len(files) + 1
