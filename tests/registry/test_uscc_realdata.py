"""core.uscc against real published codes (../shared/realdata/uscc; skipped when absent)."""

from __future__ import annotations

import csv

import pytest

from core.uscc import UsccStatus, check_digit, is_valid, normalise, uscc_status
from tests.conftest import realdata

pytestmark = pytest.mark.smoke


def _rows(path: str) -> list[dict]:
    with realdata(path).open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_every_real_company_code_validates():
    rows = _rows("uscc/real_company_uscc_luliang_benxi_hengshui_jiaozuo.csv")
    assert len(rows) > 7000
    bad = [r["uscc"] for r in rows if not is_valid(r["uscc"])]
    assert bad == []
    wuzhi = [r for r in rows if r["uscc"][2:8] == "410823"]
    assert len(wuzhi) > 200  # the showcase county is well represented


def test_the_known_bad_published_codes_are_reported_as_bad_check_digits():
    rows = _rows("uscc/real_world_invalid_codes_from_registration_data.csv")
    assert rows
    for row in rows:
        assert uscc_status(row["code"]) is UsccStatus.BAD_CHECK_DIGIT
        assert check_digit(normalise(row["code"])[:17]) == row["expected_check_digit"]


def test_the_curated_vectors():
    rows = _rows("uscc/uscc_test_vectors.csv")
    seen = set()
    for row in rows:
        code, expect = row["code"], row["expect"]
        status = uscc_status(code)
        if expect == "valid":
            assert status is UsccStatus.VALID, row
        elif expect == "valid after upper-casing":
            assert code != code.upper() and status is UsccStatus.VALID, row
            assert normalise(code) == code.upper()
        elif expect == "invalid (checksum)":
            assert status is UsccStatus.BAD_CHECK_DIGIT, row
        elif expect == "invalid":
            # Wrong check digit → flagged; wrong length or letters outside the alphabet →
            # malformed. Either way it is never valid.
            assert status is not UsccStatus.VALID, row
            if row["note"] == "wrong check digit":
                assert status is UsccStatus.BAD_CHECK_DIGIT
            if "length" in row["note"] or "charset" in row["note"]:
                assert status is UsccStatus.MALFORMED
        else:  # pragma: no cover - a new kind of vector: look at it
            pytest.fail(f"unknown expectation {expect!r}")
        seen.add(expect)
    assert {"valid", "valid after upper-casing", "invalid (checksum)", "invalid"} <= seen


@pytest.mark.django_db
def test_the_registry_keeps_a_real_bad_code_only_when_accepted(county, county_clerk):
    from core.errors import ServiceError
    from registry.services import source_create
    from tests.registry.conftest import source_data

    code = _rows("uscc/real_world_invalid_codes_from_registration_data.csv")[0]["code"]
    with pytest.raises(ServiceError):
        source_create(actor=county_clerk, organisation=county, data=source_data(uscc=code))
    source = source_create(
        actor=county_clerk,
        organisation=county,
        data=source_data(uscc=code),
        accept_bad_checksum=True,
    )
    assert source.uscc_checksum_ok is False
