from datetime import timedelta

import pytest

from inspectors.models import Inspector
from inspectors.services import conflict_declare, unavailability_add

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]

URL = "/api/v1/inspectors/"


def test_the_api_list_is_scoped(client_for, county_clerk, county, other_county, make_inspector):
    ours = make_inspector(county, name="武陟甲")
    make_inspector(other_county, name="温县乙")
    body = client_for(county_clerk).get(URL).json()
    assert [row["id"] for row in body["results"]] == [ours.pk]


def test_the_api_returns_404_across_counties(client_for, outsider_clerk, county, make_inspector):
    inspector = make_inspector(county)
    client = client_for(outsider_clerk)
    assert client.get(f"{URL}{inspector.pk}/").status_code == 404
    assert (
        client.patch(
            f"{URL}{inspector.pk}/", {"post": "x"}, content_type="application/json"
        ).status_code
        == 404
    )


def test_the_api_nests_availability_and_conflicts(
    client_for, county_clerk, county, make_inspector, make_source, today
):
    inspector = make_inspector(county)
    unavailability_add(
        actor=county_clerk, inspector=inspector, start=today, end=today, reason="leave"
    )
    conflict_declare(
        actor=county_clerk, inspector=inspector, source=make_source(county), reason="亲属"
    )
    body = client_for(county_clerk).get(f"{URL}{inspector.pk}/").json()
    assert body["unavailabilities"][0]["reason"] == "leave"
    assert body["conflicts"][0]["in_force"] is True
    assert body["certificate_status"] == "valid"


def test_the_api_filters_like_the_list(client_for, county_clerk, county, make_inspector, today):
    make_inspector(county, name="过期", certificate_valid_until=today - timedelta(days=1))
    make_inspector(county, name="有效")
    client = client_for(county_clerk)
    body = client.get(URL, {"certificate_status": "expired"}).json()
    assert [row["name"] for row in body["results"]] == ["过期"]
    assert client.get(URL, {"certificate_status": "bogus"}).status_code == 400


def test_the_api_creates_through_the_service_and_validates(client_for, county_clerk, county):
    client = client_for(county_clerk)
    response = client.post(
        URL, {"name": "李娜", "kind": "enforcement"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["errors"]["certificate_number"] == ["执法人员必须填写执法证号。"]
    response = client.post(
        URL,
        {
            "name": "李娜",
            "kind": "enforcement",
            "certificate_number": "41082320230012",
            "certificate_valid_until": "2028-01-01",
            "expertise": ["water"],
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    inspector = Inspector.objects.get()
    assert inspector.organisation == county and inspector.changes.filter(action="create").exists()
    response = client.patch(
        f"{URL}{inspector.pk}/", {"post": "科长"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert inspector.changes.get(action="update").changes == {"post": ["", "科长"]}


def test_the_api_refuses_writes_by_readers(
    client_for, city_reviewer, inspector_a, county, make_inspector
):
    inspector = make_inspector(county)
    for user in (city_reviewer, inspector_a):
        client = client_for(user)
        response = client.patch(
            f"{URL}{inspector.pk}/", {"post": "科长"}, content_type="application/json"
        )
        assert response.status_code == 403
        response = client.post(
            URL,
            {"name": "x", "kind": "enforcement", "certificate_number": "Z9"},
            content_type="application/json",
        )
        assert response.status_code == 403
    assert Inspector.objects.count() == 1


def test_the_schema_documents_the_inspectors_endpoint(client_for, sysadmin):
    response = client_for(sysadmin).get("/api/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/v1/inspectors/" in text and "certificate_status" in text
