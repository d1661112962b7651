"""Every API error has one shape, Chinese first: {"detail", "code", "errors"}."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_not_signed_in_is_one_shape_in_chinese():
    response = api().get("/api/v1/me/")
    assert response.status_code in (401, 403)
    body = response.json()
    assert set(body) == {"detail", "code", "errors"}
    assert body["code"] == "not_authenticated" and body["errors"] == {}
    assert "身份认证" in body["detail"]


def test_a_missing_object_is_one_shape(county_clerk):
    body = api(county_clerk).get("/api/v1/plans/999999/").json()
    assert body == {"detail": body["detail"], "code": "not_found", "errors": {}}
    assert "未找到" in body["detail"]


def test_a_forbidden_listing_is_one_shape(inspector_a):
    response = api(inspector_a).get("/api/v1/plans/")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "权限" in response.json()["detail"]


def test_an_invalid_request_names_each_field(county_clerk):
    response = api(county_clerk).post(
        "/api/v1/inspectors/", {"name": "李娜", "kind": "enforcement"}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["detail"] == "请求的数据有误。"
    assert body["errors"]["certificate_number"] == ["执法人员必须填写执法证号。"]
