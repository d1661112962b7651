"""Field rules shared by every entity, and the declaration of an entity's fields.

Each app declares its entities' fields once (``registry/fields.py``, ``inspectors/fields.py``):
a name, a rule and where the field goes (edited, tracked in the history, exported, imported
under a column header). The services validate with the rules, the importer builds its columns
from them (``exchange.excel.spec.column_for``), exports, forms and serializers list the declared
fields (guard tests check that they agree).

A rule states what a value may be and says so in ONE translated message per way it can be
wrong: the service refusing a form or an API call and the importer refusing a cell word the
same rule the same way (``tests/test_field_rules.py`` keeps it so).

``rule.clean(value)`` normalises a value handed to a service (from a form, the API or an
import row already parsed by ``exchange.excel``) or raises ``FieldError``; ``rule.many(values)``
returns a whole column at once when every value is already in its final form (C-level
checks, no call per value), else None, and then each value goes through ``clean``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal as _Decimal
from decimal import InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from core import uscc as uscc_rules

SEPARATORS = re.compile(r"[,，、;；\n]+")


class FieldError(Exception):
    """A value a rule refuses; ``message`` is already translated."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- the messages: one per way a rule can be broken ----------------------------------------


def required_message() -> str:
    return _("This field is required.")


def too_long_message(max_length: int, length: int) -> str:
    return _("At most %(max)s characters (this has %(length)s).") % {
        "max": max_length,
        "length": length,
    }


def pattern_message(value: str, rule: Any) -> str:
    return _("“%(value)s” is not valid: %(rule)s") % {"value": value, "rule": rule}


def division_message(value: Any) -> str:
    return _("“%(value)s” is not a six-digit administrative division code") % {"value": value}


def choice_message(value: Any, choices: str) -> str:
    return _("“%(value)s” is not one of: %(choices)s") % {"value": value, "choices": choices}


def not_a_date_message(value: Any) -> str:
    return _("“%(value)s” is not a date (write it like 2024-01-31)") % {"value": value}


def implausible_date_message(value: Any) -> str:
    return _("%(value)s is outside the plausible range (1950–2100)") % {"value": value}


def invalid_date_message(value: Any) -> str:
    return _("“%(value)s” is not a valid date") % {"value": value}


def boolean_message(value: Any) -> str:
    return _("write 是 or 否, not “%(value)s”") % {"value": value}


def whole_number_message(value: Any) -> str:
    return _("“%(value)s” is not a whole number") % {"value": value}


def number_message(value: Any) -> str:
    return _("“%(value)s” is not a number") % {"value": value}


def range_message(value: Any, min_value: Any, max_value: Any) -> str:
    return _("%(value)s is outside %(min)s to %(max)s") % {
        "value": value,
        "min": min_value,
        "max": max_value,
    }


def less_than_message(value: Any, min_value: Any) -> str:
    return _("%(value)s is less than %(min)s") % {"value": value, "min": min_value}


def tag_too_long_message(tag: str, max_length: int) -> str:
    return _("the tag “%(tag)s” is longer than %(max)s characters") % {
        "tag": tag,
        "max": max_length,
    }


def too_many_tags_message(max_count: int) -> str:
    return _("more than %(max)s tags") % {"max": max_count}


def uscc_malformed_message(value: str) -> str:
    return _("“%(value)s” is not a unified social credit code (18 characters, GB 32100-2015)") % {
        "value": value
    }


def uscc_check_digit_message(code: str) -> str:
    return _(
        "wrong check digit (by GB 32100 the last character should be %(digit)s); "
        "check the code with the licence. To keep it as written, accept the warning: "
        "the record is then flagged."
    ) % {"digit": uscc_rules.check_digit(code[:17])}


# --- the rules ------------------------------------------------------------------------------


def _all_str(values: list[Any]) -> bool:
    return set(map(type, values)) == {str}


class Rule:
    kind = ""

    def clean(self, value: Any) -> Any:
        raise NotImplementedError

    def many(self, values: list[Any]) -> list[Any] | None:
        return None


@dataclass(frozen=True)
class Text(Rule):
    """Text up to ``max_length`` characters (None: any length), stripped."""

    max_length: int | None
    required: bool = False
    kind = "text"

    def clean(self, value: Any) -> str:
        text = (
            value.strip()
            if value.__class__ is str
            else ("" if value is None else str(value).strip())
        )
        if not text:
            if self.required:
                raise FieldError(required_message())
            return text
        if self.max_length is not None and len(text) > self.max_length:
            raise FieldError(too_long_message(self.max_length, len(text)))
        return text

    def many(self, values: list[Any]) -> list[Any] | None:
        # Already stripped text within the length, none missing: kept as it is.
        if not _all_str(values) or list(map(str.strip, values)) != values:
            return None
        if self.max_length is not None and max(map(len, values), default=0) > self.max_length:
            return None
        if self.required and not all(values):
            return None
        return values


@dataclass(frozen=True)
class Code(Rule):
    """A code: white space removed, upper-cased, up to ``max_length``; optionally matching
    ``pattern`` (``pattern_help`` says how, in words)."""

    max_length: int
    required: bool = False
    pattern: str = ""
    pattern_help: Any = ""
    kind = "code"

    def _compiled(self) -> re.Pattern | None:
        return (
            _PATTERNS.setdefault(self.pattern, re.compile(self.pattern)) if self.pattern else None
        )

    def clean(self, value: Any) -> str:
        text = "".join(("" if value is None else str(value)).split()).upper()
        if not text:
            if self.required:
                raise FieldError(required_message())
            return text
        if len(text) > self.max_length:
            raise FieldError(too_long_message(self.max_length, len(text)))
        compiled = self._compiled()
        if compiled is not None and not compiled.fullmatch(text):
            raise FieldError(pattern_message(text, self.pattern_help))
        return text

    def many(self, values: list[Any]) -> list[Any] | None:
        if not _all_str(values) or list(map(str.upper, values)) != values:
            return None
        joined = "".join(values)
        if joined.split() != ([joined] if joined else []):  # any white space at all
            return None
        if max(map(len, values), default=0) > self.max_length:
            return None
        if self.required and not all(values):
            return None
        compiled = self._compiled()
        if compiled is not None and not all(map(compiled.fullmatch, filter(None, values))):
            return None
        return values


_PATTERNS: dict[str, re.Pattern] = {}


@dataclass(frozen=True)
class Division(Rule):
    """A six-digit administrative division code (GB/T 2260), or empty."""

    kind = "division"

    def clean(self, value: Any) -> str:
        text = "" if value is None else str(value).strip()
        if text and not (len(text) == 6 and text.isascii() and text.isdigit()):
            raise FieldError(division_message(text))
        return text

    def many(self, values: list[Any]) -> list[Any] | None:
        if not _all_str(values):
            return None
        if not all(v == "" or (len(v) == 6 and v.isascii() and v.isdigit()) for v in values):
            return None
        return values


@dataclass(frozen=True)
class CreditCode(Rule):
    """统一社会信用代码 (GB 32100-2015): normalised; malformed is refused; a wrong check
    digit is kept only when the user accepts it (the record is then flagged). The check
    needs the record's context, so services call ``status`` rather than ``clean``."""

    kind = "uscc"

    def clean(self, value: Any) -> str:
        code = uscc_rules.normalise("" if value is None else str(value))
        if code and uscc_rules.status_of_normalised(code) is uscc_rules.UsccStatus.MALFORMED:
            raise FieldError(uscc_malformed_message(code))
        return code


@dataclass(frozen=True)
class Choice(Rule):
    """One of ``choices`` (a ``TextChoices``); ``aliases`` are extra spellings an import
    accepts; ``blank`` allows the empty value."""

    choices: Any
    aliases: dict = field(default_factory=dict, hash=False, compare=False)
    blank: bool = False
    kind = "choice"

    def _values(self) -> frozenset:
        return _CHOICE_VALUES.setdefault(
            (self.choices, self.blank),
            frozenset([*self.choices.values, *([""] if self.blank else [])]),
        )

    def clean(self, value: Any) -> str:
        values = self._values()
        if value.__class__ is str and value in values:  # the importer's (and forms') case
            return value
        text = "" if value is None else str(value).strip()
        if text not in values:
            raise FieldError(choice_message(text, ", ".join(self.choices.values)))
        return text

    def many(self, values: list[Any]) -> list[Any] | None:
        if _all_str(values) and self._values().issuperset(values):
            return values
        return None


_CHOICE_VALUES: dict[tuple, frozenset] = {}


@dataclass(frozen=True)
class MultiChoice(Rule):
    """Several of ``choices`` without repeats, in the vocabulary's order (``keep_order``: in
    the order given). A text is split at 、 , ， ; or new lines."""

    choices: Any
    aliases: dict = field(default_factory=dict, hash=False, compare=False)
    keep_order: bool = False
    kind = "multi"

    def clean(self, value: Any) -> list[str]:
        key = _seen_key(value)  # the importer's lists repeat (a handful of combinations)
        seen = _MULTI_SEEN.setdefault((self.choices, self.keep_order), {})
        if key is not None and key in seen:
            return list(seen[key])
        if value is None or value == "":
            return []
        items = SEPARATORS.split(value) if isinstance(value, str) else list(value)
        given = list(dict.fromkeys(str(item).strip() for item in items if str(item).strip()))
        order = _ORDER.setdefault(self.choices, tuple(self.choices.values))
        unknown = set(given).difference(order)
        if unknown:
            raise FieldError(choice_message("、".join(sorted(unknown)), ", ".join(order)))
        result = given if self.keep_order else [code for code in order if code in given]
        if key is not None and len(seen) < 4096:
            seen[key] = tuple(result)
        return result


_ORDER: dict[Any, tuple[str, ...]] = {}
_MULTI_SEEN: dict[Any, dict[tuple, tuple[str, ...]]] = {}


def _seen_key(value: Any) -> tuple | None:
    if value.__class__ is not list:
        return None
    key = tuple(value)
    try:
        hash(key)
    except TypeError:
        return None
    return key


@dataclass(frozen=True)
class Tags(Rule):
    """Free tags, each up to ``max_length`` characters, at most ``max_count``; repeats dropped."""

    max_length: int = 20
    max_count: int = 20
    kind = "tags"

    def clean(self, value: Any) -> list[str]:
        if value is None or value == "" or value == []:
            return []
        items = SEPARATORS.split(value) if isinstance(value, str) else list(value)
        tags: list[str] = []
        for item in items:
            tag = str(item).strip()
            if tag and tag not in tags:
                if len(tag) > self.max_length:
                    raise FieldError(tag_too_long_message(tag, self.max_length))
                tags.append(tag)
        if len(tags) > self.max_count:
            raise FieldError(too_many_tags_message(self.max_count))
        return tags


@dataclass(frozen=True)
class Date(Rule):
    """A date (ISO text, a ``date`` or a ``datetime``), or empty."""

    kind = "date"

    def clean(self, value: Any) -> date | None:
        if value.__class__ is date or value is None:
            return value
        if value == "":
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        text = str(value).strip()
        try:
            return date.fromisoformat(text)
        except ValueError:
            if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", text):
                raise FieldError(invalid_date_message(text)) from None
            raise FieldError(not_a_date_message(text)) from None

    def many(self, values: list[Any]) -> list[Any] | None:
        return values if set(map(type, values)) <= {date, type(None)} else None


@dataclass(frozen=True)
class Bool(Rule):
    """Yes or no; a blank value is ``default``."""

    default: bool = False
    kind = "boolean"

    def clean(self, value: Any) -> bool:
        if value is True or value is False:
            return value
        if value is None or value == "":
            return self.default
        if value in (0, 1):
            return bool(value)
        text = str(value).strip().lower()
        if text in {"0", "false", "no", "否"}:
            return False
        if text in {"1", "true", "yes", "是"}:
            return True
        raise FieldError(boolean_message(value))

    def many(self, values: list[Any]) -> list[Any] | None:
        return values if set(map(type, values)) == {bool} else None


@dataclass(frozen=True)
class Int(Rule):
    """A whole number from ``min_value`` to ``max_value`` (either may be None); a blank value
    is ``default``."""

    min_value: int | None = 0
    max_value: int | None = None
    default: int | None = 0
    kind = "integer"

    def _in_range(self, number: int) -> bool:
        return (self.min_value is None or number >= self.min_value) and (
            self.max_value is None or number <= self.max_value
        )

    def clean(self, value: Any) -> int | None:
        if value is None or value == "":
            return self.default
        if value.__class__ is int:
            number = value
        elif value.__class__ is float and value.is_integer():
            number = int(value)
        else:
            try:
                number = int(str(value).strip())
            except ValueError:
                raise FieldError(whole_number_message(value)) from None
        if not self._in_range(number):
            raise FieldError(self.out_of_range(number))
        return number

    def out_of_range(self, number: int) -> str:
        if self.max_value is None:
            return less_than_message(number, self.min_value)
        return range_message(number, self.min_value, self.max_value)

    def many(self, values: list[Any]) -> list[Any] | None:
        if set(map(type, values)) != {int} or not values:
            return None
        if not (self._in_range(min(values)) and self._in_range(max(values))):
            return None
        return values


@dataclass(frozen=True)
class Decimal(Rule):
    """A number with ``places`` decimals from ``min_value`` to ``max_value``, or empty."""

    places: int
    min_value: int
    max_value: int
    kind = "decimal"

    @property
    def quantum(self) -> _Decimal:
        return _Decimal(1).scaleb(-self.places)

    def clean(self, value: Any) -> _Decimal | None:
        if value is None or value == "":
            return None
        try:
            # A Decimal is exactly its str(): quantize it as it is.
            number = (
                value if value.__class__ is _Decimal else _Decimal(str(value).strip())
            ).quantize(self.quantum)
        except (InvalidOperation, ValueError):
            raise FieldError(number_message(value)) from None
        if not self.min_value <= number <= self.max_value:
            raise FieldError(range_message(value, self.min_value, self.max_value))
        return number

    def many(self, values: list[Any]) -> list[Any] | None:
        if not set(map(type, values)) <= {_Decimal, type(None)}:
            return None
        quantum = self.quantum
        try:
            numbers = [None if v is None else v.quantize(quantum) for v in values]
            present = [n for n in numbers if n is not None]
            if present and not (self.min_value <= min(present) and max(present) <= self.max_value):
                return None
        except (InvalidOperation, ValueError):
            return None  # each value again, the way ``clean`` reports it
        return numbers


# --- the declaration of an entity's fields ----------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One field of an entity, declared once.

    ``editable``: written through the entity's services (create/update, the API, the import).
    ``form``: on the edit page's form (default: ``editable``).
    ``api``: writable through the API (default: ``editable``); the API shows every field.
    ``tracked``: its changes go to the entity's history and audit trail.
    ``exported``: a column of the list's Excel export.
    ``imported``: the column header in the import template ("" = not imported); the header is
    part of the file format, so it is a fixed Chinese string, never translated.
    ``help``, ``example``, ``width``, ``default``: the import template's cell (``default`` is
    what a blank cell means). ``label`` defaults to the model field's verbose name.
    """

    name: str
    rule: Rule
    editable: bool = True
    form: bool | None = None
    api: bool | None = None
    tracked: bool = True
    exported: bool = True
    imported: str = ""
    label: Any = None
    required: bool = False
    help: Any = ""
    example: Any = ""
    width: int | None = None
    default: Any = None

    @property
    def on_form(self) -> bool:
        return self.editable if self.form is None else self.form

    @property
    def on_api(self) -> bool:
        return self.editable if self.api is None else self.api


_FLAG_PROPERTIES = {"form": "on_form", "api": "on_api"}


class Fields(tuple):
    """An entity's declared fields, in the order of its forms, exports and import template."""

    model: Any = None

    def __new__(cls, model, fields: Sequence[Field]):
        self = super().__new__(cls, fields)
        self.model = model
        return self

    def __getitem__(self, key):
        if isinstance(key, str):
            for item in self:
                if item.name == key:
                    return item
            raise KeyError(key)
        return super().__getitem__(key)

    def names(self, **flags: bool) -> list[str]:
        """The names of the fields whose flags have the given values, e.g. ``tracked=True``."""
        return [
            f.name
            for f in self
            if all(
                bool(getattr(f, _FLAG_PROPERTIES.get(flag, flag))) == wanted
                for flag, wanted in flags.items()
            )
        ]

    def label(self, name: str) -> Any:
        declared = self[name].label if any(f.name == name for f in self) else None
        return declared or self.model._meta.get_field(name).verbose_name

    def choice_labels(self) -> dict[str, dict[str, Any]]:
        """{field: {code: label}} for the fields whose values are codes of a vocabulary."""
        return {
            f.name: dict(f.rule.choices.choices)
            for f in self
            if isinstance(f.rule, (Choice, MultiChoice))
        }

    def imported(self) -> list[Field]:
        return [f for f in self if f.imported]
