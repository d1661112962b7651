"""source_bulk_upsert streams new sources into the table while it checks the rows (COPY on
PostgreSQL): a bad row anywhere, or a code registered meanwhile, must still leave nothing behind,
and typed values (as the importer sends them) must be stored as their text spellings would be."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation

from core.errors import ServiceError
from registry import bulk
from registry.models import PollutionSource, SourceChange
from registry.services import source_bulk_upsert

from .conftest import source_data

pytestmark = [pytest.mark.smoke, pytest.mark.django_db]


def _upsert(actor, organisation, rows, **kwargs):
    return source_bulk_upsert(
        actor=actor,
        organisation_by_code={row["source_code"]: organisation for row in rows},
        rows=rows,
        **kwargs,
    )


def test_it_refuses_the_whole_batch_when_late_rows_are_bad(county, county_clerk):
    rows = [source_data(source_code=f"S-{i:05d}") for i in range(3000)]
    rows[2500]["supervision_class"] = "special"  # no reason given
    rows[2900]["complaints_12m"] = -1
    with pytest.raises(ServiceError) as exc:
        _upsert(county_clerk, county, rows)
    assert [m.split(":")[0] for m in exc.value.messages] == ["S-02500", "S-02900"]
    assert not PollutionSource.objects.filter(source_code__startswith="S-").exists()
    assert not SourceChange.objects.exists()


def test_it_reports_a_code_registered_meanwhile_and_writes_nothing(
    county, county_clerk, make_source, monkeypatch
):
    make_source(source_code="S-TAKEN")
    # As if another import registered S-TAKEN after this one looked (and locked nothing).
    monkeypatch.setattr(bulk, "lock_rows_by_key", lambda *args, **kwargs: [])
    rows = [source_data(source_code="S-FREE"), source_data(source_code="S-TAKEN")]
    with translation.override("en"), pytest.raises(ServiceError) as exc:
        _upsert(county_clerk, county, rows)
    assert "changed while importing" in exc.value.messages[0]
    assert not PollutionSource.objects.filter(source_code="S-FREE").exists()
    assert PollutionSource.objects.filter(source_code="S-TAKEN").count() == 1


def test_typed_values_are_stored_like_their_text_and_each_new_source_has_one_history_row(
    county, county_clerk
):
    typed = source_data(
        source_code="S-TYPED",
        permit_valid_from=date(2024, 1, 31),
        positive_list=True,
        positive_list_until=date(2026, 1, 1),
        complaints_12m=3,
        longitude=Decimal("113.1234567"),
        pollution_types=["air", "water"],
        tags=["园区", "园区", "涉VOCs"],
    )
    text = source_data(
        source_code="S-TEXT",
        permit_valid_from="2024-01-31",
        positive_list="是",
        positive_list_until="2026-01-01",
        complaints_12m="3",
        longitude="113.1234567",
        pollution_types="air,water",
        tags="园区、园区、涉VOCs",
    )
    again = source_data(source_code="S-AGAIN", pollution_types=["air", "water"])
    assert _upsert(county_clerk, county, [typed, text, again]) == (3, 0, 0)
    fields = [
        "permit_valid_from",
        "positive_list",
        "positive_list_until",
        "complaints_12m",
        "longitude",
        "pollution_types",
        "tags",
    ]
    stored = {
        s["source_code"]: s
        for s in PollutionSource.objects.filter(source_code__startswith="S-").values(
            "source_code", *fields
        )
    }
    assert {f: stored["S-TYPED"][f] for f in fields} == {f: stored["S-TEXT"][f] for f in fields}
    assert stored["S-TYPED"]["longitude"] == Decimal("113.123457")
    assert stored["S-TYPED"]["pollution_types"] == ["water", "air"]  # the vocabulary's order
    assert stored["S-AGAIN"]["pollution_types"] == ["water", "air"]
    assert stored["S-TYPED"]["tags"] == ["园区", "涉VOCs"]
    history = SourceChange.objects.filter(source__source_code__startswith="S-")
    assert sorted(history.values_list("source__source_code", "action", "changes")) == [
        ("S-AGAIN", "create", {}),
        ("S-TEXT", "create", {}),
        ("S-TYPED", "create", {}),
    ]
    assert {c.actor_id for c in history} == {county_clerk.pk}
    # A list seen before is still checked as a whole: an unknown type is refused.
    with pytest.raises(ServiceError) as exc:
        _upsert(county_clerk, county, [source_data(pollution_types=["air", "smell"])])
    assert "smell" in exc.value.messages[0]


def test_checking_a_column_at_a_time_gives_what_checking_each_row_gives():
    from registry.services import _clean_source_data, _clean_source_rows

    today = date(2026, 6, 1)
    base = source_data(
        permit_valid_from=date(2024, 1, 31),
        permit_valid_until=date(2029, 1, 30),
        positive_list=False,
        complaints_12m=0,
        longitude=Decimal("113.1234567"),
        latitude=None,
        pollution_types=["air"],
        tags=[],
        county_code="410823",
        industry_code="C2614",
        special_reason="",
        violation_record="",
        org_code="",
        permit_number="",
        last_penalty_date=None,
    )
    variants = [
        {},
        {"name": " 有空格 "},
        {"org_code": "abc"},
        {"supervision_class": "special"},
        {"supervision_class": "special", "special_reason": "挂牌督办"},
        {"permit_valid_from": date(2030, 1, 1)},
        {"last_penalty_date": date(2027, 1, 1)},
        {"positive_list_until": date(2027, 1, 1)},
        {"positive_list": True, "positive_list_until": date(2027, 1, 1)},
        {"complaints_12m": -1},
        {"complaints_12m": "3"},
        {"longitude": Decimal("190")},
        {"longitude": "113.5"},
        {"county_code": "41082"},
        {"industry_code": "c2614"},
        {"uscc": "913101167800233824"},
        {"uscc": "91310116780023382"},
        {"uscc": "911411817515053410".lower()},
        {"credit_rating": "purple"},
        {"status": "suspended"},
        {"name": "x" * 300},
        {"tags": ["园区", "园区"]},
        {"pollution_types": ["air", "smell"]},
    ]
    for accept in (False, True):
        for variant in variants:
            for current in (None, {**base, "uscc_checksum_ok": True, "status": "active"}):
                rows = [{**base, **variant}, dict(base), {**base, **variant}]
                currents = [current] * len(rows)
                many = _clean_source_rows(rows, currents, accept_bad_checksum=accept, today=today)
                one_by_one = [
                    _clean_source_data(r, accept_bad_checksum=accept, current=c, today=today)
                    for r, c in zip(rows, currents, strict=True)
                ]
                for got, want in zip(many, one_by_one, strict=True):
                    assert got.values == want.values, variant
                    assert list(got.errors.items()) == list(want.errors.items()), variant
