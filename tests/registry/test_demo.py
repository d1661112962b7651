"""The registry's demo data: believable, valid, and built only once."""

from __future__ import annotations

import io
import random
from collections import Counter

import pytest

from core.uscc import is_valid
from registry.models import CheckItem, PollutionSource

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


def test_demo_is_valid_realistic_and_idempotent(orgs):
    from registry import demo

    out = io.StringIO()
    demo.seed(stdout=out, rng=random.Random(1))
    sources = PollutionSource.objects.all()
    total = sources.count()
    counties = [o for o in orgs.values() if o.kind == "county_bureau"]
    assert total >= 150 * len(counties)
    classes = Counter(sources.values_list("supervision_class", flat=True))
    assert 0.10 < classes["key"] / total < 0.20
    assert 0.02 < classes["special"] / total < 0.08
    assert not sources.filter(supervision_class="special", special_reason="").exists()
    assert all(is_valid(code) for code in sources.values_list("uscc", flat=True))
    # Several sites share a company's credit code, each with its own source code.
    shared = Counter(sources.values_list("uscc", flat=True))
    assert max(shared.values()) >= 2
    team = orgs["city_team:410800"]
    assert sources.filter(organisation=team, managed_by="city").count() == 60
    wuzhi = sources.filter(organisation=orgs["county:410823"])
    assert {s[2:8] for s in wuzhi.values_list("uscc", flat=True)} == {"410823"}
    assert wuzhi.filter(status="suspended").exists() or wuzhi.filter(status="cancelled").exists()
    items = CheckItem.objects.filter(organisation=orgs["county:410823"])
    assert items.count() == 11 and items.filter(published_at__isnull=True).count() == 1

    demo.seed(stdout=out, rng=random.Random(2))
    assert PollutionSource.objects.count() == total
    assert CheckItem.objects.filter(organisation=orgs["county:410823"]).count() == 11
