"""Reports: built by a worker from the dashboard's figures, with a digest; a second request
shows the running build; a failure leaves no file; a build delivered twice writes one file."""

from __future__ import annotations

import io
import time
from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from core.models import Role
from oversight import reports
from oversight.models import Report
from oversight.services import report_build, report_request, typical_case_mark
from registry.models import PollutionSource
from registry.services import source_set_status
from tests.conftest import _make_user
from tests.oversight.conftest import QUARTER, YEAR

pytestmark = pytest.mark.django_db


def test_the_annual_report_is_due_on_the_last_working_day_by_20_december(calendar_loaded):
    # 20 December 2026 is a Sunday: due Friday 18 December.
    assert date(2026, 12, 20).weekday() == 6
    assert reports.annual_report_due(2026) == date(2026, 12, 18)
    assert reports.annual_report_due(2025) == date(2025, 12, 19)  # the 20th is a Saturday
    assert reports.annual_report_due(2024) == date(2024, 12, 20)  # a Friday


def test_a_circular_ranks_the_counties_and_names_late_items(city_reviewer, city):
    report, created = report_request(
        actor=city_reviewer, kind="circular", year=YEAR, quarter=QUARTER
    )
    assert created and report.status == "queued" and report.version == 1
    # A second request while it waits: the same build, none started.
    again, created = report_request(
        actor=city_reviewer, kind="circular", year=YEAR, quarter=QUARTER
    )
    assert again.pk == report.pk and not created
    built = report_build(report_id=report.pk)
    assert built.status == "done" and built.progress == 100
    assert built.data_sha256 == reports.digest(built.data)
    table = built.data["tables"]["1"]
    ranked = [r["division_code"] for r in table]
    # The county on time comes first; the late ones are named with what is late.
    assert ranked[0] == "410823"
    late = {r["division_code"]: r for r in table}
    assert "1" in late["410822"]["late_items"] and late["410822"]["publication_overdue"] == 1
    assert built.pdf.open("rb").read(5) == b"%PDF-"
    sheet = load_workbook(io.BytesIO(built.xlsx.open("rb").read())).active
    headers = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert headers[:3] == ["季度", "排名", "单位"]
    # Run twice: the second delivery finds it built and writes nothing.
    assert report_build(report_id=report.pk) is None
    # A new request makes version 2; version 1 stays.
    second, created = report_request(
        actor=city_reviewer, kind="circular", year=YEAR, quarter=QUARTER
    )
    assert created and second.version == 2
    assert Report.objects.filter(kind="circular").count() == 2


def test_a_failed_build_leaves_no_file_and_says_why(city_reviewer, city, monkeypatch):
    report, _ = report_request(actor=city_reviewer, kind="quarterly", year=YEAR, quarter=QUARTER)
    saved = []
    real_save = report.pdf.storage.save

    def spy(name, content, **kw):
        saved.append(real_save(name, content, **kw))
        return saved[-1]

    monkeypatch.setattr(report.pdf.storage, "save", spy)

    def broken(*a, **k):
        raise RuntimeError("disk full")

    # The PDF is written, then the audit entry fails: the PDF must go.
    monkeypatch.setattr("oversight.services.audit_record", broken)
    built = report_build(report_id=report.pk)
    assert built.status == "failed" and "disk full" in built.message
    assert not built.pdf and not built.xlsx and saved
    assert not any(report.pdf.storage.exists(name) for name in saved)


def test_who_reads_which_report(
    client_for, city_reviewer, city, county_clerk, province_viewer, orgs
):
    circular, _ = report_request(actor=city_reviewer, kind="circular", year=YEAR, quarter=QUARTER)
    report_build(report_id=circular.pk)
    quarterly, _ = report_request(actor=city_reviewer, kind="quarterly", year=YEAR, quarter=QUARTER)
    report_build(report_id=quarterly.pk)
    luliang = next(o for k, o in orgs.items() if k.startswith("county:1411"))
    outsider = _make_user("luliang_clerk", Role.CLERK, luliang)

    def visible(user):
        page = client_for(user).get(reverse("oversight:reports"))
        return {r.kind for r in page.context["reports"]}

    assert visible(city_reviewer) == {"circular", "quarterly"}
    assert visible(county_clerk) == {"circular"}  # every county of the city reads the circular
    assert visible(province_viewer) == {"quarterly"}
    assert visible(outsider) == set()
    url = reverse("oversight:report_download", args=[circular.pk, "pdf"])
    response = client_for(county_clerk).get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content)[:5] == b"%PDF-"
    assert client_for(outsider).get(url).status_code == 404
    # Only the city team asks for reports.
    response = client_for(county_clerk).post(
        reverse("oversight:report_request"), {"kind": "circular", "year": YEAR, "quarter": 1}
    )
    assert response.status_code == 403


def test_the_quarterly_report_names_typical_cases(city_reviewer, city):
    task = city["draws"]["on_time"].selections.first().inspection_task
    typical_case_mark(actor=city_reviewer, task=task, note="规范执法的典型")
    report, _ = report_request(actor=city_reviewer, kind="quarterly", year=YEAR, quarter=QUARTER)
    built = report_build(report_id=report.pk)
    assert [c["note"] for c in built.data["typical_cases"]] == ["规范执法的典型"]


def test_the_ceased_list_comes_from_the_registrys_history(city_reviewer, county, county_clerk):
    from tests.lottery.factories import make_sources

    make_sources(county, 2, klass="general")
    source = PollutionSource.objects.filter(organisation=county).first()
    source_set_status(actor=county_clerk, source=source, status="cancelled")
    year, quarter = timezone.localdate().year, (timezone.localdate().month - 1) // 3 + 1
    report, _ = report_request(actor=city_reviewer, kind="ceased", year=year, quarter=quarter)
    built = report_build(report_id=report.pk)
    assert built.status == "done", built.message
    assert [r["source_code"] for r in built.data["ceased"]] == [source.source_code]


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_builds_it_once(
    worker, city_reviewer, orgs, calendar_loaded, settings, tmp_path
):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    report, created = report_request(
        actor=city_reviewer, kind="circular", year=YEAR, quarter=QUARTER
    )
    assert created
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        report.refresh_from_db()
        if report.status in ("done", "failed"):
            break
        again, created = report_request(
            actor=city_reviewer, kind="circular", year=YEAR, quarter=QUARTER
        )
        assert again.pk == report.pk and not created  # a second request shows the running job
        time.sleep(0.3)
    assert report.status == "done", report.message
    # Delivered again: claimed already, nothing written.
    from oversight.tasks import report_build_task

    assert report_build_task.delay(report.pk).get(timeout=30) is None
    storage = report.pdf.storage
    folder = report.pdf.name.rsplit("/", 1)[0]
    pdfs = [
        n for n in storage.listdir(folder)[1] if n.startswith("circular-") and n.endswith(".pdf")
    ]
    assert [f"{folder}/{n}" for n in pdfs if f"v{report.version}-" in n] == [report.pdf.name]


def test_the_city_team_marks_a_typical_case_from_the_drill_down(
    client_for, city_reviewer, city, county_clerk
):
    from lottery.models import Draw as DrawModel
    from oversight.models import TypicalCase

    draw = city["draws"]["on_time"]
    task = draw.selections.order_by("pk").first().inspection_task
    url = reverse("oversight:typical_case_mark", args=[task.pk])
    client = client_for(city_reviewer)
    # Not disclosed: the team cannot see the source, so it cannot pick it.
    assert client.post(url, {"note": "典型"}).status_code == 404
    from tests.sql import triggers_off

    with triggers_off():
        DrawModel.objects.filter(pk=draw.pk).update(disclosed_at=timezone.now())
    assert client.post(url, {"note": "规范执法的典型"}).status_code == 302
    assert TypicalCase.objects.get(task=task).note == "规范执法的典型"
    assert client_for(county_clerk).post(url, {"note": "x"}).status_code == 403


def test_the_api_serves_the_finished_reports_scoped_and_audited(
    client_for, city_reviewer, city, county_clerk, province_viewer, orgs
):
    """A provincial platform reads the finished reports: the same scope as the page, the same
    figures (data and digest), each file's download audited; a running build is not listed."""
    from core.models import AuditEntry

    quarterly, _ = report_request(actor=city_reviewer, kind="quarterly", year=YEAR, quarter=QUARTER)
    built = report_build(report_id=quarterly.pk)
    running, _ = report_request(actor=city_reviewer, kind="circular", year=YEAR, quarter=QUARTER)
    province = client_for(province_viewer)
    data = province.get(f"/api/v1/oversight-reports/?year={YEAR}").json()
    assert [r["id"] for r in data["results"]] == [built.pk]
    row = data["results"][0]
    assert row["kind"] == "quarterly" and row["data_sha256"] == reports.digest(row["figures"])
    assert row["figures"] == built.data and row["organisation"]["division_code"] == "410800"
    response = province.get(row["xlsx"])
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body == built.xlsx.open("rb").read()
    assert AuditEntry.objects.filter(
        action="oversight.report_download", actor=province_viewer, object_id=str(built.pk)
    ).exists()
    # The city team sees its running circular on the page, not in the API's finished list.
    team = client_for(city_reviewer).get("/api/v1/oversight-reports/").json()
    assert {r["id"] for r in team["results"]} == {built.pk}
    assert running.pk not in {r["id"] for r in team["results"]}
    # A county reads no quarterly report to the province; another city's clerk reads nothing.
    assert client_for(county_clerk).get("/api/v1/oversight-reports/").json()["results"] == []
    assert client_for(county_clerk).get(row["pdf"]).status_code == 404
    luliang = next(o for k, o in orgs.items() if k.startswith("county:1411"))
    outsider = _make_user("luliang_api", Role.CLERK, luliang)
    assert client_for(outsider).get(f"/api/v1/oversight-reports/{built.pk}/").status_code == 404
    # Bad filters: a translated message, nothing else.
    bad = province.get("/api/v1/oversight-reports/?year=abc", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert bad.status_code == 400 and "2000" in str(bad.json())
    assert province.get("/api/v1/oversight-reports/?kind=nope").status_code == 400
    from django.test import Client

    assert Client().get("/api/v1/oversight-reports/").status_code in (401, 403)
