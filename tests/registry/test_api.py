"""Registry API: scoped lists, 404 across counties, writes validated by the services."""

from __future__ import annotations

import pytest

from registry.models import CheckItem, PollutionSource
from tests.registry.conftest import source_data

pytestmark = pytest.mark.django_db

SOURCES = "/api/v1/sources/"
ITEMS = "/api/v1/checkitems/"


@pytest.mark.smoke
def test_the_list_is_scoped(client_for, county_clerk, city_reviewer, source, other_source):
    codes = {r["source_code"] for r in client_for(county_clerk).get(SOURCES).json()["results"]}
    assert codes == {source.source_code}
    codes = {r["source_code"] for r in client_for(city_reviewer).get(SOURCES).json()["results"]}
    assert codes == {source.source_code, other_source.source_code}


@pytest.mark.smoke
def test_it_answers_404_across_counties(client_for, outsider_clerk, source):
    client = client_for(outsider_clerk)
    assert client.get(f"{SOURCES}{source.pk}/").status_code == 404
    response = client.patch(
        f"{SOURCES}{source.pk}/", {"phone": "1"}, content_type="application/json"
    )
    assert response.status_code == 404


def test_filters_work_through_the_api(client_for, city_reviewer, make_source, other_source):
    key = make_source(supervision_class="key", tags=["园区内"])
    client = client_for(city_reviewer)
    rows = client.get(SOURCES, {"supervision_class": "key"}).json()["results"]
    assert [r["source_code"] for r in rows] == [key.source_code]
    rows = client.get(SOURCES, {"tag": "园区内"}).json()["results"]
    assert [r["source_code"] for r in rows] == [key.source_code]
    rows = client.get(SOURCES, {"organisation": other_source.organisation_id}).json()["results"]
    assert [r["source_code"] for r in rows] == [other_source.source_code]
    assert client.get(SOURCES, {"supervision_class": "vip"}).status_code == 400


@pytest.mark.smoke
def test_create_through_the_api_validates(client_for, county_clerk):
    client = client_for(county_clerk)
    data = source_data(supervision_class="special")
    response = client.post(SOURCES, data, content_type="application/json")
    assert response.status_code == 400
    assert "special_reason" in response.json()["errors"]
    assert not PollutionSource.objects.filter(source_code=data["source_code"]).exists()

    data.update(special_reason="媒体曝光", uscc=data["uscc"].lower(), pollution_types=["air"])
    response = client.post(SOURCES, data, content_type="application/json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["uscc"] == data["uscc"].upper() and body["managed_by"] == "county"
    assert body["organisation"] == county_clerk.organisation_id


def test_bad_check_digit_needs_acceptance_through_the_api(client_for, county_clerk):
    client = client_for(county_clerk)
    data = source_data()
    data["uscc"] = data["uscc"][:17] + ("0" if data["uscc"][17] != "0" else "1")
    assert client.post(SOURCES, data, content_type="application/json").status_code == 400
    data["accept_bad_checksum"] = True
    response = client.post(SOURCES, data, content_type="application/json")
    assert response.status_code == 201 and response.json()["uscc_checksum_ok"] is False


def test_patch_records_history_and_refuses_non_editors(
    client_for, county_clerk, inspector_a, source
):
    url = f"{SOURCES}{source.pk}/"
    response = client_for(inspector_a).patch(url, {"phone": "1"}, content_type="application/json")
    assert response.status_code == 403
    response = client_for(county_clerk).patch(
        url, {"complaints_12m": 4}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["complaints_12m"] == 4
    assert source.changes.get(action="update").changes == {"complaints_12m": [0, 4]}
    response = client_for(county_clerk).patch(
        url, {"source_code": "CHANGED"}, content_type="application/json"
    )
    assert response.status_code == 400


def test_the_public_gets_nothing(client, source):
    assert client.get(SOURCES).status_code in (401, 403)


def test_checkitems_api(client_for, county_clerk, outsider_clerk):
    client = client_for(county_clerk)
    data = {
        "year": 2026,
        "code": "HB-101",
        "name": "排污许可制度落实及证后执行情况",
        "legal_basis": "《排污许可管理条例》",
        "checking_body": "焦作市生态环境局武陟分局",
        "method": "on_site",
        "required_expertise": ["permit"],
    }
    response = client.post(ITEMS, data, content_type="application/json")
    assert response.status_code == 201, response.json()
    item = CheckItem.objects.get(code="HB-101")
    assert client.post(ITEMS, data, content_type="application/json").status_code == 400
    assert client_for(outsider_clerk).get(f"{ITEMS}{item.pk}/").status_code == 404
    rows = client_for(county_clerk).get(ITEMS, {"year": 2026, "published": "false"}).json()
    assert [r["code"] for r in rows["results"]] == ["HB-101"]


def test_the_schema_documents_both_endpoints(client_for, sysadmin):
    body = client_for(sysadmin).get("/api/schema/").content.decode()
    assert "/api/v1/sources/" in body and "/api/v1/checkitems/" in body
    assert "supervision_class" in body
