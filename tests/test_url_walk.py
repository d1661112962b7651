"""Every URL in the URLconf, for every persona, with other organisations' ids and junk query
strings: never a 500, and never the seed or witness values of a draw the persona may not see.

The walk reads the URLconf itself, so a page is walked the day it is added: every path
parameter must be named in ``INT_PARAMS`` (which model its id is of) or ``STR_PARAMS`` (the
values it takes), else the walk fails, so a new URL is never skipped silently. Three bureaus
are built through the services, each with its draw, tasks, problems, evidence, imports,
exports, filings, archives and reports: 武陟县 (the personas' own), 温县 (another county of
the same city) and 离石区 (another city, another province). Each id parameter gets the id of
an object of each bureau and one that does not exist; list pages also get query strings with
a NUL, letters where numbers go, negative pages and numbers too large for the database.
"""

from __future__ import annotations

import io
import time
from datetime import date, timedelta

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter
from django.utils import timezone

from tests.lottery.scenario import build_world, make_draw, make_plan

pytestmark = pytest.mark.django_db

JUNK = [
    "",
    "?q=%00&page=abc&year=abc&quarter=9&organisation=abc&class=%00&status=%00&sort=%00",
    "?page=99999999999999999999&year=99999999999999999999&organisation=-1&format=xlsx",
    # Past Python's 4,300-digit limit of int(str), and a negative page.
    "?page=-1&year={h}&quarter={h}&org={h}&after=a~{h}&before=a~{h}&q={x}&format={x}".format(
        h="9" * 5000, x="x" * 3000
    ),
    "?page=999999&year=-5&quarter=-1&month=13&kind=%00&metric=abc&regime=abc&format=%00",
]
SKIP_NAMES = {"logout", "set_language"}  # would end the session under test, or POST-only
MISSING = 999_999

# (URL name, parameter) -> the model whose ids the parameter takes. A pattern whose parameter
# is not here (nor in STR_PARAMS) fails the walk: add it, so a new URL is walked too.
_BY_NAMESPACE = {
    "registry:source_": "registry.PollutionSource",
    "registry:checkitem_": "registry.CheckItem",
    "inspectors:": "inspectors.Inspector",
    "lottery:plan_": "lottery.Plan",
    "lottery:draw_prepare": "lottery.Plan",
    "lottery:draw_": "lottery.Draw",
    "lottery:substitution_request": "lottery.DrawSelection",
    "lottery:substitution_decide": "lottery.Substitution",
    "exchange:import_": "exchange.ImportJob",
    "exchange:registry_export_": "exchange.RegistryExport",
    "inspections:": "inspections.InspectionTask",
    "publication:draw_": "lottery.Draw",
    "publication:plan_": "lottery.Plan",
    "publication:result_detail": "publication.PublishedResult",
    "publication:manage_": "inspections.InspectionTask",
    "publication:national_export_download": "publication.NationalExport",
    "oversight:drill": "core.Organisation",
    "oversight:typical_case_mark": "inspections.InspectionTask",
    "oversight:draw_file": "lottery.Draw",
    "oversight:archive_": "oversight.Archive",
    "oversight:report_": "oversight.Report",
    "organisation-": "core.Organisation",
    "source-": "registry.PollutionSource",
    "checkitem-": "registry.CheckItem",
    "inspector-": "inspectors.Inspector",
    "plan-": "lottery.Plan",
    "draw-": "lottery.Draw",
    "inspection-task-": "inspections.InspectionTask",
    "inspection-problem-": "inspections.Problem",
    "oversight-report-": "oversight.Report",
}
_BY_PARAM = {
    "object_pk": "core.Organisation",  # guardian's object permissions in the admin
    "user_id": "core.User",
    "group_id": "auth.Group",
    "id": "core.User",  # the admin's password change
    "content_type_id": "contenttypes.ContentType",
    "period_pk": "inspectors.Unavailability",
    "conflict_pk": "inspectors.Conflict",
    "problem_pk": "inspections.Problem",
    "evidence_pk": "inspections.Evidence",
}


def _str_values(name: str, key: str) -> list[str] | None:
    """The values of a text parameter: each real one and one that means nothing."""
    from exchange.specs import IMPORT_SPECS
    from inspections.views import PDF_KINDS
    from oversight.views import COVERAGE_METRICS, OTHER_METRICS, TASK_METRICS

    table = {
        ("exchange:import_template", "kind"): sorted(IMPORT_SPECS),
        ("exchange:registry_export", "kind"): sorted(IMPORT_SPECS),
        ("oversight:drill", "metric"): sorted(TASK_METRICS | COVERAGE_METRICS | OTHER_METRICS),
        ("oversight:report_download", "what"): ["pdf", "xlsx"],
        ("inspections:task_pdf", "kind"): list(PDF_KINDS),
        ("api-root", "format"): ["json", "api"],
        ("admin:app_list", "app_label"): sorted({m._meta.app_label for m in admin.site._registry}),
    }
    if key == "format":  # the API router's format suffixes: both renderers
        return ["json", "api"]
    if key == "what" and name == "oversight-report-download":  # its pattern takes no other
        return ["pdf", "xlsx"]
    values = table.get((name, key))
    if values is None:
        return None
    return [*values, "abc"] if key != "app_label" else values


def _admin_models() -> dict[str, str]:
    """Admin URL name -> the model of its object id."""
    out = {}
    for model in admin.site._registry:
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        for view in ("change", "delete", "history"):
            out[f"{info}_{view}"] = model._meta.label
    return out


def _model_for(name: str, key: str, admin_models: dict[str, str]) -> str | None:
    if key in _BY_PARAM:
        return _BY_PARAM[key]
    if name == "admin:view_on_site" and key == "object_id":
        return "lottery.Draw"
    if name.startswith("admin:"):
        if name in admin_models:
            return admin_models[name]
        return None
    matches = [p for p in _BY_NAMESPACE if name.startswith(p)]
    return _BY_NAMESPACE[max(matches, key=len)] if matches else None


def _patterns(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            full_ns = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from _patterns(entry, prefix + str(entry.pattern), full_ns)
        elif isinstance(entry, URLPattern):
            name = entry.name or ""
            yield (
                (f"{namespace}:{name}" if namespace and name else name),
                entry,
                prefix + str(entry.pattern),
            )


def _params(entry: URLPattern) -> dict[str, bool]:
    """A pattern's parameters: name -> whether it takes an integer id."""
    converters = getattr(entry.pattern, "converters", {})
    if converters:
        return {k: isinstance(c, IntConverter) for k, c in converters.items()}
    return {k: k == "pk" for k in entry.pattern.regex.groupindex}


def _fill(ids: dict[str, list[int]]) -> tuple[list[tuple[str, str, bool]], list[str]]:
    """Every URL to walk as (pattern, url, is a list), and the patterns it could not fill."""
    admin_models = _admin_models()
    walked: list[tuple[str, str, bool]] = []
    unfilled: list[str] = []
    for name, entry, raw in _patterns(get_resolver()):
        if entry.name in SKIP_NAMES:
            continue
        if not entry.name:  # the admin's redirects to a change page, and its catch-all
            app_model = raw.removeprefix("admin/").split("/")[:2]
            model = ".".join(app_model)
            if raw.endswith("/<path:object_id>/") and model in {
                m._meta.label_lower for m in admin.site._registry
            }:
                label = apps.get_model(model)._meta.label
                walked += [
                    ("/" + raw, "/" + raw.replace("<path:object_id>", str(pk)), False)
                    for pk in ids.get(label) or [MISSING]
                ]
            elif raw == "admin/(?P<url>.*)$":
                walked.append(("/" + raw, "/admin/nothing/here/", True))
            else:
                unfilled.append(f"{raw} (no name)")
            continue
        options: dict[str, list] = {}
        for key, is_id in _params(entry).items():
            if is_id or key == "object_id" or key in _BY_PARAM:
                model = _model_for(name, key, admin_models)
                if model is None:
                    unfilled.append(f"{name} {key}")
                    continue
                options[key] = ids.get(model) or [MISSING]
            else:
                values = _str_values(name, key)
                if values is None:
                    unfilled.append(f"{name} {key}")
                    continue
                options[key] = values
        if len(options) != len(_params(entry)):
            continue
        urls: set[str] = set()
        # Each value of each parameter at least once: the first id of the others, and every
        # text value with the first id (not the product, which grows fast).
        keys = list(options)
        combos = [dict.fromkeys(keys)] if not keys else []
        for key in keys:
            for value in options[key]:
                combos.append({k: (value if k == key else options[k][0]) for k in keys})
        for kwargs in combos:
            try:
                url = reverse(name, kwargs={k: v for k, v in kwargs.items() if v is not None})
            except NoReverseMatch as error:  # a value the pattern refuses
                unfilled.append(f"{name} {kwargs}: {error}")
                continue
            urls.add(url)
        walked += [(name, url, not options) for url in sorted(urls)]
    return walked, unfilled


PHASES = ("mine", "their_county", "their_city")


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 120, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def _build_bureau(county, clerk, leader, reviewer, tag: str, values: tuple[str, str]):
    """One bureau with one of every object a URL takes the id of, through the services."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from guardian.shortcuts import assign_perm

    from core.models import Role
    from exchange.imports import import_job_create, registry_export_build, registry_export_request
    from inspections.models import InspectionTask
    from inspections.selectors import task_team
    from inspections.services import evidence_add, problem_add, tasks_create_for_draw
    from inspectors.models import Inspector
    from inspectors.services import conflict_declare, unavailability_add
    from lottery.models import DrawSelection
    from lottery.services import draws_disclose_due, substitution_request
    from oversight.services import (
        archive_build,
        archive_request,
        draw_file,
        report_build,
        report_request,
        typical_case_mark,
    )
    from tests.conftest import _make_user
    from tests.imports.conftest import inspector_rows, inspectors_xlsx

    build_world(county)
    disclosed_plan = make_plan(county, clerk, leader, quarter=1)
    make_draw(disclosed_plan, clerk, values=(f"{values[0][:3]}001", f"{values[1][:3]}002"))
    draws_disclose_due(today=disclosed_plan.planned_end + timedelta(days=1))
    # Executed, not disclosed: its seed and values show nowhere outside its bureau.
    draw = make_draw(make_plan(county, clerk, leader, quarter=2), clerk, values=values)
    tasks_create_for_draw(draw=draw)
    task = InspectionTask.objects.filter(selection__draw=draw, mode="on_site").first()
    member = _make_user(f"{tag}_inspector", Role.INSPECTOR, county)
    Inspector.objects.filter(pk=task_team(task)[0].inspector.pk).update(user=member)
    assign_perm("lottery.view_drawn_task", member, task.selection)
    problem = problem_add(actor=member, task=task, description="废水直排", handling="corrected")
    evidence_add(
        actor=member,
        task=task,
        upload=SimpleUploadedFile("现场.png", _png(), "image/png"),
        problem=problem,
    )
    selection = DrawSelection.objects.filter(draw=draw).order_by("-pk").first()
    substitution_request(actor=clerk, selection=selection, reason="企业已停产")
    inspector = Inspector.objects.filter(organisation=county).first()
    unavailability_add(
        actor=clerk,
        inspector=inspector,
        start=date(2026, 5, 1),
        end=date(2026, 5, 9),
        reason="leave",
    )
    conflict_declare(actor=clerk, inspector=inspector, reason="亲属", source=selection.source)
    import_job_create(
        actor=clerk,
        kind="inspectors",
        filename="a.xlsx",
        data=inspectors_xlsx(inspector_rows(2, prefix=f"{tag[:2]}环执")),
    )
    export = registry_export_request(actor=clerk, kind="sources")
    registry_export_build(export_id=export.pk)
    draw_file(actor=clerk, draw=draw)
    archive, _ = archive_request(actor=leader, organisation=county, year=2026)
    archive_build(archive_id=archive.pk)
    if reviewer is not None:
        report, _ = report_request(actor=reviewer, kind="circular", year=2026, quarter=2)
        report_build(report_id=report.pk)
        # An approved inspection (approving through the services needs a whole record).
        approved = InspectionTask.objects.filter(selection__draw=draw).exclude(pk=task.pk)[0]
        InspectionTask.objects.filter(pk=approved.pk).update(
            state=InspectionTask.State.APPROVED, approved_by=leader, approved_at=timezone.now()
        )
        approved.refresh_from_db()
        typical_case_mark(actor=reviewer, task=approved, note="典型")
    return draw


def _checkpoint() -> dict[str, int]:
    from django.db.models import Max

    return {
        m._meta.label: m._default_manager.aggregate(m=Max("pk"))["m"] or 0
        for m in apps.get_models()
        if m._meta.pk.get_internal_type() in ("AutoField", "BigAutoField")
    }


@pytest.fixture
def world(
    orgs,
    county,
    other_county,
    county_clerk,
    county_leader,
    outsider_clerk,
    city_reviewer,
    settings,
    tmp_path,
):
    from core.models import Organisation, Role
    from lottery.models import Draw
    from tests.conftest import _make_user

    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": {"location": settings.MEDIA_ROOT}},
    }
    far_county = orgs["county:141102"]
    far_clerk = _make_user("far_clerk", Role.CLERK, far_county)
    far_leader = _make_user("far_leader", Role.LEADER, far_county)
    far_reviewer = _make_user("far_reviewer", Role.CITY_REVIEWER, orgs["city_team:141100"])
    other_leader = _make_user("other_leader", Role.LEADER, other_county)
    marks = [_checkpoint()]
    draws = {}
    for phase, args in zip(
        PHASES,
        [
            (county, county_clerk, county_leader, city_reviewer, "mine", ("351624", "661234")),
            (other_county, outsider_clerk, other_leader, None, "their", ("918273", "564738")),
            (far_county, far_clerk, far_leader, far_reviewer, "far", ("837261", "192837")),
        ],
        strict=True,
    ):
        draws[phase] = _build_bureau(*args)
        marks.append(_checkpoint())
    # Each model: the first and last id each bureau made, and one that does not exist.
    ids: dict[str, list[int]] = {}
    for label in marks[-1]:
        found: list[int] = []
        for phase in (1, 2, 0):  # the others' first: the one junk query strings go with
            low, high = marks[phase][label], marks[phase + 1][label]
            if high > low + 1 and phase == 1:  # the other county's first too (its disclosed draw)
                found.append(low + 1)
            if high > low:
                found.append(high)
        ids[label] = [*dict.fromkeys(found), MISSING]
    ids["core.Organisation"] = [
        other_county.pk,
        far_county.pk,
        orgs["city_team:141100"].pk,
        county.pk,
        orgs["city_team:410800"].pk,
        orgs["province:140000"].pk,
        MISSING,
    ]
    from django.contrib.contenttypes.models import ContentType

    ids["contenttypes.ContentType"] = [
        ContentType.objects.get_for_model(m).pk for m in (Draw, Organisation)
    ] + [MISSING]
    return {"draws": draws, "ids": ids}


# Every model a page's id names must have an object of another bureau in the walk, but
# these, which the walk cannot make without a full published cycle.
NOT_BUILT = {"publication.PublishedResult", "publication.NationalExport", "auth.Group"}


def test_no_url_answers_500_or_leaks_a_secret(
    request,
    world,
    county_clerk,
    county_leader,
    city_reviewer,
    inspector_a,
    province_viewer,
    sysadmin,
    admin_user,
):
    ids = world["ids"]
    walked, unfilled = _fill(ids)
    assert unfilled == [], "URL patterns the walk cannot fill:\n" + "\n".join(unfilled)
    needed = {m for m in _BY_NAMESPACE.values()} | set(_BY_PARAM.values())
    unbuilt = sorted(m for m in needed - NOT_BUILT if ids.get(m, [MISSING]) == [MISSING])
    assert unbuilt == [], f"no object of another bureau for {unbuilt}"
    patterns = {name for name, _url, _list in walked}
    assert len(patterns) > 300

    def secrets_of(draw) -> list[str]:
        return [draw.seed, *draw.entropy.values_list("value", flat=True)]

    draws = world["draws"]
    others = secrets_of(draws["their_county"]) + secrets_of(draws["their_city"])
    mine = secrets_of(draws["mine"])
    # Who may read which undisclosed draw's seed and values: its bureau's operators and
    # leaders; the superuser sees everything (the admin shows no seed, tested elsewhere).
    personas = {
        "anonymous": (None, mine + others),
        "inspector": (inspector_a, mine + others),
        "clerk": (county_clerk, others),
        "leader": (county_leader, others),
        "city_reviewer": (city_reviewer, mine + others),
        "province_viewer": (province_viewer, mine + others),
        "admin": (sysadmin, mine + others),
        "superuser": (admin_user, []),
    }
    from core.models import Role

    assert {p for p in personas if p not in ("anonymous", "superuser")} == set(Role.values)
    failures, leaks, cached, requests = [], [], [], 0
    started = time.monotonic()
    spent: dict[str, float] = {}
    for turn, (label, (user, secrets)) in enumerate(personas.items()):
        client = Client(raise_request_exception=False)
        if user is not None:
            client.force_login(user)
        first_of: set[str] = set()
        for name, url, is_list in walked:
            # Junk on every list, and on the first id of each parameterised pattern
            # (on the latter, each persona its own junk: every kind still reaches each pattern)
            junk = JUNK if is_list else ["", JUNK[1 + turn % 4]] if name not in first_of else [""]
            first_of.add(name)
            for query in junk:
                t0 = time.monotonic()
                response = client.get(url + query)
                spent[f"{label} {name}"] = spent.get(f"{label} {name}", 0) + time.monotonic() - t0
                requests += 1
                if user is not None and "no-store" not in response.get("Cache-Control", ""):
                    cached.append(f"{label} {url}{query[:60]} {response.status_code}")
                if response.status_code >= 500:
                    failures.append(f"{label} {url}{query[:120]} → {response.status_code}")
                    continue
                content = (
                    b"".join(response.streaming_content) if response.streaming else response.content
                )
                body = content.decode("utf-8", "replace")
                found = [s for s in secrets if s and s in body]
                if found:
                    leaks.append(f"{label} {url}{query[:120]}")
    print(
        f"walk: {len(patterns)} patterns, {len(walked)} URLs × {len(personas)} personas,"
        f" {requests} requests in {time.monotonic() - started:.0f} s"
    )
    for key, seconds in sorted(spent.items(), key=lambda kv: -kv[1])[:25]:
        print(f"{seconds:6.1f} s  {key}")
    assert failures == [], "\n".join(failures[:60])
    assert leaks == [], "\n".join(leaks[:60])
    # What a signed-in user is sent is never stored: every page, list, download and error.
    assert cached == [], "\n".join(cached[:60])


@pytest.fixture
def mine(county, county_clerk, county_leader):
    """The personas' bureau's executed draw, for the tests of a single page."""
    build_world(county)
    return make_draw(make_plan(county, county_clerk, county_leader), county_clerk)


def test_the_known_cases_answer_with_a_message(mine, county_clerk, client):
    """The cases that once answered 500: each now answers with its status and a message."""
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
    mine, county_clerk, client, query
):
    client.force_login(county_clerk)
    response = client.get(f"/lottery/draws/{mine.pk}/?{query}")
    assert response.status_code == 200
    body = response.content.decode()
    assert any(m in body for m in ("页码无效", "显示最后一页", "筛选条件无效"))


def test_the_api_with_a_token_answers_no_500_leaks_nothing_and_is_never_stored(world, county_clerk):
    """The API as a script uses it: a token, no session (the session walk above does not
    reach the token authentication), every API URL of the URLconf with both suffixes."""
    from rest_framework.test import APIClient

    from tests.conftest import PASSWORD

    walked, unfilled = _fill(world["ids"])
    assert unfilled == []
    api_urls = [url for _name, url, _list in walked if url.startswith("/api/v1/")]
    assert len(api_urls) > 100
    draws = world["draws"]
    secrets = [
        s
        for draw in (draws["their_county"], draws["their_city"])
        for s in [draw.seed, *draw.entropy.values_list("value", flat=True)]
    ]
    client = APIClient(raise_request_exception=False)
    token = client.post(
        "/api/v1/token/", {"username": county_clerk.username, "password": PASSWORD}
    ).json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    problems = []
    for url in api_urls:
        for query in ("", "?format=api", JUNK[1], JUNK[3]):
            response = client.get(url + query)
            content = (
                b"".join(response.streaming_content) if response.streaming else response.content
            )
            body = content.decode("utf-8", "replace")
            if response.status_code >= 500:
                problems.append(f"{url}{query[:60]} → {response.status_code}")
            if "no-store" not in response.get("Cache-Control", ""):
                problems.append(f"{url}{query[:60]} stored ({response.get('Cache-Control')})")
            if any(s in body for s in secrets):
                problems.append(f"{url}{query[:60]} shows another bureau's secret")
    assert problems == [], "\n".join(problems[:60])


NASTY = [
    "%",
    "_",
    "%_%",
    "\\",
    "\\\\%",
    "'",
    '"',
    "' OR 1=1 --",
    "'); DROP TABLE registry_pollutionsource; --",
    "😀🏭",
    "\u202e\u200b",
    "%ED%A0%80",  # a lone surrogate, not UTF-8: decoded with a replacement character
    "%FF%FE",
    "<script>alert(1)</script>",
    "９１４１０８",
    " " * 50,
    "\t\r\n",
    ":* & | ! ( )",
    "x" * 10_000,
    "1e309",
    "-1",
    "S410823",
    "null",
    "[]",
    "{}",
]
SEARCHES = [
    ("county_clerk", "/registry/sources/?q={}"),
    ("county_clerk", "/registry/items/?q={}"),
    ("county_clerk", "/inspectors/?q={}"),
    ("county_clerk", "/api/v1/sources/?q={}"),
    ("county_clerk", "/api/v1/inspectors/?q={}"),
    ("county_clerk", "/lottery/draws/{draw}/?q={}"),
    ("county_clerk", "/api/v1/draws/{draw}/selections/?q={}"),
    (None, "/public/results/?q={}"),
    (None, "/public/draws/{draw}/?q={}"),
    (None, "/public/check-items/?q={}"),
]


def test_the_search_boxes_take_any_text(request, mine, county_clerk):
    from urllib.parse import quote

    from lottery.services import draws_disclose_due

    draws_disclose_due(today=mine.plan.planned_end + timedelta(days=1))
    problems = []
    for persona, template in SEARCHES:
        client = Client(raise_request_exception=False)
        if persona is not None:
            client.force_login(request.getfixturevalue(persona))
        for text in NASTY:
            value = text if text.startswith("%") and len(text) > 3 else quote(text)
            url = template.replace("{draw}", str(mine.pk)).format(value)
            response = client.get(url)
            # 200, or the API's 400 naming the parameter (a search longer than it takes).
            refused = response.status_code == 400 and url.startswith("/api/")
            if not (response.status_code == 200 or (refused and b'"q"' in response.content)):
                problems.append(f"{url[:120]} → {response.status_code}")
        # And the box still finds what it should.
        if "{draw}" not in template and "results" not in template:
            found = client.get(template.format(quote("测试")))
            assert found.status_code == 200, template
    assert problems == [], "\n".join(problems)
