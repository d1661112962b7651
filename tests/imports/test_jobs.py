"""Import jobs end to end on the inspector registry: refusals, dry run, commit, tasks, scope."""

from __future__ import annotations

import io
import os
import zipfile
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.utils import timezone, translation

from core.errors import ServiceError
from core.models import AuditEntry
from exchange import imports as imports_module
from exchange import tasks
from exchange.excel import StructureError
from exchange.imports import (
    import_job_commit,
    import_job_create,
    import_job_get_for_user,
    import_job_request_commit,
    import_job_validate,
)
from exchange.models import ImportJob
from inspectors.models import Inspector, InspectorChange
from tests.imports.conftest import (
    INSPECTOR_HEADERS,
    inspector_rows,
    inspectors_xlsx,
    stored_files,
    xlsx_bytes,
)

pytestmark = pytest.mark.django_db

Status = ImportJob.Status


def snapshot(media_root) -> tuple:
    return (
        Inspector.objects.count(),
        InspectorChange.objects.count(),
        ImportJob.objects.count(),
        AuditEntry.objects.count(),
        stored_files(media_root) if media_root.exists() else [],
    )


def upload(actor, data: bytes, name: str = "人员.xlsx") -> ImportJob:
    return import_job_create(actor=actor, kind="inspectors", filename=name, data=data)


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * (32 * 1024 * 1024))
    return buffer.getvalue()


def _plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("人员名单.txt", "张三")
    return buffer.getvalue()


BAD_FILES = {
    "empty": b"",
    "ten megabytes of junk": os.urandom(10 * 1024 * 1024),
    "zip bomb": _zip_bomb(),
    "a zip that is no workbook": _plain_zip(),
    "truncated workbook": inspectors_xlsx(inspector_rows(50))[:3000],
    "random bytes": bytes(range(256)) * 64,
    "renamed pdf": b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF",
    "wrong sheet": xlsx_bytes([INSPECTOR_HEADERS, *inspector_rows(2)], sheet="Sheet1"),
    "missing header": xlsx_bytes([INSPECTOR_HEADERS[1:], ["执法人员"]], sheet="执法检查人员"),
    "duplicated header": xlsx_bytes(
        [[*INSPECTOR_HEADERS, "姓名"], [*inspector_rows(1)[0], "x"]], sheet="执法检查人员"
    ),
    "headers only": inspectors_xlsx([]),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_it_refuses_a_bad_file_and_writes_nothing(county_clerk, media_root, case):
    before = snapshot(media_root)
    with pytest.raises(StructureError) as refused:
        upload(county_clerk, BAD_FILES[case])
    assert refused.value.messages and all(m.strip() for m in refused.value.messages)
    assert snapshot(media_root) == before


def test_it_refuses_a_file_over_the_size_limit_and_writes_nothing(
    county_clerk, media_root, monkeypatch
):
    monkeypatch.setattr(imports_module, "MAX_UPLOAD_BYTES", 64 * 1024)
    before = snapshot(media_root)
    with pytest.raises(StructureError) as refused:
        upload(county_clerk, inspectors_xlsx(inspector_rows(2000)))
    assert "请拆分为多个文件" in refused.value.messages[0]
    assert snapshot(media_root) == before


def test_it_refuses_formulas_and_merged_cells_and_writes_nothing(county_clerk, media_root):
    def formula(wb, ws):
        ws["J3"] = "=A2"

    def merged(wb, ws):
        ws.merge_cells("F2:G2")

    before = snapshot(media_root)
    for setup, expected in ((formula, "单元格 J3 含有公式"), (merged, "单元格 F2:G2 是合并单元格")):
        data = xlsx_bytes(
            [INSPECTOR_HEADERS, *inspector_rows(3)], sheet="执法检查人员", setup=setup
        )
        with pytest.raises(StructureError) as refused:
            upload(county_clerk, data)
        assert refused.value.messages[0].startswith(expected)
    assert snapshot(media_root) == before


def test_a_small_file_is_checked_at_once_then_committed(county_clerk, county):
    job = upload(county_clerk, inspectors_xlsx(inspector_rows(5)))
    assert job.status == Status.VALIDATED and not job.in_background
    assert job.organisation == county and job.created_by == county_clerk
    assert job.file.name.startswith("imports/410823/") and job.file.name.endswith(".xlsx")
    assert (job.report["create"], job.report["errors"], job.report["rows"]) == (5, 0, 5)
    assert Inspector.objects.count() == 0  # the dry run writes nothing

    job = import_job_request_commit(actor=county_clerk, job=job, accept_warnings=False)
    assert job.status == Status.COMMITTED
    assert job.result == {"created": 5, "updated": 0, "unchanged": 0}
    assert Inspector.objects.filter(organisation=county).count() == 5
    first = Inspector.objects.get(certificate_number="豫环执0000001")
    assert (first.gender, first.expertise, first.years_of_service) == ("male", ["air", "water"], 1)
    assert AuditEntry.objects.filter(action="import.commit", object_id=str(job.pk)).exists()


def test_reimporting_the_same_file_changes_nothing(county_clerk):
    data = inspectors_xlsx(inspector_rows(4))
    import_job_request_commit(
        actor=county_clerk, job=upload(county_clerk, data), accept_warnings=False
    )
    history = InspectorChange.objects.count()
    again = upload(county_clerk, data)
    assert (again.report["create"], again.report["update"], again.report["unchanged"]) == (0, 0, 4)
    again = import_job_request_commit(actor=county_clerk, job=again, accept_warnings=False)
    assert again.result == {"created": 0, "updated": 0, "unchanged": 4}
    assert InspectorChange.objects.count() == history


def test_edits_update_only_those_rows_and_record_history(county_clerk):
    rows = inspector_rows(4)
    import_job_request_commit(
        actor=county_clerk, job=upload(county_clerk, inspectors_xlsx(rows)), accept_warnings=False
    )
    rows[1][6] = "副中队长"  # 职务
    rows[3][10] = "危废"  # 业务专长
    job = upload(county_clerk, inspectors_xlsx(rows))
    assert (job.report["update"], job.report["unchanged"]) == (2, 2)
    fields = {c["key"]: c["fields"] for c in job.report["changes"]}
    assert fields["豫环执0000002"] == [["职务", "科员", "副中队长"]]
    assert fields["豫环执0000004"] == [["业务专长", "大气、水", "危险废物"]]
    job = import_job_request_commit(actor=county_clerk, job=job, accept_warnings=False)
    assert job.result == {"created": 0, "updated": 2, "unchanged": 2}
    change = InspectorChange.objects.get(
        inspector__certificate_number="豫环执0000002", action="update"
    )
    assert change.changes == {"post": ["科员", "副中队长"]}
    assert change.actor == county_clerk


def test_commit_is_refused_while_the_report_has_errors(county_clerk, media_root):
    rows = inspector_rows(3)
    rows[1][2] = ""  # enforcement staff without a certificate number
    rows[2][3] = "2027-02-30"
    job = upload(county_clerk, inspectors_xlsx(rows))
    assert job.report["errors"] == 2
    texts = [f"第 {e['row']} 行，{e['column']}：{e['message']}" for e in job.report["error_list"]]
    assert "第 3 行，执法证号：执法人员必须填写执法证号。" in texts
    assert "第 4 行，执法证有效期至：“2027-02-30”不是有效日期" in texts
    assert job.error_report.name  # the full list, as Excel
    with pytest.raises(ServiceError):
        import_job_request_commit(actor=county_clerk, job=job, accept_warnings=True)
    job.refresh_from_db()
    assert job.status == Status.VALIDATED and Inspector.objects.count() == 0


def test_a_change_in_the_registry_after_the_dry_run_blocks_the_commit(county_clerk, outsider_clerk):
    job = upload(county_clerk, inspectors_xlsx(inspector_rows(3)))
    assert job.report["create"] == 3
    # Meanwhile 温县 registers one of these certificate numbers.
    from inspectors.services import inspector_create

    inspector_create(
        actor=outsider_clerk,
        organisation=outsider_clerk.organisation,
        data={"name": "温县人", "certificate_number": "豫环执0000002"},
    )
    job = import_job_request_commit(actor=county_clerk, job=job, accept_warnings=False)
    assert job.status == Status.VALIDATED
    assert "检查之后名录库已发生变化" in job.message
    assert job.report["error_list"][0]["message"] == "“豫环执0000002”已由其他单位登记"
    assert Inspector.objects.filter(organisation=county_clerk.organisation).count() == 0


def test_a_job_is_invisible_outside_its_organisations_scope(
    county_clerk, outsider_clerk, city_reviewer
):
    job = upload(county_clerk, inspectors_xlsx(inspector_rows(1)))
    with pytest.raises(Http404):
        import_job_get_for_user(user=outsider_clerk, pk=job.pk)
    assert import_job_get_for_user(user=city_reviewer, pk=job.pk) == job
    with pytest.raises(ServiceError):
        import_job_request_commit(actor=city_reviewer, job=job, accept_warnings=False)


def test_an_inspector_cannot_upload(inspector_a):
    with pytest.raises(ServiceError):
        upload(inspector_a, inspectors_xlsx(inspector_rows(1)))
    assert ImportJob.objects.count() == 0


@pytest.fixture
def big(monkeypatch):
    """Make “large” small, so the background path runs on a few rows."""
    monkeypatch.setattr(imports_module, "INLINE_MAX_ROWS", 3)


def test_a_large_file_is_queued_and_the_task_runs_it_once(
    county_clerk, big, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(imports_module, "_enqueue", lambda name, pk: queued.append((name, pk)))
    with django_capture_on_commit_callbacks(execute=True):
        job = upload(county_clerk, inspectors_xlsx(inspector_rows(6)))
    assert job.in_background and job.status == Status.UPLOADED
    assert queued == [("import_validate", job.pk)]

    assert tasks.import_validate(job.pk) == Status.VALIDATED
    job.refresh_from_db()
    assert (job.report["create"], job.rows_done, job.rows_total) == (6, 6, 6)
    validated_at = job.validated_at
    # Run it twice: the second run finds nothing to claim and changes nothing.
    assert tasks.import_validate(job.pk) is None
    job.refresh_from_db()
    assert job.validated_at == validated_at

    with django_capture_on_commit_callbacks(execute=True):
        job = import_job_request_commit(actor=county_clerk, job=job, accept_warnings=False)
    assert job.status == Status.COMMITTING and queued[-1] == ("import_commit", job.pk)
    assert tasks.import_commit(job.pk) == Status.COMMITTED
    assert tasks.import_commit(job.pk) is None
    job.refresh_from_db()
    assert job.result == {"created": 6, "updated": 0, "unchanged": 0}
    assert Inspector.objects.count() == 6
    assert AuditEntry.objects.filter(action="import.commit").count() == 1


def test_a_claim_held_by_a_live_worker_is_respected_and_a_dead_ones_taken_over(
    county_clerk, big, monkeypatch
):
    monkeypatch.setattr(imports_module, "_enqueue", lambda name, pk: None)
    job = upload(county_clerk, inspectors_xlsx(inspector_rows(5)))
    ImportJob.objects.filter(pk=job.pk).update(status=Status.VALIDATING, claimed_at=timezone.now())
    assert import_job_validate(job_id=job.pk) is None  # another worker is on it
    ImportJob.objects.filter(pk=job.pk).update(claimed_at=timezone.now() - timedelta(hours=1))
    assert import_job_validate(job_id=job.pk).status == Status.VALIDATED

    ImportJob.objects.filter(pk=job.pk).update(
        status=Status.COMMITTING, committed_by=county_clerk, claimed_at=timezone.now()
    )
    assert import_job_commit(job_id=job.pk) is None
    assert Inspector.objects.count() == 0


def test_a_second_commit_request_is_refused(county_clerk):
    job = upload(county_clerk, inspectors_xlsx(inspector_rows(2)))
    import_job_request_commit(actor=county_clerk, job=job, accept_warnings=False)
    with pytest.raises(ServiceError):
        import_job_request_commit(actor=county_clerk, job=job, accept_warnings=False)
    assert Inspector.objects.count() == 2


def test_a_bulk_service_refusal_fails_the_job_and_writes_nothing(county_clerk, monkeypatch):
    job = upload(county_clerk, inspectors_xlsx(inspector_rows(2)))

    def refuse(**kwargs):
        raise ServiceError("第 2 行：服务拒绝")

    monkeypatch.setattr("inspectors.imports.inspector_bulk_upsert", refuse)
    job = import_job_request_commit(actor=county_clerk, job=job, accept_warnings=False)
    assert job.status == Status.FAILED and job.message == "第 2 行：服务拒绝"
    assert Inspector.objects.count() == 0
    assert not AuditEntry.objects.filter(action="import.commit").exists()


def test_experts_are_matched_by_name_and_need_no_certificate(county_clerk):
    rows = [
        ["李专家", "技术专家", "", "", "", "市环境监测站", "高级工程师", "否", "女", 20, "辐射"],
        ["王专家", "专家", "", "", "", "", "", "", "", "", "废水"],
        ["赵专家", "技术专家", "豫环执0000009", "", "", "", "", "", "", "", ""],
    ]
    job = upload(county_clerk, inspectors_xlsx(rows))
    assert [f"{e['row']} {e['column']}" for e in job.report["error_list"]] == ["4 执法证号"]
    job = upload(county_clerk, inspectors_xlsx(rows[:2]))
    job = import_job_request_commit(actor=county_clerk, job=job, accept_warnings=False)
    assert job.result == {"created": 2, "updated": 0, "unchanged": 0}
    expert = Inspector.objects.get(name="李专家")
    assert (expert.kind, expert.on_staff, expert.expertise) == ("expert", False, ["radiation"])

    rows[1][6] = "工程师"
    again = upload(county_clerk, inspectors_xlsx(rows[:2]))
    assert (again.report["unchanged"], again.report["update"]) == (1, 1)
    assert again.report["changes"][0]["key"] == "王专家"


def _queue_bad_dates(actor) -> ImportJob:
    rows = inspector_rows(5)
    rows[2][3] = "2027-02-30"
    return upload(actor, inspectors_xlsx(rows))


@pytest.mark.parametrize(
    ("language", "worker_language", "expected"),
    [
        ("en", "zh-hans", "“2027-02-30” is not a valid date"),
        ("zh-hans", "en", "“2027-02-30”不是有效日期"),
    ],
)
def test_the_worker_writes_in_the_uploaders_language(
    county_clerk, big, monkeypatch, language, worker_language, expected
):
    monkeypatch.setattr(imports_module, "_enqueue", lambda name, pk: None)
    with translation.override(language):
        job = _queue_bad_dates(county_clerk)
    assert job.language == language and job.status == Status.UPLOADED
    # The worker runs in whatever language it happens to have, never the uploader's.
    with translation.override(worker_language):
        assert tasks.import_validate(job.pk) == Status.VALIDATED
    job.refresh_from_db()
    assert [e["message"] for e in job.report["error_list"]] == [expected]


def test_a_worker_failure_message_is_in_the_uploaders_language(county_clerk, big, monkeypatch):
    monkeypatch.setattr(imports_module, "_enqueue", lambda name, pk: None)
    with translation.override("en"):
        job = upload(county_clerk, inspectors_xlsx(inspector_rows(5)))

    def crash(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(imports_module, "validate", crash)
    with translation.override("zh-hans"):
        assert tasks.import_validate(job.pk) == Status.FAILED
    job.refresh_from_db()
    assert job.message == "The check failed because of an internal error. Try again later."


def test_a_job_without_a_language_is_worked_in_the_default_one(county_clerk, big, monkeypatch):
    monkeypatch.setattr(imports_module, "_enqueue", lambda name, pk: None)
    job = _queue_bad_dates(county_clerk)
    ImportJob.objects.filter(pk=job.pk).update(language="")  # a job from before the field
    with translation.override("en"):
        tasks.import_validate(job.pk)
    job.refresh_from_db()
    assert job.report["error_list"][0]["message"] == "“2027-02-30”不是有效日期"


def test_a_very_long_file_name_is_kept_for_people_and_stored_under_a_short_one(
    county_clerk, media_root, client_for
):
    """A 400-character name once answered a bare 400 (the storage name was too long)."""
    name = "二〇二六年度" * 60 + ".xlsx"
    client = client_for(county_clerk)
    response = client.post(
        "/core/imports/new/",
        {
            "kind": "inspectors",
            "file": SimpleUploadedFile(name, inspectors_xlsx(inspector_rows(2))),
        },
    )
    assert response.status_code == 302, response.content.decode()[:500]
    job = ImportJob.objects.get()
    # Django keeps up to 255 characters of an uploaded name; the job keeps its last 200.
    assert job.original_name.endswith(".xlsx") and 100 < len(job.original_name) <= 200
    assert len(job.file.name) < 100


# --- rows: counted cheaply at upload, exactly in the worker -------------------------------


def test_too_many_rows_are_refused_at_upload_from_the_estimate(county_clerk, media_root, settings):
    settings.SJSJ_IMPORT_MAX_ROWS = 100
    data = inspectors_xlsx(inspector_rows(150))
    with pytest.raises(StructureError) as exc:
        import_job_create(actor=county_clerk, kind="inspectors", filename="大.xlsx", data=data)
    assert "100" in " ".join(exc.value.messages)
    assert not ImportJob.objects.exists() and stored_files(media_root) == []


def test_a_large_file_is_not_parsed_in_the_web_process(county_clerk, media_root, monkeypatch):
    """Above INLINE_MAX_ROWS the upload only stores the file: its cells are read by the
    worker, so a large file costs the web process its bytes, not its parsed cells."""
    monkeypatch.setattr(imports_module, "INLINE_MAX_ROWS", 10)

    def no_parse(*args, **kwargs):
        raise AssertionError("the web process parsed a large file")

    monkeypatch.setattr(imports_module, "open_table", no_parse)
    job = import_job_create(
        actor=county_clerk,
        kind="inspectors",
        filename="大.xlsx",
        data=inspectors_xlsx(inspector_rows(40)),
    )
    assert job.in_background and job.status == Status.UPLOADED and job.rows_total >= 40


def test_a_file_that_hides_its_size_is_stopped_by_the_worker(county_clerk, settings, monkeypatch):
    """A sheet whose declared size lies (or a CSV): the worker counts the rows as it reads
    them and fails the job with the reason, having written nothing."""
    from exchange.excel import reader

    settings.SJSJ_IMPORT_MAX_ROWS = 100
    monkeypatch.setattr(imports_module, "INLINE_MAX_ROWS", 10)
    monkeypatch.setattr(imports_module, "estimate_rows", lambda data: 50)  # the lie
    monkeypatch.setattr(reader, "_open_xlsx", _lying(reader._open_xlsx))
    job = import_job_create(
        actor=county_clerk,
        kind="inspectors",
        filename="大.xlsx",
        data=inspectors_xlsx(inspector_rows(150)),
    )
    import_job_validate(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Status.FAILED and "100" in job.message
    assert not Inspector.objects.exists()


def _lying(open_xlsx):
    def wrapped(data, spec):
        rows, offset, _count = open_xlsx(data, spec)
        return rows, offset, 50

    return wrapped
