"""The draw record PDF: it renders, carries the commitment and the result, and its Chinese is
real text in an embedded CJK font (not boxes, not a picture)."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from datetime import date

import pytest
from django.urls import reverse

from core.models import AuditEntry
from lottery.display import draw_result
from lottery.pdf import draw_record_pdf
from lottery.rules import PRESETS
from lottery.services import plan_create, substitution_decide, substitution_request
from tests.lottery.factories import make_inspectors, make_sources
from tests.lottery.scenario import build_world, make_draw, make_plan, publish

pytestmark = pytest.mark.django_db


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "record.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    ).stdout.decode("utf-8")


@pytest.fixture
def executed(county, county_clerk, county_leader):
    build_world(county)
    return make_draw(make_plan(county, county_clerk, county_leader), county_clerk)


def test_the_record_pdf_has_the_commitment_the_result_and_chinese_text(
    executed, county_clerk, county_leader, tmp_path
):
    first = draw_result(executed).strata[0].rows[0].selection
    sub = substitution_request(actor=county_clerk, selection=first, reason="企业已停产")
    substitution_decide(actor=county_leader, substitution=sub, approve=True)

    pdf = draw_record_pdf(executed)
    assert pdf.startswith(b"%PDF-")
    if shutil.which("pdffonts"):
        fonts = subprocess.run(
            ["pdffonts", "-"], input=pdf, capture_output=True, check=True
        ).stdout.decode()
        embedded = [line for line in fonts.splitlines() if "CJK" in line]
        assert embedded and all(" yes " in line for line in embedded), fonts
    if not shutil.which("pdftotext"):
        # Without poppler-utils: at least the CJK font must be in the file.
        assert b"Noto-Serif-CJK-SC" in pdf or b"NotoSerifCJK" in pdf
        return
    text = pdf_text(pdf, tmp_path)
    flat = re.sub(r"\s+", "", text)
    assert executed.manifest_hash in flat
    assert executed.seed in flat
    assert "摇号记录" in text and "武陟" in text
    assert "见证人甲" in text and "纪检监察干部" in text and "351624" in flat
    result = draw_result(executed)
    for row in result.strata[0].rows:
        assert row.selection.source.source_code in flat
    member = result.strata[0].rows[1].team[0]
    assert member.name in text and member.certificate_number in flat
    assert "企业已停产" in text  # the substitution, with its reason
    assert "分管负责同志" in text and "操作人员" in text  # signature lines


def test_the_pdf_download_is_confidential_and_audited(
    client_for, executed, county_leader, city_reviewer
):
    response = client_for(county_leader).get(reverse("lottery:draw_pdf", args=[executed.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    entry = AuditEntry.objects.get(action="draw.view_result", actor_id=county_leader.pk)
    assert entry.after == {"via": "pdf"}
    reviewer = client_for(city_reviewer)
    assert reviewer.get(reverse("lottery:draw_pdf", args=[executed.pk])).status_code == 403


def test_a_50_source_draw_renders_in_a_few_seconds(county, county_clerk, county_leader, capsys):
    make_sources(county, 200, klass="key")
    make_inspectors(county, 12)
    plan = publish(
        plan_create(
            actor=county_clerk,
            organisation=county,
            kind="quarterly",
            year=2026,
            quarter=1,
            title="武陟县2026年第一季度“双随机、一公开”抽查计划",
            classes=["key"],
            rules=PRESETS["shanxi_2024"].rules,  # 25% of 200 key sources a quarter: 50
            planned_start=date(2026, 1, 11),
            planned_end=date(2026, 3, 25),
        ),
        county_clerk,
        county_leader,
    )
    draw = make_draw(plan, county_clerk)
    assert draw.selections.count() == 50
    draw_record_pdf(draw)  # the first call in a process also imports WeasyPrint
    started = time.perf_counter()
    pdf = draw_record_pdf(draw)
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(f"\n50-source draw record PDF: {elapsed:.2f} s, {len(pdf) // 1024} KiB")
    assert elapsed < 15


def test_the_record_is_stored_and_rendered_again_only_when_the_draw_changes(
    client_for, executed, county_leader, county_clerk, monkeypatch
):
    import lottery.pdf

    renders = []
    real = lottery.pdf.draw_record_pdf
    monkeypatch.setattr(lottery.pdf, "draw_record_pdf", lambda d: renders.append(d.pk) or real(d))
    leader = client_for(county_leader)
    url = reverse("lottery:draw_pdf", args=[executed.pk])
    first = b"".join(leader.get(url).streaming_content)
    second = b"".join(leader.get(url).streaming_content)
    assert first == second and renders == [executed.pk]  # the stored file, not a new layout
    assert (
        AuditEntry.objects.filter(action="draw.view_result", actor_id=county_leader.pk).count() == 2
    )

    row = draw_result(executed).strata[0].rows[0].selection
    substitution_request(actor=county_clerk, selection=row, reason="企业已停产")
    third = b"".join(leader.get(url).streaming_content)
    assert renders == [executed.pk, executed.pk] and third != first


def test_a_large_draws_record_is_laid_out_by_a_worker_while_the_page_waits(
    client_for,
    executed,
    county_leader,
    city_reviewer,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    import lottery.records
    import lottery.tasks

    monkeypatch.setattr(lottery.records, "SYNC_ROWS", 1)
    import core.outbox
    from core.models import OutboxMessage

    sent = []  # the outbox's sending, after the commit: not to the broker here
    monkeypatch.setattr(core.outbox, "outbox_dispatch_one", sent.append)
    leader = client_for(county_leader)
    url = reverse("lottery:draw_pdf", args=[executed.pk])
    status_url = reverse("lottery:draw_pdf_status", args=[executed.pk])
    with django_capture_on_commit_callbacks(execute=True):
        waiting = leader.get(url)
    assert waiting["Content-Type"].startswith("text/html")
    assert 'data-testid="record-preparing"' in waiting.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        leader.get(url)  # asked again meanwhile: not queued twice
    queued = [
        tuple(m.args)
        for m in OutboxMessage.objects.filter(task_name="lottery.tasks.render_draw_record_task")
    ]
    assert len(queued) == 1 and queued[0][0] == executed.pk and len(sent) == 1
    assert 'data-testid="record-preparing"' in leader.get(status_url).content.decode()

    assert lottery.tasks.render_draw_record_task(*queued[0]) is True  # the worker's run
    assert lottery.tasks.render_draw_record_task(*queued[0]) is False  # twice: nothing more
    assert 'data-testid="record-download"' in leader.get(status_url).content.decode()
    done = leader.get(url)
    assert done["Content-Type"] == "application/pdf"
    assert b"".join(done.streaming_content).startswith(b"%PDF-")
    assert client_for(city_reviewer).get(status_url).status_code == 403  # confidential


def test_without_a_chinese_font_no_pdf_is_stored_and_health_says_so(
    executed, client_for, county_leader, monkeypatch, client
):
    from core import fonts
    from lottery import records

    monkeypatch.setattr(records, "cjk_font_available", lambda: False)
    monkeypatch.setattr("core.views.cjk_font_available", lambda: False)
    response = client_for(county_leader).get(
        reverse("lottery:draw_pdf", args=[executed.pk]), follow=True
    )
    assert "fonts-noto-cjk" in response.content.decode()
    executed.refresh_from_db()
    assert not executed.record_pdf and executed.record_pdf_state == ""
    health = client.get("/health/").json()
    assert health["fonts"] == {"cjk": False}
    assert any("fonts-noto-cjk" in w for w in health["warnings"])
    assert fonts.FONT_STATE in records.record_state(executed)


def test_a_record_stored_before_the_font_check_is_rendered_again(
    executed, client_for, county_leader
):
    from lottery import records
    from lottery.models import Draw

    leader = client_for(county_leader)
    assert leader.get(reverse("lottery:draw_pdf", args=[executed.pk])).status_code == 200
    executed.refresh_from_db()
    first = executed.record_pdf.name
    # As stored by an earlier version: the same state without the font marker.
    old_state = executed.record_pdf_state.rsplit("|", 1)[0]
    Draw.objects.filter(pk=executed.pk).update(record_pdf_state=old_state)
    executed.refresh_from_db()
    assert not records.record_pdf_ready(executed)
    assert leader.get(reverse("lottery:draw_pdf", args=[executed.pk])).status_code == 200
    executed.refresh_from_db()
    assert records.record_pdf_ready(executed) and executed.record_pdf_state != old_state
    assert executed.record_pdf.name  # rendered again (the old file replaced)
    assert first
