import re

import pytest
from django.test import override_settings
from django.utils import timezone

from core.models import Role

pytestmark = pytest.mark.smoke


def _login(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_a_correct_login_reaches_the_role_home_in_chinese(client, county_clerk):
    response = _login(client, "clerk", "pw-Test-2026")
    assert response.status_code == 302
    page = client.get("/").content.decode()
    assert 'lang="zh-hans"' in page
    assert "经办" in page or "工作台" in page


def _login_from(client, username, password, ip):
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip
    )


@override_settings(AXES_FAILURE_LIMIT=3)
def test_failed_logins_lock_the_name_from_that_address_even_for_the_right_password(
    client, county_clerk
):
    for _ in range(2):
        assert _login_from(client, "clerk", "wrong", "10.0.0.9").status_code == 200
    locked = _login_from(client, "clerk", "wrong", "10.0.0.9")
    assert locked.status_code == 429 and "失败次数过多" in locked.content.decode()
    refused = _login_from(client, "clerk", "pw-Test-2026", "10.0.0.9")
    assert refused.status_code == 429  # guessing gains nothing during the lock
    # Nobody locks a colleague out from elsewhere: the same name from another computer.
    assert _login_from(client, "clerk", "pw-Test-2026", "10.0.0.7").status_code == 302


@override_settings(AXES_FAILURE_LIMIT=3)
def test_the_login_page_never_says_which_names_exist(client, county_clerk):
    pages = {}
    for name in ("clerk", "nobody-like-this"):
        responses = [_login_from(client, name, "wrong", "10.0.0.5") for _ in range(3)]
        # Once locked, the right password of the real name reads like any for a made-up one.
        responses.append(_login_from(client, name, "pw-Test-2026", "10.0.0.5"))
        pages[name] = [(r.status_code, _text(r)) for r in responses]
    assert [code for code, _ in pages["clerk"]] == [200, 200, 429, 429]
    assert pages["clerk"] == pages["nobody-like-this"]


@override_settings(SJSJ_LOGIN_RATE="5/10m")
def test_one_address_trying_many_names_is_slowed_down(client, county_clerk):
    """django-ratelimit: a limit per address across user names, on top of axes' per name."""
    from django.core.cache import cache

    cache.clear()
    codes = [_login_from(client, f"name{i}", "wrong", "10.0.0.66").status_code for i in range(7)]
    assert codes[:5] == [200] * 5 and codes[5:] == [429, 429], codes
    page = _login_from(client, "clerk", "pw-Test-2026", "10.0.0.66")
    assert page.status_code == 429 and "尝试登录次数过多" in page.content.decode()
    # another address is not affected
    assert _login_from(client, "clerk", "pw-Test-2026", "10.0.0.67").status_code == 302
    cache.clear()


@override_settings(SJSJ_TRUSTED_PROXIES=["10.1.1.1"])
def test_the_client_address_behind_a_trusted_proxy_and_not_otherwise(rf):
    from core.auth import client_ip

    direct = rf.get("/", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_ip(direct) == "10.9.9.9"  # a client cannot choose its address
    proxied = rf.get("/", REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 10.2.3.4")
    assert client_ip(proxied) == "10.2.3.4"  # the right-most address the proxy saw


def _text(response) -> str:
    """The page's words without the CSRF token and the echoed user name."""
    body = response.content.decode()
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)
    body = re.sub(r'"X-CSRFToken": "[^"]+"', "", body)
    return body.replace("nobody-like-this", "NAME").replace('value="clerk"', 'value="NAME"')


@override_settings(AXES_FAILURE_LIMIT=3)
def test_a_successful_login_resets_the_failure_count(client, county_clerk):
    _login_from(client, "clerk", "wrong", "10.0.0.3")
    _login_from(client, "clerk", "wrong", "10.0.0.3")
    assert _login_from(client, "clerk", "pw-Test-2026", "10.0.0.3").status_code == 302
    client.logout()
    for _ in range(2):
        _login_from(client, "clerk", "wrong", "10.0.0.3")
    assert _login_from(client, "clerk", "pw-Test-2026", "10.0.0.3").status_code == 302


def test_password_change(client_for, county_clerk):
    client = client_for(county_clerk)
    response = client.post(
        "/accounts/password/",
        {
            "old_password": "pw-Test-2026",
            "new_password1": "A-much-better-pw-77",
            "new_password2": "A-much-better-pw-77",
        },
    )
    assert response.status_code == 302
    county_clerk.refresh_from_db()
    assert county_clerk.check_password("A-much-better-pw-77")


ROLE_NAV = {
    "county_clerk": {"home", "calendar"},
    "sysadmin": {"home", "calendar", "audit", "api", "admin"},
}


@pytest.mark.parametrize("persona", sorted(ROLE_NAV))
def test_navigation_offers_what_the_role_may_do(request, client_for, persona):
    user = request.getfixturevalue(persona)
    page = client_for(user).get("/").content.decode()
    offered = set(re.findall(r'data-nav="(\w+)"', page))
    assert ROLE_NAV[persona] <= offered
    if user.role != Role.ADMIN:
        assert "admin" not in offered and "audit" not in offered


def test_each_role_has_its_own_home(
    client, orgs, county_clerk, county_leader, inspector_a, city_reviewer, province_viewer, sysadmin
):
    seen = {}
    for user in (
        county_clerk,
        county_leader,
        inspector_a,
        city_reviewer,
        province_viewer,
        sysadmin,
    ):
        client.force_login(user)
        page = client.get("/").content.decode()
        seen[user.role] = re.search(r'data-testid="home-(?!title|cards)(\w+)"', page).group(1)
    assert seen == {
        "clerk": "clerk",
        "leader": "leader",
        "inspector": "inspector",
        "city_reviewer": "city_reviewer",
        "province_viewer": "province_viewer",
        "admin": "admin",
    }


def test_the_public_sees_the_portal_without_logging_in(client, db):
    page = client.get("/").content.decode()
    assert 'data-testid="home-public"' in page


def test_404_and_403_pages_are_translated(client_for, county_clerk):
    client = client_for(county_clerk)
    response = client.get("/no/such/page/")
    assert response.status_code == 404 and "未找到" in response.content.decode()
    response = client.get("/core/audit/")
    assert response.status_code == 403 and "不允许" in response.content.decode()


def test_english_is_available(client, db):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get("/").content.decode()
    assert 'lang="en"' in page and "Staff login" in page


def test_health_reports_database_broker_and_calendar(client, calendar_loaded):
    body = client.get("/health/").json()
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True
    this_year = timezone.localdate().year
    assert set(body["calendar"]) == {str(this_year), str(this_year + 1)}
    if not body["calendar"][str(this_year + 1)]:
        assert body["status"] == "warning" and body["warnings"]


def test_the_openapi_schema_and_docs_are_served_locally(client_for, sysadmin):
    client = client_for(sysadmin)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/v1/organisations/" in schema.content
    docs = client.get("/api/docs/").content.decode()
    assert "cdn" not in docs.lower() and "/static/drf_spectacular_sidecar/" in docs


def test_token_authentication(client, county_clerk):
    token = client.post("/api/v1/token/", {"username": "clerk", "password": "pw-Test-2026"}).json()[
        "token"
    ]
    client.logout()
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200 and response.json()["role"] == "clerk"


def test_home_pages_show_live_figures_per_role(
    client_for, county_clerk, county_leader, inspector_a, city_reviewer
):
    from tests.lottery.factories import make_inspectors, make_sources

    make_sources(county_clerk.organisation, 7, klass="key")
    make_sources(county_clerk.organisation, 5, klass="general")
    make_inspectors(county_clerk.organisation, 3)
    page = client_for(county_clerk).get("/").content.decode()
    assert re.search(r'data-testid="card-sources">\s*12\s*<', page)
    assert re.search(r'data-testid="card-inspectors">\s*3\s*<', page)
    assert 'data-testid="card-quarter"' in page
    page = client_for(county_leader).get("/").content.decode()
    assert 'data-testid="card-approvals"' in page
    page = client_for(inspector_a).get("/").content.decode()
    assert 'data-testid="card-tasks"' in page and 'data-testid="card-sources"' not in page
    page = client_for(city_reviewer).get("/").content.decode()
    assert 'data-testid="card-quarter"' in page
