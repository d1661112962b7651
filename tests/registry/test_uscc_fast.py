"""core.uscc's C-level check (map/sum) against the textbook definition of GB 32100-2015.

The fast implementation replaced a generator-per-code one (and a copy in exchange.excel.spec);
this keeps a plain reading of the standard beside it and compares the two on real published
codes and on mutations of them (wrong characters, truncations, letters outside the alphabet).
"""

from __future__ import annotations

import csv
import random

import pytest

from core import uscc
from exchange.excel import spec
from tests.conftest import realdata

pytestmark = pytest.mark.smoke


def _reference_status(code: str) -> uscc.UsccStatus:
    code = (code or "").strip().upper().replace(" ", "")
    if len(code) != 18 or any(c not in uscc.ALPHABET for c in code):
        return uscc.UsccStatus.MALFORMED
    if code[0] not in "123456789ANY" or not code[2:8].isdigit():
        return uscc.UsccStatus.MALFORMED
    total = sum(uscc.ALPHABET.index(c) * (3**i % 31) for i, c in enumerate(code[:17]))
    if uscc.ALPHABET[(31 - total % 31) % 31] != code[17]:
        return uscc.UsccStatus.BAD_CHECK_DIGIT
    return uscc.UsccStatus.VALID


def _codes() -> list[str]:
    codes: list[str] = []
    with realdata("uscc/uscc_test_vectors.csv").open(encoding="utf-8-sig") as handle:
        codes += [r["code"] for r in csv.DictReader(handle)]
    path = realdata("uscc/real_company_uscc_luliang_benxi_hengshui_jiaozuo.csv")
    with path.open(encoding="utf-8-sig") as handle:
        codes += [r["uscc"] for r in csv.DictReader(handle)]
    rng = random.Random(4)
    alphabet = uscc.ALPHABET + "IOZSVa-１²"
    for code in list(codes[:3000]):
        position = rng.randrange(18)
        codes.append(code[:position] + rng.choice(alphabet) + code[position + 1 :])
        codes.append(code[: rng.randrange(19)])
        codes.append(code.lower())
    return codes


def test_the_fast_check_agrees_with_the_standard_on_real_and_mutated_codes():
    codes = _codes()
    assert len(codes) > 15000
    statuses = set()
    for code in codes:
        expected = _reference_status(code)
        statuses.add(expected)
        assert uscc.uscc_status(code) is expected, code
        assert spec.uscc_status(uscc.normalise(code)) is expected, code  # the importer's name
    assert statuses == set(uscc.UsccStatus)  # every outcome was exercised


def test_check_digit_needs_exactly_seventeen_characters():
    with pytest.raises(ValueError):
        uscc.check_digit("91410823")
    assert uscc.check_digit("91410823MA40ABCDE") in uscc.ALPHABET
