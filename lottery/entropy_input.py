"""Witness values, witness names and the public value as typed at the ceremony → their
canonical form (docs/draw-algorithm.md §5, version 3).

The one place where what a clerk typed becomes what the seed uses, and what is stored, shown
and published. Only two harmless transformations are made: full-width digits and letters (a
Chinese input method's) become ASCII, and ASCII and ideographic spaces are removed. Every
other character is refused, naming it by code point, because an invisible one (a zero-width
joiner, a variation selector…) would let the person typing try many seeds that all look
alike on the screen (issue 9). Lengths are checked, never cut: the value checked is the value
stored.
"""

from __future__ import annotations

import unicodedata

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import ServiceError
from lottery import engine

# Full-width digits and letters (U+FF10–FF19, FF21–FF3A, FF41–FF5A) → ASCII.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF10, 0xFF1A)}
_FULL_WIDTH.update({code: code - 0xFEE0 for code in range(0xFF21, 0xFF3B)})
_FULL_WIDTH.update({code: code - 0xFEE0 for code in range(0xFF41, 0xFF5B)})
_TRANSLATE = {**_FULL_WIDTH, 0x20: None, 0x3000: None}
# A name's dot as Chinese input methods type it (katakana middle dot, full-width and
# half-width forms) → U+00B7, the only dot a version 3 name holds.
_NAME_TRANSLATE = {**_TRANSLATE, 0x30FB: 0xB7, 0xFF65: 0xB7, 0x2027: 0xB7}

# Chinese names of the characters one is most likely to meet unseen; others get their
# Unicode name.
_NAMES = {
    0x200B: gettext_lazy("zero-width space"),
    0x200C: gettext_lazy("zero-width non-joiner"),
    0x200D: gettext_lazy("zero-width joiner"),
    0x200E: gettext_lazy("left-to-right mark"),
    0x200F: gettext_lazy("right-to-left mark"),
    0x00AD: gettext_lazy("soft hyphen"),
    0x2060: gettext_lazy("word joiner"),
    0xFEFF: gettext_lazy("byte order mark"),
    0x0009: gettext_lazy("tab"),
    0x00A0: gettext_lazy("no-break space"),
}


def _describe(char: str) -> str:
    """E.g. 'U+200D（零宽连接符）' or 'U+0061（“a”）'."""
    code = ord(char)
    if code in _NAMES:
        name = str(_NAMES[code])
    elif char.isprintable() and not char.isspace() and unicodedata.category(char)[0] != "M":
        name = f"“{char}”"
    else:
        name = unicodedata.name(char, "") or _("invisible character")
    return _("U+%(code)04X (%(name)s)") % {"code": code, "name": name}


def clean_digits(text: str, digits: int, *, what: str) -> str:
    """``text`` as exactly ``digits`` ASCII digits, or ServiceError saying what is wrong.

    ``digits`` 0 means any positive number of digits (a draw prepared with version 2).
    ``what`` names the value in the message ("the witness's value", "the public value").
    """
    text = text or ""
    value = text.translate(_TRANSLATE)
    for position, char in enumerate(text, start=1):
        if char in " \u3000":
            continue
        mapped = char.translate(_TRANSLATE)
        if not ("0" <= mapped <= "9"):
            raise ServiceError(
                _("%(what)s: character %(position)s, %(char)s, is not a digit.")
                % {"what": what, "position": position, "char": _describe(char)},
                code="entropy_not_digits",
            )
    if not value:
        raise ServiceError(_("%(what)s: enter the digits.") % {"what": what})
    if digits and len(value) != digits:
        raise ServiceError(
            _("%(what)s: enter exactly %(digits)s digits; %(count)s were entered.")
            % {"what": what, "digits": digits, "count": len(value)},
            code="entropy_length",
        )
    return value


def clean_witness_name(text: str) -> str:
    """A witness's name in the form the seed uses: Chinese characters, ASCII letters and
    digits and the middle dot, at most 50 characters (docs §5); refused otherwise."""
    text = text or ""
    name = text.translate(_NAME_TRANSLATE)
    for position, char in enumerate(text, start=1):
        if char in " \u3000":
            continue
        if not engine.is_name_character(char.translate(_NAME_TRANSLATE)):
            raise ServiceError(
                _(
                    "Witness's name: character %(position)s, %(char)s, is not allowed: use "
                    "Chinese characters, letters, digits and the middle dot ·."
                )
                % {"position": position, "char": _describe(char)},
                code="entropy_bad_name",
            )
    if not name:
        raise ServiceError(_("Enter the witness's name."))
    if len(name) > engine.MAX_NAME:
        raise ServiceError(
            _("Witness's name: %(count)s characters; at most %(max)s.")
            % {"count": len(name), "max": engine.MAX_NAME}
        )
    return name
