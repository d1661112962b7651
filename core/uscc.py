"""Unified social credit code (统一社会信用代码, GB 32100-2015).

18 characters from a 31-symbol alphabet (no I, O, Z, S, V); the last is a check digit over
the first 17 with weights 3^(i-1) mod 31. Published government lists contain codes with a
wrong check digit, so validation distinguishes *malformed* (not a code at all) from *wrong
check digit* (a real code with a typo, to be reported, never dropped silently).
"""

from __future__ import annotations

from enum import Enum
from operator import mul

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUES = {c: i for i, c in enumerate(ALPHABET)}
REGISTRATION_AUTHORITIES = set("123456789ANY")


class UsccStatus(Enum):
    VALID = "valid"
    BAD_CHECK_DIGIT = "bad_check_digit"
    MALFORMED = "malformed"


def normalise(code: str) -> str:
    """Upper-case and strip: lower-case letters occur in published data."""
    return (code or "").strip().upper().replace(" ", "")


_VALUE_OF = _VALUES.__getitem__  # KeyError for a character outside the alphabet


def check_digit(first17: str) -> str:
    if len(first17) != 17:
        raise ValueError("a check digit is computed over exactly 17 characters")
    # C-level map/sum: imports check a code per row, 100,000 rows at a time.
    total = sum(map(mul, map(_VALUE_OF, first17), WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def status_of_normalised(code: str) -> UsccStatus:
    """``uscc_status`` for a code already passed through ``normalise`` (the bulk paths
    normalise once and check here)."""
    if len(code) != 18 or code[0] not in REGISTRATION_AUTHORITIES or not code[2:8].isdigit():
        return UsccStatus.MALFORMED
    try:
        total = sum(map(mul, map(_VALUE_OF, code[:17]), WEIGHTS))
        _VALUE_OF(code[17])
    except KeyError:  # a character outside the alphabet (I, O, Z, S, V, full-width digits ...)
        return UsccStatus.MALFORMED
    if ALPHABET[(31 - total % 31) % 31] != code[17]:
        return UsccStatus.BAD_CHECK_DIGIT
    return UsccStatus.VALID


def uscc_status(code: str) -> UsccStatus:
    return status_of_normalised(normalise(code))


def is_valid(code: str) -> bool:
    return uscc_status(code) is UsccStatus.VALID


def make_uscc(prefix: str, region: str, body: str) -> str:
    """Build a valid code from a 2-char prefix, a 6-digit region and a 9-char body."""
    first17 = (prefix + region + body).upper()
    if len(first17) != 17:
        raise ValueError("prefix + region + body must be 17 characters")
    return first17 + check_digit(first17)
