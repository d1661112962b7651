"""A draw's manifest embeds earlier draws' results: the coverage tiers say which of their drawn
sources were inspected, ``previous`` names the inspectors they sent, the frequency-cap
exclusions say which sources they had checked often. So the manifest (and the record, which holds it) waits until those
earlier draws are disclosed, except for the bureau's draw operators and leaders, whose views
of it are audited. The commitment, the quotas and the pool sizes stay public at once.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import AuditEntry
from lottery import engine
from lottery.models import Draw, DrawSelection, Plan, TeamAssignment
from lottery.services import (
    draw_add_entropy,
    draw_execute,
    draws_disclose_due,
    plan_create,
)
from tests.lottery.factories import make_inspectors, make_sources
from tests.lottery.scenario import build_world, complete_checks, make_draw, make_plan, publish

pytestmark = pytest.mark.django_db

HIDDEN_TEXT = "清单含有尚在保密期内的抽取结果"


@pytest.fixture
def q1_and_q2(county, county_clerk, county_leader):
    """Q1 executed and its spot checks completed, not disclosed yet; Q2 committed."""
    build_world(county)
    q1 = make_draw(make_plan(county, county_clerk, county_leader, quarter=1), county_clerk)
    complete_checks(q1)
    q2 = make_draw(
        make_plan(county, county_clerk, county_leader, quarter=2), county_clerk, stage="committed"
    )
    return q1, q2


def q1_secrets(q1: Draw) -> list[str]:
    """What Q1's result says: its drawn sources' codes and its teams' inspectors' names."""
    codes = DrawSelection.objects.filter(draw=q1).values_list("source__source_code", flat=True)
    names = TeamAssignment.objects.filter(selection__draw=q1).values_list(
        "inspector__name", flat=True
    )
    return sorted(set(codes) | set(names))


def leaked(text: str, secrets: list[str]) -> list[str]:
    # 检查员1 must not match 检查员12: a secret followed by another digit is someone else.
    return [s for s in secrets if re.search(re.escape(s) + r"(?!\d)", text)]


def manifest_views(draw: Draw, user=None):
    qs = AuditEntry.objects.filter(action="draw.view_manifest", object_id=str(draw.pk))
    return qs.filter(actor_id=user.pk) if user is not None else qs


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def execute(draw: Draw, clerk) -> Draw:
    for i, value in enumerate(("424242", "171717")):
        draw_add_entropy(
            actor=clerk, draw=draw, witness_name=f"见证人{i}", witness_role="群众代表", value=value
        )
    return draw_execute(actor=clerk, draw=draw)


def test_the_manifest_of_q2_really_embeds_q1s_results(q1_and_q2):
    """The premise: without the rule, Q2's manifest would give Q1's result away."""
    q1, q2 = q1_and_q2
    manifest = json.loads(q2.manifest_json)
    q1_codes = set(
        DrawSelection.objects.filter(draw=q1).values_list("source__source_code", flat=True)
    )
    q1_people = {
        f"I{pk}"
        for pk in TeamAssignment.objects.filter(selection__draw=q1).values_list(
            "inspector_id", flat=True
        )
    }
    previous = {c: r["previous"] for c, r in manifest["constraints"]["objects"].items()}
    assert {c for c, people in previous.items() if people} == q1_codes
    assert {p for people in previous.values() for p in people} == q1_people
    key = next(s for s in manifest["strata"] if s["name"] == "key")
    assert {e["id"] for e in key["pool"] if e["tier"] == 1} == q1_codes & {
        e["id"] for e in key["pool"]
    }


@pytest.mark.smoke
def test_the_public_gets_no_manifest_while_an_earlier_draw_is_confidential(
    client, q1_and_q2, city_reviewer
):
    q1, q2 = q1_and_q2
    secrets = q1_secrets(q1)
    assert client.get(reverse("publication:draw_manifest", args=[q2.pk])).status_code == 404
    assert client.get(reverse("publication:draw_record", args=[q2.pk])).status_code == 404

    page = client.get(reverse("publication:draw_detail", args=[q2.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert q2.manifest_hash in html  # the commitment is public at once
    assert [s.pool_size for s in page.context["summary"].strata] == [20, 40, 4]
    assert [s.quota for s in page.context["summary"].strata] == [q["required"] for q in q2.quotas]
    assert 'data-testid="public-manifest-confidential"' in html and HIDDEN_TEXT in html
    assert 'data-testid="public-manifest-download"' not in html
    assert reverse("publication:draw_manifest", args=[q2.pk]) not in html

    responses = [
        html,
        client.get(reverse("publication:draw_detail", args=[q1.pk])).content.decode(),
        client.get(reverse("publication:draw_list")).content.decode(),
    ]
    reviewer = api(city_reviewer)
    for draw in (q1, q2):
        responses.append(reviewer.get(f"/api/v1/draws/{draw.pk}/").content.decode())
        assert reviewer.get(f"/api/v1/draws/{draw.pk}/record/").status_code == 403
    responses.append(reviewer.get("/api/v1/draws/").content.decode())
    for text in responses:
        assert leaked(text, secrets) == []
    assert not manifest_views(q2).exists()


@pytest.mark.smoke
def test_once_the_earlier_draws_are_disclosed_the_manifest_is_public_and_verifies(
    client, q1_and_q2, county_clerk, tmp_path
):
    q1, q2 = q1_and_q2
    # Q1's inspections are over: Q2's manifest holds nothing confidential any more, though Q2
    # itself is not drawn yet.
    assert draws_disclose_due(today=q1.plan.planned_end + timedelta(days=1)) == 1
    manifest = client.get(reverse("publication:draw_manifest", args=[q2.pk]))
    assert manifest.status_code == 200
    assert engine.manifest_hash(json.loads(manifest.content)) == q2.manifest_hash
    html = client.get(reverse("publication:draw_detail", args=[q2.pk])).content.decode()
    assert 'data-testid="public-manifest-download"' in html and HIDDEN_TEXT not in html

    q2 = execute(q2, county_clerk)
    draws_disclose_due(today=q2.plan.planned_end + timedelta(days=1))
    q2.refresh_from_db()
    assert q2.disclosed_at is not None
    manifest = client.get(reverse("publication:draw_manifest", args=[q2.pk]))
    assert engine.manifest_hash(json.loads(manifest.content)) == q2.manifest_hash
    html = client.get(reverse("publication:draw_detail", args=[q2.pk])).content.decode()
    assert 'data-testid="public-record-download"' in html

    record = client.get(reverse("publication:draw_record", args=[q2.pk]))
    script = client.get(reverse("publication:verify_script"))
    (tmp_path / "record.json").write_bytes(record.content)
    (tmp_path / "verify_draw.py").write_bytes(b"".join(script.streaming_content))
    run = subprocess.run(
        [sys.executable, "verify_draw.py", "verify", "record.json"]
        + ["--manifest-hash", q2.manifest_hash],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0 and "matches" in run.stdout, run.stderr
    assert not manifest_views(q2).exists()  # nothing confidential was shown to anyone


def test_a_disclosed_draw_keeps_its_record_back_while_an_earlier_one_is_confidential(
    client, client_for, q1_and_q2, county_clerk, city_reviewer
):
    """Q2's own list may be public before Q1's (disclosed by hand, say): its list is shown,
    but not the record, which holds the manifest."""
    q1, q2 = q1_and_q2
    q2 = execute(q2, county_clerk)
    Draw.objects.filter(pk=q2.pk).update(disclosed_at=timezone.now())
    html = client.get(reverse("publication:draw_detail", args=[q2.pk])).content.decode()
    assert 'data-testid="public-record"' in html and q2.seed in html
    assert 'data-testid="public-record-download"' not in html and HIDDEN_TEXT in html
    assert client.get(reverse("publication:draw_record", args=[q2.pk])).status_code == 404
    assert api(city_reviewer).get(f"/api/v1/draws/{q2.pk}/record/").status_code == 403
    reviewer = client_for(city_reviewer)
    assert reviewer.get(reverse("lottery:draw_record_json", args=[q2.pk])).status_code == 403
    page = reviewer.get(reverse("lottery:draw_detail", args=[q2.pk])).content.decode()
    assert 'data-testid="result"' in page and 'data-testid="download-record"' not in page
    assert 'data-testid="download-manifest"' not in page and HIDDEN_TEXT in page


@pytest.mark.smoke
def test_the_bureaus_clerk_and_leader_see_the_manifest_at_once_and_are_audited(
    client_for, q1_and_q2, county_clerk, county_leader
):
    q1, q2 = q1_and_q2
    clerk = client_for(county_clerk)
    page = clerk.get(reverse("lottery:draw_detail", args=[q2.pk])).content.decode()
    assert 'data-testid="download-manifest"' in page and HIDDEN_TEXT not in page
    response = clerk.get(reverse("lottery:draw_manifest_json", args=[q2.pk]))
    assert response.status_code == 200 and response.content.decode() == q2.manifest_json
    entry = manifest_views(q2, county_clerk).get()
    assert entry.after == {"via": "manifest.json", "confidential_draws": [q1.number]}
    # The public portal, logged in: the same rule, the same audit.
    public = clerk.get(reverse("publication:draw_manifest", args=[q2.pk]))
    assert public.status_code == 200 and manifest_views(q2, county_clerk).count() == 2

    leader = client_for(county_leader)
    assert leader.get(reverse("lottery:draw_manifest_json", args=[q2.pk])).status_code == 200
    assert manifest_views(q2, county_leader).count() == 1


def test_the_clerks_record_of_a_draw_over_confidential_ones_is_audited(q1_and_q2, county_clerk):
    _q1, q2 = q1_and_q2
    q2 = execute(q2, county_clerk)
    record = api(county_clerk).get(f"/api/v1/draws/{q2.pk}/record/")
    assert record.status_code == 200 and record.json()["manifest_hash"] == q2.manifest_hash
    assert manifest_views(q2, county_clerk).get().after["via"] == "api"


@pytest.mark.smoke
def test_the_city_reviewer_waits_for_the_disclosure_like_the_public(
    client_for, q1_and_q2, city_reviewer
):
    q1, q2 = q1_and_q2
    reviewer = client_for(city_reviewer)
    page = reviewer.get(reverse("lottery:draw_detail", args=[q2.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and q2.manifest_hash in html
    assert 'data-testid="manifest-confidential"' in html and HIDDEN_TEXT in html
    assert 'data-testid="download-manifest"' not in html
    assert leaked(html, q1_secrets(q1)) == []
    assert reviewer.get(reverse("lottery:draw_manifest_json", args=[q2.pk])).status_code == 403
    assert reviewer.get(reverse("publication:draw_manifest", args=[q2.pk])).status_code == 404
    assert not manifest_views(q2).exists()

    draws_disclose_due(today=q1.plan.planned_end + timedelta(days=1))
    response = reviewer.get(reverse("lottery:draw_manifest_json", args=[q2.pk]))
    assert response.status_code == 200 and response.content.decode() == q2.manifest_json
    assert not manifest_views(q2).exists()  # nothing confidential in it any more


def test_an_outsider_sees_what_the_public_sees(client_for, q1_and_q2, outsider_clerk):
    q1, q2 = q1_and_q2
    outsider = client_for(outsider_clerk)
    assert outsider.get(reverse("lottery:draw_detail", args=[q2.pk])).status_code == 404
    assert outsider.get(reverse("lottery:draw_manifest_json", args=[q2.pk])).status_code == 404
    assert api(outsider_clerk).get(f"/api/v1/draws/{q2.pk}/").status_code == 404
    assert outsider.get(reverse("publication:draw_manifest", args=[q2.pk])).status_code == 404
    html = outsider.get(reverse("publication:draw_detail", args=[q2.pk])).content.decode()
    assert HIDDEN_TEXT in html and leaked(html, q1_secrets(q1)) == []
    draws_disclose_due(today=q1.plan.planned_end + timedelta(days=1))
    assert outsider.get(reverse("publication:draw_manifest", args=[q2.pk])).status_code == 200
    assert outsider.get(reverse("lottery:draw_manifest_json", args=[q2.pk])).status_code == 404


def test_frequency_cap_exclusions_are_listed_only_to_those_who_may_see_the_manifest(
    county, client_for, county_clerk, county_leader, city_reviewer
):
    from registry.models import CheckItem

    make_sources(county, 8, klass="key")
    make_inspectors(county, 4)
    item = CheckItem.objects.create(
        organisation=county,
        year=2026,
        code="01",
        name="污染防治设施运行情况",
        legal_basis="《环境保护法》",
        checking_body="生态环境分局",
        method="on_site",
        published_at=timezone.now(),
    )
    rules = [
        {"kind": "class_percentage", "class": "key", "percent": 25, "per": "quarter"},
        {"kind": "frequency_cap", "max_per_year": 1},
    ]

    def plan_for(quarter):
        plan = plan_create(
            actor=county_clerk,
            organisation=county,
            kind=Plan.Kind.QUARTERLY,
            year=2026,
            quarter=quarter,
            title=f"2026Q{quarter}",
            classes=["key"],
            rules=rules,
            check_items=[item],
            planned_start=date(2026, 3 * quarter - 2, 15),
            planned_end=date(2026, 3 * quarter, 20),
        )
        return publish(plan, county_clerk, county_leader)

    q1 = make_draw(plan_for(1), county_clerk)
    complete_checks(q1)
    q2 = make_draw(plan_for(2), county_clerk, stage="committed")
    capped = list(
        q2.exclusions.filter(reason="frequency_cap").values_list("source__source_code", flat=True)
    )
    # Checked once this year already: exactly what Q1 drew, still confidential.
    assert sorted(capped) == sorted(
        DrawSelection.objects.filter(draw=q1).values_list("source__source_code", flat=True)
    )

    reviewer = client_for(city_reviewer)
    html = reviewer.get(reverse("lottery:draw_detail", args=[q2.pk])).content.decode()
    assert leaked(html, capped) == []
    assert 'data-testid="exclusions-hidden"' in html
    assert not manifest_views(q2).exists()

    clerk = client_for(county_clerk)
    html = clerk.get(reverse("lottery:draw_detail", args=[q2.pk])).content.decode()
    assert leaked(html, capped) == capped
    assert 'data-testid="exclusions-hidden"' not in html
    assert manifest_views(q2, county_clerk).get().after["via"] == "page"

    draws_disclose_due(today=q1.plan.planned_end + timedelta(days=1))
    html = reviewer.get(reverse("lottery:draw_detail", args=[q2.pk])).content.decode()
    assert leaked(html, capped) == capped
