#!/usr/bin/env python3
"""Provably fair draw engine for "双随机、一公开" spot checks (摇号引擎与公开验证脚本).

This one file is both

* the library the Django app imports to execute a draw (``execute``), to make a
  substitution (``object_substitution``, ``inspector_substitution``, or the underlying
  ``next_object_candidate`` and ``replacement_team``) and to check a record (``verify``), and
* the standalone script the public downloads to check a published draw record::

      python engine.py verify record.json [--manifest-hash HEX]   # "matches", exit 0; else exit 1
      python engine.py draw record.json [--json]                   # recompute and print the result
      python engine.py hash manifest-or-record.json                # print the manifest hash
      python engine.py order record.json STRATUM [--limit N]       # full verifiable order

It uses only the Python standard library (Python >= 3.9), integers and SHA-256; no floating
point is involved anywhere, so every conforming implementation gets the same bytes.

The procedure, in short (docs/draw-algorithm.md specifies every byte):

1. Before any randomness exists the bureau freezes a *manifest*: the pools of objects per
   stratum (key / general / special ...) with integer weights and coverage tiers, the quotas,
   the inspector registry and the team constraints. Its SHA-256 (``manifest_hash``) is published.
2. At the witnessed draw, witnesses contribute entropy (e.g. dice digits) and, optionally, a
   public value announced in advance is added (e.g. a lottery result). Version 3 takes them
   only in canonical form: exactly the declared number of ASCII digits each. ``seed`` is the SHA-256
   of a domain tag, the manifest hash and the canonical entropy.
3. Objects: in each stratum every object gets the score max(HMAC(seed, object|stratum|id|k)
   for k < weight); the verifiable order is (tier ascending, score descending, id ascending)
   and the first ``quota`` objects are drawn. This is Efraimidis–Spirakis weighted sampling
   without replacement with integer weights.
4. Inspectors: teams are assigned greedily, object by object, preferring the least loaded
   inspector, then one who did not inspect this source last time; among those each is equally
   likely: rejection sampling over the inspectors with that load, sorted by id, indexed by
   HMAC(seed, team|object|slot|k) mod their number (O(1) HMACs per pick). Version 3: no
   certified inspector goes on more than ``constraints.max_teams`` teams (unless nobody else
   can), and the leader is drawn among the team's certified members.
5. Substitutions approved after the draw (a closed source, a recusal) are appended to the
   record in approval order; ``verify`` replays them with the same seed.

Exit codes of the script: 0 matches / success, 1 differs or the input cannot be processed,
2 usage error.
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__":
    # Run as a script, Python puts this file's directory first on sys.path, where a sibling
    # file (the Django app's selectors.py, say) would shadow a standard-library module of
    # the same name. This file imports nothing from its directory, so drop it. (os and sys
    # are already loaded at interpreter start-up and cannot be shadowed.)
    _HERE = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import argparse
import bisect
import hashlib
import heapq
import json
import operator
import re
import secrets
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

__all__ = [
    "ALGORITHMS",
    "ALGORITHM_V2",
    "ALGORITHM_VERSION",
    "DEFAULT_DIGITS",
    "MAX_DIGITS",
    "MAX_INTEGER",
    "MAX_NAME",
    "FORMAT",
    "MAX_WEIGHT",
    "CanonicalJSONError",
    "ConstraintError",
    "EngineError",
    "EntropyError",
    "ManifestError",
    "SubstitutionError",
    "apply_substitutions",
    "assign_teams",
    "build_manifest",
    "build_manifest_encoded",
    "canonical_json",
    "check_manifest",
    "encode_built_manifest",
    "compute_seed",
    "default_team_share",
    "is_name_character",
    "max_teams_for",
    "execute",
    "inspector_substitution",
    "iter_selected",
    "iter_teams",
    "load_json",
    "manifest_hash",
    "next_object_candidate",
    "object_substitution",
    "normalise_entropy",
    "normalise_text",
    "pool_digest",
    "replacement_team",
    "select_objects",
    "stratum_order",
    "verify",
]

#: Value of ``manifest["format"]``: the layout of the manifest and of the record.
FORMAT = "sjsj-draw/1"
#: Value of ``manifest["algorithm"]`` for new draws: the seed derivation, scoring and team
#: rules below. Any change that can change a result for some input must change this string.
ALGORITHM_VERSION = "sjsj-es-hmac-sha256/3"
#: The previous version, still verified (and built on request, for old records and tests):
#: NFKC-normalised free-text entropy, unsalted pool digests, the first certified member leads,
#: no cap on an inspector's teams (docs §15).
ALGORITHM_V2 = "sjsj-es-hmac-sha256/2"
#: Every algorithm this engine executes and verifies.
ALGORITHMS = (ALGORITHM_V2, ALGORITHM_VERSION)
#: Integers anywhere in a manifest or record are at most this in absolute value (2**53 - 1,
#: the I-JSON / JavaScript safe range), so that every JSON library reads them exactly.
MAX_INTEGER = 2**53 - 1
#: Version 3 entropy: a witness value or the public value is exactly ``digits`` ASCII digits,
#: ``digits`` from 1 to MAX_DIGITS (6 by default, e.g. six dice); a witness name is 1 to
#: MAX_NAME characters of NAME_CHARACTERS.
DEFAULT_DIGITS = 6
MAX_DIGITS = 64
MAX_NAME = 50
MAX_WITNESSES = 99
#: Upper bound on an object's weight. Scoring costs ``weight`` HMACs per object, so the
#: bound keeps a hostile or mistaken manifest from making verification unbearably slow.
MAX_WEIGHT = 1000

SEED_DOMAIN = b"sjsj-seed/1\x00"
#: Version 3 pool digests are keyed with the manifest's secret salt (docs §4).
POOL_DOMAIN = b"sjsj-pool/3\x00"
LEADER_DOMAIN = b"leader\x00"

# Positions in the verify output are capped so that a changed seed (which changes every
# position) gives a readable report rather than 75,000 lines.
_MAX_REPORTED_POSITIONS = 20

# "Seed" accepted by the public functions: the raw 32 bytes or their lowercase hex.
Seed = Any  # bytes | str; spelled as Any so the module still runs on Python 3.9


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


class EngineError(Exception):
    """Base class of every error this module raises on bad input."""


class CanonicalJSONError(EngineError, ValueError):
    """A value cannot be put into canonical JSON (a float, a tuple, a non-string key...)."""


class ManifestError(EngineError, ValueError):
    """The manifest is malformed; the message names the offending place precisely."""


class EntropyError(EngineError, ValueError):
    """The entropy does not match the manifest's entropy specification."""


class ConstraintError(EngineError):
    """No team satisfying the constraints exists for a drawn object.

    ``object_id`` names the object and ``reason`` says why, e.g.
    "only 1 certified inspector without a conflict, team needs 2".
    """

    def __init__(
        self,
        object_id: str,
        reason: str,
        *,
        expertise: str | None = None,
        available: int | None = None,
        needed: int | None = None,
    ) -> None:
        super().__init__(f"source {object_id}: {reason}")
        self.object_id = object_id
        self.reason = reason
        # For callers that explain it in their own words: the missing expertise, or how
        # many certified inspectors were available against how many a team needs.
        self.expertise = expertise
        self.available = available
        self.needed = needed


# ---------------------------------------------------------------------------------------------
# Canonical JSON
# ---------------------------------------------------------------------------------------------


def _is_plain_json(value: Any) -> bool:
    """True when ``value`` uses only str/int/bool/None/list/dict with str keys.

    Iterative and path-free because pools hold hundreds of thousands of small dicts; the
    slow path in ``_check_json_value`` finds the place only once something is wrong.
    """
    stack = [value]
    pop, push = stack.pop, stack.append
    while stack:
        item = pop()
        kind = type(item)
        if kind is dict:
            for key in item:
                if type(key) is not str:
                    return False
            children: Iterable[Any] = item.values()
        elif kind is list:
            children = item
        else:
            if kind is str or kind is bool or item is None:
                continue
            if kind is int and -MAX_INTEGER <= item <= MAX_INTEGER:
                continue
            return False
        for sub in children:
            sub_kind = type(sub)
            if sub_kind is str or sub_kind is bool or sub is None:
                continue
            if sub_kind is int:
                if -MAX_INTEGER <= sub <= MAX_INTEGER:
                    continue
                return False
            if sub_kind is dict or sub_kind is list:
                push(sub)
                continue
            return False
    return True


def _check_json_value(value: Any, path: str) -> None:
    """Raise CanonicalJSONError, naming the place, unless ``value`` is plain JSON data."""
    if _is_plain_json(value):
        return
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is int:
            if -MAX_INTEGER <= item <= MAX_INTEGER:
                continue
            raise CanonicalJSONError(
                f"{where}: {_show(item)} is outside the integer range "
                "-(2**53 - 1) .. 2**53 - 1 (docs §2)"
            )
        if kind is dict:
            for key, sub in item.items():
                if type(key) is not str:
                    raise CanonicalJSONError(
                        f"{where}: object keys must be strings, got {type(key).__name__} {key!r}"
                    )
                stack.append((sub, f"{where}.{key}"))
            continue
        if kind is list:
            stack.extend((sub, f"{where}[{index}]") for index, sub in enumerate(item))
            continue
        if kind is float:
            raise CanonicalJSONError(
                f"{where}: floats are not allowed (got {item!r}); use integers or strings"
            )
        raise CanonicalJSONError(
            f"{where}: {kind.__name__} is not allowed; only str, int, bool, None, list and dict"
        )


def _show(value: Any) -> str:
    """``repr(value)`` for a message, safe for integers too long to print (Python refuses to
    convert an integer of more than 4,300 digits to text)."""
    if type(value) is int and not -MAX_INTEGER <= value <= MAX_INTEGER:
        return f"an integer of {value.bit_length()} bits"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def canonical_json(obj: Any) -> bytes:
    """Return the canonical UTF-8 JSON encoding of ``obj``.

    Contract: ``json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))``
    encoded as UTF-8, after checking that ``obj`` contains only str, int, bool, None, list
    and dict with str keys (floats, tuples, sets, non-str keys and lone surrogates raise
    CanonicalJSONError). Equal data therefore always gives equal bytes.
    """
    _check_json_value(obj, "$")
    return _dump(obj)


def encode_built_manifest(manifest: Mapping[str, Any]) -> bytes:
    """``canonical_json(manifest)`` for a manifest just returned by ``build_manifest``.

    ``build_manifest`` has checked that everything in it is plain JSON, so the check is not
    repeated (it costs as much as the encoding for a pool of 100,000 objects). Its SHA-256
    is the manifest hash.
    """
    return _dump(manifest)


def _dump(obj: Any) -> bytes:
    """``canonical_json`` without the type check, for data already known to be plain JSON."""
    text = json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CanonicalJSONError(
            f"string contains a lone surrogate (not valid Unicode text): {exc}"
        ) from None


#: A character ``json.dumps(..., ensure_ascii=False)`` writes otherwise than as itself.
_JSON_ESCAPED = re.compile(r'[\x00-\x1f"\\]')


def _dump_pool(pool: list[dict[str, Any]]) -> bytes:
    """``_dump(pool)`` for a stratum pool whose entries passed the pool checks: each exactly
    ``{"id": str, "weight": int, "tier": int}``. Written directly, keys in canonical order,
    when no id has a character JSON escapes (the same bytes, in half the time of
    ``json.dumps`` for 100,000 entries); otherwise by ``_dump``."""
    if not pool or _JSON_ESCAPED.search("".join([entry["id"] for entry in pool])):
        return _dump(pool)
    text = (
        '[{"id":"'
        + '},{"id":"'.join(
            [f'{entry["id"]}","tier":{entry["tier"]},"weight":{entry["weight"]}' for entry in pool]
        )
        + "}]"
    )
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CanonicalJSONError(
            f"string contains a lone surrogate (not valid Unicode text): {exc}"
        ) from None


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pool_digest(pool: list[Any], salt: str | None = None) -> str:
    """The fingerprint of a frozen pool list (docs §4): with ``salt`` (a version 3 manifest's
    64 hex digits), hex HMAC-SHA256(salt, "sjsj-pool/3" 0x00 canonical_json(pool)); without,
    the version 2 digest, SHA-256 hex of ``canonical_json(pool)``."""
    if salt is None:
        return _sha256_hex(canonical_json(pool))
    if not _is_salt(salt):
        raise ManifestError("salt: must be 64 lowercase hex digits")
    return _HmacSha256(bytes.fromhex(salt))(POOL_DOMAIN + canonical_json(pool)).hex()


def manifest_hash(manifest: Mapping[str, Any]) -> str:
    """SHA-256 hex of ``canonical_json(manifest)``; published before the draw."""
    return _sha256_hex(canonical_json(manifest))


def _manifest_hash_from_pools(
    manifest: Any, pools: Sequence[bytes], inspector_pool: bytes, *, checked: bool = False
) -> str:
    """``manifest_hash(manifest)``, given ``canonical_json`` of every stratum pool (in order)
    and of the inspector pool, so that the largest parts are not encoded twice.

    ``checked``: the manifest passed ``_check_manifest`` with digests, which makes all of it
    plain JSON, so the other members need not be walked before they are encoded either.
    """
    chunks = _canonical_chunks(manifest, pools, inspector_pool, checked=checked)
    if chunks is None:
        return manifest_hash(manifest)
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def _canonical_chunks(
    manifest: Any, pools: Sequence[bytes], inspector_pool: bytes, *, checked: bool
) -> list[bytes] | None:
    """``canonical_json(manifest)`` as a list of byte strings, reusing the encoded pools.

    The members around the pools are written in canonical order by hand; that needs the
    exact layout of docs §3 at the levels above the pools. None when the manifest does not
    have that layout (the caller then encodes it the plain way).
    """
    encode = _dump if checked else canonical_json
    if type(manifest) is not dict:
        return None
    strata, people = manifest.get("strata"), manifest.get("inspectors")
    if not (
        set(manifest) == set(_manifest_keys(manifest.get("algorithm")))
        and type(strata) is list
        and len(strata) == len(pools)
        and all(type(s) is dict and set(s) == set(_STRATUM_KEYS) for s in strata)
        and type(people) is dict
        and set(people) == {"pool", "pool_digest"}
    ):
        return None
    chunks: list[bytes] = []
    add = chunks.append
    for key in ("algorithm", "constraints", "draw", "entropy_spec", "format"):
        add(b'{"' if key == "algorithm" else b',"')
        add(key.encode("ascii") + b'":')
        add(encode(manifest[key]))
    add(b',"inspectors":{"pool":')
    add(inspector_pool)
    add(b',"pool_digest":' + canonical_json(people["pool_digest"]) + b"}")
    if "salt" in manifest:
        add(b',"salt":' + encode(manifest["salt"]))
    add(b',"strata":[')
    for index, stratum in enumerate(strata):
        add(b'{"name":' if index == 0 else b',{"name":')
        add(canonical_json(stratum["name"]) + b',"pool":')
        add(pools[index])
        add(b',"pool_digest":' + canonical_json(stratum["pool_digest"]))
        add(b',"quota":' + canonical_json(stratum["quota"]) + b"}")
    add(b"]}")
    return chunks


def load_json(text: str | bytes) -> Any:
    """Parse JSON strictly: floats, NaN/Infinity and duplicate object keys are rejected.

    Duplicate keys are rejected because different JSON parsers keep different duplicates,
    which would let one file mean two different things.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8-sig")
    elif text.startswith("\ufeff"):
        text = text[1:]

    def no_float(token: str) -> Any:
        raise CanonicalJSONError(f"floats are not allowed in a draw file (found {token})")

    def bounded_int(token: str) -> int:
        # Checked on the digits, before int() (which refuses more than 4,300 digits with a
        # bare ValueError): 2**53 - 1 has 16 digits.
        if len(token.lstrip("-")) > 16 or not -MAX_INTEGER <= int(token) <= MAX_INTEGER:
            raise CanonicalJSONError(
                f"integer {token[:20]}{'...' if len(token) > 20 else ''} is outside the range "
                "-(2**53 - 1) .. 2**53 - 1 (docs §2)"
            )
        return int(token)

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise CanonicalJSONError(f"duplicate key {key!r} in a JSON object")
            result[key] = value
        return result

    try:
        return json.loads(
            text,
            parse_float=no_float,
            parse_constant=no_float,
            parse_int=bounded_int,
            object_pairs_hook=no_duplicates,
        )
    except RecursionError:
        raise CanonicalJSONError("the JSON is nested too deeply") from None


# ---------------------------------------------------------------------------------------------
# HMAC-SHA256
# ---------------------------------------------------------------------------------------------

_TRANS_36 = bytes(x ^ 0x36 for x in range(256))
_TRANS_5C = bytes(x ^ 0x5C for x in range(256))


class _HmacSha256:
    """HMAC-SHA256 (RFC 2104) under one fixed key.

    Output is identical to ``hmac.digest(key, msg, "sha256")``; the padded key blocks are
    hashed once and the states copied per message, which is ~2.5x faster than the one-shot
    call for the short messages used here (it skips re-deriving the key schedule each time).
    """

    __slots__ = ("inner", "outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > 64:
            key = hashlib.sha256(key).digest()
        key = key.ljust(64, b"\x00")
        self.inner = hashlib.sha256(key.translate(_TRANS_36))
        self.outer = hashlib.sha256(key.translate(_TRANS_5C))

    def __call__(self, message: bytes) -> bytes:
        inner = self.inner.copy()
        inner.update(message)
        outer = self.outer.copy()
        outer.update(inner.digest())
        return outer.digest()


def _seed_bytes(seed: Seed) -> bytes:
    if isinstance(seed, str):
        try:
            raw = bytes.fromhex(seed)
        except ValueError:
            raise EngineError(f"seed must be 64 hex digits, got {seed!r}") from None
    elif isinstance(seed, (bytes, bytearray)):
        raw = bytes(seed)
    else:
        raise EngineError(f"seed must be bytes or hex str, got {type(seed).__name__}")
    if len(raw) != 32:
        raise EngineError(f"seed must be 32 bytes, got {len(raw)}")
    return raw


# ---------------------------------------------------------------------------------------------
# Manifest
# ---------------------------------------------------------------------------------------------

_MANIFEST_KEYS = (
    "algorithm",
    "constraints",
    "draw",
    "entropy_spec",
    "format",
    "inspectors",
    "strata",
)
_MANIFEST_KEYS_V3 = tuple(sorted((*_MANIFEST_KEYS, "salt")))
_STRATUM_KEYS = ("name", "pool", "pool_digest", "quota")
_OBJECT_KEYS = ("id", "tier", "weight")
_INSPECTOR_KEYS = ("certified", "expert", "expertise", "id", "name")
_CONSTRAINT_KEYS = ("conflicts", "previous", "requires")
_HEX = frozenset("0123456789abcdef")


def _manifest_keys(algorithm: Any) -> tuple[str, ...]:
    return _MANIFEST_KEYS if algorithm == ALGORITHM_V2 else _MANIFEST_KEYS_V3


def _is_salt(value: Any) -> bool:
    return type(value) is str and len(value) == 64 and set(value) <= _HEX


def _digest_function(manifest: Any) -> Any:
    """How this manifest's pool digests are made (docs §4): SHA-256 of the pool for version
    2; for version 3, HMAC-SHA256 keyed with the manifest's salt. None when a version 3
    manifest has no valid salt (its check reports that)."""
    if type(manifest) is dict and manifest.get("algorithm") == ALGORITHM_V2:
        return _sha256_hex
    salt: Any = manifest.get("salt") if type(manifest) is dict else None
    if not _is_salt(salt):
        return None
    mac = _HmacSha256(bytes.fromhex(salt))
    return lambda encoded: mac(POOL_DOMAIN + encoded).hex()


def _is_int(value: Any) -> bool:
    # bool is a subclass of int and must not pass (docs §2: true is not 1)
    return type(value) is int and -MAX_INTEGER <= value <= MAX_INTEGER


def _require_keys(value: Any, keys: Sequence[str], where: str) -> None:
    if type(value) is not dict:
        raise ManifestError(f"{where}: must be an object, got {type(value).__name__}")
    if len(value) != len(keys) or any(k not in value for k in keys):
        missing = [k for k in keys if k not in value]
        extra = sorted(k for k in value if k not in keys)
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing))
        if extra:
            parts.append("unexpected " + ", ".join(map(str, extra)))
        raise ManifestError(f"{where}: {'; '.join(parts)} (fields are {', '.join(keys)})")


def _check_identifier(value: Any, where: str) -> None:
    # NUL separates the fields of HMAC messages; forbidding it in names keeps every
    # message uniquely decodable ("a\0b"+"c" can never collide with "a"+"b\0c").
    if type(value) is not str or not value:
        raise ManifestError(f"{where}: must be a non-empty string, got {value!r}")
    if "\x00" in value:
        raise ManifestError(f"{where}: must not contain the NUL character")


def _check_sorted_strings(value: Any, where: str, what: str) -> None:
    if type(value) is not list:
        raise ManifestError(f"{where}: must be a list of {what}")
    previous: str | None = None
    for index, item in enumerate(value):
        _check_identifier(item, f"{where}[{index}]")
        if previous is not None and item <= previous:
            problem = "duplicate" if item == previous else "not sorted"
            raise ManifestError(
                f"{where}: {problem} entry {item!r} (the list must be sorted and without "
                "duplicates; build_manifest does this)"
            )
        previous = item


def _is_sorted_names(value: Any) -> bool:
    """What ``_check_sorted_strings`` accepts, as a quick yes or no."""
    if type(value) is not list:
        return False
    if not value:
        return True
    if set(map(type, value)) != {str} or "" in value or "\x00" in "".join(value):
        return False
    return len(value) == 1 or all(map(operator.lt, value, value[1:]))


def _check_digest(value: Any, recomputed: str, where: str, what: str) -> None:
    if type(value) is not str or len(value) != 64 or not set(value) <= _HEX:
        raise ManifestError(f"{where}: must be 64 lowercase hex digits")
    if value != recomputed:
        raise ManifestError(
            f"{where}: pool digest differs — the {what} list was changed "
            f"(recorded {value}, recomputed {recomputed})"
        )


def _explain_pool_entry(
    entry: Any, index: int, name: str, previous_id: str | None, owner: Mapping[str, str]
) -> None:
    """Raise the precise ManifestError for an invalid object pool entry."""
    where = f"stratum {name}"
    _require_keys(entry, _OBJECT_KEYS, f"{where}, pool[{index}]")
    oid = entry["id"]
    _check_identifier(oid, f"{where}, pool[{index}].id")
    if previous_id is not None and oid <= previous_id:
        if oid == previous_id:
            raise ManifestError(f"{where}: duplicate object id {oid}")
        raise ManifestError(f"{where}: pool is not sorted by id ({oid} comes after {previous_id})")
    if oid in owner:
        raise ManifestError(f"object id {oid} appears in strata {owner[oid]} and {name}")
    weight, tier = entry["weight"], entry["tier"]
    if not _is_int(weight) or not 1 <= weight <= MAX_WEIGHT:
        raise ManifestError(
            f"{where}, object {oid}: weight must be an integer from 1 to {MAX_WEIGHT}, "
            f"got {_show(weight)}"
        )
    if not _is_int(tier) or tier < 0:
        raise ManifestError(
            f"{where}, object {oid}: tier must be an integer >= 0 (and at most 2**53 - 1), "
            f"got {_show(tier)}"
        )
    raise AssertionError("unreachable: the entry passed every check")  # pragma: no cover


def check_manifest(manifest: Any) -> None:
    """Validate a manifest completely; raise ManifestError naming the first problem.

    Checks: the exact set of fields at every level; format and algorithm versions; non-empty
    unique stratum names; object and inspector ids are non-empty, NUL-free strings, pools are
    sorted by id without duplicates and no object is in two strata; weights are integers in
    [1, MAX_WEIGHT], tiers integers >= 0, 0 <= quota <= pool size; inspectors are not both
    certified and expert; expertise/requires/conflicts/previous lists are sorted and unique,
    and reference known objects and inspectors; team_size >= 2; the entropy specification
    asks for at least one source of entropy; every pool digest matches; everything is
    canonical JSON (no floats).
    """
    _check_manifest(manifest, check_digests=True)


def _valid_pool_ids(pool: list[Any], owner: dict[str, str]) -> list[str] | None:
    """Check every pool entry at once, with C-level loops (pools can hold 300,000 entries).

    Returns the ids when each entry is {"id", "weight", "tier"} with a non-empty NUL-free string id,
    ids strictly increasing and not in ``owner`` (another stratum), integer weights in
    [1, MAX_WEIGHT] and integer tiers >= 0. None sends the caller to the entry-by-entry
    check, which finds the first bad entry and says what is wrong with it.
    """
    if not pool:
        return []
    if set(map(type, pool)) != {dict} or set(map(len, pool)) != {3}:
        return None
    try:
        ids = list(map(operator.itemgetter("id"), pool))
        weights = list(map(operator.itemgetter("weight"), pool))
        tiers = list(map(operator.itemgetter("tier"), pool))
    except KeyError:
        return None
    if set(map(type, ids)) != {str} or set(map(type, weights)) != {int}:
        return None
    if set(map(type, tiers)) != {int}:
        return None
    valid = (
        ids[0] != ""
        and all(map(operator.lt, ids, ids[1:]))  # sorted, no duplicates
        and "\x00" not in "".join(ids)
        and owner.keys().isdisjoint(ids)
        and min(weights) >= 1
        and max(weights) <= MAX_WEIGHT
        and min(tiers) >= 0
        and max(tiers) <= MAX_INTEGER
    )
    return ids if valid else None


def _check_manifest(manifest: Any, *, check_digests: bool) -> list[bytes]:
    """Validate (see ``check_manifest``). With ``check_digests``, return ``canonical_json``
    of every stratum pool and, last, of the inspector pool (for ``_manifest_hash_from_pools``);
    otherwise an empty list."""
    encoded: list[bytes] = []
    algorithm = manifest.get("algorithm") if type(manifest) is dict else None
    if algorithm is not None and algorithm not in ALGORITHMS:
        raise ManifestError(
            f"manifest.algorithm: is {_show(algorithm)}, this engine implements "
            f"{' and '.join(map(repr, ALGORITHMS))}"
        )
    _require_keys(manifest, _manifest_keys(algorithm), "manifest")
    if manifest["format"] != FORMAT:
        raise ManifestError(
            f"manifest.format: is {manifest['format']!r}, this engine implements {FORMAT!r}"
        )
    if algorithm not in ALGORITHMS:
        raise ManifestError(
            f"manifest.algorithm: is {_show(algorithm)}, this engine implements "
            f"{' and '.join(map(repr, ALGORITHMS))}"
        )
    if algorithm != ALGORITHM_V2 and not _is_salt(manifest["salt"]):
        raise ManifestError(
            "manifest.salt: must be 64 lowercase hex digits (32 secret random bytes)"
        )
    digest_of = _digest_function(manifest)
    draw = manifest["draw"]
    if type(draw) is not dict:
        raise ManifestError("manifest.draw: must be an object of descriptive fields")
    try:
        _check_json_value(draw, "manifest.draw")
    except CanonicalJSONError as exc:
        raise ManifestError(str(exc)) from None

    strata = manifest["strata"]
    if type(strata) is not list or not strata:
        raise ManifestError("manifest.strata: must be a non-empty list")
    owner: dict[str, str] = {}  # object id -> stratum name, to catch cross-strata duplicates
    names: set[str] = set()
    for s_index, stratum in enumerate(strata):
        where = f"strata[{s_index}]"
        _require_keys(stratum, _STRATUM_KEYS, where)
        name = stratum["name"]
        _check_identifier(name, f"{where}.name")
        where = f"stratum {name}"
        if name in names:
            raise ManifestError(f"{where}: duplicate stratum name")
        names.add(name)
        pool = stratum["pool"]
        if type(pool) is not list:
            raise ManifestError(f"{where}: pool must be a list")
        ids = _valid_pool_ids(pool, owner)
        if ids is not None:
            owner.update(dict.fromkeys(ids, name))
        else:
            _check_pool_entries(pool, name, owner)
        quota = stratum["quota"]
        if not _is_int(quota) or quota < 0:
            raise ManifestError(f"{where}: quota must be an integer >= 0, got {_show(quota)}")
        if quota > len(pool):
            raise ManifestError(f"{where}: quota {quota} exceeds the pool size {len(pool)}")
        if check_digests:
            # The entries were just checked, so the pool is plain JSON: no need to walk it.
            encoded.append(_dump_pool(pool))
            _check_digest(stratum["pool_digest"], digest_of(encoded[-1]), f"stratum {name}", "pool")
    _check_rest(manifest, owner, check_digests, encoded, digest_of)
    return encoded


def _check_pool_entries(pool: list[Any], name: str, owner: dict[str, str]) -> None:
    """Entry by entry: raise the precise ManifestError for the first invalid entry."""
    previous_id: str | None = None
    for o_index, entry in enumerate(pool):
        try:
            oid, weight, tier = entry["id"], entry["weight"], entry["tier"]
            valid = (
                type(entry) is dict
                and len(entry) == 3
                and type(oid) is str
                and oid != ""
                and "\x00" not in oid
                and (previous_id is None or oid > previous_id)
                and oid not in owner
                and type(weight) is int
                and 1 <= weight <= MAX_WEIGHT
                and type(tier) is int
                and 0 <= tier <= MAX_INTEGER
            )
        except (KeyError, TypeError):
            valid = False
        if not valid:
            _explain_pool_entry(entry, o_index, name, previous_id, owner)
        owner[oid] = name
        previous_id = oid


def _check_rest(
    manifest: Mapping[str, Any],
    owner: dict[str, str],
    check_digests: bool,
    encoded: list[bytes],
    digest_of: Any,
) -> None:
    """``_check_manifest`` after the strata: inspectors, constraints, entropy specification."""
    inspectors = manifest["inspectors"]
    _require_keys(inspectors, ("pool", "pool_digest"), "manifest.inspectors")
    i_pool = inspectors["pool"]
    if type(i_pool) is not list:
        raise ManifestError("inspectors: pool must be a list")
    known_inspectors: set[str] = set()
    previous_id = None
    for i_index, person in enumerate(i_pool):
        where = f"inspectors, pool[{i_index}]"
        _require_keys(person, _INSPECTOR_KEYS, where)
        pid = person["id"]
        _check_identifier(pid, f"{where}.id")
        where = f"inspector {pid}"
        if previous_id is not None and pid <= previous_id:
            if pid == previous_id:
                raise ManifestError(f"inspectors: duplicate inspector id {pid}")
            raise ManifestError(
                f"inspectors: pool is not sorted by id ({pid} comes after {previous_id})"
            )
        previous_id = pid
        known_inspectors.add(pid)
        if type(person["name"]) is not str:
            raise ManifestError(f"{where}: name must be a string")
        for flag in ("certified", "expert"):
            if type(person[flag]) is not bool:
                raise ManifestError(f"{where}: {flag} must be true or false")
        if person["certified"] and person["expert"]:
            raise ManifestError(
                f"{where}: certified and expert are exclusive (a technical expert is not "
                "enforcement staff; certified staff with a specialty list it in expertise)"
            )
        _check_sorted_strings(person["expertise"], f"{where}.expertise", "expertise names")
    if check_digests:
        encoded.append(_dump(i_pool))  # checked just above: plain JSON
        _check_digest(inspectors["pool_digest"], digest_of(encoded[-1]), "inspectors", "inspector")

    v2 = manifest["algorithm"] == ALGORITHM_V2
    constraints = manifest["constraints"]
    _require_keys(
        constraints,
        ("objects", "team_size") if v2 else ("max_teams", "objects", "team_size"),
        "manifest.constraints",
    )
    if not v2 and (not _is_int(constraints["max_teams"]) or constraints["max_teams"] < 1):
        raise ManifestError(
            "constraints.max_teams: must be an integer >= 1 (the most teams a certified "
            f"inspector may be on), got {_show(constraints['max_teams'])}"
        )
    team_size = constraints["team_size"]
    if not _is_int(team_size) or team_size < 2:
        raise ManifestError(
            f"constraints.team_size: must be an integer >= 2 (teams have at least two "
            f"inspectors), got {_show(team_size)}"
        )
    per_object = constraints["objects"]
    if type(per_object) is not dict:
        raise ManifestError("constraints.objects: must be an object keyed by object id")
    rule_keys = set(_CONSTRAINT_KEYS)
    for oid, rule in per_object.items():
        # Fast path (a county has tens of thousands of rules); the checks below say what is
        # wrong only when something is.
        if oid in owner and type(rule) is dict and rule.keys() == rule_keys:
            requires, conflicts, previous = rule["requires"], rule["conflicts"], rule["previous"]
            if (
                type(requires) is list
                and type(conflicts) is list
                and type(previous) is list
                and (not requires or _is_sorted_names(requires))
                and (
                    not conflicts
                    or (_is_sorted_names(conflicts) and known_inspectors.issuperset(conflicts))
                )
                and (
                    not previous
                    or (_is_sorted_names(previous) and known_inspectors.issuperset(previous))
                )
            ):
                continue
        where = f"constraints, object {oid}"
        if oid not in owner:
            raise ManifestError(f"{where}: not in any stratum pool")
        _require_keys(rule, _CONSTRAINT_KEYS, where)
        _check_sorted_strings(rule["requires"], f"{where}.requires", "expertise names")
        for field in ("conflicts", "previous"):
            _check_sorted_strings(rule[field], f"{where}.{field}", "inspector ids")
            for pid in rule[field]:
                if pid not in known_inspectors:
                    raise ManifestError(f"{where}.{field}: unknown inspector {pid}")

    spec = manifest["entropy_spec"]
    if not v2:
        _check_entropy_spec(spec)
        return
    _require_keys(spec, ("public_value", "witnesses"), "manifest.entropy_spec")
    witnesses = spec["witnesses"]
    if not _is_int(witnesses) or witnesses < 0:
        raise ManifestError(f"entropy_spec.witnesses: must be an integer >= 0, got {witnesses!r}")
    description = spec["public_value"]
    if description is not None and (type(description) is not str or not description.strip()):
        raise ManifestError(
            "entropy_spec.public_value: must be null or a non-empty description of the "
            "public value (e.g. which lottery draw) announced before the draw"
        )
    if witnesses == 0 and description is None:
        raise ManifestError(
            "entropy_spec: needs at least one witness or a public value; without entropy "
            "the result would be known from the manifest alone"
        )


def _check_entropy_spec(spec: Any) -> None:
    """Version 3: ``{"witnesses": 1..MAX_WITNESSES, "digits": 1..MAX_DIGITS, "public_value":
    null or {"description": non-empty text without NUL, "digits": 1..MAX_DIGITS}}``."""
    where = "manifest.entropy_spec"
    _require_keys(spec, ("digits", "public_value", "witnesses"), where)
    witnesses, digits = spec["witnesses"], spec["digits"]
    if not _is_int(witnesses) or not 1 <= witnesses <= MAX_WITNESSES:
        raise ManifestError(
            f"entropy_spec.witnesses: must be an integer from 1 to {MAX_WITNESSES} (version 3 "
            f"takes at least one witness value), got {_show(witnesses)}"
        )
    if not _is_int(digits) or not 1 <= digits <= MAX_DIGITS:
        raise ManifestError(
            f"entropy_spec.digits: must be an integer from 1 to {MAX_DIGITS}, got {_show(digits)}"
        )
    public = spec["public_value"]
    if public is None:
        return
    _require_keys(public, ("description", "digits"), "entropy_spec.public_value")
    description, digits = public["description"], public["digits"]
    if type(description) is not str or not description.strip() or "\x00" in description:
        raise ManifestError(
            "entropy_spec.public_value.description: must name the public value's source "
            "(e.g. which lottery draw), non-empty and without NUL"
        )
    if not _is_int(digits) or not 1 <= digits <= MAX_DIGITS:
        raise ManifestError(
            f"entropy_spec.public_value.digits: must be an integer from 1 to {MAX_DIGITS}, "
            f"got {_show(digits)}"
        )


def default_team_share(team_size: int, certified: int) -> int:
    """The default ``max_team_share`` in percent (docs §8): three times an inspector's average
    share of the teams (team_size / certified), at least 25 and at most 100."""
    if certified <= 0:
        return 100
    return min(100, max(25, -(-300 * team_size // certified)))


def max_teams_for(share: int, teams: int) -> int:
    """``constraints.max_teams`` for a share in percent of a draw of ``teams`` teams:
    ceil(share * teams / 100), at least 1."""
    return max(1, -(-share * teams // 100))


def _as_str(value: Any, where: str) -> str:
    if type(value) is not str:
        raise ManifestError(f"{where}: must be a string, got {type(value).__name__} {value!r}")
    return value


def _sorted_unique(values: Iterable[Any] | None, where: str) -> list[str]:
    if values is None:
        return []
    if isinstance(values, (str, bytes)):
        raise ManifestError(f"{where}: must be a list of strings, not a single string")
    return sorted({_as_str(v, where) for v in values})


def _build(
    *,
    draw: Mapping[str, Any],
    strata: Sequence[Mapping[str, Any]],
    inspectors: Sequence[Mapping[str, Any]],
    witnesses: int,
    public_value: Any = None,
    team_size: int = 2,
    constraints: Mapping[str, Mapping[str, Any]] | None = None,
    digits: int = DEFAULT_DIGITS,
    max_team_share: int | None = None,
    salt: str | None = None,
    algorithm: str = ALGORITHM_VERSION,
    share: bool = False,
) -> tuple[dict[str, Any], list[bytes], bytes]:
    """``build_manifest``, also returning the encoded pools (to reuse their bytes)."""
    built_strata: list[dict[str, Any]] = []
    for s_index, stratum in enumerate(strata):
        name = _as_str(stratum.get("name"), f"strata[{s_index}].name")
        pool = _manifest_form(stratum.get("pool", ()), share)
        if pool is None:
            pool = []
            for o_index, entry in enumerate(stratum.get("pool", ())):
                where = f"stratum {name}, pool[{o_index}]"
                if isinstance(entry, str):
                    pool.append({"id": entry, "weight": 1, "tier": 0})
                else:
                    pool.append(
                        {
                            "id": _as_str(entry.get("id"), f"{where}.id"),
                            "weight": entry.get("weight", 1),
                            "tier": entry.get("tier", 0),
                        }
                    )
            pool.sort(key=lambda item: item["id"])
        built_strata.append(
            {
                "name": name,
                "quota": stratum.get("quota"),
                "pool": pool,
                "pool_digest": "",  # filled in below, once the pool is final
            }
        )
    people = []
    for i_index, person in enumerate(inspectors):
        where = f"inspectors[{i_index}]"
        people.append(
            {
                "id": _as_str(person.get("id"), f"{where}.id"),
                "name": _as_str(person.get("name", ""), f"{where}.name"),
                "certified": person.get("certified"),
                "expert": person.get("expert", False),
                "expertise": _sorted_unique(person.get("expertise"), f"{where}.expertise"),
            }
        )
    people.sort(key=lambda item: item["id"])
    known = {person["id"] for person in people}
    rules: dict[str, Any] = {}
    for oid, rule in (constraints or {}).items():
        where = f"constraints[{oid!r}]"
        unknown = set(rule) - set(_CONSTRAINT_KEYS)
        if unknown:
            raise ManifestError(f"{where}: unexpected {', '.join(sorted(map(str, unknown)))}")
        entry = {k: _sorted_unique(rule.get(k), f"{where}.{k}") for k in _CONSTRAINT_KEYS}
        # An inspector outside the pool can never be drawn, so naming them cannot change the
        # result (e.g. last time's inspector who has since retired): leave them out.
        for field in ("conflicts", "previous"):
            entry[field] = [pid for pid in entry[field] if pid in known]
        if any(entry.values()):
            rules[_as_str(oid, where)] = entry
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "algorithm": algorithm,
        "draw": dict(draw),
        "strata": built_strata,
        "inspectors": {"pool": people, "pool_digest": ""},
        "constraints": {"team_size": team_size, "objects": rules},
        "entropy_spec": {"witnesses": witnesses, "public_value": public_value},
    }
    if algorithm != ALGORITHM_V2:
        # Secret until the manifest is published: it keys the pool digests, so a digest
        # shown early cannot be tested against a guessed pool (docs §1, §4).
        manifest["salt"] = secrets.token_hex(32) if salt is None else salt
        manifest["entropy_spec"]["digits"] = digits
        if isinstance(public_value, str):
            raise ManifestError(
                'entropy_spec.public_value: version 3 takes {"description": ..., "digits": n}'
            )
        if public_value is not None:
            manifest["entropy_spec"]["public_value"] = {
                "description": public_value.get("description"),
                "digits": public_value.get("digits", DEFAULT_DIGITS),
            }
        certified = sum(1 for p in people if p["certified"] is True)
        teams = sum(q for q in (st["quota"] for st in built_strata) if _is_int(q))
        if max_team_share is None:
            max_team_share = default_team_share(team_size if _is_int(team_size) else 2, certified)
        if not _is_int(max_team_share) or not 1 <= max_team_share <= 100:
            raise ManifestError(
                f"max_team_share: must be a whole percentage from 1 to 100, got "
                f"{_show(max_team_share)}"
            )
        manifest["constraints"]["max_teams"] = max_teams_for(max_team_share, teams)
    # Validate before hashing so that a float or a bad weight is reported with its place,
    # not as a digest problem.
    _check_manifest(manifest, check_digests=False)
    digest_of = _digest_function(manifest)
    # Already checked above: encode without walking the pools a second time, and keep the
    # bytes, which are also the largest part of the manifest's own encoding.
    encoded_pools = []
    for stratum in built_strata:
        encoded_pools.append(_dump_pool(stratum["pool"]))
        stratum["pool_digest"] = digest_of(encoded_pools[-1])
    encoded_people = _dump(people)
    manifest["inspectors"]["pool_digest"] = digest_of(encoded_people)
    return manifest, encoded_pools, encoded_people


def build_manifest(
    *,
    draw: Mapping[str, Any],
    strata: Sequence[Mapping[str, Any]],
    inspectors: Sequence[Mapping[str, Any]],
    witnesses: int,
    public_value: Any = None,
    team_size: int = 2,
    constraints: Mapping[str, Mapping[str, Any]] | None = None,
    digits: int = DEFAULT_DIGITS,
    max_team_share: int | None = None,
    salt: str | None = None,
    algorithm: str = ALGORITHM_VERSION,
) -> dict[str, Any]:
    """Assemble a canonical manifest from plain data, validate it and return it.

    * ``draw``: descriptive fields (draw id, org code and name, period, plan...).
    * ``strata``: ``[{"name": str, "quota": int, "pool": [...]}]`` in the order teams are
      processed; a pool entry is an id string or ``{"id": str, "weight": int = 1,
      "tier": int = 0}``. Pools are sorted by id and their digests filled in.
    * ``inspectors``: ``[{"id", "name", "certified": bool, "expert": bool = False,
      "expertise": [str] = []}]``, sorted by id here.
    * ``constraints``: ``{object_id: {"requires": [...], "conflicts": [...],
      "previous": [...]}}``; missing lists are empty, lists are sorted and de-duplicated,
      inspector ids not in ``inspectors`` are dropped from conflicts/previous (they cannot
      be drawn, so they cannot matter), and entries left with nothing in them are dropped
      (a 300,000-object pool should not carry 300,000 empty entries). ``check_manifest``
      itself is strict and rejects unknown inspector ids.
    * ``witnesses``/``digits``/``public_value``: the entropy specification: how many
      witness values, how many digits each, and the public value, None or
      ``{"description": its source, fixed now, from an event after the commitment,
      "digits": n}`` (version 2: a description string or None; no ``digits``).
    * ``max_team_share``: the most teams a certified inspector may be on, in percent of the
      draw's teams (default ``default_team_share``); stored as ``constraints.max_teams``.
    * ``salt``: 64 hex digits keying the pool digests (default: 32 fresh random bytes).
    * ``algorithm``: ``ALGORITHM_VERSION``, or ``ALGORITHM_V2`` to rebuild an old manifest
      (no salt, digits or cap).

    Raises ManifestError (see ``check_manifest``) when the result would be invalid.
    """
    return _build(
        draw=draw,
        strata=strata,
        inspectors=inspectors,
        witnesses=witnesses,
        public_value=public_value,
        team_size=team_size,
        constraints=constraints,
        digits=digits,
        max_team_share=max_team_share,
        salt=salt,
        algorithm=algorithm,
    )[0]


def build_manifest_encoded(**kwargs: Any) -> tuple[dict[str, Any], bytes]:
    """``build_manifest`` (same keyword arguments) and ``canonical_json`` of the result, whose
    SHA-256 is the manifest hash; each pool is encoded once, for its digest and the whole.

    A pool given as a list of ``{"id", "tier", "weight"}`` dicts is used as it is, not
    copied: the caller must not change it afterwards.
    """
    manifest, pools, people = _build(**kwargs, share=True)
    chunks = _canonical_chunks(manifest, pools, people, checked=True)
    if chunks is None:  # pragma: no cover - _build makes exactly the canonical layout
        raise AssertionError("a built manifest has the canonical layout")
    return manifest, b"".join(chunks)


def _manifest_form(entries: Any, share: bool) -> list[dict[str, Any]] | None:
    """The pool when ``entries`` is already a list of ``{"id", "tier", "weight"}`` dicts with
    string ids: with ``share``, ``entries`` itself if sorted by id (a sorted list of the same
    dicts otherwise), so that a pool of 100,000 objects is not copied entry by entry. None
    sends the caller to the general path. Weights and tiers are checked with the rest of
    the manifest.
    """
    if type(entries) is not list or not entries:
        return None
    if set(map(type, entries)) != {dict} or set(map(len, entries)) != {3}:
        return None
    try:
        ids = list(map(operator.itemgetter("id"), entries))
        # Exactly these three keys (with len 3): anything else takes the general path,
        # which fills in defaults and drops unknown keys.
        list(map(operator.itemgetter("tier", "weight"), entries))
    except KeyError:
        return None
    if set(map(type, ids)) != {str}:
        return None
    if not share:
        entries = [dict(entry) for entry in entries]
    if all(map(operator.lt, ids, ids[1:])):
        return entries
    return sorted(entries, key=operator.itemgetter("id"))


# ---------------------------------------------------------------------------------------------
# Entropy and seed
# ---------------------------------------------------------------------------------------------

# Unicode White_Space, the ASCII information separators U+001C..U+001F (Python's str.split
# treats them as whitespace), and invisible characters that creep in by copy and paste
# (Mongolian vowel separator, zero-width space, word joiner, byte order mark). Deleted
# everywhere, not only at the ends: "3 5 1" and "351" are the same dice digits.
_DELETED_CHARS = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\u180e\u200b\u2060\ufeff"
)
_DELETE_TABLE = dict.fromkeys(map(ord, _DELETED_CHARS))


def normalise_text(value: str) -> str:
    """Normalise one entropy value or witness name.

    Contract: NFKC (so full-width digits typed with a Chinese input method, "１２３", equal
    "123"), then delete every character in ``_DELETED_CHARS``; repeat until unchanged (at
    most a few rounds), which makes the function idempotent: ``normalise_text(normalise_text(x))
    == normalise_text(x)``, so a verifier re-normalising recorded values gets the same seed.
    """
    while True:
        result = unicodedata.normalize("NFKC", value).translate(_DELETE_TABLE)
        if result == value:
            return result
        value = result


_ASCII_NAME = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789\u00b7")


def is_name_character(char: str) -> bool:
    """A character a version 3 witness name may hold (docs §5): a CJK Unified Ideograph
    (U+4E00–U+9FFF) or one of Extension A (U+3400–U+4DBF), an ASCII letter or digit, or the
    middle dot U+00B7. None of them changes under any Unicode normalisation."""
    code = ord(char)
    return 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or char in _ASCII_NAME


def _code_point(text: str, index: int) -> str:
    char = text[index]
    name = unicodedata.name(char, "")
    shown = f" {char!r}" if char.isprintable() and not char.isspace() else ""
    return f"character {index + 1} is U+{ord(char):04X}{shown}{' ' + name if name else ''}"


def _digits_problem(value: Any, digits: int) -> str | None:
    """Why ``value`` is not exactly ``digits`` ASCII digits, or None."""
    if type(value) is not str:
        return f"must be a string of {digits} ASCII digits"
    for index, char in enumerate(value):
        if not "0" <= char <= "9":
            return (
                f"must be exactly {digits} ASCII digits 0-9 and nothing else; "
                f"{_code_point(value, index)}"
            )
    if len(value) != digits:
        return f"must be exactly {digits} ASCII digits, got {len(value)}"
    return None


def _name_problem(name: Any) -> str | None:
    if type(name) is not str or not name:
        return "the witness name is empty"
    for index, char in enumerate(name):
        if not is_name_character(char):
            return (
                "a witness name holds only CJK ideographs, ASCII letters and digits and the "
                f"middle dot U+00B7; {_code_point(name, index)}"
            )
    if len(name) > MAX_NAME:
        return f"the witness name has {len(name)} characters, at most {MAX_NAME}"
    return None


def _check_canonical_entropy(
    entropy: Sequence[Mapping[str, Any]], public_value: Any, spec: Mapping[str, Any]
) -> tuple[list[dict[str, str]], str | None]:
    """Version 3: the entropy must already be canonical; nothing is changed (docs §5)."""
    checked: list[dict[str, str]] = []
    seen: set[str] = set()
    for index, item in enumerate(entropy):
        if not isinstance(item, Mapping) or set(item) != {"witness", "value"}:
            raise EntropyError(f'entropy[{index}]: must be {{"witness": name, "value": str}}')
        name, value = item["witness"], item["value"]
        problem = _name_problem(name)
        if problem:
            raise EntropyError(f"entropy[{index}]: {problem}")
        problem = _digits_problem(value, spec["digits"])
        if problem:
            raise EntropyError(f"entropy[{index}] (witness {name}): the value {problem}")
        if name in seen:
            raise EntropyError(f"entropy[{index}]: witness {name} gave a value twice")
        seen.add(name)
        checked.append({"witness": name, "value": value})
    public = spec["public_value"]
    if public is None:
        if public_value is not None:
            raise EntropyError("public_value: the manifest does not announce a public value")
        return checked, None
    if public_value is None:
        raise EntropyError(
            f"public_value: the manifest announces one ({public['description']}); it is missing"
        )
    problem = _digits_problem(public_value, public["digits"])
    if problem:
        raise EntropyError(f"public_value: {problem}")
    return checked, public_value


def normalise_entropy(
    entropy: Sequence[Mapping[str, Any]],
    public_value: str | None,
    spec: Mapping[str, Any],
) -> tuple[list[dict[str, str]], str | None]:
    """Validate the entropy against ``manifest["entropy_spec"]`` (and, for version 2,
    normalise it).

    Version 3 (a spec with ``digits``): every value must already be canonical — exactly the
    declared number of ASCII digits, names of the allowed characters — and is returned
    unchanged; anything else raises EntropyError. No Unicode normalisation is involved.
    Version 2:

    ``entropy`` is ``[{"witness": name, "value": str}, ...]`` in the order the values were
    given (the order matters for the seed). Returns the normalised list and public value.
    Raises EntropyError for a wrong count, a missing/unexpected public value, an empty
    value or name after normalisation, or a witness named twice.
    """
    if isinstance(entropy, (str, bytes)) or not isinstance(entropy, Sequence):
        raise EntropyError('entropy must be a list of {"witness": name, "value": str}')
    expected = spec["witnesses"]
    if len(entropy) != expected:
        raise EntropyError(
            f"entropy: the manifest expects {expected} witness value(s), got {len(entropy)}"
        )
    if "digits" in spec:
        return _check_canonical_entropy(entropy, public_value, spec)
    normalised: list[dict[str, str]] = []
    seen: set[str] = set()
    for index, item in enumerate(entropy):
        if not isinstance(item, Mapping) or set(item) != {"witness", "value"}:
            raise EntropyError(f'entropy[{index}]: must be {{"witness": name, "value": str}}')
        name, value = item["witness"], item["value"]
        if type(name) is not str or type(value) is not str:
            raise EntropyError(f"entropy[{index}]: witness and value must be strings")
        name, value = normalise_text(name), normalise_text(value)
        if not name:
            raise EntropyError(f"entropy[{index}]: the witness name is empty")
        if not value:
            raise EntropyError(f"entropy[{index}] (witness {name}): the value is empty")
        if name in seen:
            raise EntropyError(f"entropy[{index}]: witness {name} gave a value twice")
        seen.add(name)
        normalised.append({"witness": name, "value": value})
    if spec["public_value"] is None:
        if public_value is not None:
            raise EntropyError("public_value: the manifest does not announce a public value")
        return normalised, None
    if type(public_value) is not str:
        raise EntropyError(
            f"public_value: the manifest announces one ({spec['public_value']}); it is missing"
        )
    public_value = normalise_text(public_value)
    if not public_value:
        raise EntropyError("public_value: empty after normalisation")
    return normalised, public_value


def compute_seed(
    manifest_hash_hex: str, entropy: Sequence[Mapping[str, str]], public_value: str | None
) -> bytes:
    """Return the 32-byte seed.

    Contract: ``SHA-256(b"sjsj-seed/1\\x00" + manifest_hash_hex (64 ASCII bytes) + b"\\x00" +
    canonical_json({"entropy": [{"witness", "value"}...], "public_value": str|None}))``.
    ``entropy`` and ``public_value`` must already be normalised (``normalise_entropy``).
    """
    if type(manifest_hash_hex) is not str or len(manifest_hash_hex) != 64:
        raise EngineError("manifest hash must be 64 hex digits")
    payload = canonical_json(
        {
            "entropy": [{"witness": e["witness"], "value": e["value"]} for e in entropy],
            "public_value": public_value,
        }
    )
    return hashlib.sha256(
        SEED_DOMAIN + manifest_hash_hex.encode("ascii") + b"\x00" + payload
    ).digest()


# ---------------------------------------------------------------------------------------------
# Object selection
# ---------------------------------------------------------------------------------------------


_DECIMALS = [str(k).encode("ascii") for k in range(MAX_WEIGHT)]


def _scores(mac: _HmacSha256, name: str, pool: Sequence[Mapping[str, Any]]) -> list[bytes]:
    """Score of each pool entry, as 32 big-endian bytes (bytes compare like the integers).

    score(id) = max over k in range(weight) of HMAC(seed, "object\\0<stratum>\\0<id>\\0<k>").
    The maximum of w independent uniform values is distributed like U^(1/w), which makes
    ordering by score exactly Efraimidis–Spirakis weighted sampling without replacement.
    """
    prefix = ("object\x00" + name + "\x00").encode("utf-8")
    new_inner, new_outer = mac.inner.copy, mac.outer.copy
    decimals = _DECIMALS
    scores: list[bytes] = []
    append = scores.append
    for entry in pool:  # the HMAC inlined: this loop runs once per object of every pool
        stem = prefix + entry["id"].encode("utf-8") + b"\x00"
        inner = new_inner()
        inner.update(stem + b"0")
        outer = new_outer()
        outer.update(inner.digest())
        best = outer.digest()
        weight = entry["weight"]
        if weight != 1:
            for k in range(1, weight):
                inner = new_inner()
                inner.update(stem + (decimals[k] if k < MAX_WEIGHT else str(k).encode()))
                outer = new_outer()
                outer.update(inner.digest())
                key = outer.digest()
                if key > best:
                    best = key
        append(best)
    return scores


def _ordered_indices(
    pool: Sequence[Mapping[str, Any]], scores: list[bytes], limit: int | None
) -> list[int]:
    """Indices of ``pool`` by (tier asc, score desc, id asc), truncated to ``limit``.

    ``pool`` is sorted by id, and both ``sorted(reverse=True)`` and ``heapq.nlargest`` are
    stable (equal keys keep their input order), so ties in score, which have probability
    about 2**-256, still resolve to id ascending.
    """
    size = len(pool)
    tiers = [entry["tier"] for entry in pool]
    flat = not tiers or min(tiers) == max(tiers)
    if limit is not None and limit * 16 < size:
        # A small quota from a large pool: a heap is O(n log q) instead of O(n log n).
        if flat:
            return heapq.nlargest(limit, range(size), key=scores.__getitem__)
        return heapq.nlargest(limit, range(size), key=lambda i: (-tiers[i], scores[i]))
    order = sorted(range(size), key=scores.__getitem__, reverse=True)
    if not flat:
        order.sort(key=tiers.__getitem__)  # stable: keeps score order within a tier
    if limit is not None:
        del order[limit:]
    return order


def _check_sorted_pool(stratum: Mapping[str, Any]) -> None:
    pool = stratum["pool"]
    for index in range(1, len(pool)):
        if not pool[index - 1]["id"] < pool[index]["id"]:
            raise ManifestError(
                f"stratum {stratum['name']}: pool must be sorted by id without duplicates"
            )


def stratum_order(seed: Seed, stratum: Mapping[str, Any]) -> list[str]:
    """The full verifiable order of one stratum (a ``manifest["strata"]`` entry).

    The first ``quota`` ids are the drawn objects; the rest, in order, are the substitutes:
    a replacement is always the next eligible id in this list.
    """
    _check_sorted_pool(stratum)
    pool = stratum["pool"]
    scores = _scores(_HmacSha256(_seed_bytes(seed)), stratum["name"], pool)
    return [pool[i]["id"] for i in _ordered_indices(pool, scores, None)]


def select_objects(seed: Seed, manifest: Mapping[str, Any]) -> dict[str, list[str]]:
    """Draw every stratum: ``{stratum name: [the first quota ids, in drawn order]}``.

    The dict follows manifest order. ``manifest`` must have passed ``check_manifest``.
    """
    return dict(iter_selected(seed, manifest))


def iter_selected(seed: Seed, manifest: Mapping[str, Any]) -> Iterator[tuple[str, list[str]]]:
    """``select_objects``, one ``(stratum name, drawn ids)`` at a time, in manifest order."""
    mac = _HmacSha256(_seed_bytes(seed))
    for stratum in manifest["strata"]:
        pool, quota = stratum["pool"], stratum["quota"]
        if quota == 0:
            yield stratum["name"], []
            continue
        scores = _scores(mac, stratum["name"], pool)
        yield stratum["name"], [pool[i]["id"] for i in _ordered_indices(pool, scores, quota)]


def _find_stratum(manifest: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    for stratum in manifest["strata"]:
        if stratum["name"] == name:
            return stratum
    raise ManifestError(f"no stratum named {name!r} in the manifest")


def next_object_candidate(
    seed: Seed, manifest: Mapping[str, Any], stratum: str, taken: Iterable[str]
) -> str | None:
    """The substitute for a drawn object that cannot be inspected (closed, recused...).

    Returns the first id in ``stratum_order`` that is not in ``taken``, or None when the
    pool is exhausted. ``taken`` must hold every id already drawn, substituted or found
    ineligible in this stratum, so repeated calls walk down the same public order.
    """
    taken_set = set(taken)
    for oid in stratum_order(seed, _find_stratum(manifest, stratum)):
        if oid not in taken_set:
            return oid
    return None


# ---------------------------------------------------------------------------------------------
# Inspector teams
# ---------------------------------------------------------------------------------------------

_EMPTY_RULE: Mapping[str, list[str]] = {"requires": [], "conflicts": [], "previous": []}

#: Rejection-sampling tries per pick before the explicit list is used (docs §8).
_MAX_TRIES = 32


class _Category:
    """The inspectors one kind of pick chooses from, grouped by current load.

    ``buckets[load]`` is the list of the members with that load, sorted by id; ``levels`` the
    loads that have a bucket, ascending. A pick looks at the lowest levels only, and a load
    change moves one id between two neighbouring buckets, so neither costs O(inspectors).
    Load changes are written once to the picker's shared ``log`` of ``(id, load before the
    raise)``; a category applies those of its members (from ``seen`` on) only when it is next
    picked from (``settle``): the categories of an expertise no drawn object requires are
    never brought up to date, and a raise costs one entry, not one per category.
    """

    __slots__ = ("buckets", "levels", "log", "members", "seen")

    def __init__(self, log: list[tuple[str, int]]) -> None:
        self.buckets: dict[int, list[str]] = {}
        self.levels: list[int] = []
        self.members: set[str] = set()
        self.log = log
        self.seen = len(log)

    def add(self, pid: str, load: int) -> None:
        """Add a member (then call ``finish``)."""
        self.members.add(pid)
        self.buckets.setdefault(load, []).append(pid)

    def finish(self) -> None:
        for bucket in self.buckets.values():
            bucket.sort()  # already sorted for a checked manifest (pool in id order)
        self.levels = sorted(self.buckets)

    def settle(self) -> None:
        """Apply the load changes logged since the last time: each moves an id of a member
        from the bucket of its load to that of load + 1 (the buckets end up the same
        whenever this is done)."""
        buckets, levels, members, log = self.buckets, self.levels, self.members, self.log
        end = len(log)
        for index in range(self.seen, end):
            pid, load = log[index]
            if pid not in members:
                continue
            bucket = buckets[load]
            del bucket[bisect.bisect_left(bucket, pid)]
            if not bucket:
                del buckets[load]
                levels.remove(load)
            higher = buckets.get(load + 1)
            if higher is None:
                buckets[load + 1] = [pid]
                bisect.insort(levels, load + 1)
            else:
                bisect.insort(higher, pid)
        self.seen = end


#: ``slot 0`` of a pick's HMAC message (see ``_TeamPicker.team``), for the usual slots.
_SLOTS = [str(k).encode("ascii") + b"\x00" for k in range(64)]


class _TeamPicker:
    """Deterministic team selection for one draw; ``load`` counts teams per inspector."""

    def __init__(
        self, seed: bytes, manifest: Mapping[str, Any], loads: Mapping[str, int] | None = None
    ) -> None:
        self.mac = _HmacSha256(seed)
        people = manifest["inspectors"]["pool"]  # sorted by id
        # Version 3: a cap on a certified inspector's teams, and a leader drawn at random
        # among the team's certified members (docs §8); version 2 has neither.
        self.v3 = manifest["algorithm"] != ALGORITHM_V2
        self.cap: int | None = manifest["constraints"]["max_teams"] if self.v3 else None
        self.team_size: int = manifest["constraints"]["team_size"]
        self.rules: Mapping[str, Mapping[str, list[str]]] = manifest["constraints"]["objects"]
        self.by_id: dict[str, Mapping[str, Any]] = {p["id"]: p for p in people}
        self.load: dict[str, int] = dict.fromkeys(self.by_id, 0)
        for pid, count in (loads or {}).items():
            if pid in self.load:
                self.load[pid] = count
        # Who can be picked as what: every certified inspector as a member; certified
        # inspectors with expertise r to cover r (step 1); experts with r (step 3).
        self.log: list[tuple[str, int]] = []  # every load change, see _Category
        self.certified = _Category(self.log)
        self.certified_with: dict[str, _Category] = {}
        self.experts_with: dict[str, _Category] = {}
        for person in people:
            pid = person["id"]
            if person["certified"]:
                kinds = [self.certified]
                kinds += [
                    self.certified_with.setdefault(s, _Category(self.log))
                    for s in person["expertise"]
                ]
            elif person["expert"]:
                kinds = [
                    self.experts_with.setdefault(s, _Category(self.log))
                    for s in person["expertise"]
                ]
            else:
                continue  # listed, but never drawn
            for kind in kinds:
                kind.add(pid, self.load[pid])
        for kind in [self.certified, *self.certified_with.values(), *self.experts_with.values()]:
            kind.finish()

    @staticmethod
    def _available(kind: _Category | None, conflicts: set[str]) -> int:
        if kind is None:
            return 0
        members = kind.members
        count = len(members)
        for pid in conflicts:
            if pid in members:
                count -= 1
        return count

    def _pick(
        self,
        prefix: bytes,
        kind: _Category,
        blocked: set[str],
        previous: frozenset[str],
        cap: int | None = None,
    ) -> str | None:
        """Pick one member of ``kind`` not in ``blocked`` (docs §8), or None if there is none.
        With ``cap``, only members whose load is below it are eligible.

        ``prefix`` is ``"team" 0 object 0 slot 0``. The lowest load level with an eligible
        member is chosen; within it, members not in ``previous`` if there are any. Among
        those each is equally likely: rejection sampling over the whole bucket with
        r_k = HMAC(seed, prefix k), and after _MAX_TRIES misses the explicit list of the
        eligible, indexed by the next r_k.
        """
        if kind.seen != len(self.log):
            kind.settle()
        load, members = self.load, kind.members
        for level in kind.levels:
            if cap is not None and level >= cap:
                break  # levels ascend: everyone from here on is at the cap
            bucket = kind.buckets[level]
            size = len(bucket)
            out = 0  # members of this bucket who cannot be picked
            for pid in blocked:
                if pid in members and load[pid] == level:
                    out += 1
            if out == size:
                continue  # everyone at this load is excluded: try the next level
            shunned = 0  # eligible members of this bucket who were here last time
            if previous:
                for pid in previous:
                    if pid in members and load[pid] == level and pid not in blocked:
                        shunned += 1
            avoid = size - out > shunned  # someone eligible at this level was not here before
            new_inner, new_outer = self.mac.inner.copy, self.mac.outer.copy
            for k in range(_MAX_TRIES + 1):
                inner = new_inner()  # HMAC(seed, prefix k), inlined
                inner.update(prefix + _DECIMALS[k])
                outer = new_outer()
                outer.update(inner.digest())
                r = int.from_bytes(outer.digest(), "big")
                if k == _MAX_TRIES:
                    allowed = [
                        p for p in bucket if p not in blocked and not (avoid and p in previous)
                    ]
                    return allowed[r % len(allowed)]
                pid = bucket[r % size]
                if pid not in blocked and not (avoid and pid in previous):
                    return pid
        return None

    def team(
        self,
        object_id: str,
        stratum: str,
        extra_conflicts: Iterable[str] = (),
        keep: Sequence[str] = (),
        keep_leader: bool = False,
        leader_round: int = 0,
    ) -> dict[str, Any]:
        """Choose (and charge the load of) the team for one object.

        ``keep``: ids already on the team that stay (for a recusal), in team order;
        ``keep_leader``: its first id is the leader and stays so. ``leader_round``: how many
        inspectors have been recused from this object (version 3 leader draw).
        Raises ConstraintError when no valid team exists.
        """
        rule = self.rules.get(object_id, _EMPTY_RULE)
        conflicts = set(rule["conflicts"])
        conflicts.update(extra_conflicts)
        previous = frozenset(rule["previous"])
        requires = rule["requires"]
        members = self.certified.members
        available = len(members)  # self._available(self.certified, conflicts), inlined
        for pid in conflicts:
            if pid in members:
                available -= 1
        if available < self.team_size:
            raise ConstraintError(
                object_id,
                f"only {available} certified inspector{'' if available == 1 else 's'} without "
                f"a conflict, team needs {self.team_size}",
                available=available,
                needed=self.team_size,
            )
        for skill in requires:
            if not self._available(
                self.certified_with.get(skill), conflicts
            ) and not self._available(self.experts_with.get(skill), conflicts):
                raise ConstraintError(
                    object_id, f"nobody available has expertise {skill}", expertise=skill
                )

        by_id = self.by_id
        blocked = conflicts  # from here on: conflicts and everyone already on the team
        if keep:
            kept = [i for i in keep if i in by_id and i not in conflicts]
            team = [i for i in kept if by_id[i]["certified"]]
            helpers = [i for i in kept if by_id[i]["expert"]]
            blocked.update(kept)
        else:
            team, helpers = [], []
        # HMAC message prefix per pick: "team" 0 object 0 slot 0, where slot counts the
        # inspectors picked so far for this team (0 for the first pick).
        stem = ("team\x00" + object_id + "\x00").encode("utf-8")
        picked = 0
        if requires:
            # Only certified members count in step 1: a kept expert must not stand in for
            # expertise an eligible certified inspector has.
            covered = {skill for pid in team for skill in by_id[pid]["expertise"]}
            # 1. Cover each required expertise with a certified inspector where one has it.
            #    Each pick covers at least one new requirement, so the team only grows past
            #    team_size when more expertise is required than team_size people.
            for skill in requires:
                if skill in covered or skill not in self.certified_with:
                    continue
                chosen = self._pick(
                    stem + (_SLOTS[picked] if picked < 64 else b"%d\x00" % picked),
                    self.certified_with[skill],
                    blocked,
                    previous,
                    self.cap,
                )
                if chosen is not None:
                    picked += 1
                    team.append(chosen)
                    blocked.add(chosen)
                    covered.update(by_id[chosen]["expertise"])
        # 2. Fill up to team_size with certified inspectors (the feasibility check above
        #    guarantees enough of them).
        team_size, cap, certified = self.team_size, self.cap, self.certified
        while len(team) < team_size:
            prefix = stem + (_SLOTS[picked] if picked < 64 else b"%d\x00" % picked)
            chosen = self._pick(prefix, certified, blocked, previous, cap)
            if chosen is None and cap is not None:
                # Everyone eligible is at the cap: the same pick without it (docs §8), so
                # that a committed draw never fails; prepare refuses a manifest where the
                # forecast shows this.
                chosen = self._pick(prefix, certified, blocked, previous)
            if chosen is None:  # pragma: no cover - excluded by the feasibility check
                raise AssertionError("feasibility check missed a shortage of inspectors")
            picked += 1
            team.append(chosen)
            blocked.add(chosen)
        if requires:
            # 3. Technical experts, only in addition and only for expertise that no eligible
            #    certified inspector has (step 1 covered everything a certified one could).
            #    The feasibility check guarantees an eligible expert exists. Experts kept
            #    from a previous team (recusal) count first.
            covered = {skill for pid in team + helpers for skill in by_id[pid]["expertise"]}
            for skill in requires:
                if skill in covered:
                    continue
                prefix = stem + (_SLOTS[picked] if picked < 64 else b"%d\x00" % picked)
                experts = self.experts_with.get(skill)
                chosen = None if experts is None else self._pick(prefix, experts, blocked, previous)
                if chosen is None and self.cap is not None:
                    # Version 3: no expert, and every certified holder at the cap: the
                    # least loaded holder after all (docs §8, step 3).
                    holders = self.certified_with.get(skill)
                    if holders is not None:
                        chosen = self._pick(prefix, holders, blocked, previous)
                    if chosen is not None:
                        picked += 1
                        team.append(chosen)
                        blocked.add(chosen)
                        covered.update(by_id[chosen]["expertise"])
                        continue
                if chosen is None:  # pragma: no cover - excluded by the feasibility check
                    raise AssertionError("feasibility check missed a missing expert")
                picked += 1
                helpers.append(chosen)
                blocked.add(chosen)
                covered.update(by_id[chosen]["expertise"])
        if self.v3 and not keep_leader and len(team) > 1:
            # Version 3: the leader is drawn among the certified members, so that the holder
            # of a rare expertise (picked first, in step 1) does not lead every team.
            inner = self.mac.inner.copy()
            inner.update(
                LEADER_DOMAIN
                + object_id.encode("utf-8")
                + b"\x00"
                + str(leader_round).encode("ascii")
            )
            outer = self.mac.outer.copy()
            outer.update(inner.digest())
            index = int.from_bytes(outer.digest(), "big") % len(team)
            team.insert(0, team.pop(index))
        load, log = self.load, self.log
        for pid in team:
            old = load[pid]
            load[pid] = old + 1
            log.append((pid, old))
        for pid in helpers:
            old = load[pid]
            load[pid] = old + 1
            log.append((pid, old))
        return {
            "object": object_id,
            "stratum": stratum,
            "leader": team[0],
            "members": team[1:],
            "experts": helpers,
        }


def assign_teams(
    seed: Seed, manifest: Mapping[str, Any], objects: Mapping[str, Sequence[str]]
) -> list[dict[str, Any]]:
    """Assign a team to every drawn object.

    Objects are processed stratum by stratum in manifest order, each stratum in drawn order
    (``objects`` is the output of ``select_objects``). Each team has ``team_size`` (or,
    when more expertise is required than that, more) certified inspectors without a
    conflict, covering every required expertise a certified inspector has; technical
    experts are added only for required expertise no such inspector has. Returns
    ``[{"object", "stratum", "leader", "members", "experts"}]``; raises ConstraintError
    naming the first object for which that is impossible.
    """
    return list(iter_teams(seed, manifest, objects))


def iter_teams(
    seed: Seed, manifest: Mapping[str, Any], objects: Mapping[str, Sequence[str]]
) -> Iterator[dict[str, Any]]:
    """``assign_teams``, one team at a time (so a caller can store each as it comes)."""
    picker = _TeamPicker(_seed_bytes(seed), manifest)
    for stratum in manifest["strata"]:
        name = stratum["name"]
        for oid in objects.get(name, ()):
            yield picker.team(oid, name)


def _stratum_of(manifest: Mapping[str, Any], object_id: str) -> str:
    """The name of the stratum whose pool holds ``object_id`` (pools are sorted by id)."""
    for entry in manifest["strata"]:
        pool = entry["pool"]
        low, high = 0, len(pool)
        while low < high:
            middle = (low + high) // 2
            if pool[middle]["id"] < object_id:
                low = middle + 1
            else:
                high = middle
        if low < len(pool) and pool[low]["id"] == object_id:
            return entry["name"]
    for entry in manifest["strata"]:  # an unsorted pool (unchecked manifest): look it all over
        if any(o["id"] == object_id for o in entry["pool"]):
            return entry["name"]
    raise ManifestError(f"object {object_id} is not in any stratum pool")


def _team_people(team: Mapping[str, Any]) -> list[str]:
    return [team["leader"], *team["members"], *team["experts"]]


def replacement_team(
    seed: Seed,
    manifest: Mapping[str, Any],
    object_id: str,
    teams_so_far: Sequence[Mapping[str, Any]],
    excluded_inspectors: Iterable[str],
) -> dict[str, Any]:
    """Recompute the team of one object after a recusal (回避) or an object substitution.

    ``teams_so_far``: the draw's current teams. Loads are counted from all of them except
    the team of ``object_id`` (if present). Members of that team not in
    ``excluded_inspectors`` stay, in their order (so the leader stays unless excluded); the
    excluded ones are treated as conflicts and the vacancies are filled by the same rules
    and the same seed as the draw. For a substituted object (no team yet) this is simply its
    team under the current loads. Raises ConstraintError when impossible.
    """
    stratum = _stratum_of(manifest, object_id)
    loads: dict[str, int] = {}
    keep: list[str] = []
    for team in teams_so_far:
        people = _team_people(team)
        if team["object"] == object_id:
            keep = people
            continue
        for pid in people:
            loads[pid] = loads.get(pid, 0) + 1
    excluded = set(excluded_inspectors)
    picker = _TeamPicker(_seed_bytes(seed), manifest, loads)
    return picker.team(
        object_id,
        stratum,
        extra_conflicts=excluded,
        keep=[p for p in keep if p not in excluded],
        keep_leader=bool(keep) and keep[0] not in excluded,
        leader_round=len(excluded),
    )


# ---------------------------------------------------------------------------------------------
# Substitutions
# ---------------------------------------------------------------------------------------------

_TEAM_FIELDS = ("object", "stratum", "leader", "members", "experts")
_SUBSTITUTION_FIELDS = {
    "object": ("kind", "stratum", "replaced", "replacement", "team"),
    "inspector": ("kind", "object", "replaced", "team"),
}


def _is_team(value: Any) -> bool:
    """True when ``value`` has exactly the shape of a team (ids are strings)."""
    return (
        type(value) is dict
        and len(value) == len(_TEAM_FIELDS)
        and all(field in value for field in _TEAM_FIELDS)
        and all(type(value[field]) is str for field in ("object", "stratum", "leader"))
        and all(
            type(value[field]) is list and all(type(pid) is str for pid in value[field])
            for field in ("members", "experts")
        )
    )


def _substitution_shape(entry: Any) -> str | None:
    """Why ``entry`` is not a well-formed substitution, or None when it is."""
    if type(entry) is not dict:
        return "must be an object"
    kind = entry.get("kind")
    if kind not in _SUBSTITUTION_FIELDS:
        return f'kind must be "object" or "inspector", got {kind!r}'
    fields = _SUBSTITUTION_FIELDS[kind]
    missing = [field for field in fields if field not in entry]
    extra = sorted(set(entry) - set(fields) - {"reason"})
    if missing or extra:
        parts = (["missing " + ", ".join(missing)] if missing else []) + (
            ["unexpected " + ", ".join(extra)] if extra else []
        )
        return f"{'; '.join(parts)} (a {kind} substitution has {', '.join(fields)}, reason)"
    for field in fields[1:-1]:
        if type(entry[field]) is not str:
            return f"{field} must be a string, got {entry[field]!r}"
    if not _is_team(entry["team"]):
        return "team must be {object, stratum, leader, members, experts} with string ids"
    return None


class SubstitutionError(EngineError):
    """A substitution cannot be made, or recorded substitutions do not replay exactly."""


class _Replay:
    """A draw's current state while its substitutions are replayed in approval order.

    ``teams`` lists the current teams in draw order (a replacement takes the place of the
    object it replaces); ``taken`` holds every object drawn so far, replaced ones included;
    ``recused`` every inspector recused so far, per object; ``load`` counts current teams
    per inspector.
    """

    def __init__(
        self,
        seed: bytes,
        manifest: Mapping[str, Any],
        objects: Mapping[str, Sequence[str]],
        teams: Sequence[Mapping[str, Any]],
    ) -> None:
        self.seed, self.manifest = seed, manifest
        self.objects = {name: list(ids) for name, ids in objects.items()}
        self.teams = [dict(team) for team in teams]
        self.position = {team["object"]: index for index, team in enumerate(self.teams)}
        self.taken = {oid for ids in objects.values() for oid in ids}
        self.recused: dict[str, list[str]] = {}
        self.load: dict[str, int] = {}
        for team in self.teams:
            self._count(team, 1)
        self._orders: dict[str, list[str]] = {}
        self._cursor: dict[str, int] = {}

    def _count(self, team: Mapping[str, Any], step: int) -> None:
        load = self.load
        for pid in _team_people(team):
            load[pid] = load.get(pid, 0) + step

    def team_of(self, object_id: str) -> dict[str, Any] | None:
        index = self.position.get(object_id)
        return None if index is None else self.teams[index]

    def next_object(self, stratum: str) -> str | None:
        """``next_object_candidate(seed, manifest, stratum, taken)``, walking a cached order."""
        order = self._orders.get(stratum)
        if order is None:
            order = self._orders[stratum] = stratum_order(
                self.seed, _find_stratum(self.manifest, stratum)
            )
        index = self._cursor.get(stratum, 0)
        while index < len(order) and order[index] in self.taken:
            index += 1  # taken only grows, so the cursor never has to go back
        self._cursor[stratum] = index
        return order[index] if index < len(order) else None

    def new_team(
        self, object_id: str, excluded: Sequence[str], leaving: str | None = None
    ) -> dict[str, Any]:
        """``replacement_team(seed, manifest, object_id, current teams, excluded)``, where the
        current teams lack that of ``leaving`` (the object being replaced), if given."""
        stratum = _stratum_of(self.manifest, object_id)
        loads = dict(self.load)
        if leaving is not None:
            for pid in _team_people(self.teams[self.position[leaving]]):
                loads[pid] -= 1
        keep: list[str] = []
        own = self.team_of(object_id)
        if own is not None:
            keep = _team_people(own)
            for pid in keep:
                loads[pid] -= 1
        picker = _TeamPicker(self.seed, self.manifest, loads)
        out = set(excluded)
        return picker.team(
            object_id,
            stratum,
            extra_conflicts=out,
            keep=[p for p in keep if p not in out],
            keep_leader=bool(keep) and keep[0] not in out,
            leader_round=len(out),
        )

    def replace_object(self, replaced: str, team: Mapping[str, Any]) -> None:
        """The team of ``team["object"]`` takes the place of ``replaced`` and its team."""
        index = self.position.pop(replaced)
        self._count(self.teams[index], -1)
        stratum = self.teams[index]["stratum"]
        ids = self.objects[stratum]
        ids[ids.index(replaced)] = team["object"]
        self.taken.add(team["object"])
        self.teams[index] = dict(team)
        self.position[team["object"]] = index
        self._count(team, 1)

    def replace_team(self, team: Mapping[str, Any]) -> None:
        index = self.position[team["object"]]
        self._count(self.teams[index], -1)
        self.teams[index] = dict(team)
        self._count(team, 1)

    def apply(self, number: int, entry: Any, diffs: list[str] | None) -> bool:
        """Replay one recorded substitution.

        With ``diffs`` None, raise SubstitutionError at the first thing
        that does not replay exactly. Otherwise append each difference to ``diffs`` and carry
        on from the *recorded* outcome, so that every line names a substitution that does not
        follow from the ones before it; return False when the replay cannot go on.
        """

        def differs(message: str) -> None:
            if diffs is None:
                raise SubstitutionError(message)
            diffs.append(message)

        problem = _substitution_shape(entry)
        if problem is not None:
            differs(f"substitution {number}: {problem}")
            return False
        team = entry["team"]
        if entry["kind"] == "object":
            stratum, replaced, replacement = (
                entry["stratum"],
                entry["replaced"],
                entry["replacement"],
            )
            where = f"substitution {number} (object {replaced} replaced by {replacement})"
            if not any(s["name"] == stratum for s in self.manifest["strata"]):
                differs(f"{where}: stratum {stratum} is not in the manifest")
                return False
            if replaced not in self.objects[stratum]:
                differs(f"{where}: {replaced} is not a drawn object of stratum {stratum} now")
                return False
            expected = self.next_object(stratum)
            if replacement != expected:
                if expected is None:
                    differs(
                        f"{where}: stratum {stratum} has no object left in its verifiable order "
                        f"to substitute, recorded {replacement}"
                    )
                else:
                    differs(
                        f"{where}: replacement recorded {replacement}, recomputed {expected} "
                        f"(the first object of stratum {stratum}'s verifiable order not drawn "
                        "before)"
                    )
                if replacement in self.taken or replacement not in self._orders[stratum]:
                    return False  # not a possible replacement at all: nothing to go on from
            computed = self._checked_team(where, replacement, [], team, differs, replaced)
            if computed is None:
                return False
            self.replace_object(replaced, computed)
            return True
        object_id, inspector = entry["object"], entry["replaced"]
        where = f"substitution {number} (inspector {inspector} recused from {object_id})"
        current = self.team_of(object_id)
        if current is None:
            differs(f"{where}: {object_id} is not a drawn object now")
            return False
        if inspector not in _team_people(current):
            differs(
                f"{where}: {inspector} is not on the current team of {object_id} (leader "
                f"{current['leader']}, members {_describe(current['members'])}, experts "
                f"{_describe(current['experts'])})"
            )
        recused = self.recused.setdefault(object_id, [])
        recused.append(inspector)
        computed = self._checked_team(where, object_id, recused, team, differs)
        if computed is None:
            return False
        self.replace_team(computed)
        return True

    def _checked_team(
        self,
        where: str,
        object_id: str,
        excluded: Sequence[str],
        recorded: Mapping[str, Any],
        differs: Any,
        leaving: str | None = None,
    ) -> Mapping[str, Any] | None:
        """Compare the recorded team with the recomputed one; return the team to go on with."""
        computed: Mapping[str, Any] | None
        try:
            computed = self.new_team(object_id, excluded, leaving)
        except ConstraintError as exc:
            differs(f"{where}: no valid team exists: {exc}")
            computed = None
        else:
            for field in _TEAM_FIELDS:
                if recorded[field] != computed[field]:
                    differs(
                        f"{where}: team {field} recorded {_describe(recorded[field])}, "
                        f"recomputed {_describe(computed[field])}"
                    )
        if recorded["object"] != object_id:
            return None  # the recorded team belongs elsewhere: nothing to go on from
        return recorded


def _replay(
    seed: bytes,
    manifest: Mapping[str, Any],
    result: Mapping[str, Any],
    substitutions: Any,
    diffs: list[str] | None,
) -> _Replay:
    if type(substitutions) is not list:
        message = "substitutions: must be a list"
        if diffs is None:
            raise SubstitutionError(message)
        diffs.append(message)
    state = _Replay(seed, manifest, result["objects"], result["teams"])
    entries = substitutions if type(substitutions) is list else []
    for number, entry in enumerate(entries, 1):
        if not state.apply(number, entry, diffs) and diffs is not None:
            if number < len(entries):
                diffs.append(
                    f"substitutions {number + 1} to {len(entries)}: not checked, they build "
                    f"on substitution {number}"
                )
            break
    return state


def apply_substitutions(
    seed: Seed,
    manifest: Mapping[str, Any],
    result: Mapping[str, Any],
    substitutions: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """The draw as it stands after ``substitutions`` (a record's ``"substitutions"`` list).

    ``result`` is the draw's original result (``{"objects", "teams"}``). Every substitution
    is replayed exactly as ``verify`` does (docs §10); the first one that does not replay
    raises SubstitutionError naming it. Returns ``{"objects": {stratum:
    [ids]}, "teams": [...]}`` where a replacement takes the place of the object it replaced,
    plus ``"taken"`` (every object drawn so far, sorted) and ``"recused"`` ({object:
    [inspectors recused from it so far]}).
    """
    state = _replay(_seed_bytes(seed), manifest, result, list(substitutions), None)
    return {
        "objects": state.objects,
        "teams": state.teams,
        "taken": sorted(state.taken),
        "recused": {oid: list(ids) for oid, ids in state.recused.items()},
    }


def _entry_with_reason(entry: dict[str, Any], reason: str | None) -> dict[str, Any]:
    if reason is not None:
        entry["reason"] = reason
    return entry


def object_substitution(
    seed: Seed,
    manifest: Mapping[str, Any],
    result: Mapping[str, Any],
    substitutions: Sequence[Mapping[str, Any]],
    replaced: str,
    reason: str | None = None,
) -> dict[str, Any]:
    """The substitution entry replacing the drawn object ``replaced`` (closed, wrongly listed...).

    Replays ``substitutions`` first (see ``apply_substitutions``). The replacement is the
    next object of the same stratum's verifiable order not drawn so far, its team is chosen
    under the current loads. Append the returned entry to the record's ``"substitutions"``.
    Raises SubstitutionError when ``replaced`` is not currently drawn or the order is
    exhausted, ConstraintError when the replacement cannot get a valid team.
    """
    raw = _seed_bytes(seed)
    state = _replay(raw, manifest, result, list(substitutions), None)
    stratum = next((n for n, ids in state.objects.items() if replaced in ids), None)
    if stratum is None:
        raise SubstitutionError(f"object {replaced} is not a drawn object now")
    replacement = state.next_object(stratum)
    if replacement is None:
        raise SubstitutionError(
            f"stratum {stratum}: no object is left in the verifiable order to replace {replaced}"
        )
    entry = {
        "kind": "object",
        "stratum": stratum,
        "replaced": replaced,
        "replacement": replacement,
        "team": state.new_team(replacement, [], leaving=replaced),
    }
    return _entry_with_reason(entry, reason)


def inspector_substitution(
    seed: Seed,
    manifest: Mapping[str, Any],
    result: Mapping[str, Any],
    substitutions: Sequence[Mapping[str, Any]],
    object_id: str,
    replaced: str,
    reason: str | None = None,
) -> dict[str, Any]:
    """The substitution entry recusing inspector ``replaced`` from drawn object ``object_id``.

    Replays ``substitutions`` first. Everyone recused from ``object_id`` so far stays out;
    the rest of its team stays, in order, and the vacancies are filled under the current
    loads (``replacement_team``). Append the returned entry to the record's
    ``"substitutions"``. Raises SubstitutionError when the object is not currently drawn or
    the inspector is not on its team, ConstraintError when no valid team remains.
    """
    state = _replay(_seed_bytes(seed), manifest, result, list(substitutions), None)
    current = state.team_of(object_id)
    if current is None:
        raise SubstitutionError(f"object {object_id} is not a drawn object now")
    if replaced not in _team_people(current):
        raise SubstitutionError(f"inspector {replaced} is not on the team of {object_id}")
    excluded = [*state.recused.get(object_id, []), replaced]
    entry = {
        "kind": "inspector",
        "object": object_id,
        "replaced": replaced,
        "team": state.new_team(object_id, excluded),
    }
    return _entry_with_reason(entry, reason)


# ---------------------------------------------------------------------------------------------
# Execute and verify
# ---------------------------------------------------------------------------------------------


def execute(
    manifest: Mapping[str, Any],
    entropy: Sequence[Mapping[str, Any]],
    public_value: str | None = None,
) -> dict[str, Any]:
    """Run the draw and return the record to store and publish.

    Record: ``{"manifest", "manifest_hash", "entropy" (normalised), "public_value"
    (normalised or None), "seed" (hex), "result": {"objects": {stratum: [ids]},
    "teams": [...]}}``. The record holds the manifest object itself, not a copy.
    Raises ManifestError, EntropyError or ConstraintError; nothing is drawn then.
    """
    encoded = _check_manifest(manifest, check_digests=True)
    digest = _manifest_hash_from_pools(manifest, encoded[:-1], encoded[-1], checked=True)
    clean, public = normalise_entropy(entropy, public_value, manifest["entropy_spec"])
    seed = compute_seed(digest, clean, public)
    objects = select_objects(seed, manifest)
    teams = assign_teams(seed, manifest, objects)
    return {
        "manifest": manifest,
        "manifest_hash": digest,
        "entropy": clean,
        "public_value": public,
        "seed": seed.hex(),
        "result": {"objects": objects, "teams": teams},
    }


def _describe(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return "(none)" if value is None else str(value)


_RECORD_FIELDS = ("manifest", "manifest_hash", "entropy", "public_value", "seed", "result")


def verify(record: Any, *, expected_manifest_hash: str | None = None) -> list[str]:
    """Recompute a record and list every difference in plain words; [] means it matches.

    Reports, in this order: missing or unexpected fields; changed pool lists (pool digest);
    a manifest hash that differs from the recorded one (or from ``expected_manifest_hash``,
    the hash published before the draw); invalid manifest or entropy; a different seed;
    every stratum position that differs ("stratum key, position 3: recorded A, recomputed
    B", at most 20 per stratum); every team field that differs; then, if the record has
    ``"substitutions"``, every substitution that does not replay exactly ("substitution 2
    (object K04 replaced by K03): replacement recorded K03, recomputed K01"). Recomputation
    always uses the recomputed seed, so a forged seed cannot hide a changed result.
    """
    if not isinstance(record, dict):
        return ["record: not a JSON object"]
    missing = [k for k in _RECORD_FIELDS if k not in record]
    if missing:
        return [f"record: missing field {', '.join(missing)}"]
    diffs: list[str] = []
    extra: list[Any] | set[Any] = sorted(set(record) - set(_RECORD_FIELDS) - {"substitutions"})
    if extra:
        # A misspelt "substitutions" must not pass unchecked.
        diffs.append(f"record: unexpected field {', '.join(map(str, extra))}")
    manifest = record["manifest"]

    # Digests first: a changed pool is the most useful thing to name precisely. The encoded
    # pools are kept for the manifest hash (the bulk of the manifest, encoded once).
    encoded: list[bytes] = []
    encoded_people: bytes | None = None
    # A version 3 manifest without a valid salt has no digests to compare: "manifest
    # invalid" says so below.
    digest_of = _digest_function(manifest) or (lambda _encoded: None)
    if isinstance(manifest, dict):
        for stratum in manifest.get("strata") or ():
            if isinstance(stratum, dict) and "pool" in stratum:
                try:
                    encoded.append(canonical_json(stratum["pool"]))
                except CanonicalJSONError as exc:
                    diffs.append(f"stratum {stratum.get('name')}: {exc}")
                    continue
                recomputed = digest_of(encoded[-1])
                if recomputed is not None and stratum.get("pool_digest") != recomputed:
                    diffs.append(
                        f"stratum {stratum.get('name')}: pool digest differs — the pool list "
                        f"was changed (recorded {stratum.get('pool_digest')}, "
                        f"recomputed {recomputed})"
                    )
        people = manifest.get("inspectors")
        if isinstance(people, dict) and "pool" in people:
            try:
                encoded_people = canonical_json(people["pool"])
            except CanonicalJSONError as exc:
                diffs.append(f"inspectors: {exc}")
            else:
                recomputed = digest_of(encoded_people)
                if recomputed is not None and people.get("pool_digest") != recomputed:
                    diffs.append(
                        "inspectors: pool digest differs — the inspector list was changed "
                        f"(recorded {people.get('pool_digest')}, recomputed {recomputed})"
                    )
    try:
        if encoded_people is None:  # not even the layout of a manifest: the plain way
            digest = manifest_hash(manifest)
        else:
            digest = _manifest_hash_from_pools(manifest, encoded, encoded_people)
    except CanonicalJSONError as exc:
        return [*diffs, f"manifest: {exc}"]
    if record["manifest_hash"] != digest:
        diffs.append(
            f"manifest hash differs: recorded {record['manifest_hash']}, recomputed {digest} "
            "— the manifest was changed after it was hashed"
        )
    if expected_manifest_hash is not None and expected_manifest_hash.strip().lower() != digest:
        diffs.append(
            f"manifest hash {digest} differs from the published hash "
            f"{expected_manifest_hash.strip().lower()}"
        )
    try:
        _check_manifest(manifest, check_digests=False)
    except ManifestError as exc:
        return [*diffs, f"manifest invalid: {exc}"]
    try:
        clean, public = normalise_entropy(
            record["entropy"], record["public_value"], manifest["entropy_spec"]
        )
    except EntropyError as exc:
        return [*diffs, f"entropy invalid: {exc}"]
    if clean != record["entropy"] or public != record["public_value"]:
        diffs.append("entropy: the recorded values are not in normalised form")
    seed = compute_seed(digest, clean, public)
    if record["seed"] != seed.hex():
        diffs.append(
            f"seed differs: recorded {record['seed']}, recomputed {seed.hex()} — the entropy, "
            "the public value or the manifest is not what produced the recorded seed"
        )

    result = record["result"]
    if not isinstance(result, dict) or set(result) != {"objects", "teams"}:
        return [*diffs, 'result: must be {"objects": ..., "teams": ...}']
    objects = select_objects(seed, manifest)
    recorded_objects = result["objects"]
    if not isinstance(recorded_objects, dict):
        return [*diffs, "result.objects: must be an object keyed by stratum"]
    for name in recorded_objects:
        if name not in objects:
            diffs.append(f"result: stratum {name} is recorded but not in the manifest")
    for name, drawn in objects.items():
        recorded = recorded_objects.get(name)
        if not isinstance(recorded, list):
            diffs.append(f"stratum {name}: missing from the recorded result")
            continue
        if len(recorded) != len(drawn):
            diffs.append(
                f"stratum {name}: recorded {len(recorded)} objects, recomputed {len(drawn)}"
            )
        wrong = [
            i
            for i in range(max(len(recorded), len(drawn)))
            if (recorded[i] if i < len(recorded) else None)
            != (drawn[i] if i < len(drawn) else None)
        ]
        for i in wrong[:_MAX_REPORTED_POSITIONS]:
            diffs.append(
                f"stratum {name}, position {i + 1}: "
                f"recorded {_describe(recorded[i] if i < len(recorded) else None)}, "
                f"recomputed {_describe(drawn[i] if i < len(drawn) else None)}"
            )
        if len(wrong) > _MAX_REPORTED_POSITIONS:
            diffs.append(
                f"stratum {name}: … and {len(wrong) - _MAX_REPORTED_POSITIONS} more positions differ"
            )

    recorded_teams = result["teams"]
    if not isinstance(recorded_teams, list):
        return [*diffs, "result.teams: must be a list"]
    try:
        teams = assign_teams(seed, manifest, objects)
    except ConstraintError as exc:
        return [*diffs, f"teams: recomputation fails: {exc}"]
    if len(recorded_teams) != len(teams):
        diffs.append(f"teams: recorded {len(recorded_teams)}, recomputed {len(teams)}")
    reported = 0
    for index in range(max(len(recorded_teams), len(teams))):
        mine = teams[index] if index < len(teams) else {}
        theirs = recorded_teams[index] if index < len(recorded_teams) else {}
        if not isinstance(theirs, dict):
            theirs = {}
        label = mine.get("object") or theirs.get("object")
        for field in ("object", "stratum", "leader", "members", "experts"):
            if theirs.get(field) != mine.get(field):
                reported += 1
                if reported <= _MAX_REPORTED_POSITIONS:
                    diffs.append(
                        f"team {index + 1} (source {label}): {field} recorded "
                        f"{_describe(theirs.get(field))}, recomputed {_describe(mine.get(field))}"
                    )
        extra = set(theirs) - {"object", "stratum", "leader", "members", "experts"}
        if extra:
            diffs.append(
                f"team {index + 1} (source {label}): unexpected field {', '.join(sorted(extra))}"
            )
    if reported > _MAX_REPORTED_POSITIONS:
        diffs.append(f"teams: … and {reported - _MAX_REPORTED_POSITIONS} more differences")
    if "substitutions" in record:
        # Replayed on the recomputed result: a changed result is already reported above.
        _replay(
            seed, manifest, {"objects": objects, "teams": teams}, record["substitutions"], diffs
        )
    return diffs


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def _read(path: str) -> Any:
    with open(path, "rb") as handle:
        return load_json(handle.read())


def _draw_inputs(data: Any) -> tuple[Mapping[str, Any], Any, Any]:
    if isinstance(data, dict) and "manifest" in data:
        return data["manifest"], data.get("entropy"), data.get("public_value")
    raise EngineError('the file must hold a record (or {"manifest", "entropy", "public_value"})')


def _print_result(record: Mapping[str, Any]) -> None:
    manifest = record["manifest"]
    print(f"manifest hash: {record['manifest_hash']}")
    for item in record["entropy"]:
        print(f"entropy: {item['witness']}: {item['value']}")
    if record["public_value"] is not None:
        print(f"public value: {record['public_value']}")
    print(f"seed: {record['seed']}")
    for stratum in manifest["strata"]:
        drawn = record["result"]["objects"][stratum["name"]]
        print(f"stratum {stratum['name']}: {len(drawn)} of {len(stratum['pool'])}")
        for position, oid in enumerate(drawn, 1):
            print(f"  {position}. {oid}")
    for position, team in enumerate(record["result"]["teams"], 1):
        members = ", ".join(team["members"]) or "—"
        experts = ", ".join(team["experts"]) or "—"
        print(
            f"team {position}: source {team['object']} ({team['stratum']}): leader "
            f"{team['leader']}; members {members}; experts {experts}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    if hasattr(sys.stdout, "reconfigure"):
        # Chinese names must not crash the script on a console with a narrower encoding.
        sys.stdout.reconfigure(errors="backslashreplace")
    parser = argparse.ArgumentParser(  # named as it was run: verify_draw.py when downloaded
        description="Verify or recompute a 双随机、一公开 draw record (algorithm "
        f"{ALGORITHM_VERSION}).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    p_verify = commands.add_parser("verify", help="recompute a record and report differences")
    p_verify.add_argument("record")
    p_verify.add_argument(
        "--manifest-hash", help="the manifest hash published before the draw, to compare with"
    )
    p_draw = commands.add_parser("draw", help="recompute and print the result of a record")
    p_draw.add_argument("record")
    p_draw.add_argument("--json", action="store_true", help="print the full record as JSON")
    p_hash = commands.add_parser("hash", help="print the hash of a manifest (or of a record's)")
    p_hash.add_argument("file")
    p_order = commands.add_parser("order", help="print the full verifiable order of a stratum")
    p_order.add_argument("record")
    p_order.add_argument("stratum")
    p_order.add_argument("--limit", type=int, default=None)
    args = parser.parse_args(argv)

    try:
        if args.command == "verify":
            differences = verify(_read(args.record), expected_manifest_hash=args.manifest_hash)
            if not differences:
                print("matches")
                return 0
            print("DIFFERS:")
            for line in differences:
                print(f"- {line}")
            return 1
        if args.command == "draw":
            manifest, entropy, public_value = _draw_inputs(_read(args.record))
            record = execute(manifest, entropy if entropy is not None else [], public_value)
            if args.json:
                print(json.dumps(record, ensure_ascii=False, indent=2))
            else:
                _print_result(record)
            return 0
        if args.command == "hash":
            data = _read(args.file)
            manifest = data["manifest"] if isinstance(data, dict) and "manifest" in data else data
            check_manifest(manifest)
            print(manifest_hash(manifest))
            return 0
        data = _read(args.record)
        manifest, entropy, public_value = _draw_inputs(data)
        check_manifest(manifest)
        clean, public = normalise_entropy(entropy or [], public_value, manifest["entropy_spec"])
        seed = compute_seed(manifest_hash(manifest), clean, public)
        stratum = _find_stratum(manifest, args.stratum)
        by_id = {entry["id"]: entry for entry in stratum["pool"]}
        order = stratum_order(seed, stratum)
        for position, oid in enumerate(order[: args.limit], 1):
            mark = "drawn" if position <= stratum["quota"] else "substitute"
            entry = by_id[oid]
            print(f"{position}\t{oid}\ttier {entry['tier']}\tweight {entry['weight']}\t{mark}")
        return 0
    except OSError as exc:
        print(f"cannot read the file: {exc}", file=sys.stderr)
        return 1
    except (EngineError, ValueError) as exc:  # json.JSONDecodeError is a ValueError
        print(f"cannot process the file: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
