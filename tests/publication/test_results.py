"""一公开: approved results published as frozen snapshots, corrections beside the original,
withholding, the deadline job, the national export, the portal's pages and downloads."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.errors import ServiceError
from inspections.models import InspectionTask
from inspections.selectors import task_team
from inspections.services import (
    problem_add,
    record_save,
    result_correct,
    task_approve,
    task_submit,
)
from publication.models import PendingPublication, PublishedResult
from publication.services import (
    national_export_make,
    publication_due,
    result_publish,
    result_withdraw,
    results_publish_due,
    withholding_decide,
)

pytestmark = pytest.mark.django_db


def approve(task, inspector_a, inspector_b, leader, *, result=5, ended=date(2026, 3, 12)):
    members = [a.inspector for a in task_team(task)][:2]
    record_save(
        actor=inspector_a,
        task=task,
        expected_version=0,
        checked_at=timezone.make_aware(datetime(2026, 3, 12, 9, 30)),
        members=members,
        result_type=result,
        handling_ended_on=ended,
        body_camera_refs="DSJ-1",
    )
    if result in (3, 5):
        problem_add(
            actor=inspector_a,
            task=task,
            description="危废标识缺失",
            handling="order",
            rectification_due=date(2026, 4, 1),
        )
    task_submit(actor=inspector_b, task=task)
    return task_approve(actor=leader, task=task)


@pytest.fixture
def approved(
    task,
    inspector_a,
    inspector_b,
    county_leader,
    calendar_loaded,
    django_capture_on_commit_callbacks,
):
    source = task.source
    source.phone = "13912345678"
    source.legal_representative = "张三丰"
    source.save(update_fields=["phone", "legal_representative"])
    with django_capture_on_commit_callbacks(execute=True):
        approve(task, inspector_a, inspector_b, county_leader)
    task.refresh_from_db()
    return task


def test_approval_puts_the_result_on_the_deadline_list(approved):
    pending = PendingPublication.objects.get(task=approved)
    # 20 working days after 2026-03-12; published 3 days after approval at the latest
    assert pending.due_on == publication_due(approved)
    assert pending.due_on == date(2026, 4, 10)
    assert pending.publish_from <= pending.due_on


def test_the_job_publishes_once_and_catches_up_after_downtime(approved):
    pending = PendingPublication.objects.get(task=approved)
    assert results_publish_due(today=pending.publish_from - timedelta(days=1)) == 0
    assert not PublishedResult.objects.exists()
    # down for three days: the first run afterwards makes it good, once
    assert results_publish_due(today=pending.publish_from + timedelta(days=3)) == 1
    assert results_publish_due(today=pending.publish_from + timedelta(days=3)) == 0
    entry = PublishedResult.objects.get()
    assert entry.is_current and entry.random and entry.published_by is None
    assert entry.result_type == 5 and entry.result_label == "发现问题待后续处理"
    certificates = {i["certificate_number"] for i in entry.inspectors}
    assert certificates == {a.inspector.certificate_number for a in task_team(approved)[:2]}
    assert not PendingPublication.objects.exists()


def test_an_unapproved_record_is_never_published(task, county_leader):
    with pytest.raises(ServiceError) as exc:
        result_publish(actor=county_leader, task=task)
    assert exc.value.code == "not_approved"
    assert not PublishedResult.objects.exists()


def test_a_correction_is_published_beside_the_original(
    approved, county_leader, django_capture_on_commit_callbacks
):
    original = result_publish(actor=county_leader, task=approved)
    with django_capture_on_commit_callbacks(execute=True):
        result_correct(
            actor=county_leader,
            task=approved,
            result_type=1,
            reason="调查后未发现违法",
            conclusion="经调查不构成违法",
        )
    original.refresh_from_db()
    correction = PublishedResult.objects.get(is_current=True)
    assert not original.is_current and original.result_type == 5  # frozen as published
    assert correction.correction_of == original and correction.result_type == 1
    assert correction.correction_reason == "调查后未发现违法"
    page = Client().get(reverse("publication:result_detail", args=[original.pk])).content.decode()
    assert 'data-testid="superseded"' in page and "调查后未发现违法" in page


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL triggers")
def test_a_published_result_cannot_be_edited_or_deleted_in_sql(approved, county_leader):
    entry = result_publish(actor=county_leader, task=approved)
    for sql in (
        "UPDATE publication_publishedresult SET result_type = 1 WHERE id = %s",
        "DELETE FROM publication_publishedresult WHERE id = %s",
        "UPDATE publication_publishedresult SET is_current = true WHERE id = %s AND false",
    ):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, [entry.pk])
        except DatabaseError as exc:
            assert "never" in str(exc) or "frozen" in str(exc)
        else:
            assert "AND false" in sql  # touches no row
    entry.refresh_from_db()
    assert entry.result_type == 5


def test_a_withdrawal_is_a_correction_with_its_reason(approved, county_leader):
    result_publish(actor=county_leader, task=approved)
    with pytest.raises(ServiceError):
        result_withdraw(actor=county_leader, task=approved, reason="")
    assert PublishedResult.objects.count() == 1
    entry = result_withdraw(actor=county_leader, task=approved, reason="检查对象认定错误，予以撤回")
    assert entry.withdrawn and entry.correction_of is not None
    assert PublishedResult.objects.count() == 2


def test_withholding_needs_a_reason_and_hides_the_result_everywhere(
    approved, county_leader, county_clerk
):
    with pytest.raises(ServiceError) as exc:
        withholding_decide(
            actor=county_leader, task=approved, reason="trade_secret", detail="", scope="whole"
        )
    assert "detail" in exc.value.message_dict
    with pytest.raises(ServiceError):
        withholding_decide(
            actor=county_clerk,
            task=approved,
            reason="trade_secret",
            detail="涉及工艺秘密",
            scope="whole",
        )
    assert not approved.withholdings.exists()
    withholding_decide(
        actor=county_leader,
        task=approved,
        reason="trade_secret",
        detail="涉及企业工艺秘密",
        scope="whole",
    )
    entry = result_publish(actor=county_leader, task=approved)
    assert entry.withheld and entry.company_name == "" and entry.result_type is None
    name = approved.source.company_name
    c = Client()
    listing = c.get(reverse("publication:result_list")).content.decode()
    i = listing.find(name)
    assert name not in listing, listing[max(0, i - 300) : i + 100] and "商业秘密" in listing
    detail = c.get(reverse("publication:result_detail", args=[entry.pk])).content.decode()
    assert 'data-testid="withheld-notice"' in detail and name not in detail


def test_narrowing_leaves_out_only_the_chosen_fields(approved, county_leader):
    withholding_decide(
        actor=county_leader,
        task=approved,
        reason="privacy",
        detail="个体工商户姓名涉及个人隐私",
        scope="narrow",
        fields=["company_name", "uscc"],
    )
    entry = result_publish(actor=county_leader, task=approved)
    assert not entry.withheld and entry.company_name == "" and entry.uscc == ""
    assert entry.result_type == 5 and entry.inspectors


def test_the_national_export_never_sends_a_result_twice(
    approved, county_leader, django_capture_on_commit_callbacks
):
    result_publish(actor=county_leader, task=approved)
    period = {"period_start": date(2026, 1, 1), "period_end": date(2026, 3, 31)}
    first = national_export_make(actor=county_leader, organisation=approved.organisation, **period)
    text = bytes(first.content).decode("utf-8-sig")
    assert first.rows == 1 and "统一社会信用代码" in text and "发现问题待后续处理" in text
    with pytest.raises(ServiceError) as exc:
        national_export_make(actor=county_leader, organisation=approved.organisation, **period)
    assert exc.value.code == "nothing_new"
    with django_capture_on_commit_callbacks(execute=True):
        result_correct(
            actor=county_leader,
            task=approved,
            result_type=1,
            reason="调查后未发现违法",
            conclusion="不构成违法",
        )
    second = national_export_make(actor=county_leader, organisation=approved.organisation, **period)
    assert second.rows == 1 and "更正" in bytes(second.content).decode("utf-8-sig")


def test_a_failed_export_marks_nothing_as_sent(approved, county_leader, monkeypatch):
    from publication import services

    result_publish(actor=county_leader, task=approved)

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services.NationalExportLine.objects, "bulk_create", boom)
    with pytest.raises(RuntimeError):
        national_export_make(
            actor=county_leader,
            organisation=approved.organisation,
            period_start=date(2026, 1, 1),
            period_end=date(2026, 3, 31),
        )
    assert not services.NationalExport.objects.exists()
    assert PublishedResult.objects.filter(national_export_line__isnull=True).count() == 1


def test_search_filters_and_nonsense(approved, county_leader):
    entry = result_publish(actor=county_leader, task=approved)
    c = Client()
    url = reverse("publication:result_list")
    by_name = c.get(url, {"q": entry.company_name[2:6]})
    assert by_name.status_code == 200 and entry.company_name in by_name.content.decode()
    if entry.uscc:
        by_code = c.get(url, {"q": entry.uscc.lower()})
        assert entry.company_name in by_code.content.decode()
    none = c.get(url, {"q": "不存在的公司名称"})
    assert entry.company_name not in none.content.decode()
    for junk in (
        {"year": "abc"},
        {"org": "999999999"},
        {"result": "9"},
        {"quarter": "x"},
        {"page": "-1"},
        {"item": "<script>"},
        {"q": "a" * 500},
        {"org": "1\x00"},
    ):
        response = c.get(url, junk)
        assert response.status_code in (200, 400), junk
    assert c.get(reverse("publication:results_json"), {"year": "abc"}).status_code == 200


def test_no_personal_field_and_no_withheld_result_anywhere_public(
    approved, task, county_leader, drawn, inspector_a, inspector_b
):
    entry = result_publish(actor=county_leader, task=approved)
    other = InspectionTask.objects.filter(selection__draw=drawn).exclude(pk=approved.pk).first()
    secret_name = other.source.company_name
    # the second task: approved, withheld whole, published
    from guardian.shortcuts import assign_perm

    from inspectors.models import Inspector

    team = [a.inspector for a in task_team(other)]
    Inspector.objects.filter(user__in=[inspector_a, inspector_b]).update(user=None)
    Inspector.objects.filter(pk=team[0].pk).update(user=inspector_a)
    Inspector.objects.filter(pk=team[1].pk).update(user=inspector_b)
    for u in (inspector_a, inspector_b):
        assign_perm("lottery.view_drawn_task", u, other.selection)
    approve(other, inspector_a, inspector_b, county_leader, result=1)
    withholding_decide(
        actor=county_leader,
        task=other,
        reason="state_secret",
        detail="涉及国家秘密单位",
        scope="whole",
    )
    hidden = result_publish(actor=county_leader, task=other)
    c = Client()
    urls = [reverse("home"), *_every_public_url(entry, hidden, drawn)]
    source = approved.source
    forbidden = [source.phone, source.legal_representative, secret_name]
    for url in urls:
        response = c.get(url)
        assert response.status_code in (200, 404), url
        if url.endswith(".xlsx"):
            import io

            from openpyxl import load_workbook

            book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
            body = json.dumps(
                [list(r) for r in book.active.iter_rows(values_only=True)],
                ensure_ascii=False,
                default=str,
            )
        elif getattr(response, "streaming", False):
            body = b"".join(response.streaming_content).decode("utf-8")
        else:
            body = response.content.decode()
        for value in forbidden:
            assert value not in body, (url, value)
    data = c.get(reverse("publication:results_json")).json()
    assert {r["id"] for r in data["results"]} == {entry.pk, hidden.pk}
    assert all("phone" not in r and "legal_representative" not in r for r in data["results"])


def _every_public_url(entry, hidden, draw) -> list[str]:
    """Every URL of the public portal's URLconf (the staff publishing desk excepted), each
    with every id it can take here: both results, and the draw."""
    from django.urls import URLPattern, get_resolver

    resolver = get_resolver()
    urls = []
    for pattern in resolver.url_patterns:
        if getattr(pattern, "namespace", None) != "publication":
            continue
        for sub in pattern.url_patterns:
            if not isinstance(sub, URLPattern) or sub.name.startswith(("manage", "national")):
                continue
            name = f"publication:{sub.name}"
            if "pk" in sub.pattern.regex.groupindex:
                ids = (entry.pk, hidden.pk) if sub.name.startswith("result") else (draw.pk,)
                urls += [reverse(name, args=[pk]) for pk in ids]
            else:
                urls.append(reverse(name))
    assert len(urls) > 15
    return urls


def test_the_disclosure_rate(approved, county_leader):
    from publication.selectors import disclosure_rates

    rows = disclosure_rates(year=2026, today=date(2026, 12, 1))
    assert rows[0]["due"] == 1 and rows[0]["published"] == 0 and rows[0]["rate"] == 0
    result_publish(actor=county_leader, task=approved)
    rows = disclosure_rates(year=2026, today=date(2026, 12, 1))
    assert rows[0]["quarters"][1] == {"published": 1, "due": 1, "rate": 100.0}
    page = Client().get(reverse("publication:disclosure"), {"year": "2026"})
    assert page.status_code == 200 and "100.0%" in page.content.decode()
