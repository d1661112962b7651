"""The witness values and the seed of an executed, undisclosed draw (with the manifest they
give the confidential list), and the list itself, appear nowhere in the audit trail, the admin
pages or the log lines produced during the draw and the work that follows it before
disclosure: the team opening and starting its tasks, the filing with the city team, the
bureau's archive and reports. The trail keeps keyed digests, which confirm a value only to
whoever holds the key, and names a drawn task by its number.

Every registered admin is walked (``admin.site._registry``), so a new one is covered without
being listed here."""

from __future__ import annotations

import json
import logging
import re

import pytest
from django.contrib import admin
from django.urls import reverse
from guardian.shortcuts import assign_perm

from core.audit import secret_digest
from core.models import AuditEntry
from inspections.models import InspectionTask
from inspections.selectors import task_team
from inspections.services import task_start, tasks_create_for_draw
from inspectors.models import Inspector
from lottery.models import Draw
from lottery.services import substitution_decide, substitution_request
from oversight.services import (
    archive_build,
    archive_request,
    draw_file,
    report_build,
    report_request,
)
from registry.models import PollutionSource
from tests.lottery.scenario import build_world, make_draw, make_plan

pytestmark = pytest.mark.django_db

VALUES = ("４８３９１７", "205 736")
SECRETS_TYPED = ("483917", "205736")
#: The register of sources itself: every source appears there alike, drawn or not (checked
#: below: a drawn source's page reads like an undrawn one's). Its history (SourceChange) is
#: not exempt: a change written because a source was drawn would give it away.
REGISTER = "registry.pollutionsource"


def _names(sources) -> list[re.Pattern]:
    """Codes, credit codes and names of ``sources``, each not followed by a digit or a letter
    (测试污染源1 is not 测试污染源12)."""
    words = []
    for s in sources:
        words += [s.source_code, s.uscc, s.name, s.company_name]
    return [re.compile(re.escape(w) + r"(?![0-9A-Za-z])") for w in words if w]


def _found(patterns, text: str) -> list[str]:
    return [p.pattern for p in patterns if p.search(text)]


def _drawn(draw: Draw) -> list[PollutionSource]:
    """Every source the draw took, replaced ones and replacements included."""
    return [s.source for s in draw.selections.select_related("source")]


@pytest.fixture
def undisclosed(
    county,
    county_clerk,
    county_leader,
    city_reviewer,
    inspector_a,
    client_for,
    caplog,
    django_capture_on_commit_callbacks,
):
    """An executed draw, not disclosed, and what happens before its disclosure."""
    build_world(county)
    plan = make_plan(county, county_clerk, county_leader)
    with caplog.at_level(logging.DEBUG):
        with django_capture_on_commit_callbacks(execute=True):
            draw = make_draw(plan, county_clerk, values=VALUES)
        tasks_create_for_draw(draw=draw)
        # A drawn source replaced (its task cancelled, the replacement's task made).
        replaced = draw.selections.order_by("-pk").first()
        with django_capture_on_commit_callbacks(execute=True):
            sub = substitution_request(actor=county_clerk, selection=replaced, reason="企业已关闭")
            substitution_decide(actor=county_leader, substitution=sub, approve=True, note="属实")
        # The team opens its task (page and API, each audited) and starts it.
        task = InspectionTask.objects.filter(selection__draw=draw).order_by("pk").first()
        Inspector.objects.filter(pk=task_team(task)[0].inspector.pk).update(user=inspector_a)
        assign_perm("lottery.view_drawn_task", inspector_a, task.selection)
        client = client_for(inspector_a)
        assert client.get(reverse("inspections:task_detail", args=[task.pk])).status_code == 200
        assert client.get(f"/api/v1/inspection-tasks/{task.pk}/").status_code == 200
        task_start(actor=inspector_a, task=task)
        client.logout()
        draw_file(actor=county_clerk, draw=draw)
        archive, _ = archive_request(actor=county_clerk, organisation=county, year=plan.year)
        archive_build(archive_id=archive.pk)
        for actor, kind in [(county_leader, "results_return"), (city_reviewer, "circular")]:
            report, _ = report_request(actor=actor, kind=kind, year=plan.year, quarter=1)
            report_build(report_id=report.pk)
    draw.refresh_from_db()
    assert draw.status == Draw.Status.EXECUTED and draw.disclosed_at is None
    assert AuditEntry.objects.filter(action="inspection.view_task").count() == 2
    assert AuditEntry.objects.filter(action="inspection.task_cancel").count() == 1
    return draw


def test_no_seed_witness_value_or_drawn_source_in_the_trail_or_the_logs(undisclosed, caplog):
    draw = undisclosed
    secrets = [*SECRETS_TYPED, draw.seed]
    assert [e.value for e in draw.entropy.order_by("position")] == list(SECRETS_TYPED)
    drawn = _names(_drawn(draw))

    trail = {
        e.seq: json.dumps([e.action, e.before, e.after, e.object_repr], ensure_ascii=False)
        for e in AuditEntry.objects.all()
    }
    assert trail
    assert not {
        seq: [s for s in secrets if s in line]
        for seq, line in trail.items()
        if any(s in line for s in secrets)
    }
    assert not {seq: _found(drawn, line) for seq, line in trail.items() if _found(drawn, line)}
    logs = "\n".join(r.getMessage() for r in caplog.get_records("setup"))
    assert logs and not [s for s in secrets if s in logs]
    assert not _found(drawn, logs)

    # What the trail keeps confirms the values to whoever holds the audit key.
    entropy = AuditEntry.objects.filter(action="draw.entropy").order_by("seq")
    assert [e.after["value_digest"] for e in entropy] == [
        secret_digest(v, purpose=f"draw.entropy:{draw.pk}") for v in SECRETS_TYPED
    ]
    executed = AuditEntry.objects.get(action="draw.execute")
    assert executed.after["seed_digest"] == secret_digest(draw.seed, purpose=f"draw.seed:{draw.pk}")
    assert "seed" not in executed.after


def _admin_pages(model) -> list[str]:
    info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    pages = [reverse(f"{info}_changelist")]
    if model._meta.label_lower != REGISTER:
        pages += [
            reverse(f"{info}_change", args=[pk])
            for pk in model._base_manager.values_list("pk", flat=True)
        ]
    return pages


def test_no_admin_page_shows_a_secret_or_the_drawn_list(
    undisclosed, admin_client, sysadmin, client_for
):
    draw = undisclosed
    secrets = [*SECRETS_TYPED, draw.seed]
    drawn_sources = _drawn(draw)
    drawn = _names(drawn_sources)
    registered = list(admin.site._registry)
    # The walk reaches what the draw left behind, not only empty lists.
    labels = {m._meta.label_lower for m in registered}
    assert {"lottery.draw", "core.auditentry", "oversight.drawfiling", "oversight.report"} <= labels

    shown: dict[str, list[str]] = {}
    pages = [url for m in registered for url in _admin_pages(m)]
    assert len(pages) > 2 * len(registered)
    system = client_for(sysadmin)  # the trail's own page, for the system administrator
    for url in [reverse("core:audit"), *pages]:
        response = (system if url == reverse("core:audit") else admin_client).get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        leaked = [s for s in secrets if s in body]
        if not url.startswith("/admin/registry/pollutionsource/"):
            leaked += _found(drawn, body)
        if leaked:
            shown[url] = leaked
    assert not shown

    # In the register every source appears alike: a drawn source's page reads like an
    # undrawn one's of the same class, once each page's own names are taken out.
    def page(source) -> set[str]:
        url = reverse("admin:registry_pollutionsource_change", args=[source.pk])
        body = admin_client.get(url).content.decode()
        for word in (source.source_code, source.uscc, source.company_name, source.name):
            body = body.replace(word, "…")
        body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", body)
        return set(body.replace(f"/{source.pk}/", "/…/").splitlines())

    chosen = drawn_sources[0]
    other = (
        PollutionSource.objects.filter(
            supervision_class=chosen.supervision_class, status=chosen.status
        )
        .exclude(pk__in=[s.pk for s in drawn_sources])
        .first()
    )
    assert other is not None
    assert page(chosen) ^ page(other) == set()


def test_the_archive_and_the_reports_made_before_disclosure_hold_no_secret(undisclosed):
    """The city team downloads both; before disclosure it may not see the list."""
    import io
    import zipfile

    from openpyxl import load_workbook

    from oversight.models import Archive, Report

    draw = undisclosed
    secrets = [*SECRETS_TYPED, draw.seed]
    drawn = _names(_drawn(draw))
    texts = {}
    archive = Archive.objects.get(organisation=draw.organisation)
    assert archive.status == "done" and archive.file
    with archive.file.open("rb") as f, zipfile.ZipFile(io.BytesIO(f.read())) as z:
        for name in z.namelist():
            texts[f"archive:{name}"] = z.read(name).decode("utf-8", "replace")
    assert f"archive:03-draws/{draw.number}.json" in texts
    for report in Report.objects.all():
        assert report.status == "done", report.message
        texts[f"report:{report.kind}"] = json.dumps(report.data, ensure_ascii=False, default=str)
        if report.xlsx:
            with report.xlsx.open("rb") as f:
                book = load_workbook(io.BytesIO(f.read()))
            texts[f"xlsx:{report.kind}"] = " ".join(
                str(c.value) for sheet in book for row in sheet.iter_rows() for c in row
            )
    found = {
        where: [s for s in secrets if s in text] + _found(drawn, text)
        for where, text in texts.items()
    }
    assert not {where: what for where, what in found.items() if what}
