"""The plan and draw pages: wiring, permissions and confidentiality.

Outsiders get 404, roles without the capability 403; the drawn list is shown only to those
``can_see_full_result`` allows, and every showing is audited.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from core.models import AuditEntry
from lottery.display import draw_result
from lottery.models import Draw, DrawEntropy, DrawSelection, Plan, RuleSet, Substitution
from lottery.services import draws_disclose_due, substitution_request
from registry.models import CheckItem
from tests.lottery.scenario import QUARTER, YEAR, build_world, make_draw, make_plan
from tests.sql import triggers_off

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(county):
    return build_world(county)


@pytest.fixture
def plan(world, county, county_clerk, county_leader):
    return make_plan(county, county_clerk, county_leader)


@pytest.fixture
def executed(plan, county_clerk):
    return make_draw(plan, county_clerk)


def drawn_codes(draw: Draw) -> list[str]:
    return list(
        DrawSelection.objects.filter(draw=draw).values_list("source__source_code", flat=True)
    )


def views_of(draw: Draw, user=None) -> int:
    qs = AuditEntry.objects.filter(action="draw.view_result", object_id=str(draw.pk))
    if user is not None:
        qs = qs.filter(actor_id=user.pk)
    return qs.count()


# --- plans -------------------------------------------------------------------------------


def test_the_plan_page_explains_the_rules_and_the_quota_arithmetic(client_for, county_clerk, plan):
    client = client_for(county_clerk)
    listing = client.get(reverse("lottery:plan_list"))
    assert listing.status_code == 200 and plan.title in listing.content.decode()
    page = client.get(reverse("lottery:plan_detail", args=[plan.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    # Rules in words, in Chinese (the default language).
    assert "重点监管对象：每季度抽查比例不低于25%" in html
    assert "正面清单内的对象不纳入抽取范围" in html
    # Quotas: 20 eligible key sources, 25% → 5; 8 inspectors × 10 a year ÷ 4 quarters → 20.
    quotas = {row["klass"]: row for row in page.context["quotas"]}
    assert quotas["key"]["pool"] == 20 and quotas["key"]["required"] == 5
    assert quotas["general"]["required"] == 20
    assert quotas["special"]["required"] == 1
    assert "⌈20 × 25%⌉ = 5" in html


def test_a_clerk_creates_a_plan_with_a_preset_and_own_check_items(
    client_for, county_clerk, county, other_county, world
):
    own = CheckItem.objects.create(
        organisation=county,
        year=YEAR,
        code="SX-01",
        name="排污许可执行情况检查",
        legal_basis="《排污许可管理条例》",
        checking_body="武陟分局",
    )
    foreign = CheckItem.objects.create(
        organisation=other_county,
        year=YEAR,
        code="SX-02",
        name="他县事项",
        legal_basis="—",
        checking_body="温县分局",
    )
    client = client_for(county_clerk)
    form_page = client.get(reverse("lottery:plan_create"))
    html = form_page.content.decode()
    assert form_page.status_code == 200
    choices = form_page.context["form"].fields["check_items"].queryset
    assert own in choices and foreign not in choices
    preset = RuleSet.objects.get(organisation__isnull=True, code="wuzhi_2021")
    assert form_page.context["form"].initial["ruleset"] == preset  # 焦作 → 武陟 2021
    chosen = re.search(r'<input type="radio" name="ruleset" value="(\d+)"[^>]*checked', html)
    assert chosen and int(chosen.group(1)) == preset.pk
    assert "每季度抽查比例不低于25%" in html  # each rule set shown with its rules in words
    data = {
        "kind": "quarterly",
        "year": YEAR,
        "quarter": 2,
        "title": "2026年第二季度抽查计划",
        "classes": ["key", "general"],
        "ruleset": preset.pk,
        "check_items": [own.pk],
        "planned_start": "2026-04-11",
        "planned_end": "2026-06-25",
        "team_size": 2,
    }
    response = client.post(reverse("lottery:plan_create"), {**data, "check_items": [foreign.pk]})
    assert response.status_code == 200 and not Plan.objects.filter(quarter=2).exists()
    response = client.post(reverse("lottery:plan_create"), data)
    plan = Plan.objects.get(organisation=county, year=YEAR, quarter=2)
    assert response.status_code == 302 and response.url == reverse(
        "lottery:plan_detail", args=[plan.pk]
    )
    assert plan.rules == preset.rules and plan.ruleset_code == "wuzhi_2021"
    assert list(plan.check_items.all()) == [own] and plan.status == Plan.Status.DRAFT


def test_it_refuses_a_second_quarterly_plan_with_the_services_message(
    client_for, county_clerk, plan
):
    client = client_for(county_clerk)
    client.get(reverse("lottery:plan_create"))  # the form creates the presets
    ruleset = RuleSet.objects.get(organisation__isnull=True, code="wuzhi_2021")
    response = client.post(
        reverse("lottery:plan_create"),
        {
            "kind": "quarterly",
            "year": YEAR,
            "quarter": QUARTER,
            "title": "again",
            "classes": ["key"],
            "ruleset": ruleset.pk,
            "planned_start": "2026-01-11",
            "planned_end": "2026-03-25",
            "team_size": 2,
        },
    )
    assert response.status_code == 200
    assert "已有" in response.content.decode() or "already has" in response.content.decode()
    assert Plan.objects.filter(year=YEAR, quarter=QUARTER).count() == 1


@pytest.mark.smoke
def test_a_leader_approves_and_publishes_a_plan_a_clerk_cannot(
    client_for, county, county_clerk, county_leader, world, client
):
    plan = make_plan(county, county_clerk)  # a draft
    clerk = client_for(county_clerk)
    clerk.post(reverse("lottery:plan_submit", args=[plan.pk]))
    plan.refresh_from_db()
    assert plan.status == Plan.Status.SUBMITTED and plan.submitted_by == county_clerk
    assert clerk.post(reverse("lottery:plan_approve", args=[plan.pk])).status_code == 403
    plan.refresh_from_db()
    assert plan.status == Plan.Status.SUBMITTED
    page = clerk.get(reverse("lottery:plan_detail", args=[plan.pk])).content.decode()
    assert 'data-testid="plan-approve"' not in page and 'data-testid="prepare"' not in page
    leader = client_for(county_leader)
    page = leader.get(reverse("lottery:plan_detail", args=[plan.pk])).content.decode()
    assert 'data-testid="plan-approve"' in page
    leader.post(reverse("lottery:plan_approve", args=[plan.pk]))
    plan.refresh_from_db()
    assert plan.status == Plan.Status.APPROVED and plan.approved_by == county_leader
    page = leader.get(reverse("lottery:plan_detail", args=[plan.pk])).content.decode()
    assert 'data-testid="prepare"' not in page  # approved is not yet published
    response = leader.post(reverse("lottery:plan_publish", args=[plan.pk]), follow=True)
    plan.refresh_from_db()
    assert plan.status == Plan.Status.PUBLISHED and plan.published_by == county_leader
    assert AuditEntry.objects.filter(action="plan.publish", object_id=str(plan.pk)).exists()
    html = response.content.decode()
    # One word for it: 公布 in the message, the badge and the history, with who did it.
    assert "计划已公布" in html and "计划已公开" not in html
    assert 'data-status="published">已公布<' in html
    history = html.split('data-testid="plan-history"')[1].split("</dd>")[0]
    assert f"{county_leader} 于" in history and "公布" in history and "公开" not in history
    assert 'data-testid="prepare"' in html


# --- scope and capabilities -----------------------------------------------------------------


@pytest.mark.smoke
def test_an_outsider_gets_404_on_another_countys_plan_and_draw(
    client_for, outsider_clerk, plan, executed
):
    client = client_for(outsider_clerk)
    for name, pk in [
        ("lottery:plan_detail", plan.pk),
        ("lottery:draw_detail", executed.pk),
        ("lottery:draw_record_json", executed.pk),
        ("lottery:draw_manifest_json", executed.pk),
        ("lottery:draw_pdf", executed.pk),
    ]:
        assert client.get(reverse(name, args=[pk])).status_code == 404, name
    for name, pk in [
        ("lottery:plan_approve", plan.pk),
        ("lottery:draw_prepare", plan.pk),
        ("lottery:draw_execute", executed.pk),
        ("lottery:substitution_request", DrawSelection.objects.filter(draw=executed)[0].pk),
    ]:
        assert client.post(reverse(name, args=[pk])).status_code == 404, name
    listing = client.get(reverse("lottery:draw_list")).content.decode()
    assert executed.number not in listing


@pytest.mark.smoke
def test_an_inspector_cannot_prepare_a_draw(client_for, inspector_a, plan):
    client = client_for(inspector_a)
    response = client.post(reverse("lottery:draw_prepare", args=[plan.pk]), {"witnesses": 2})
    assert response.status_code == 403
    assert not Draw.objects.filter(plan=plan).exists()
    assert client.get(reverse("lottery:plan_detail", args=[plan.pk])).status_code == 403
    assert client.get(reverse("lottery:draw_list")).status_code == 403


def test_anonymous_visitors_are_sent_to_the_login(client, plan):
    response = client.get(reverse("lottery:plan_detail", args=[plan.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response.url


# --- the ceremony ----------------------------------------------------------------------------


@pytest.mark.smoke
def test_the_ceremony_through_the_pages(client_for, county_clerk, plan, county):
    client = client_for(county_clerk)
    response = client.post(reverse("lottery:draw_prepare", args=[plan.pk]), {"witnesses": 2})
    draw = Draw.objects.get(plan=plan)
    assert response.url == reverse("lottery:draw_detail", args=[draw.pk])
    page = client.get(response.url)
    html = page.content.decode()
    summary = page.context["summary"]
    assert {s.name: (s.pool_size, s.quota) for s in summary.strata} == {
        "key": (20, 5),
        "general": (40, 20),
        "special": (4, 1),
    }
    assert dict(summary.exclusions) == {"停产": 2, "注销": 1}
    assert summary.certified == 8 and 'data-testid="exclusion-list"' in html
    assert draw.manifest_hash in html and 'data-testid="commit"' in html

    client.post(reverse("lottery:draw_commit", args=[draw.pk]))
    draw.refresh_from_db()
    assert draw.status == Draw.Status.COMMITTED
    html = client.get(reverse("lottery:draw_detail", args=[draw.pk])).content.decode()
    assert draw.manifest_hash in html and 'data-testid="committed-at"' in html

    # Witnesses, one after another, through htmx: the panel comes back updated in place.
    url = reverse("lottery:draw_entropy", args=[draw.pk])
    part = client.post(
        url,
        {"witness_name": "张监督", "witness_role": "纪检", "value": "3 5 1 6 2 4"},
        HTTP_HX_REQUEST="true",
    )
    assert part.status_code == 200 and part.templates[0].name == "lottery/_entropy.html"
    assert part.context["still_needed"] == 1
    assert 'data-testid="execute" disabled' in part.content.decode()
    bad = client.post(
        url, {"witness_name": "李群众", "value": "  "}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'data-testid="entropy-error"' in bad
    part = client.post(
        url,
        {"witness_name": "李群众", "witness_role": "群众代表", "value": "661234"},
        HTTP_HX_REQUEST="true",
    )
    assert part.context["still_needed"] == 0
    assert 'data-testid="execute" disabled' not in part.content.decode()
    assert DrawEntropy.objects.filter(draw=draw).count() == 2

    response = client.post(reverse("lottery:draw_execute", args=[draw.pk]), follow=True)
    draw.refresh_from_db()
    assert draw.status == Draw.Status.EXECUTED
    html = response.content.decode()
    assert 'data-testid="result"' in html
    for code in drawn_codes(draw):
        assert code in html
    assert views_of(draw, county_clerk) == 1

    # A second execution is refused by the service, and the page says so.
    response = client.post(reverse("lottery:draw_execute", args=[draw.pk]), follow=True)
    assert "永远不能重做" in response.content.decode() or "never be redone" in (
        response.content.decode()
    )
    assert DrawSelection.objects.filter(draw=draw).count() == 26
    # So is preparing the plan again.
    response = client.post(
        reverse("lottery:draw_prepare", args=[plan.pk]), {"witnesses": 2}, follow=True
    )
    assert Draw.objects.filter(plan=plan).count() == 1
    assert response.redirect_chain[-1][0] == reverse("lottery:plan_detail", args=[plan.pk])


def test_a_prepared_draw_can_be_discarded_with_a_reason(client_for, county_clerk, plan):
    draw = make_draw(plan, county_clerk, stage="prepared")
    client = client_for(county_clerk)
    client.post(reverse("lottery:draw_discard", args=[draw.pk]), {"reason": ""})
    draw.refresh_from_db()
    assert draw.status == Draw.Status.PREPARED
    client.post(reverse("lottery:draw_discard", args=[draw.pk]), {"reason": "名录库需要更正"})
    draw.refresh_from_db()
    assert draw.status == Draw.Status.DISCARDED


# --- confidentiality ------------------------------------------------------------------------


@pytest.mark.smoke
def test_the_city_reviewer_sees_the_commitment_but_not_the_list_before_disclosure(
    client_for, city_reviewer, executed
):
    client = client_for(city_reviewer)
    page = client.get(reverse("lottery:draw_detail", args=[executed.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert executed.manifest_hash in html and 'data-testid="result-confidential"' in html
    assert 'data-testid="result"' not in html
    for code in drawn_codes(executed):
        assert code not in html
    # Manifest + witness values + seed would give the list away: hidden as well.
    assert executed.seed not in html
    assert "351624" not in html and "661234" not in html
    assert client.get(reverse("lottery:draw_record_json", args=[executed.pk])).status_code == 403
    assert client.get(reverse("lottery:draw_pdf", args=[executed.pk])).status_code == 403
    manifest = client.get(reverse("lottery:draw_manifest_json", args=[executed.pk]))
    assert manifest.status_code == 200 and manifest.content.decode() == executed.manifest_json
    assert views_of(executed, city_reviewer) == 0

    draws_disclose_due(today=executed.plan.planned_end + timedelta(days=1))
    html = client.get(reverse("lottery:draw_detail", args=[executed.pk])).content.decode()
    for code in drawn_codes(executed):
        assert code in html
    assert executed.seed in html
    assert views_of(executed, city_reviewer) == 1


@pytest.mark.smoke
def test_every_view_of_the_list_writes_an_audit_entry(client_for, county_leader, executed):
    client = client_for(county_leader)
    client.get(reverse("lottery:draw_detail", args=[executed.pk]))
    client.get(reverse("lottery:draw_detail", args=[executed.pk]))
    record = client.get(reverse("lottery:draw_record_json", args=[executed.pk]))
    assert record.status_code == 200 and record.json()["seed"] == executed.seed
    entries = AuditEntry.objects.filter(
        action="draw.view_result", object_id=str(executed.pk), actor_id=county_leader.pk
    ).order_by("seq")
    assert [e.after["via"] for e in entries] == ["page", "page", "record.json"]
    # Pages that show only the commitment record nothing.
    client.get(reverse("lottery:draw_list"))
    assert views_of(executed, county_leader) == 3


# --- substitutions --------------------------------------------------------------------------


def test_a_substitution_is_requested_and_approved_in_place(
    client_for, county_clerk, county_leader, executed
):
    first = draw_result(executed).strata[0].rows[0].selection
    clerk = client_for(county_clerk)
    url = reverse("lottery:substitution_request", args=[first.pk])
    part = clerk.post(url, {"reason": ""}, HTTP_HX_REQUEST="true")
    assert part.templates[0].name == "lottery/_result.html"
    assert 'data-testid="substitute-error"' in part.content.decode()
    part = clerk.post(url, {"reason": "企业已停产"}, HTTP_HX_REQUEST="true")
    sub = Substitution.objects.get(selection=first)
    assert sub.status == Substitution.Status.REQUESTED
    assert 'data-testid="row-pending"' in part.content.decode()
    assert 'data-testid="decide-form"' not in part.content.decode()  # a clerk does not decide
    decide = reverse("lottery:substitution_decide", args=[sub.pk])
    assert clerk.post(decide, {"decision": "approve"}).status_code == 403

    leader = client_for(county_leader)
    part = leader.post(decide, {"decision": "approve", "note": "同意"}, HTTP_HX_REQUEST="true")
    sub.refresh_from_db()
    assert sub.status == Substitution.Status.APPROVED and sub.decided_by == county_leader
    html = part.content.decode()
    replacement = DrawSelection.objects.get(substitution=sub)
    assert 'data-testid="row-replaced"' in html and 'data-testid="row-replacement"' in html
    assert replacement.source.source_code in html and "企业已停产" in html
    # The partial shows the list, so it is audited too.
    assert views_of(executed, county_leader) == 1


def test_a_recusal_names_the_inspector_and_the_page_shows_the_new_team(
    client_for, county_clerk, county_leader, executed
):
    row = draw_result(executed).strata[0].rows[0]
    member = next(m for m in row.team if m.role == "member")
    clerk = client_for(county_clerk)
    clerk.post(
        reverse("lottery:substitution_request", args=[row.selection.pk]),
        {"reason": "与企业负责人系亲属", "inspector": member.inspector_id},
    )
    sub = Substitution.objects.get(selection=row.selection)
    assert sub.kind == Substitution.Kind.INSPECTOR and sub.inspector_id == member.inspector_id
    client_for(county_leader).post(
        reverse("lottery:substitution_decide", args=[sub.pk]), {"decision": "approve"}
    )
    result = draw_result(executed)
    new_row = next(r for r in result.strata[0].rows if r.selection.pk == row.selection.pk)
    assert member.inspector_id not in {m.inspector_id for m in new_row.team}
    assert result.substitutions[0].new_team
    (newcomer,) = result.substitutions[0].added  # the team size needs a replacement
    assert newcomer in {m.inspector_id for m in new_row.team} - {m.inspector_id for m in row.team}
    assert not result.substitutions[0].nobody_added


def test_a_recusal_from_a_team_larger_than_its_size_may_add_nobody_and_says_why(
    client_for, county, county_clerk, county_leader, plan
):
    """A team grows past its size to bring a required expertise; when the recused member's
    expertise is still on the team, nobody replaces them, and the change list says why."""
    from tests.lottery.factories import make_check_item, make_inspectors

    both = make_inspectors(county, 1, expertise=["air", "water"])[0]
    air = make_inspectors(county, 1, expertise=["air"])[0]
    make_inspectors(county, 1, expertise=["permit"])
    item = make_check_item(county, "ZX-02", year=YEAR, expertise=["air", "permit", "water"])
    plan.check_items.add(item)
    draw = make_draw(plan, county_clerk, max_team_share=100)  # scarce expertise, accepted
    # A team where the air-only inspector covers air and the air-and-water one water.
    row = next(
        r
        for stratum in draw_result(draw).strata
        for r in stratum.rows
        if len(r.team) == 3 and {air.pk, both.pk} <= {m.inspector_id for m in r.team}
    )
    client_for(county_clerk).post(
        reverse("lottery:substitution_request", args=[row.selection.pk]),
        {"reason": "回避", "inspector": air.pk},
    )
    sub = Substitution.objects.get(selection=row.selection)
    client_for(county_leader).post(
        reverse("lottery:substitution_decide", args=[sub.pk]), {"decision": "approve"}
    )
    change = draw_result(draw).substitutions[0]
    assert {m.inspector_id for m in change.new_team} == {m.inspector_id for m in row.team} - {
        air.pk
    }
    assert change.added == set() and change.nobody_added
    page = client_for(county_clerk).get(reverse("lottery:draw_detail", args=[draw.pk]))
    assert 'data-testid="nobody-added"' in page.content.decode()


# --- the reviewer's overview -------------------------------------------


def test_the_quota_overview_shows_each_county_and_flags_late_draws(
    client_for,
    city_reviewer,
    county,
    other_county,
    county_clerk,
    county_leader,
    executed,
    django_assert_max_num_queries,
):
    client = client_for(city_reviewer)
    url = reverse("lottery:quota_overview") + f"?year={YEAR}&quarter={QUARTER}"
    # Session, user, organisation, guardian's two content-type look-ups (cached after the
    # first request), then one query each: bureaus, plans, draws, drawn counts; and the
    # calendar warning every page makes. However many counties there are. The overview grew
    # into the oversight dashboard (issue 14): its figures add a fixed number of GROUP BYs
    # (tests/oversight asserts the same count for 3 and 20 counties).
    with django_assert_max_num_queries(30):
        page = client.get(url)
    rows = {r["organisation"].pk: r for r in page.context["rows"]}
    assert county.pk in rows and other_county.pk in rows
    ours = rows[county.pk]
    assert ours["draw"] == executed
    assert {q["label"]: (q["required"], q["drawn"]) for q in ours["quotas"]} == {
        "重点监管对象": (5, 5),
        "一般监管对象": (20, 20),
        "特殊监管对象": (1, 1),
    }
    # Executed now (in the tests' real time), long after 10 January 2026: late.
    assert ours["deadline"]["late"] is True
    # 温县 has no plan and no draw, and the deadline has passed: late, too.
    assert rows[other_county.pk]["plan"] is None and rows[other_county.pk]["deadline"]["late"]
    html = page.content.decode()
    assert 'data-late="1"' in html and "table-danger" in html
    assert client_for(county_clerk).get(url).status_code == 403


def test_a_draw_executed_by_the_10th_is_on_time(city_reviewer, executed, client_for):
    with triggers_off():  # a past no service would write: executed on 9 January
        Draw.objects.filter(pk=executed.pk).update(
            executed_at=executed.executed_at.replace(year=YEAR, month=1, day=9)
        )
    page = client_for(city_reviewer).get(
        reverse("lottery:quota_overview") + f"?year={YEAR}&quarter={QUARTER}"
    )
    row = next(r for r in page.context["rows"] if r["draw"] and r["draw"].pk == executed.pk)
    assert row["deadline"]["late"] is False


def test_the_verification_script_is_public(client):
    response = client.get(reverse("lottery:verify_script"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/x-python")
    assert "verify_draw.py" in response["Content-Disposition"]
    body = b"".join(response.streaming_content)
    from pathlib import Path

    from lottery import engine

    assert body == Path(engine.__file__).read_bytes()


def test_the_navigation_reaches_the_lottery_pages(client_for, county_clerk, city_reviewer):
    html = client_for(county_clerk).get(reverse("home")).content.decode()
    assert reverse("lottery:plan_list") in html and reverse("lottery:draw_list") in html
    html = client_for(city_reviewer).get(reverse("home")).content.decode()
    assert reverse("lottery:quota_overview") in html


def test_once_drawn_the_plan_page_shows_the_frozen_quotas(client_for, county_clerk, executed):
    page = client_for(county_clerk).get(reverse("lottery:plan_detail", args=[executed.plan_id]))
    rows = {row["klass"]: row for row in page.context["quotas"]}
    # Recomputed now, this quarter's own draw would count as "already drawn this year".
    assert rows["key"]["drawn_this_year"] == 0 and rows["key"]["required"] == 5
    assert executed.number in page.content.decode()


def test_the_drawn_list_comes_a_page_at_a_time_with_a_class_and_text_filter(
    client_for, county_clerk, executed, monkeypatch
):
    """A draw over a large registry takes thousands of sources: the page shows them a page
    at a time (here 4), filtered by class or by code/name, and keeps the class totals."""
    import lottery.display

    monkeypatch.setattr(lottery.display, "RESULT_PAGE_SIZE", 4)
    order = [q["class"] for q in executed.quotas]
    everything = [
        (s.stratum, s.source.source_code)
        for s in sorted(
            DrawSelection.objects.filter(draw=executed).select_related("source"),
            key=lambda s: (order.index(s.stratum), s.position),
        )
    ]
    clerk = client_for(county_clerk)
    url = reverse("lottery:draw_detail", args=[executed.pk])

    def shown(response):
        return re.findall(
            r'data-testid="result-row" data-source="([^"]+)"', response.content.decode()
        )

    first = clerk.get(url)
    assert shown(first) == [code for _s, code in everything[:4]]
    assert 'data-testid="result-pager"' in first.content.decode()
    second = clerk.get(url, {"page": 2}, HTTP_HX_REQUEST="true")
    assert second.templates[0].name == "lottery/_result.html"  # only the card, in place
    assert shown(second) == [code for _s, code in everything[4:8]]
    # The class heading counts the whole class, not the page.
    key_total = sum(1 for s, _c in everything if s == "key")
    assert key_total > 4 and f"抽中 {key_total} 家" in first.content.decode()

    general = clerk.get(url, {"class": "general", "page": 1})
    assert shown(general) == [c for s, c in everything if s == "general"][:4]
    target_stratum, target = everything[5]
    found = clerk.get(url, {"q": target.lower()})
    assert shown(found) == [target]
    nothing = clerk.get(url, {"q": "没有这个污染源"})
    assert shown(nothing) == [] and 'data-testid="result-no-match"' in nothing.content.decode()
    assert clerk.get(url, {"page": "999"}).status_code == 200  # the last page, not an error
    assert clerk.get(url, {"class": "<script>"}).status_code == 200  # an unknown class: all

    # A change request from page 2 answers with page 2, where the row was.
    row = DrawSelection.objects.get(draw=executed, source__source_code=everything[5][1])
    part = clerk.post(
        reverse("lottery:substitution_request", args=[row.pk]),
        {"reason": "企业已停产", "page": "2", "class": "", "q": ""},
        HTTP_HX_REQUEST="true",
    )
    assert shown(part) == [code for _s, code in everything[4:8]]
    assert 'data-testid="row-pending"' in part.content.decode()
    assert target_stratum in order


def test_a_filtered_list_keeps_the_form_counts_sources_in_force_and_shows_every_replacement(
    client_for, county_clerk, county_leader, executed, monkeypatch
):
    """Found by clicking through: a search with no match dropped the filter form (an empty
    page is falsy); after an approved replacement the count included the struck-out
    original; and a page or class that did not hold the replacement's row lost it from the
    change list."""
    import lottery.display
    from lottery.services import substitution_decide

    monkeypatch.setattr(lottery.display, "RESULT_PAGE_SIZE", 4)
    key = DrawSelection.objects.filter(draw=executed, stratum="key").order_by("position")[0]
    sub = substitution_request(actor=county_clerk, selection=key, reason="企业已关闭")
    substitution_decide(actor=county_leader, substitution=sub, approve=True)
    replacement = DrawSelection.objects.select_related("source").get(substitution=sub)
    clerk = client_for(county_clerk)
    url = reverse("lottery:draw_detail", args=[executed.pk])

    nothing = clerk.get(url, {"q": "没有这个污染源"}).content.decode()
    assert 'data-testid="result-filter"' in nothing
    assert 'data-testid="result-filter-clear"' in nothing
    assert 'data-count="0"' in nothing

    keys = clerk.get(url, {"class": "key"})
    in_force = DrawSelection.objects.filter(draw=executed, stratum="key").count() - 1
    body = keys.content.decode()
    assert f'data-count="{in_force}"' in body and "已划去" in body
    assert keys.context["result"].matched_in_force == in_force

    general = clerk.get(url, {"class": "general"})
    subs = general.context["result"].substitutions
    assert [row.replacement for row in subs] == [replacement]
    assert replacement.source.source_code in general.content.decode()
    assert 'data-testid="result-filter-clear"' in general.content.decode()


def test_a_prepared_draw_warns_when_an_expertise_rests_on_one_inspector(
    client_for, county, county_clerk, plan
):
    """Every drawn source whose check items need an expertise gets someone who has it, so a
    lone holder goes to all of them: prepare refuses, naming the holder's real load and the
    remedies, unless the bureau accepts the higher share for this plan; then the clerk still
    sees the load before committing (issue 9)."""
    from core.errors import ServiceError
    from tests.lottery.factories import make_check_item, make_inspectors

    make_inspectors(county, 1, expertise=["permit"])
    item = make_check_item(
        county, "ZX-01", year=YEAR, expertise=["permit"], name="排污许可执行情况"
    )
    plan.check_items.add(item)
    with pytest.raises(ServiceError) as refused:
        make_draw(plan, county_clerk, stage="prepared")
    assert refused.value.code == "scarce_expertise"
    assert "排污许可" in refused.value.messages[0] and "技术专家" in refused.value.messages[0]
    draw = make_draw(plan, county_clerk, stage="prepared", max_team_share=100)
    page = client_for(county_clerk).get(reverse("lottery:draw_detail", args=[draw.pk]))
    summary = page.context["summary"]
    (permit,) = summary.expertise
    assert (permit.name, permit.certified, permit.experts) == ("permit", 1, 0)
    drawn = sum(s.quota for s in summary.strata)
    assert permit.expected == drawn and permit.per_holder == drawn  # every source needs it
    assert permit.concentrated and summary.average_load < drawn / 2
    body = page.content.decode()
    assert 'data-testid="expertise-warning"' in body and "排污许可" in body

    from lottery.services import draw_discard

    draw_discard(actor=county_clerk, draw=draw, reason="补录执法人员专业")
    make_inspectors(county, 12, expertise=["permit"])  # thirteen holders: no warning
    again = make_draw(plan, county_clerk, stage="prepared")
    page = client_for(county_clerk).get(reverse("lottery:draw_detail", args=[again.pk]))
    assert not page.context["summary"].concentrated
    assert 'data-testid="expertise-warning"' not in page.content.decode()
