"""Every URL in the URLconf, for each persona, with other organisations' ids and junk query
strings: never a 500, and never the seed or witness values of a draw the persona may not see.

The walk reads the URLconf itself, so a new page is walked the day it is added. Path
parameters get the id of another organisation's draw (and of its plan, source, inspector...:
one id serves every model, since ids are small in a test database) and an id that does not
exist; query strings carry a NUL, letters where numbers go and numbers too large for the
database.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter, PathConverter, SlugConverter, StringConverter

from tests.lottery.scenario import build_world, make_draw, make_plan

pytestmark = pytest.mark.django_db

JUNK = [
    "",
    "?q=%00&page=abc&year=abc&quarter=9&organisation=abc&class=%00&status=%00&sort=%00",
    "?page=99999999999999999999&year=99999999999999999999&organisation=-1&format=xlsx",
    # Past Python's 4,300-digit limit of int(str), and a negative page.
    "?page=-1&year={h}&quarter={h}&org={h}&after=a~{h}&before=a~{h}&q={x}".format(
        h="9" * 5000, x="x" * 3000
    ),
]
SKIP_NAMES = {"logout", "set_language"}  # would end the session under test, or POST-only


def _patterns(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            full_ns = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from _patterns(entry, prefix + str(entry.pattern), full_ns)
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            yield name, entry, prefix + str(entry.pattern)


def _urls(ids: list[int]) -> list[str]:
    urls = set()
    for name, entry, _raw in _patterns(get_resolver()):
        if entry.name in SKIP_NAMES:
            continue
        converters = getattr(entry.pattern, "converters", {})
        regex_groups = entry.pattern.regex.groupindex
        for pk in ids:
            kwargs = {}
            if not converters and regex_groups:  # the API router's regex patterns
                for key in regex_groups:
                    kwargs[key] = {"format": "json", "app_label": "lottery"}.get(key, str(pk))
            for key, conv in converters.items():
                if isinstance(conv, IntConverter):
                    kwargs[key] = pk
                elif isinstance(conv, (SlugConverter, StringConverter)):
                    kwargs[key] = "abc" if key not in ("app_label",) else "lottery"
                elif isinstance(conv, PathConverter):
                    kwargs[key] = str(pk)
                else:
                    kwargs[key] = "abc"
            try:
                urls.add(reverse(name, kwargs=kwargs))
            except NoReverseMatch:  # a pattern our values do not fit: skipped
                continue
    return sorted(urls)


@pytest.fixture
def world(county, other_county, county_clerk, county_leader, outsider_clerk):
    from core.models import Role
    from lottery.services import draws_disclose_due
    from tests.conftest import _make_user

    build_world(county)
    build_world(other_county)
    other_leader = _make_user("other_leader", Role.LEADER, other_county)
    mine = make_draw(make_plan(county, county_clerk, county_leader), county_clerk)
    disclosed_plan = make_plan(other_county, outsider_clerk, other_leader, quarter=1)
    disclosed = make_draw(disclosed_plan, outsider_clerk)
    draws_disclose_due(today=disclosed_plan.planned_end + timedelta(days=1))
    theirs_plan = make_plan(other_county, outsider_clerk, other_leader, quarter=2)
    # Executed, not disclosed: its seed and values must show nowhere outside its bureau.
    theirs = make_draw(theirs_plan, outsider_clerk, values=("918273", "564738"))
    return {"mine": mine, "theirs": theirs, "disclosed": disclosed}


def test_no_url_answers_500_or_leaks_a_secret(
    world, county_clerk, city_reviewer, inspector_a, admin_user
):
    theirs = world["theirs"]
    secrets = [theirs.seed, *theirs.entropy.values_list("value", flat=True)]
    ids = [theirs.pk, world["disclosed"].pk, world["mine"].pk, 999_999]
    urls = _urls(ids)
    assert len(urls) > 100
    personas = {"anonymous": None, "clerk": county_clerk, "reviewer": city_reviewer}
    personas["inspector"] = inspector_a
    personas["superuser"] = admin_user
    failures, leaks = [], []
    for label, user in personas.items():
        client = Client(raise_request_exception=False)
        if user is not None:
            client.force_login(user)
        for url in urls:
            for junk in JUNK:
                response = client.get(url + junk)
                if response.status_code >= 500:
                    failures.append(f"{label} {url}{junk[:120]} → {response.status_code}")
                    continue
                if label == "superuser" or response.streaming:
                    continue
                body = response.content.decode("utf-8", "replace")
                found = [s for s in secrets if s and s in body]
                if found:
                    leaks.append(f"{label} {url}{junk}")
    assert failures == [], "\n".join(failures[:40])
    assert leaks == [], "\n".join(leaks[:40])


def test_the_known_cases_answer_with_a_message(world, county_clerk, client):
    """The cases that once answered 500: each now answers with its status and a message."""
    mine = world["mine"]
    client.force_login(county_clerk)
    for suffix in ("record.json", "selections.json"):
        response = client.get(f"/api/v1/draws/{mine.pk}/{suffix}")
        assert response.status_code == 200, suffix
    assert client.get(f"/api/v1/draws/{mine.pk}/record.json").json()["seed"] == mine.seed
    response = client.get(f"/public/draws/{mine.pk}/?q=%00")
    assert response.status_code == 400 and "NUL" in response.content.decode()
    response = client.get("/core/calendar/?year=abc", follow=True)
    assert response.status_code == 200 and "2000" in response.content.decode()


# Lists paged with ``?page=``: a page that is not a number, below 1 or past the end answers
# with the list and a message saying which page is shown, never a 500 and never silently.
PAGED_LISTS = [
    ("county_clerk", "/registry/items/"),
    ("county_clerk", "/inspectors/"),
    ("county_clerk", "/core/imports/"),
    ("county_leader", "/public/manage/"),
    ("county_clerk", "/deadlines/notifications/"),
    ("county_clerk", "/deadlines/obligations/"),
    ("city_reviewer", "/oversight/units/{county}/tasks/"),
    (None, "/public/draws/"),
    (None, "/public/plans/"),
    (None, "/public/check-items/"),
    (None, "/public/audit-checkpoints/"),
]


@pytest.mark.smoke
@pytest.mark.parametrize(("persona", "path"), PAGED_LISTS)
@pytest.mark.parametrize(
    ("page", "message"),
    [
        ("abc", "页码无效，显示第一页。"),
        ("-1", "页码无效，显示第一页。"),
        ("0", "页码无效，显示第一页。"),
        ("9" * 30, "页码无效，显示第一页。"),
        ("999999", "没有第 999999 页，显示最后一页（第 1 页）。"),
    ],
)
def test_a_page_that_does_not_exist_answers_with_a_message(
    request, client, county, persona, path, page, message
):
    if persona is not None:
        client.force_login(request.getfixturevalue(persona))
    url = path.format(county=county.pk) + f"?page={page}"
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200, url
    assert message in response.content.decode(), url
    assert client.get(path.format(county=county.pk)).status_code == 200  # the message is spent


@pytest.mark.smoke
@pytest.mark.parametrize(
    "url",
    [
        "/registry/sources/?supervision_class=bogus",
        "/registry/sources/?organisation=abc",
        "/registry/sources/?status=" + "x" * 3000,
        "/registry/items/?year=abc",
        "/registry/items/?published=bogus",
        "/inspectors/?kind=bogus",
        "/inspectors/?available_on=2026-13-45",
    ],
)
def test_a_filter_value_that_is_not_valid_answers_with_a_message(client, county_clerk, url):
    client.force_login(county_clerk)
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert "部分筛选条件无效，已忽略。" in response.content.decode()
    path = url.split("?")[0]
    assert "部分筛选条件无效" not in client.get(path).content.decode()  # valid: no message


@pytest.mark.parametrize("path", ["/lottery/plans/", "/lottery/draws/"])
@pytest.mark.parametrize("page", ["abc", "999999"])
def test_the_lotterys_lists_answer_a_page_that_does_not_exist_with_a_message(
    client, county_clerk, path, page
):
    client.force_login(county_clerk)
    response = client.get(f"{path}?page={page}", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    body = response.content.decode()
    assert "页码无效，显示第一页。" in body or "显示最后一页" in body


@pytest.mark.smoke
@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/public/draws/?org=abc", "org"),
        ("/public/plans/?org=abc", "org"),
        ("/public/plans/?year=99999", "year"),
        ("/public/check-items/?year=abc", "year"),
        ("/public/disclosure/?year=abc", "year"),
        ("/public/disclosure/?year=1999", "year"),
        ("/public/disclosure/?year=" + "9" * 5000, "year"),  # was a 500: int() of 5000 digits
    ],
)
def test_the_portals_filters_that_make_no_sense_answer_with_a_message(client, url, name):
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert f"以下筛选条件无效，已忽略：{name}。" in response.content.decode()
    assert "筛选条件无效" not in client.get(url.split("?")[0]).content.decode()


HUGE = "9" * 5000  # past Python's 4,300-digit limit of int(str): a ValueError if not checked


@pytest.mark.smoke
@pytest.mark.parametrize("param", ["after", "before"])
@pytest.mark.parametrize("pk", [HUGE, "9" * 20, "١٢"])
def test_a_source_list_cursor_with_an_id_too_long_is_not_a_500(client, county_clerk, param, pk):
    client.force_login(county_clerk)
    response = client.get(f"/registry/sources/?{param}=410823-0001~{pk}")
    assert response.status_code == 200


def test_the_plan_lists_year_of_5000_digits_is_not_a_500(county_clerk):
    client = Client(raise_request_exception=False)
    client.force_login(county_clerk)
    assert client.get(f"/lottery/plans/?year={HUGE}").status_code == 200


@pytest.mark.parametrize("query", ["page=abc", "page=999999", "class=bogus"])
def test_the_drawn_lists_bad_page_or_class_answers_with_a_message(
    world, county_clerk, client, query
):
    client.force_login(county_clerk)
    response = client.get(f"/lottery/draws/{world['mine'].pk}/?{query}")
    assert response.status_code == 200
    body = response.content.decode()
    assert any(m in body for m in ("页码无效", "显示最后一页", "筛选条件无效"))
