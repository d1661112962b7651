"""API tokens expire; an expired one is replaced at the token endpoint; the endpoint is
throttled like the login page; a deactivated account's session and token stop at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _token(client, username, password=PASSWORD, ip="10.1.1.1"):
    return client.post(
        "/api/v1/token/", {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def test_a_token_expires_and_is_replaced(county_clerk, settings):
    client = APIClient()
    response = _token(client, county_clerk.username)
    assert response.status_code == 200 and response.json()["expires"]
    key = response.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/draws/").status_code == 200
    Token.objects.filter(key=key).update(
        created=timezone.now() - timedelta(hours=settings.SJSJ_API_TOKEN_HOURS, minutes=1)
    )
    refused = client.get("/api/v1/draws/")
    assert refused.status_code in (401, 403) and "过期" in refused.json()["detail"]
    client.credentials()
    fresh = _token(client, county_clerk.username).json()["token"]
    assert fresh != key


@override_settings(AXES_FAILURE_LIMIT=3)
def test_the_token_endpoint_is_throttled_like_the_login_page(county_clerk):
    client = APIClient()
    for _ in range(3):
        assert _token(client, county_clerk.username, "wrong").status_code in (400, 429)
    # Locked: even the right password gets no token, in the same words as a name that does
    # not exist (locked the same way).
    locked = _token(client, county_clerk.username)
    assert locked.status_code in (400, 403, 429) and "token" not in locked.json()
    for _ in range(3):
        _token(client, "nobody-like-this", "wrong")
    unknown = _token(client, "nobody-like-this")
    assert (unknown.status_code, unknown.content) == (locked.status_code, locked.content)
    # From another computer the name still works: nobody locks a colleague out.
    assert _token(client, county_clerk.username, ip="10.1.1.2").status_code == 200


def test_a_deactivated_account_stops_at_once(county_clerk, client):
    client.force_login(county_clerk)
    api = APIClient()
    key = _token(api, county_clerk.username).json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/lottery/plans/").status_code == 200
    county_clerk.is_active = False
    county_clerk.save(update_fields=["is_active"])
    assert client.get("/lottery/plans/").status_code == 302  # to the login page
    assert api.get("/api/v1/draws/").status_code in (401, 403)
    # Nor is a new token issued to it.
    api.credentials()
    assert _token(api, county_clerk.username).status_code == 400
