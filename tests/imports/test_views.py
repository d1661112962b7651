"""The import pages: wiring, permissions and scope (404 outside it), downloads, the command."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from openpyxl import load_workbook

from exchange.imports import import_job_create
from exchange.models import ImportJob
from registry.models import PollutionSource
from tests.imports.conftest import source_headers, source_row, sources_xlsx

pytestmark = pytest.mark.django_db


def post_file(client, data: bytes, name: str = "污染源.xlsx", kind: str = "sources"):
    return client.post(
        "/core/imports/new/",
        {"kind": kind, "file": SimpleUploadedFile(name, data)},
    )


def html(response) -> str:
    return response.content.decode()


def test_anonymous_visitors_are_sent_to_log_in(client):
    for url in ("/core/imports/", "/core/imports/new/", "/core/imports/template/sources/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_list_offers_templates_exports_and_upload_to_a_clerk(client_for, county_clerk):
    page = html(client_for(county_clerk).get("/core/imports/"))
    assert 'data-testid="import-new"' in page
    assert 'data-testid="template-sources"' in page and 'data-testid="template-inspectors"' in page
    assert "下载导入模板" in page and "导出整个名录库" in page


def test_a_leader_may_look_but_not_upload(client_for, county_leader):
    client = client_for(county_leader)
    assert 'data-testid="import-new"' not in html(client.get("/core/imports/"))
    assert client.get("/core/imports/new/").status_code == 403


def test_a_refused_file_is_explained_on_the_form_and_nothing_is_stored(client_for, county_clerk):
    response = post_file(client_for(county_clerk), b"%PDF-1.5 not a workbook", name="名录.xlsx")
    assert response.status_code == 200
    page = html(response)
    assert 'data-testid="import-refused"' in page
    assert "这是 PDF 文件，不是 Excel 工作簿（.xlsx）或 CSV 文件。" in page
    assert ImportJob.objects.count() == 0


def test_upload_check_and_commit_through_the_pages(client_for, county_clerk):
    client = client_for(county_clerk)
    response = post_file(client, sources_xlsx([source_row("P-1"), source_row("P-2")]))
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/core/imports/{job.pk}/"
    page = html(client.get(response["Location"]))
    assert 'data-testid="count-create">2<' in page
    assert re.search(r'data-testid="commit"\s*>', page)  # enabled: no "disabled" attribute
    response = client.post(f"/core/imports/{job.pk}/commit/")
    assert response.status_code == 302
    assert PollutionSource.objects.count() == 2
    page = html(client.get(f"/core/imports/{job.pk}/"))
    assert 'data-status="committed"' in page and "导入完成。" in page
    assert 'href="/registry/sources/" data-testid="to-registry">打开检查对象名录库<' in page


def test_errors_are_listed_per_row_in_chinese_and_block_the_commit(client_for, county_clerk):
    client = client_for(county_clerk)
    rows = [source_row("E-1"), source_row("E-2", permit_valid_from="2024-13-45")]
    post_file(client, sources_xlsx(rows))
    job = ImportJob.objects.get()
    page = html(client.get(f"/core/imports/{job.pk}/"))
    assert "第 3 行，许可证有效期起：“2024-13-45”不是有效日期" in page
    assert re.search(r'data-testid="commit"\s+disabled', page)
    assert 'data-testid="error-report"' in page
    client.post(f"/core/imports/{job.pk}/commit/")
    assert PollutionSource.objects.count() == 0

    report = client.get(f"/core/imports/{job.pk}/errors.xlsx")
    assert report.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(report.streaming_content)))["错误报告"]
    assert list(sheet.iter_rows(values_only=True)) == [
        ("行号", "列", "类型", "说明"),
        (3, "许可证有效期起", "错误", "“2024-13-45”不是有效日期"),
    ]


def test_warnings_need_the_checkbox(client_for, county_clerk):
    client = client_for(county_clerk)
    post_file(client, sources_xlsx([source_row("W-1", uscc="913101167800233824")]))
    job = ImportJob.objects.get()
    page = html(client.get(f"/core/imports/{job.pk}/"))
    assert 'data-testid="accept-warnings"' in page and "校验位错误" in page
    client.post(f"/core/imports/{job.pk}/commit/")
    assert PollutionSource.objects.count() == 0
    client.post(f"/core/imports/{job.pk}/commit/", {"accept_warnings": "1"})
    assert PollutionSource.objects.get().uscc_checksum_ok is False


def test_outsiders_get_404_everywhere_and_reviewers_may_only_look(
    client_for, county_clerk, outsider_clerk, city_reviewer
):
    rows = [source_row("S-1"), source_row("S-2", complaints_12m="很多")]
    job = import_job_create(
        actor=county_clerk, kind="sources", filename="a.xlsx", data=sources_xlsx(rows)
    )
    urls = [
        f"/core/imports/{job.pk}/",
        f"/core/imports/{job.pk}/progress/",
        f"/core/imports/{job.pk}/errors.xlsx",
    ]
    outsider = client_for(outsider_clerk)
    for url in urls:
        assert outsider.get(url).status_code == 404
    assert outsider.post(f"/core/imports/{job.pk}/commit/").status_code == 404
    assert f"/core/imports/{job.pk}/" not in html(outsider.get("/core/imports/"))
    assert f"/core/imports/{job.pk}/" in html(client_for(county_clerk).get("/core/imports/"))

    reviewer = client_for(city_reviewer)
    assert reviewer.get(urls[0]).status_code == 200
    assert reviewer.post(f"/core/imports/{job.pk}/commit/").status_code == 403


def test_the_progress_partial_polls_while_running_and_reloads_when_done(client_for, county_clerk):
    job = import_job_create(
        actor=county_clerk,
        kind="sources",
        filename="a.xlsx",
        data=sources_xlsx([source_row("G-1")]),
    )
    client = client_for(county_clerk)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.VALIDATING, rows_done=1500, rows_total=6000
    )
    running = client.get(f"/core/imports/{job.pk}/progress/")
    assert 'hx-trigger="every 1s"' in html(running) and "25%" in html(running)
    assert "HX-Refresh" not in running
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.VALIDATED)
    done = client.get(f"/core/imports/{job.pk}/progress/")
    assert done["HX-Refresh"] == "true" and "hx-trigger" not in html(done)


def test_the_template_download_is_the_chinese_template(client_for, county_clerk):
    response = client_for(county_clerk).get("/core/imports/template/sources/")
    assert response.status_code == 200
    assert "filename*=utf-8''" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    assert [c.value for c in workbook["污染源"][1]] == source_headers()
    assert client_for(county_clerk).get("/core/imports/template/nothing/").status_code == 404


def test_the_export_command_writes_the_users_scope(tmp_path, county_clerk, outsider_clerk):
    for actor, code in ((county_clerk, "WZ-1"), (outsider_clerk, "WX-1")):
        job = import_job_create(
            actor=actor, kind="sources", filename="a.xlsx", data=sources_xlsx([source_row(code)])
        )
        from exchange.imports import import_job_request_commit

        import_job_request_commit(actor=actor, job=job, accept_warnings=False)
    target = tmp_path / "sources.xlsx"
    out = io.StringIO()
    call_command(
        "export_registry", "sources", "--user", county_clerk.username, "-o", str(target), stdout=out
    )
    assert "1 rows written" in out.getvalue()
    rows = list(load_workbook(target)["污染源"].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == ["WZ-1"]
    assert not list(tmp_path.glob("*.partial"))
