"""Source codes are unique per bureau (issue 10): another bureau's code is no obstacle and
no information; the same bureau cannot register a code twice; lists across bureaus page
through equal codes without losing one."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from core.errors import ServiceError
from registry.models import PollutionSource
from registry.selectors import keyset_page
from registry.services import source_create

pytestmark = pytest.mark.django_db


def _create(actor, org, code, name):
    return source_create(
        actor=actor,
        organisation=org,
        data={"source_code": code, "name": name, "company_name": f"{name}公司"},
    )


def test_two_bureaus_may_hold_one_code_and_one_bureau_may_not_twice(
    county_clerk, outsider_clerk, county, other_county
):
    theirs = _create(outsider_clerk, other_county, "C-1", "温县点位")
    ours = _create(county_clerk, county, "C-1", "武陟点位")
    assert (ours.organisation, theirs.organisation) == (county, other_county)
    with pytest.raises(ServiceError) as refused:
        _create(county_clerk, county, "C-1", "又一个")
    assert "C-1" in str(refused.value.messages)
    with pytest.raises(IntegrityError), transaction.atomic():
        PollutionSource.objects.create(
            organisation=county, source_code="C-1", name="绕过服务", company_name="x"
        )


def test_keyset_pages_keep_every_source_when_codes_repeat(
    county_clerk, outsider_clerk, county, other_county
):
    for code in ("A", "B", "C"):
        _create(county_clerk, county, code, f"武陟{code}")
        _create(outsider_clerk, other_county, code, f"温县{code}")
    qs = PollutionSource.objects.all()
    seen, after = [], None
    while True:
        page = keyset_page(qs, key="source_code", after=after, size=2, with_total=False)
        seen += [s.pk for s in page.items]
        if not page.next_key:
            break
        after = page.next_key
    assert sorted(seen) == sorted(qs.values_list("pk", flat=True)) and len(seen) == 6
    # And backwards from the end.
    back = keyset_page(qs, key="source_code", before=page.previous_key, size=2, with_total=False)
    assert [s.source_code for s in back.items] == ["B", "B"]


def test_the_api_pages_through_equal_codes(
    client_for, city_reviewer, county, other_county, county_clerk, outsider_clerk
):
    for code in ("A", "B"):
        _create(county_clerk, county, code, f"武陟{code}")
        _create(outsider_clerk, other_county, code, f"温县{code}")
    client = client_for(city_reviewer)
    url, seen = "/api/v1/sources/?page_size=1", []
    while url:
        body = client.get(url, HTTP_ACCEPT="application/json").json()
        seen += [r["source_code"] for r in body["results"]]
        url = body["next"]
    assert sorted(seen) == ["A", "A", "B", "B"]
