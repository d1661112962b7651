"""The inspection pages: who sees what, the record form, approval, ledger, evidence, PDFs."""

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from core.models import AuditEntry
from inspections.models import (
    Evidence,
    InspectionRecord,
    InspectionTask,
    Problem,
    RecordDraft,
)
from inspections.selectors import task_team

State = InspectionTask.State


def login(user) -> Client:
    """A client of its own per persona, so two people can act in one test."""
    c = Client()
    c.force_login(user)
    return c


def png_bytes(size=(40, 30), color=(10, 120, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def upload(name: str, data: bytes, content_type: str = "image/png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


def record_post(task, *, version=0, members=None, result="", **extra) -> dict:
    team = [a.inspector for a in task_team(task)]
    members = team[:2] if members is None else members
    data = {
        "expected_version": str(version),
        "checked_at": "2026-03-12T09:30",
        "members": [str(m.pk) for m in members],
        "body_camera_refs": "DSJ-0012, DSJ-0013",
        "representative": "王经理",
        "witnesses": "李四，村委会主任",
        "result_type": str(result),
        "summary": "现场检查",
    }
    for m in members:
        data[f"shown_{m.pk}"] = "on"
    for item in task.check_items.all():
        data[f"outcome_{item.pk}"] = "compliant"
        data[f"note_{item.pk}"] = "符合要求"
    data.update(extra)
    return data


def test_the_inspector_sees_their_task_and_nobody_else_does(
    task, inspector_a, outsider_clerk, city_reviewer, county_clerk
):
    page = login(inspector_a).get(reverse("inspections:my_tasks"))
    assert page.status_code == 200
    assert task.source.name in page.content.decode()
    url = reverse("inspections:task_detail", args=[task.pk])
    assert login(inspector_a).get(url).status_code == 200
    assert login(county_clerk).get(url).status_code == 200  # the bureau's own clerk
    assert login(outsider_clerk).get(url).status_code == 404
    assert login(city_reviewer).get(url).status_code == 404
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert AuditEntry.objects.filter(action="inspection.view_task").exists()


def test_an_inspector_of_another_team_gets_404(drawn, task, inspector_a):
    other = InspectionTask.objects.filter(selection__draw=drawn).exclude(pk=task.pk).first()
    assert (
        login(inspector_a).get(reverse("inspections:task_detail", args=[other.pk])).status_code
        == 404
    )
    assert (
        login(inspector_a).post(reverse("inspections:task_start", args=[other.pk])).status_code
        == 404
    )


def test_a_recused_inspector_loses_the_task(task, inspector_a):
    from guardian.shortcuts import remove_perm

    remove_perm("lottery.view_drawn_task", inspector_a, task.selection)
    assert (
        login(inspector_a).get(reverse("inspections:task_detail", args=[task.pk])).status_code
        == 404
    )
    page = login(inspector_a).get(reverse("inspections:my_tasks"))
    assert task.source.name not in page.content.decode()


def test_the_old_my_tasks_url_redirects(inspector_a):
    response = login(inspector_a).get("/lottery/my-tasks/")
    assert response.status_code == 302
    assert response["Location"] == reverse("inspections:my_tasks")


def test_the_whole_path_through_the_pages(
    task, inspector_a, inspector_b, county_leader, calendar_loaded
):
    a, leader = login(inspector_a), login(county_leader)
    a.post(reverse("inspections:task_start", args=[task.pk]))
    task.refresh_from_db()
    assert task.state == State.IN_PROGRESS
    response = a.post(
        reverse("inspections:record_edit", args=[task.pk]),
        record_post(task, result=5, handling_ended_on="2025-09-26"),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    task.refresh_from_db()
    record = InspectionRecord.objects.get(task=task)
    assert task.state == State.RECORDED and record.result_type == 5
    assert record.witnesses == [{"name": "李四", "role": "村委会主任"}]
    assert record.findings.count() == task.check_items.count()
    assert all(record.credentials_shown.values()) and len(record.credentials_shown) == 2
    # 7 working days after Friday 2025-09-26, across the National Day week: Sunday 9-28
    # (adjusted working day), 9-29, 9-30, then 10-9, 10-10, Saturday 10-11 (adjusted), 10-13
    assert str(task.entry_due) == "2025-10-13"

    login(inspector_b).post(reverse("inspections:task_submit", args=[task.pk]))
    leader.post(reverse("inspections:task_approve", args=[task.pk]))
    task.refresh_from_db()
    assert task.state == State.APPROVED
    assert InspectionRecord.objects.get(task=task).approved

    a.post(
        reverse("inspections:problem_add", args=[task.pk]),
        {
            "description": "废水排放口标识缺失",
            "handling": "order",
            "rectification_due": "2026-04-01",
        },
    )
    problem = Problem.objects.get(task=task)
    # closing without evidence is refused and changes nothing
    leader.post(reverse("inspections:problem_close", args=[task.pk, problem.pk]))
    problem.refresh_from_db()
    assert problem.state == Problem.State.OPEN
    a.post(
        reverse("inspections:problem_verify", args=[task.pk, problem.pk]),
        {"evidence": "整改后照片", "verification": "复查已整改"},
    )
    leader.post(reverse("inspections:problem_close", args=[task.pk, problem.pk]))
    problem.refresh_from_db()
    assert problem.state == Problem.State.CLOSED


def test_fewer_than_two_members_is_refused_and_the_text_is_kept(task, inspector_a):
    one = [a.inspector for a in task_team(task)][:1]
    response = login(inspector_a).post(
        reverse("inspections:record_edit", args=[task.pk]),
        record_post(task, members=one, result=1, summary="我写的很长的记录"),
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "至少" in body and "我写的很长的记录" in body
    assert not InspectionRecord.objects.filter(task=task).exists()
    assert RecordDraft.objects.get(task=task).data["summary"] == "我写的很长的记录"


def test_result_4_needs_a_ground(task, inspector_a):
    response = login(inspector_a).post(
        reverse("inspections:record_edit", args=[task.pk]), record_post(task, result=4)
    )
    assert response.status_code == 200
    assert 'data-testid="error-ground"' in response.content.decode()
    assert not InspectionRecord.objects.filter(task=task).exists()


def test_a_result_without_body_camera_references_is_refused(task, inspector_a):
    response = login(inspector_a).post(
        reverse("inspections:record_edit", args=[task.pk]),
        record_post(task, result=1, body_camera_refs=""),
    )
    assert 'data-testid="error-body_camera_refs"' in response.content.decode()
    assert not InspectionRecord.objects.filter(task=task).exists()


def test_two_members_saving_at_once_the_second_is_refused_and_keeps_their_text(
    task, inspector_a, inspector_b
):
    url = reverse("inspections:record_edit", args=[task.pk])
    first = login(inspector_a).post(url, record_post(task, version=0, summary="甲的记录"))
    assert first.status_code == 302
    second = login(inspector_b).post(url, record_post(task, version=0, summary="乙的记录"))
    assert second.status_code == 200
    body = second.content.decode()
    assert "乙的记录" in body and "重新" in body or "reload" in body
    assert InspectionRecord.objects.filter(task=task).count() == 1


def test_drafts_are_kept_server_side_and_offered_back(task, inspector_a):
    c = login(inspector_a)
    response = c.post(
        reverse("inspections:record_autosave", args=[task.pk]),
        record_post(task, summary="写到一半"),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and 'data-testid="draft-saved"' in response.content.decode()
    assert not InspectionRecord.objects.filter(task=task).exists()
    page = c.get(reverse("inspections:record_edit", args=[task.pk])).content.decode()
    assert "写到一半" in page and 'data-testid="draft-restored"' in page


def test_evidence_upload_and_download(task, inspector_a, outsider_clerk):
    c = login(inspector_a)
    c.post(
        reverse("inspections:evidence_upload", args=[task.pk]),
        {"file": upload("现场.png", png_bytes()), "description": "排污口"},
    )
    evidence = Evidence.objects.get(task=task)
    assert evidence.content_type == "image/png" and evidence.original_name == "现场.png"
    assert "evidence/" in evidence.file.name and "现场" not in evidence.file.name
    url = reverse("inspections:evidence_download", args=[task.pk, evidence.pk])
    response = c.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == png_bytes()
    assert "no-store" in response["Cache-Control"]
    assert AuditEntry.objects.filter(action="inspection.evidence_download").count() == 1
    assert login(outsider_clerk).get(url).status_code == 404


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("fake.jpg", b"MZ\x90\x00 this is a program, not a photo", "JPEG"),
        ("empty.png", b"", ""),
        ("broken.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, ""),
        ("cut.pdf", b"%PDF-1.7\n1 0 obj\n", "PDF"),
    ],
)
def test_bad_evidence_is_refused_and_nothing_is_stored(
    task, inspector_a, settings, name, data, message
):
    media = Path(settings.MEDIA_ROOT) / "evidence"
    before = set(media.rglob("*")) if media.exists() else set()
    response = login(inspector_a).post(
        reverse("inspections:evidence_upload", args=[task.pk]),
        {"file": upload(name, data)},
        follow=True,
    )
    assert response.status_code == 200
    assert not Evidence.objects.exists()
    after = set(media.rglob("*")) if media.exists() else set()
    assert after == before
    shown = [str(m) for m in response.context["messages"]]
    assert shown and all(m for m in shown)
    if message:
        assert any(message in m for m in shown), shown


def test_evidence_over_the_size_limit_is_refused(task, inspector_a, settings):
    settings.SJSJ_EVIDENCE_MAX_BYTES = 100
    response = login(inspector_a).post(
        reverse("inspections:evidence_upload", args=[task.pk]),
        {"file": upload("big.png", png_bytes((200, 200)))},
        follow=True,
    )
    assert not Evidence.objects.exists()
    assert any("MB" in str(m) for m in response.context["messages"])


def test_the_clerk_board_answers_nonsense_with_a_message(task, county_clerk):
    c = login(county_clerk)
    ok = c.get(reverse("inspections:board"))
    assert ok.status_code == 200 and task.source.name in ok.content.decode()
    junk = c.get(reverse("inspections:board"), {"draw": "abc", "state": "x\x00", "page": "-1"})
    assert junk.status_code in (200, 400)
    one = c.get(reverse("inspections:board"), {"draw": task.selection.draw_id})
    assert one.status_code == 200


def test_a_clerk_opens_a_targeted_check_that_the_bureaus_inspectors_see(
    drawn, county_clerk, inspector_a
):
    source = drawn.organisation.sources.first()
    response = login(county_clerk).post(
        reverse("inspections:targeted_open"),
        {
            "source_code": source.source_code,
            "trigger": "complaint",
            "detail": "群众举报夜间偷排",
            "period_start": "2026-03-01",
            "period_end": "2026-03-31",
        },
    )
    assert response.status_code == 302
    task = InspectionTask.objects.get(kind="targeted")
    assert task.trigger == "complaint" and task.selection is None
    assert (
        login(inspector_a).get(reverse("inspections:task_detail", args=[task.pk])).status_code
        == 200
    )
    refused = login(county_clerk).post(
        reverse("inspections:targeted_open"),
        {
            "source_code": "NO-SUCH",
            "trigger": "complaint",
            "detail": "x",
            "period_start": "2026-03-01",
            "period_end": "2026-03-31",
        },
    )
    assert (
        refused.status_code == 200 and InspectionTask.objects.filter(kind="targeted").count() == 1
    )


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")
def test_the_record_pdf_names_the_source_and_both_certificates(task, inspector_a, tmp_path):
    from core.fonts import cjk_font_available

    if not cjk_font_available():
        pytest.skip("fonts-noto-cjk not installed")
    c = login(inspector_a)
    c.post(reverse("inspections:record_edit", args=[task.pk]), record_post(task, result=1))
    team = [a.inspector for a in task_team(task)][:2]
    for kind in ("approval", "record", "report"):
        response = c.get(reverse("inspections:task_pdf", args=[task.pk, kind]))
        assert response.status_code == 200 and response.content.startswith(b"%PDF")
        path = tmp_path / f"{kind}.pdf"
        path.write_bytes(response.content)
        text = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
        ).stdout.decode()
        compact = "".join(text.split())
        assert "".join((task.source.company_name or task.source.name).split()) in compact
        for inspector in team:
            assert inspector.certificate_number in compact, (kind, inspector.certificate_number)
    assert (
        login(inspector_a)
        .get(reverse("inspections:task_pdf", args=[task.pk, "nonsense"]))
        .status_code
        == 404
    )


def test_an_inspector_sees_only_their_own_current_tasks(
    county, county_clerk, county_leader, inspector_a, inspector_b
):
    from inspections.services import tasks_create_for_draw
    from inspectors.models import Inspector
    from lottery.display import draw_result
    from lottery.services import substitution_decide, substitution_request
    from tests.lottery.scenario import build_world, make_draw, make_plan

    build_world(county)
    record = Inspector.objects.filter(organisation=county).exclude(certificate_number="").first()
    Inspector.objects.filter(pk=record.pk).update(user=inspector_a)
    draw = make_draw(make_plan(county, county_clerk, county_leader), county_clerk)
    tasks_create_for_draw(draw=draw)
    mine = {
        r.selection.source.source_code
        for s in draw_result(draw).strata
        for r in s.rows
        if record.pk in {m.inspector_id for m in r.team}
    }
    assert mine
    page = login(inspector_a).get(reverse("inspections:my_tasks"))
    assert {r["task"].source.source_code for r in page.context["rows"]} == mine
    assert AuditEntry.objects.filter(action="inspection.view_own_tasks", actor_id=inspector_a.pk)
    # Recused from one of them: it is no longer theirs.
    task = page.context["rows"][0]["task"]
    sub = substitution_request(
        actor=county_clerk, selection=task.selection, reason="回避", inspector=record
    )
    substitution_decide(actor=county_leader, substitution=sub, approve=True)
    page = login(inspector_a).get(reverse("inspections:my_tasks"))
    assert task.pk not in {r["task"].pk for r in page.context["rows"]}
    assert (
        login(inspector_a).get(reverse("inspections:task_detail", args=[task.pk])).status_code
        == 404
    )
    assert login(inspector_b).get(reverse("inspections:my_tasks")).context["rows"] == []
    assert login(county_clerk).get(reverse("inspections:my_tasks")).status_code == 403
