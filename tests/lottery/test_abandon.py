"""A committed draw that cannot execute: only a leader abandons it, with a public reason; the
plan is drawn again and both commitments stay on the public portal. Refusals change nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.errors import ServiceError
from core.models import AuditEntry
from lottery.models import Draw
from lottery.services import draw_abandon, draw_add_entropy
from tests.lottery.scenario import build_world, make_draw, make_plan

REASON = "见证人李秀英因病无法到场，季度内无法重新组织开启仪式"


@pytest.fixture
def committed(county, county_clerk, county_leader):
    build_world(county)
    plan = make_plan(county, county_clerk, county_leader)
    return make_draw(plan, county_clerk, stage="committed")


def _state(draw):
    draw.refresh_from_db()
    return (draw.status, draw.abandoned_at, draw.abandon_reason, AuditEntry.objects.count())


@pytest.mark.django_db
def test_leader_abandons_with_reason_and_the_plan_is_drawn_again(
    committed, county_clerk, county_leader, client
):
    draw_add_entropy(
        actor=county_clerk, draw=committed, witness_name="王建国", witness_role="", value="123456"
    )
    draw = draw_abandon(actor=county_leader, draw=committed, reason=REASON)
    assert draw.status == Draw.Status.ABANDONED
    assert draw.abandoned_by == county_leader and draw.abandon_reason == REASON
    entry = AuditEntry.objects.filter(action="draw.abandon").get()
    assert entry.after["reason"] == REASON and entry.after["witness_values_entered"] == 1

    # The plan is free again: a new draw is prepared, committed and executed.
    again = make_draw(draw.plan, county_clerk, stage="disclosed")
    assert again.status == Draw.Status.EXECUTED and again.manifest_hash != draw.manifest_hash

    # Both commitments are public, each page naming the other; the reason is shown.
    page = client.get(reverse("publication:draw_detail", args=[draw.pk])).content.decode()
    assert draw.manifest_hash in page and REASON in page and again.number in page
    page = client.get(reverse("publication:draw_detail", args=[again.pk])).content.decode()
    assert draw.manifest_hash in page and again.manifest_hash in page and REASON in page
    listing = client.get(reverse("publication:draw_list")).content.decode()
    assert draw.manifest_hash in listing and again.manifest_hash in listing
    assert listing.count('data-testid="public-draw-row"') == 2
    plan_page = client.get(reverse("publication:plan_detail", args=[draw.plan_id])).content
    assert plan_page.decode().count("/public/draws/") >= 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "reason", "code"),
    [
        ("clerk", REASON, "denied"),
        ("leader", "", "abandon_reason"),
        ("leader", "没来", "abandon_reason"),
        ("leader", "理" * 1001, "abandon_reason"),
    ],
)
def test_refused_abandon_changes_nothing(committed, county_clerk, county_leader, who, reason, code):
    before = _state(committed)
    actor = county_clerk if who == "clerk" else county_leader
    with pytest.raises(ServiceError) as exc:
        draw_abandon(actor=actor, draw=committed, reason=reason)
    assert exc.value.code == code
    assert _state(committed) == before


@pytest.mark.django_db
@pytest.mark.parametrize("stage", ["prepared", "executed"])
def test_only_a_committed_draw_is_abandoned(county, county_clerk, county_leader, stage):
    build_world(county)
    draw = make_draw(make_plan(county, county_clerk, county_leader), county_clerk, stage=stage)
    before = _state(draw)
    with pytest.raises(ServiceError):
        draw_abandon(actor=county_leader, draw=draw, reason=REASON)
    assert _state(draw) == before


@pytest.mark.django_db
def test_abandon_through_the_page_leader_only(committed, client, county_clerk, county_leader):
    url = reverse("lottery:draw_abandon", args=[committed.pk])
    client.force_login(county_clerk)
    detail = client.get(reverse("lottery:draw_detail", args=[committed.pk])).content.decode()
    assert 'data-testid="abandon-form"' not in detail
    assert client.post(url, {"reason": REASON}).status_code == 403
    client.force_login(county_leader)
    detail = client.get(reverse("lottery:draw_detail", args=[committed.pk])).content.decode()
    assert 'data-testid="abandon-form"' in detail
    response = client.post(url, {"reason": "太短"})
    assert response.status_code == 302
    committed.refresh_from_db()
    assert committed.status == Draw.Status.COMMITTED
    response = client.post(url, {"reason": REASON}, follow=True)
    committed.refresh_from_db()
    assert committed.status == Draw.Status.ABANDONED
    assert response.redirect_chain[-1][0] == reverse(
        "lottery:plan_detail", args=[committed.plan_id]
    )


@pytest.mark.django_db
def test_commit_asks_for_confirmation(county, county_clerk, county_leader, client):
    build_world(county)
    draw = make_draw(make_plan(county, county_clerk, county_leader), county_clerk, stage="prepared")
    client.force_login(county_clerk)
    page = client.get(reverse("lottery:draw_detail", args=[draw.pk])).content.decode()
    button = page[
        page.index('data-testid="commit"') - 200 : page.index('data-testid="commit"') + 400
    ]
    assert "confirm(" in button or "data-confirm" in button
