"""The oversight's writes: report requests and builds, typical cases. Atomic and audited.

Reports and archives are built by a worker, queued like every background job: through the
transactional outbox, in the request's transaction (``core.outbox``), so a broker that is down
loses nothing and the page says the build is queued. The worker claims its build with a
conditional UPDATE and renews ``heartbeat_at`` while it builds; the ``jobs-stalled-sweep``
(``exchange.imports.jobs_recover_stalled``; ``oversight.jobs`` registers the builds) queues again a
build whose worker was lost, or fails it with the reason. A build's outcome is written only if
its worker still holds the claim (``started_at``): a worker given up for lost writes nothing.
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import ServiceError
from core.models import Organisation, User
from core.outbox import outbox_enqueue
from core.roles import Cap, user_can
from inspections.models import InspectionTask
from oversight import reports
from oversight.models import Archive, DrawFiling, Report, TypicalCase

logger = logging.getLogger(__name__)


def _require_city_team(actor: User) -> Organisation:
    org = getattr(actor, "organisation", None)
    if (
        not user_can(actor, Cap.REVIEW_COUNTIES)
        or org is None
        or org.kind != Organisation.Kind.CITY_TEAM
    ):
        raise ServiceError(_("Only the city enforcement team issues these reports."), code="denied")
    return org


def _require_reporting_bureau(actor: User) -> Organisation:
    """A bureau's own returns and year-end report: its clerks and leaders (a county bureau's
    or the city team's), or the city team's reviewers for the team's own."""
    from lottery.selectors import DRAWING_KINDS

    org = getattr(actor, "organisation", None)
    if org is None or org.kind not in DRAWING_KINDS:
        raise ServiceError(_("Only a bureau makes its own returns."), code="denied")
    if not (
        user_can(actor, Cap.VIEW_DRAWS)
        or user_can(actor, Cap.APPROVE)
        or (org.kind == Organisation.Kind.CITY_TEAM and user_can(actor, Cap.REVIEW_COUNTIES))
    ):
        raise ServiceError(_("Only a bureau makes its own returns."), code="denied")
    return org


def report_kinds_for(actor: User) -> list[str]:
    """The report kinds ``actor`` may ask for."""
    kinds: list[str] = []
    for check, group in (
        (_require_city_team, Report.CITY_KINDS),
        (_require_reporting_bureau, Report.BUREAU_KINDS),
    ):
        try:
            check(actor)
        except ServiceError:
            continue
        kinds += group
    return kinds


def report_request(*, actor: User, kind: str, year: int, quarter: int) -> tuple[Report, bool]:
    """Ask for a new version of a report: the city team's about its city, a bureau's (county
    bureau or city team) about its own work. While one is being built the running one is
    returned and nothing new starts: ``(report, False)``."""
    if kind not in Report.Kind.values:
        raise ServiceError(_("There is no such report."))
    if kind in Report.BUREAU_KINDS:
        org = _require_reporting_bureau(actor)
    else:
        org = _require_city_team(actor)
    if not 2000 <= year <= 2100 or quarter not in (0, 1, 2, 3, 4):
        raise ServiceError(_("Give a year and a quarter."))
    if kind in Report.YEARLY_KINDS:
        quarter = 0
    elif quarter == 0:
        raise ServiceError(_("This report is made for a quarter."))
    key = {"organisation": org, "kind": kind, "year": year, "quarter": quarter}
    running = Report.objects.filter(**key, status__in=Report.ACTIVE).first()
    if running is not None:
        return running, False
    try:
        with transaction.atomic():
            latest = Report.objects.filter(**key).aggregate(v=Max("version"))["v"] or 0
            report = Report.objects.create(
                **key,
                version=latest + 1,
                requested_by=actor,
                language=translation.get_language() or "",
            )
            audit_record(
                actor=actor,
                action="oversight.report_request",
                obj=report,
                after={"kind": kind, "year": year, "quarter": quarter, "version": report.version},
            )
            _enqueue(report.pk)  # in the outbox, with the report
    except IntegrityError:
        # Another request of the same report won the race: show its build.
        running = Report.objects.filter(**key, status__in=Report.ACTIVE).first()
        if running is None:
            raise
        return running, False
    return report, True


def _enqueue(report_id: int) -> None:
    """Queue the report's build through the outbox, in the caller's transaction."""
    outbox_enqueue("oversight.tasks.report_build_task", report_id)


class _ClaimLost(Exception):
    """The build was given up for lost (the sweep queued it again, or failed it) while this
    worker was still on it: this worker's outcome is not written."""


def _held(model, pk: int, claim):
    """The build ``pk`` while the worker that claimed it at ``claim`` still holds it."""
    return model.objects.filter(pk=pk, status=model.Status.RUNNING, started_at=claim)


def _beat(model, pk: int, claim):
    """The worker's sign of life while it builds (a plain UPDATE: the build reads in
    autocommit), with the report's progress when it has one."""

    def beat(percent: int | None = None) -> None:
        fields: dict = {"heartbeat_at": timezone.now()}
        if percent is not None:
            fields["progress"] = min(percent, 99)
        _held(model, pk, claim).update(**fields)

    return beat


def _in_language(job) -> translation.override:
    """The requester's language, for the message a worker writes."""
    return translation.override(job.language or settings.LANGUAGE_CODE)


def report_build(*, report_id: int) -> Report | None:
    """Build a queued report: claimed first by a conditional UPDATE, so a task delivered twice
    builds it once (the second run returns None). A failure leaves no file and says why."""
    claim = timezone.now()
    claimed = Report.objects.filter(pk=report_id, status=Report.Status.QUEUED).update(
        status=Report.Status.RUNNING, started_at=claim, heartbeat_at=claim, progress=1
    )
    if not claimed:
        return None
    report = Report.objects.select_related("organisation", "requested_by").get(pk=report_id)
    with _in_language(report):
        _build_report(report, claim)
    report.refresh_from_db()
    return report


def _build_report(report: Report, claim) -> None:
    beat = _beat(Report, report.pk, claim)
    saved: list = []
    try:
        data = reports.report_data(report, progress=beat)
        beat()
        pdf = reports.render_pdf(report, data)
        beat()
        xlsx = reports.render_xlsx(data)
        name = (
            f"{report.kind}-{report.year}q{report.quarter}-v{report.version}-{uuid.uuid4().hex[:8]}"
        )
        with transaction.atomic():
            report.pdf.save(f"{name}.pdf", ContentFile(pdf), save=False)
            saved.append(report.pdf.name)
            report.xlsx.save(f"{name}.xlsx", ContentFile(xlsx), save=False)
            saved.append(report.xlsx.name)
            sha = reports.digest(data)
            if not _held(Report, report.pk, claim).update(
                status=Report.Status.DONE,
                progress=100,
                data=data,
                data_sha256=sha,
                pdf=report.pdf.name,
                xlsx=report.xlsx.name,
                finished_at=timezone.now(),
            ):
                raise _ClaimLost
            audit_record(
                actor=report.requested_by,
                action="oversight.report_build",
                obj=report,
                after={"sha256": sha, "version": report.version},
            )
    except _ClaimLost:
        logger.warning("oversight report %s: given up for lost meanwhile, not written", report.pk)
        for name in saved:
            report.pdf.storage.delete(name)
    except Exception as exc:  # every failure is recorded; no half-written file stays
        logger.exception("oversight report %s failed", report.pk)
        for name in saved:
            report.pdf.storage.delete(name)
        message = "\n".join(exc.messages) if isinstance(exc, ServiceError) else str(exc)
        _held(Report, report.pk, claim).update(
            status=Report.Status.FAILED,
            message=(_("The report could not be built: %(why)s") % {"why": message})[:2000],
            pdf="",
            xlsx="",
            finished_at=timezone.now(),
        )


def report_record_download(*, actor: User, report: Report, what: str) -> None:
    audit_record(
        actor=actor,
        action="oversight.report_download",
        obj=report,
        after={"file": what, "sha256": report.data_sha256},
    )


def typical_case_mark(*, actor: User, task: InspectionTask, note: str) -> TypicalCase:
    """The city team picks an approved inspection of its counties as a typical case."""
    org = _require_city_team(actor)
    if not task.organisation.division_code.startswith(org.scope_prefix):
        raise ServiceError(_("This inspection is not in your city."), code="denied")
    if task.state != InspectionTask.State.APPROVED:
        raise ServiceError(_("Only an approved inspection can be a typical case."))
    if not note.strip():
        raise ServiceError(_("Say why the case is typical."))
    with transaction.atomic():
        case, created = TypicalCase.objects.get_or_create(
            task=task, defaults={"note": note.strip(), "marked_by": actor}
        )
        if not created:
            raise ServiceError(_("This inspection is already a typical case."))
        audit_record(actor=actor, action="oversight.typical_case", obj=case, after={"note": note})
    return case


def draw_digest(draw) -> str:
    """SHA-256 of the draw as executed: its number, manifest hash, seed, time and every drawn
    row (class, position, source), as canonical JSON."""
    from lottery.models import DrawSelection

    rows = list(
        DrawSelection.objects.filter(draw=draw)
        .order_by("stratum", "position")
        .values_list("stratum", "position", "source_id")
    )
    return reports.digest(
        {
            "number": draw.number,
            "manifest_hash": draw.manifest_hash,
            "seed": draw.seed,
            "executed_at": draw.executed_at.isoformat() if draw.executed_at else None,
            "selections": [list(r) for r in rows],
        }
    )


def draw_file(*, actor: User, draw) -> DrawFiling:
    """File an executed draw with the bureau's city team (003 §七(二)): its operators and
    leaders do it, once. The drawn list stays where ``can_see_full_result`` puts it."""
    from lottery.models import Draw
    from lottery.selectors import can_operate_draw

    if not can_operate_draw(actor, draw):
        raise ServiceError(_("Only the bureau's own staff file its draws."), code="denied")
    if draw.status != Draw.Status.EXECUTED:
        raise ServiceError(_("Only an executed draw is filed."))
    team = Organisation.objects.filter(
        kind=Organisation.Kind.CITY_TEAM, division_code=draw.organisation.city_code
    ).first()
    if team is None:
        raise ServiceError(_("There is no city enforcement team to file with."))
    with transaction.atomic():
        if DrawFiling.objects.filter(draw=draw).exists():
            raise ServiceError(_("This draw was already filed."))
        filing = DrawFiling.objects.create(
            draw=draw, filed_with=team, digest=draw_digest(draw), filed_by=actor
        )
        audit_record(
            actor=actor,
            action="oversight.draw_file",
            obj=filing,
            after={"draw": draw.number, "filed_with": team.pk, "digest": filing.digest},
        )
    return filing


# --- the archive ---------------------------------------------------------------------------------


def archive_request(*, actor: User, organisation, year: int) -> tuple[Archive, bool]:
    """Ask for a new version of a bureau's archive of a year: its own clerks and leaders, or its
    city team. While one is being built, that one is returned and nothing new starts."""
    from core.selectors import organisations_visible_to

    own = actor.organisation_id == organisation.pk and (
        user_can(actor, Cap.VIEW_DRAWS) or user_can(actor, Cap.APPROVE)
    )
    team = (
        user_can(actor, Cap.REVIEW_COUNTIES)
        and organisations_visible_to(actor).filter(pk=organisation.pk).exists()
    )
    if not (own or team):
        raise ServiceError(_("You may not archive this bureau's records."), code="denied")
    if not 2000 <= year <= 2100:
        raise ServiceError(_("Give a year and a quarter."))
    key = {"organisation": organisation, "year": year}
    running = Archive.objects.filter(**key, status__in=Archive.ACTIVE).first()
    if running is not None:
        return running, False
    try:
        with transaction.atomic():
            latest = Archive.objects.filter(**key).aggregate(v=Max("version"))["v"] or 0
            archive = Archive.objects.create(
                **key,
                version=latest + 1,
                requested_by=actor,
                language=translation.get_language() or "",
            )
            audit_record(
                actor=actor,
                action="oversight.archive_request",
                obj=archive,
                after={"year": year, "version": archive.version},
            )
            _enqueue_archive(archive.pk)  # in the outbox, with the archive
    except IntegrityError:
        running = Archive.objects.filter(**key, status__in=Archive.ACTIVE).first()
        if running is None:
            raise
        return running, False
    return archive, True


def _enqueue_archive(archive_id: int) -> None:
    """Queue the archive's build through the outbox, in the caller's transaction."""
    outbox_enqueue("oversight.tasks.archive_build_task", archive_id)


def archive_build(*, archive_id: int) -> Archive | None:
    """Build a queued archive (claimed by a conditional UPDATE: once). A failure leaves no
    file and says why."""
    claim = timezone.now()
    claimed = Archive.objects.filter(pk=archive_id, status=Archive.Status.QUEUED).update(
        status=Archive.Status.RUNNING, started_at=claim, heartbeat_at=claim
    )
    if not claimed:
        return None
    archive = Archive.objects.select_related("organisation", "requested_by").get(pk=archive_id)
    with _in_language(archive):
        _build_archive(archive, claim)
    archive.refresh_from_db()
    return archive


def _build_archive(archive: Archive, claim) -> None:
    from oversight.archive import build_zip

    saved = ""
    try:
        data, manifest_sha, entries = build_zip(
            archive.organisation, archive.year, _beat(Archive, archive.pk, claim)
        )
        with transaction.atomic():
            name = f"archive-{archive.year}-v{archive.version}-r{archive.pk}-{uuid.uuid4().hex[:8]}"
            archive.file.save(f"{name}.zip", ContentFile(data), save=False)
            saved = archive.file.name or ""
            if not _held(Archive, archive.pk, claim).update(
                status=Archive.Status.DONE,
                file=saved,
                manifest_sha256=manifest_sha,
                entries=entries,
                finished_at=timezone.now(),
            ):
                raise _ClaimLost
            audit_record(
                actor=archive.requested_by,
                action="oversight.archive_build",
                obj=archive,
                after={"manifest_sha256": manifest_sha, "files": entries},
            )
    except _ClaimLost:
        logger.warning("oversight archive %s: given up for lost meanwhile, not written", archive.pk)
        if saved:
            archive.file.storage.delete(saved)
    except Exception as exc:
        logger.exception("oversight archive %s failed", archive.pk)
        if saved:
            archive.file.storage.delete(saved)
        _held(Archive, archive.pk, claim).update(
            status=Archive.Status.FAILED,
            file="",
            message=(_("The archive could not be built: %(why)s") % {"why": exc})[:2000],
            finished_at=timezone.now(),
        )


def archive_record_download(*, actor: User, archive: Archive) -> None:
    audit_record(
        actor=actor,
        action="oversight.archive_download",
        obj=archive,
        after={"manifest_sha256": archive.manifest_sha256},
    )
