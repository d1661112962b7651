"""The witness values and the seed of a draw (with the manifest they give the confidential
list) appear nowhere in the audit trail, the admin pages or the log lines produced during the
draw: the trail keeps keyed digests, which confirm a value only to whoever holds the key."""

from __future__ import annotations

import json
import logging

import pytest
from django.urls import reverse

from core.audit import secret_digest
from core.models import AuditEntry
from tests.lottery.scenario import build_world, make_draw, make_plan

pytestmark = pytest.mark.django_db

VALUES = ("４８３９１７", "205 736")
SECRETS_TYPED = ("483917", "205736")


def test_no_seed_or_witness_value_in_the_trail_the_admin_or_the_logs(
    county, county_clerk, county_leader, caplog, admin_client
):
    build_world(county)
    plan = make_plan(county, county_clerk, county_leader)
    with caplog.at_level(logging.DEBUG):
        draw = make_draw(plan, county_clerk, values=VALUES)
    secrets = [*SECRETS_TYPED, draw.seed]
    assert [e.value for e in draw.entropy.order_by("position")] == list(SECRETS_TYPED)

    trail = [
        json.dumps([e.before, e.after, e.object_repr], ensure_ascii=False)
        for e in AuditEntry.objects.all()
    ]
    assert trail and not [s for s in secrets for line in trail if s in line]
    logs = "\n".join(r.getMessage() for r in caplog.records)
    assert not [s for s in secrets if s in logs]

    pages = [reverse("admin:core_auditentry_changelist")] + [
        reverse("admin:core_auditentry_change", args=[e.pk])
        for e in AuditEntry.objects.filter(object_id=str(draw.pk))
    ]
    pages.append(reverse("admin:lottery_draw_change", args=[draw.pk]))
    pages.append(reverse("admin:lottery_draw_changelist"))
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert not [s for s in secrets if s in body], url

    # What the trail keeps confirms the values to whoever holds the audit key.
    entropy = AuditEntry.objects.filter(action="draw.entropy").order_by("seq")
    assert [e.after["value_digest"] for e in entropy] == [
        secret_digest(v, purpose=f"draw.entropy:{draw.pk}") for v in SECRETS_TYPED
    ]
    executed = AuditEntry.objects.get(action="draw.execute")
    assert executed.after["seed_digest"] == secret_digest(draw.seed, purpose=f"draw.seed:{draw.pk}")
    assert "seed" not in executed.after
