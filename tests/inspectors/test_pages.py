import io
from datetime import timedelta

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from inspectors.models import Conflict, Inspector, InspectorChange, Unavailability
from inspectors.services import inspector_update

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


def detail_url(inspector):
    return reverse("inspectors:inspector_detail", args=[inspector.pk])


# ----------------------------------------------------------------- permissions


def test_an_outsider_gets_404_on_our_inspector(client_for, outsider_clerk, county, make_inspector):
    inspector = make_inspector(county)
    client = client_for(outsider_clerk)
    assert client.get(detail_url(inspector)).status_code == 404
    assert client.get(reverse("inspectors:inspector_edit", args=[inspector.pk])).status_code == 404
    response = client.post(
        reverse("inspectors:unavailability_add", args=[inspector.pk]),
        {"start": "2026-05-01", "end": "2026-05-02", "reason": "leave"},
    )
    assert response.status_code == 404
    assert not Unavailability.objects.exists()
    assert inspector.name not in client.get(reverse("inspectors:inspector_list")).content.decode()


def test_the_city_reviewer_sees_both_counties_but_edits_nothing(
    client_for, city_reviewer, county, other_county, make_inspector
):
    ours = make_inspector(county, name="武陟甲")
    theirs = make_inspector(other_county, name="温县乙")
    client = client_for(city_reviewer)
    page = client.get(reverse("inspectors:inspector_list")).content.decode()
    assert "武陟甲" in page and "温县乙" in page
    assert client.get(detail_url(theirs)).status_code == 200
    assert client.get(reverse("inspectors:inspector_edit", args=[ours.pk])).status_code == 403
    assert client.get(reverse("inspectors:inspector_create")).status_code == 403


def test_the_inspector_persona_can_read_but_not_edit(
    client_for, inspector_a, county, make_inspector
):
    inspector = make_inspector(county, department="执法一科")
    client = client_for(inspector_a)
    page = client.get(detail_url(inspector))
    assert page.status_code == 200
    assert 'data-testid="inspector-edit"' not in page.content.decode()
    edit = reverse("inspectors:inspector_edit", args=[inspector.pk])
    assert client.get(edit).status_code == 403
    response = client.post(edit, {"name": "改名", "kind": "enforcement", "certificate_number": "1"})
    assert response.status_code == 403
    inspector.refresh_from_db()
    assert inspector.name != "改名"
    deactivate = reverse("inspectors:inspector_deactivate", args=[inspector.pk])
    assert client.post(deactivate).status_code == 403


def test_anonymous_visitors_are_sent_to_the_login(client, county, make_inspector):
    inspector = make_inspector(county)
    assert client.get(reverse("inspectors:inspector_list")).status_code == 302
    assert client.get(detail_url(inspector)).status_code == 302


# ----------------------------------------------------------------- list


def test_the_list_filters_and_shows_certificate_badges(
    client_for, county_clerk, county, make_inspector, today
):
    make_inspector(county, name="有效人", certificate_valid_until=today + timedelta(days=300))
    make_inspector(county, name="将到期", certificate_valid_until=today + timedelta(days=20))
    make_inspector(county, name="已过期", certificate_valid_until=today - timedelta(days=2))
    client = client_for(county_clerk)
    page = client.get(reverse("inspectors:inspector_list")).content.decode()
    for testid in ("cert-valid", "cert-expiring", "cert-expired"):
        assert f'data-testid="{testid}"' in page
    page = client.get(reverse("inspectors:inspector_list"), {"certificate_status": "expired"})
    text = page.content.decode()
    assert "已过期" in text and "有效人" not in text and "将到期" not in text
    page = client.get(reverse("inspectors:inspector_list"), {"q": "将到"}).content.decode()
    assert "将到期" in page and "有效人" not in page


def test_the_list_answers_htmx_with_the_table_only(
    client_for, county_clerk, county, make_inspector
):
    make_inspector(county, name="表格人")
    client = client_for(county_clerk)
    response = client.get(reverse("inspectors:inspector_list"), HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert "表格人" in text and "<html" not in text and 'data-testid="inspector-table"' in text


def test_the_list_is_paginated(client_for, county_clerk, county, make_inspector):
    for i in range(55):
        make_inspector(county, name=f"人员{i:02d}")
    client = client_for(county_clerk)
    first = client.get(reverse("inspectors:inspector_list")).content.decode()
    assert first.count('data-testid="inspector-row"') == 50
    second = client.get(reverse("inspectors:inspector_list"), {"page": 2}).content.decode()
    assert second.count('data-testid="inspector-row"') == 5


def test_the_export_follows_the_filter_and_neutralises_formulas(
    client_for, county_clerk, county, other_county, make_inspector
):
    make_inspector(county, name='=HYPERLINK("http://x")', department="+cmd")
    make_inspector(county, name="王五", kind="expert")
    make_inspector(other_county, name="外县人")
    client = client_for(county_clerk)
    response = client.get(reverse("inspectors:inspector_export"), {"kind": "enforcement"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(book.active.iter_rows(values_only=True))
    assert len(rows) == 2  # header + the one enforcement inspector of our county
    header, row = rows
    assert row[header.index("姓名")] == '\'=HYPERLINK("http://x")'
    assert row[header.index("科室（单位）")] == "'+cmd"


# ----------------------------------------------------------------- detail and forms


def test_the_detail_shows_fields_availability_conflicts_and_history(
    client_for, county_clerk, county, make_inspector, make_source, today
):
    inspector = make_inspector(county, department="执法一科", expertise=["water"])
    inspector_update(actor=county_clerk, inspector=inspector, data={"department": "执法二科"})
    client = client_for(county_clerk)
    page = client.get(detail_url(inspector)).content.decode()
    assert "执法证号" in page and inspector.certificate_number in page
    assert "在编在岗" in page and "业务专长" in page and "水" in page
    assert 'data-testid="history-row"' in page
    assert "执法一科 → 执法二科" in page
    assert 'data-testid="unavailability-form"' in page and 'data-testid="conflict-form"' in page


def test_a_clerk_adds_an_inspector_and_sees_chinese_errors(client_for, county_clerk, county):
    client = client_for(county_clerk)
    url = reverse("inspectors:inspector_create")
    response = client.post(url, {"name": "李娜", "kind": "enforcement", "on_staff": "on"})
    assert response.status_code == 200
    assert "执法人员必须填写执法证号。" in response.content.decode()
    assert not Inspector.objects.exists()
    response = client.post(
        url,
        {
            "name": "李娜",
            "kind": "enforcement",
            "certificate_number": "41082320230012",
            "certificate_valid_until": "2028-06-30",
            "on_staff": "on",
            "expertise": ["water", "permit"],
            "gender": "female",
        },
    )
    inspector = Inspector.objects.get()
    assert response.status_code == 302 and response["Location"] == detail_url(inspector)
    assert inspector.organisation == county and inspector.expertise == ["water", "permit"]


def test_a_clerk_edits_and_history_records_the_change(
    client_for, county_clerk, county, make_inspector
):
    inspector = make_inspector(county, post="科员")
    client = client_for(county_clerk)
    url = reverse("inspectors:inspector_edit", args=[inspector.pk])
    form = client.get(url)
    assert form.status_code == 200
    data = {
        "name": inspector.name,
        "kind": "enforcement",
        "certificate_number": inspector.certificate_number,
        "certificate_valid_until": inspector.certificate_valid_until.isoformat(),
        "on_staff": "on",
        "post": "副科长",
    }
    assert client.post(url, data).status_code == 302
    change = InspectorChange.objects.get(inspector=inspector, action="update")
    assert change.changes == {"post": ["科员", "副科长"]}


def test_unavailability_and_conflicts_through_the_detail_page_with_htmx(
    client_for, county_clerk, county, make_inspector, make_source, today
):
    inspector = make_inspector(county)
    source = make_source(county)
    client = client_for(county_clerk)
    response = client.post(
        reverse("inspectors:unavailability_add", args=[inspector.pk]),
        {"start": "2026-05-10", "end": "2026-05-01", "reason": "leave"},
        HTTP_HX_REQUEST="true",
    )
    assert (
        "结束日期早于开始日期" in response.content.decode()
        or "最后一天" in response.content.decode()
    )
    assert not Unavailability.objects.exists()
    response = client.post(
        reverse("inspectors:unavailability_add", args=[inspector.pk]),
        {"start": "2026-05-01", "end": "2026-05-10", "reason": "training", "note": "培训"},
        HTTP_HX_REQUEST="true",
    )
    assert (
        'id="availability"' in response.content.decode()
        and "<html" not in response.content.decode()
    )
    assert Unavailability.objects.filter(inspector=inspector, reason="training").exists()
    history = client.get(detail_url(inspector)).content.decode()
    assert "2026-05-01–2026-05-10" in history and "— → 培训" in history

    response = client.post(
        reverse("inspectors:conflict_declare", args=[inspector.pk]),
        {"source_code": source.source_code, "reason": ""},
        HTTP_HX_REQUEST="true",
    )
    assert not Conflict.objects.exists()
    response = client.post(
        reverse("inspectors:conflict_declare", args=[inspector.pk]),
        {"source_code": source.source_code, "reason": "配偶在该厂任职"},
        HTTP_HX_REQUEST="true",
    )
    conflict = Conflict.objects.get()
    assert conflict.source == source and conflict.valid_from == today
    assert source.name in response.content.decode()

    response = client.post(
        reverse("inspectors:conflict_withdraw", args=[inspector.pk, conflict.pk]),
        {"reason": ""},
        HTTP_HX_REQUEST="true",
    )
    conflict.refresh_from_db()
    assert conflict.withdrawn_at is None
    assert 'data-testid="conflict-error"' in response.content.decode()
    client.post(
        reverse("inspectors:conflict_withdraw", args=[inspector.pk, conflict.pk]),
        {"reason": "配偶已离职"},
        HTTP_HX_REQUEST="true",
    )
    conflict.refresh_from_db()
    assert conflict.withdrawn_at is not None


def test_a_conflict_on_an_unknown_source_code_is_refused(
    client_for, county_clerk, county, other_county, make_inspector, make_source
):
    inspector = make_inspector(county)
    foreign = make_source(other_county)  # outside the clerk's scope: treated as unknown
    client = client_for(county_clerk)
    response = client.post(
        reverse("inspectors:conflict_declare", args=[inspector.pk]),
        {"source_code": foreign.source_code, "reason": "亲属"},
    )
    assert response.status_code == 200
    assert not Conflict.objects.exists()


def test_deactivate_and_reactivate(client_for, county_clerk, county, make_inspector):
    inspector = make_inspector(county)
    client = client_for(county_clerk)
    client.post(reverse("inspectors:inspector_deactivate", args=[inspector.pk]), {"reason": "退休"})
    inspector.refresh_from_db()
    assert not inspector.is_active
    list_page = client.get(reverse("inspectors:inspector_list")).content.decode()
    assert 'data-testid="inspector-row"' not in list_page  # active people by default
    inactive = client.get(reverse("inspectors:inspector_list"), {"status": "inactive"})
    assert inactive.content.decode().count('data-testid="inspector-row"') == 1
    client.post(reverse("inspectors:inspector_reactivate", args=[inspector.pk]))
    inspector.refresh_from_db()
    assert inspector.is_active


def test_an_inspector_finds_their_own_record_from_the_list(
    client_for, county_clerk, inspector_a, county, make_inspector
):
    from inspectors.services import inspector_link_user

    record = make_inspector(county)
    inspector_link_user(actor=county_clerk, inspector=record, user=inspector_a)
    page = client_for(inspector_a).get(reverse("inspectors:inspector_list")).content.decode()
    assert f'href="{detail_url(record)}" data-testid="own-record"' in page


def test_the_admin_lists_inspectors_read_only(client_for, sysadmin, county, make_inspector):
    inspector = make_inspector(county, name="管理端")
    client = client_for(sysadmin)
    page = client.get("/admin/inspectors/inspector/")
    assert page.status_code == 200 and "管理端" in page.content.decode()
    assert client.get(f"/admin/inspectors/inspector/{inspector.pk}/change/").status_code == 200
    assert client.get("/admin/inspectors/inspector/add/").status_code == 403
