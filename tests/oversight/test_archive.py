"""A bureau's archive of a year: a ZIP with a manifest of SHA-256 digests, built once,
downloadable by the bureau and its city team; an undisclosed draw stays confidential."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import zipfile

import pytest
from django.urls import reverse

from core.errors import ServiceError
from lottery.models import Draw
from oversight.services import archive_build, archive_request
from tests.sql import triggers_off

pytestmark = pytest.mark.django_db


def _zip(client, archive):
    response = client.get(reverse("oversight:archive_download", args=[archive.pk]))
    assert response.status_code == 200
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_the_archive_with_its_manifest(
    client_for, city, county, county_leader, city_reviewer, outsider_clerk
):
    archive, created = archive_request(actor=county_leader, organisation=county, year=2026)
    assert created
    again, created = archive_request(actor=city_reviewer, organisation=county, year=2026)
    assert again.pk == archive.pk and not created  # one build at a time
    built = archive_build(archive_id=archive.pk)
    assert built.status == "done", built.message
    assert archive_build(archive_id=archive.pk) is None  # delivered twice: built once
    for user in (county_leader, city_reviewer):
        archive_zip = _zip(client_for(user), built)
        manifest_bytes = archive_zip.read("manifest.json")
        assert hashlib.sha256(manifest_bytes).hexdigest() == built.manifest_sha256
        manifest = json.loads(manifest_bytes)
        for entry in manifest["files"]:
            assert hashlib.sha256(archive_zip.read(entry["path"])).hexdigest() == entry["sha256"]
        names = set(archive_zip.namelist())
        assert {"01-check-items.json", "04-inspections.json", "05-violations.json"} <= names
    draw = city["draws"]["on_time"]
    record = json.loads(archive_zip.read(f"03-draws/{draw.number}.json"))
    # Not disclosed: number, status and manifest hash only; no inspections of its sources.
    assert record == {
        "number": draw.number,
        "status": "executed",
        "manifest_hash": draw.manifest_hash,
        "confidential": True,
    }
    assert json.loads(archive_zip.read("04-inspections.json")) == []
    # Another county: neither the file nor the right to ask.
    assert (
        client_for(outsider_clerk)
        .get(reverse("oversight:archive_download", args=[built.pk]))
        .status_code
        == 404
    )
    with pytest.raises(ServiceError):
        archive_request(actor=outsider_clerk, organisation=county, year=2026)


def test_a_disclosed_draw_is_archived_whole(city, county, county_leader):
    draw = city["draws"]["on_time"]
    with triggers_off():
        Draw.objects.filter(pk=draw.pk).update(disclosed_at=draw.executed_at)
    archive, _ = archive_request(actor=county_leader, organisation=county, year=2026)
    built = archive_build(archive_id=archive.pk)
    archive_zip = zipfile.ZipFile(built.file.open("rb"))
    record = json.loads(archive_zip.read(f"03-draws/{draw.number}.json"))
    assert record.get("seed") or record.get("result") or "manifest" in record
    assert len(json.loads(archive_zip.read("04-inspections.json"))) == 26


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")
def test_a_disclosed_draw_comes_with_the_lotterys_record_pdf(city, county, county_leader, tmp_path):
    draw = city["draws"]["on_time"]
    with triggers_off():
        Draw.objects.filter(pk=draw.pk).update(disclosed_at=draw.executed_at)
    archive, _ = archive_request(actor=county_leader, organisation=county, year=2026)
    built = archive_build(archive_id=archive.pk)
    assert built.status == "done", built.message
    archive_zip = zipfile.ZipFile(built.file.open("rb"))
    manifest = json.loads(archive_zip.read("manifest.json"))
    digests = {entry["path"]: entry["sha256"] for entry in manifest["files"]}
    assert set(digests) == set(archive_zip.namelist()) - {"manifest.json"}
    for path, digest in digests.items():
        assert hashlib.sha256(archive_zip.read(path)).hexdigest() == digest
    pdf = archive_zip.read(f"03-draws/{draw.number}.pdf")
    assert pdf.startswith(b"%PDF-")
    # It is the lottery's cached record, stored for the draw's current state.
    draw.refresh_from_db()
    with draw.record_pdf.open("rb") as stored:
        assert stored.read() == pdf
    path = tmp_path / "record.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    ).stdout.decode()
    flat = re.sub(r"\s+", "", text)
    assert draw.number in flat and draw.seed in flat and "摇号记录" in text
    # An undisclosed draw has no PDF in the archive (its record is confidential).
    others = [d for d in city["draws"].values() if d.organisation_id == county.pk and d != draw]
    for other in others:
        assert f"03-draws/{other.number}.pdf" not in digests


def test_a_large_draws_record_is_rendered_by_the_archive_job_through_the_cache(
    city, county, county_leader, monkeypatch
):
    """A draw above the lottery's synchronous size is queued for its worker; the archive job
    (a worker too) does that worker's part, and the lottery's cache keeps the file."""
    draw = city["draws"]["on_time"]
    with triggers_off():
        Draw.objects.filter(pk=draw.pk).update(disclosed_at=draw.executed_at)
    monkeypatch.setattr("lottery.records.SYNC_ROWS", 0)
    draw.refresh_from_db()
    assert not draw.record_pdf
    archive, _ = archive_request(actor=county_leader, organisation=county, year=2026)
    built = archive_build(archive_id=archive.pk)
    assert built.status == "done", built.message
    draw.refresh_from_db()
    assert draw.record_pdf_queued  # asked of the lottery's cache, which queued it
    with draw.record_pdf.open("rb") as stored:
        pdf = stored.read()
    assert zipfile.ZipFile(built.file.open("rb")).read(f"03-draws/{draw.number}.pdf") == pdf


@pytest.mark.parametrize(
    "data",
    [{}, {"organisation": "abc", "year": "2026"}, {"year": "abc"}, {"year": "9" * 5000}],
)
def test_an_archive_asked_for_without_a_unit_or_year_answers_with_a_message(
    client_for, city_reviewer, county, data
):
    from oversight.models import Archive

    data = {"organisation": str(county.pk), **data}
    response = client_for(city_reviewer).post(
        reverse("oversight:archive_request"), data, follow=True, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert response.status_code == 200
    assert "请选择所属单位并填写年度。" in response.content.decode()
    assert not Archive.objects.exists()


def test_an_archive_of_a_unit_that_is_not_there_is_404(client_for, city_reviewer):
    client = client_for(city_reviewer)
    url = reverse("oversight:archive_request")
    assert client.post(url, {"organisation": "999999", "year": "2026"}).status_code == 404
    assert client.post(url, {"organisation": "9" * 20, "year": "2026"}).status_code == 404
