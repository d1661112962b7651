"""Registry pages: scoping (404 outside), editing rights (403), filters, history, form errors."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from registry.models import CheckItem, PollutionSource
from registry.services import checkitem_create, source_update
from tests.registry.conftest import source_data

pytestmark = pytest.mark.django_db


@pytest.mark.smoke
def test_it_hides_a_source_of_another_county_from_an_outsider(client_for, outsider_clerk, source):
    client = client_for(outsider_clerk)
    for name in ("registry:source_detail", "registry:source_edit"):
        assert client.get(reverse(name, args=[source.pk])).status_code == 404
    response = client.get(reverse("registry:source_list"))
    assert source.source_code not in response.content.decode()


@pytest.mark.smoke
def test_the_city_reviewer_sees_both_counties(client_for, city_reviewer, source, other_source):
    client = client_for(city_reviewer)
    body = client.get(reverse("registry:source_list")).content.decode()
    assert source.source_code in body and other_source.source_code in body
    assert client.get(reverse("registry:source_detail", args=[other_source.pk])).status_code == 200
    # ... but a reviewer edits nothing.
    assert client.get(reverse("registry:source_edit", args=[source.pk])).status_code == 403
    assert client.get(reverse("registry:source_create")).status_code == 403


def test_it_refuses_an_inspector_editing(client_for, inspector_a, source):
    client = client_for(inspector_a)
    assert client.get(reverse("registry:source_detail", args=[source.pk])).status_code == 200
    url = reverse("registry:source_edit", args=[source.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"name": "x"}).status_code == 403
    response = client.post(
        reverse("registry:source_status", args=[source.pk]), {"status": "cancelled"}
    )
    assert response.status_code == 403
    source.refresh_from_db()
    assert source.status == "active"


def test_the_public_is_sent_to_the_login_page(client, source):
    response = client.get(reverse("registry:source_detail", args=[source.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.smoke
def test_list_filters(client_for, county_clerk, make_source):
    key = make_source(supervision_class="key", name="重点甲厂", pollution_types=["air"])
    general = make_source(name="一般乙厂", tags=["园区内"], credit_rating="red")
    client = client_for(county_clerk)
    url = reverse("registry:source_list")

    def codes(params):
        response = client.get(url, params)
        assert response.status_code == 200
        return {s.source_code for s in response.context["page"].items}

    assert codes({"supervision_class": "key"}) == {key.source_code}
    assert codes({"q": "乙厂"}) == {general.source_code}
    assert codes({"q": general.uscc[:10].lower()}) >= {general.source_code}
    assert codes({"tag": "园区内"}) == {general.source_code}
    assert codes({"pollution_type": "air"}) == {key.source_code}
    assert codes({"credit_rating": "red"}) == {general.source_code}
    assert codes({"supervision_class": "nonsense"}) >= {key.source_code, general.source_code}


@pytest.mark.smoke
def test_htmx_gets_only_the_table(client_for, county_clerk, source):
    response = client_for(county_clerk).get(
        reverse("registry:source_list"), {"q": source.name}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert 'data-testid="source-table"' in body and "<html" not in body


def test_keyset_pages_walk_forward_and_back(client_for, county_clerk, make_source, monkeypatch):
    monkeypatch.setattr("registry.views.PAGE_SIZE", 2)
    codes = sorted(make_source(source_code=f"K{i:03d}").source_code for i in range(5))
    client = client_for(county_clerk)
    url = reverse("registry:source_list")
    page = client.get(url).context["page"]
    assert [s.source_code for s in page.items] == codes[:2] and page.previous_key is None
    page = client.get(url, {"after": page.next_key}).context["page"]
    assert [s.source_code for s in page.items] == codes[2:4]
    last = client.get(url, {"after": page.next_key}).context["page"]
    assert [s.source_code for s in last.items] == codes[4:] and last.next_key is None
    back = client.get(url, {"before": last.previous_key}).context["page"]
    assert [s.source_code for s in back.items] == codes[2:4]
    assert page.total == 5


def test_detail_shows_fields_in_chinese_and_the_history(client_for, county_clerk, source):
    source_update(
        actor=county_clerk, source=source, data={"credit_rating": "yellow", "complaints_12m": 2}
    )
    body = client_for(county_clerk).get(reverse("registry:source_detail", args=[source.pk]))
    text = body.content.decode()
    assert "统一社会信用代码" in text and source.uscc in text
    assert "环境信用评价等级" in text
    assert "未评价" in text and "警示（黄牌）" in text  # old → new in the history
    assert "近12个月投诉次数" in text
    history = body.context["history"]
    assert [row["change"].action for row in history] == ["update", "create"]
    assert {line["label"] for line in history[0]["lines"]} == {
        "环境信用评价等级",
        "近12个月投诉次数",
    }


@pytest.mark.smoke
def test_create_form_shows_errors_in_chinese(client_for, county_clerk):
    client = client_for(county_clerk)
    data = source_data(supervision_class="special", uscc="91410823MA0000000X")
    data.update(permit_category="none", credit_rating="unrated", market_risk_class="unrated")
    data.update(weather_grade="none", hazardous_waste_role="none", complaints_12m=0)
    response = client.post(reverse("registry:source_create"), data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "特殊监管对象须填写" in errors["special_reason"][0]
    assert "校验位错误" in errors["uscc"][0]
    assert not PollutionSource.objects.filter(source_code=data["source_code"]).exists()
    assert "特殊监管对象须填写" in response.content.decode()


def test_create_and_edit_through_the_pages(client_for, county_clerk):
    client = client_for(county_clerk)
    data = source_data(name="新建页面厂")
    data.update(permit_category="key", credit_rating="green", market_risk_class="A")
    data.update(weather_grade="B", hazardous_waste_role="generator", complaints_12m=1)
    data.update(pollution_types=["air", "water"], tags="涉VOCs，园区内")
    response = client.post(reverse("registry:source_create"), data)
    source = PollutionSource.objects.get(source_code=data["source_code"])
    assert response.status_code == 302
    assert source.pollution_types == ["water", "air"] and source.tags == ["涉VOCs", "园区内"]
    assert source.organisation == county_clerk.organisation

    data["phone"] = "0391-7000000"
    response = client.post(reverse("registry:source_edit", args=[source.pk]), data)
    assert response.status_code == 302
    change = source.changes.get(action="update")
    assert change.changes == {"phone": ["", "0391-7000000"]}

    response = client.post(
        reverse("registry:source_status", args=[source.pk]),
        {"status": "suspended", "status_date": "2025-06-01"},
    )
    source.refresh_from_db()
    assert source.status == "suspended"


def test_export_follows_the_filter_and_neutralises_formulas(client_for, county_clerk, make_source):
    make_source(name='=HYPERLINK("http://x")', supervision_class="key")
    make_source(name="一般厂")
    response = client_for(county_clerk).get(
        reverse("registry:source_export"), {"supervision_class": "key"}
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "污染源编码" and len(rows) == 2
    assert rows[1][1] == '\'=HYPERLINK("http://x")'
    assert rows[1][19] == "重点监管对象"


# --- check items ---------------------------------------------------------------------------


def _item(org, **overrides):
    data = {
        "year": 2026,
        "code": "HB-001",
        "name": "危险废物管理情况",
        "legal_basis": "《中华人民共和国固体废物污染环境防治法》",
        "checking_body": org.name,
        "method": "on_site",
    }
    data.update(overrides)
    return checkitem_create(actor=None, organisation=org, data=data)


def test_checkitems_are_scoped_and_published_by_the_leader(
    client_for, county_clerk, county_leader, outsider_clerk, county
):
    item = _item(county)
    assert (
        client_for(outsider_clerk)
        .get(reverse("registry:checkitem_detail", args=[item.pk]))
        .status_code
        == 404
    )
    client = client_for(county_clerk)
    assert client.post(reverse("registry:checkitem_publish", args=[item.pk])).status_code == 403
    client = client_for(county_leader)
    response = client.post(reverse("registry:checkitem_publish", args=[item.pk]))
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.published_at is not None
    client = client_for(county_clerk)
    assert (
        client.get(reverse("registry:checkitem_detail", args=[item.pk])).context["can_edit"]
        is False
    )


def test_checkitem_form_creates_and_reports_duplicates(client_for, county_clerk, county):
    _item(county, code="HB-009")
    client = client_for(county_clerk)
    data = {
        "year": 2026,
        "code": "HB-009",
        "name": "自动监控设施运行情况",
        "method": "on_site",
        "checking_body": county.name,
        "legal_basis": "《污染源自动监控管理办法》",
        "target_classes": ["key"],
        "required_expertise": ["auto_monitoring"],
    }
    response = client.post(reverse("registry:checkitem_create"), data)
    assert response.status_code == 200
    assert "已有编号为 HB-009 的事项" in response.context["form"].errors["code"][0]
    data["code"] = "HB-010"
    assert client.post(reverse("registry:checkitem_create"), data).status_code == 302
    item = CheckItem.objects.get(code="HB-010")
    assert item.required_expertise == ["auto_monitoring"] and item.target_classes == ["key"]
    body = client.get(reverse("registry:checkitem_list"), {"year": 2026}).content.decode()
    assert "自动监控设施运行情况" in body


def _default_submission(form) -> dict:
    """What the browser sends when the filter form is submitted untouched."""
    data = {}
    for field in form:
        widget = field.field.widget
        choices = getattr(field.field, "choices", None)
        if choices is not None and hasattr(widget, "choices"):
            data[field.html_name] = str(next(iter(choices))[0])
        else:
            data[field.html_name] = field.value() or ""
    return data


@pytest.mark.smoke
@pytest.mark.parametrize("url_name", ["registry:source_list", "registry:checkitem_list"])
def test_an_untouched_filter_form_filters_nothing(client_for, county_clerk, make_source, url_name):
    make_source(positive_list=False)
    make_source(positive_list=True)
    _item(county_clerk.organisation)
    client = client_for(county_clerk)
    url = reverse(url_name)
    first = client.get(url)
    submitted = client.get(url, _default_submission(first.context["form"]))
    page = submitted.context["page"]
    count = page.total if hasattr(page, "total") else page.paginator.count
    assert count == (2 if url_name == "registry:source_list" else 1)


def test_the_leader_publishes_the_years_list_from_the_list_page(
    client_for, county_clerk, county_leader, county
):
    _item(county, code="P-1")
    _item(county, code="P-2")
    url = reverse("registry:checkitem_list")
    assert client_for(county_clerk).get(url, {"year": 2026}).context["publish_year"] is None
    publish = reverse("registry:checkitem_publish_year")
    assert client_for(county_clerk).post(publish, {"year": 2026}).status_code == 403
    client = client_for(county_leader)
    assert client.get(url, {"year": 2026}).context["publish_year"] == 2026
    assert client.post(publish, {"year": 2026}).status_code == 302
    assert not CheckItem.objects.filter(published_at__isnull=True).exists()
    assert client.get(url, {"year": 2026}).context["publish_year"] is None


def test_an_export_too_big_for_one_request_is_refused_with_advice(
    client_for, county_clerk, make_source, monkeypatch
):
    monkeypatch.setattr("registry.views.EXPORT_LIMIT", 2)
    for _ in range(3):
        make_source()
    client = client_for(county_clerk)
    response = client.get(reverse("registry:source_export"), {"status": "active"})
    assert response.status_code == 302 and "status=active" in response["Location"]
    page = client.get(response["Location"])
    assert "缩小筛选范围" in page.content.decode()
    ok = client.get(reverse("registry:source_export"), {"q": "不存在"})
    assert ok.status_code == 200
