"""Fast table writes for ``registry.services.source_bulk_upsert`` (not called from elsewhere).

Django's bulk_create/bulk_update spend most of their time building SQL in Python (and
bulk_update's CASE WHEN grows with rows × fields). On PostgreSQL these helpers use COPY
instead: rows stream straight into the table (or into a temporary table that one UPDATE …
FROM then applies), so 100,000 sources are written in seconds. Other databases (the embedded
SQLite default, with demo-sized data) use the ORM's bulk operations. Validation, locking,
history and audit stay in the service; these functions only move rows.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import connection, models
from psycopg import Copy
from psycopg.copy import FileWriter

CHUNK = 2000


def _is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def _field(model: type[models.Model], name: str) -> models.Field:
    """The field named ``name``, which must have a column of its own (not a reverse relation)."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or not field.column:
        raise ValueError(f"{model._meta.label}.{name} has no column")
    return field


def _columns(model: type[models.Model], names: Iterable[str]) -> list[models.Field]:
    return [_field(model, name) for name in names]


def _quoted(field: models.Field) -> str:
    """A concrete field's column name, quoted (``_field`` made sure it has one)."""
    return connection.ops.quote_name(field.column or "")


_JSON_SEEN: dict[tuple, str] = {}  # list of strings -> its JSON text (vocabulary lists repeat)


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    if not value and isinstance(value, (list, dict)):
        return "[]" if isinstance(value, list) else "{}"  # most tags and every new history row
    if value.__class__ is list:
        key = tuple(value)
        try:
            text = _JSON_SEEN.get(key)
        except TypeError:  # unhashable items
            return json.dumps(value, ensure_ascii=False)
        if text is None:
            text = json.dumps(value, ensure_ascii=False)
            if len(_JSON_SEEN) < 4096:
                _JSON_SEEN[key] = text
        return text
    return json.dumps(value, ensure_ascii=False)


def _copy(table: str, fields: Sequence[models.Field], rows: Iterable[Sequence[Any]]) -> None:
    columns = ", ".join(_quoted(f) for f in fields)
    # Only JSON columns need converting (to JSON text); everything else psycopg adapts.
    json_at = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {connection.ops.quote_name(table)} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            if json_at:
                row = list(row)
                for i in json_at:
                    row[i] = _json_text(row[i])
            copy.write_row(row)


def insert_rows(
    model: type[models.Model], names: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    """INSERT ``rows`` (dicts by field name, every name in ``names`` present)."""
    if not rows:
        return
    fields = _columns(model, names)
    if _is_postgresql():
        _copy(model._meta.db_table, fields, ([row[n] for n in names] for row in rows))
        return
    if connection.vendor == "sqlite":
        # bulk_create would send 45-row batches (SQLite's 999-parameter limit); executemany
        # runs one prepared statement over every row in C.
        convert = [_sqlite_adapter(f) for f in fields]
        quote = connection.ops.quote_name
        sql = (
            f"INSERT INTO {quote(model._meta.db_table)} "
            f"({', '.join(_quoted(f) for f in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))})"
        )
        with connection.cursor() as cursor:
            cursor.executemany(
                sql,
                [
                    [c(row[n]) if c else row[n] for c, n in zip(convert, names, strict=True)]
                    for row in rows
                ],
            )
        return
    model._default_manager.bulk_create([model(**row) for row in rows], batch_size=CHUNK)


def encode_rows(
    model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence[Any]]
) -> bytes | list[Sequence[Any]]:
    """``rows`` (sequences in ``names`` order) made ready for ``insert_encoded``: on PostgreSQL
    as COPY data (psycopg's own formatting, with no use of the connection, so another thread
    may be writing meanwhile), elsewhere as they are."""
    if not _is_postgresql():
        return list(rows)
    fields = _columns(model, names)
    json_at = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    buffer = io.BytesIO()
    with Copy(connection.connection.cursor(), binary=False, writer=FileWriter(buffer)) as copy:
        write_row = copy.write_row
        if json_at:
            for row in rows:
                row = list(row)
                for i in json_at:
                    row[i] = _json_text(row[i])
                write_row(row)
        else:
            for row in rows:
                write_row(row)
    return buffer.getvalue()


def encode_keyed_rows(
    model: type[models.Model], names: Sequence[str], keys: Sequence[int], rest: Sequence[Any]
) -> bytes | list[Sequence[Any]]:
    """``encode_rows`` for the rows ``(key, *rest)``, one per key (an integer): rows that
    differ in their first column only, such as one history entry per new record. The shared
    part is encoded once."""
    if not _is_postgresql():
        return [(key, *rest) for key in keys]
    line = encode_rows(model, names, [(0, *rest)])
    assert isinstance(line, bytes) and line.startswith(b"0\t")
    tail = line[1:]
    return b"".join([b"%d" % key + tail for key in keys])


def insert_encoded(
    model: type[models.Model], names: Sequence[str], payload: bytes | list[Sequence[Any]]
) -> None:
    """INSERT the rows that ``encode_rows`` prepared: one COPY of the whole payload, so the
    server has all of it at once."""
    if not _is_postgresql():
        assert isinstance(payload, list)  # encode_rows kept the rows as they were
        insert_rows(model, names, [dict(zip(names, row, strict=True)) for row in payload])
        return
    quote = connection.ops.quote_name
    columns = ", ".join(_quoted(f) for f in _columns(model, names))
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as copy,
    ):
        copy.write(payload)


def reserve_ids(model: type[models.Model], count: int) -> list[int] | None:
    """``count`` new primary keys from ``model``'s sequence (PostgreSQL), so the caller can
    COPY rows with their ids and their dependent rows (history) beside them, with no lookup
    of the new rows afterwards; ``None`` elsewhere. A key reserved but not used is a gap,
    as after any rolled-back insert."""
    if not count or not _is_postgresql():
        return None
    meta = model._meta
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, count],
        )
        return [pk for (pk,) in cursor.fetchall()]


def insert_per_key(
    model: type[models.Model],
    constants: Mapping[str, Any],
    *,
    fk: str,
    target: type[models.Model],
    key: str,
    values: Sequence[str],
    owner: str,
    owners: Sequence[int],
) -> None:
    """INSERT one ``model`` row for each ``target`` row whose (``owner``, ``key``) is one of
    the pairs (``owners[i]``, ``values[i]``): ``fk`` points at that row, every other column is
    set from ``constants``. On PostgreSQL this is one INSERT … SELECT, so the new rows' ids
    never travel to Python and back."""
    if not values:
        return
    names = list(constants)
    if not _is_postgresql():
        ids = ids_by_key(target, key, values, owner, owners)
        insert_rows(
            model,
            [fk, *names],
            [{fk: ids[pair], **constants} for pair in zip(owners, values, strict=True)],
        )
        return
    quote = connection.ops.quote_name
    fields = _columns(model, names)
    params = [
        _json_text(constants[name]) if isinstance(f, models.JSONField) else constants[name]
        for f, name in zip(fields, names, strict=True)
    ]
    casts = ", ".join(f"CAST(%s AS {f.db_type(connection)})" for f in fields)
    columns = ", ".join(_quoted(f) for f in [_field(model, fk), *fields])
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "
            f"SELECT t.{_quoted(target._meta.pk)}, {casts} "
            f"FROM {quote(target._meta.db_table)} AS t "
            f"JOIN unnest(%s::bigint[], %s::text[]) AS k(owner, key) "
            f"ON t.{_quoted(_field(target, owner))} = k.owner "
            f"AND t.{_quoted(_field(target, key))} = k.key",
            [*params, list(owners), list(values)],
        )


def _sqlite_adapter(field: models.Field):
    """How a value of ``field`` is stored in SQLite, the way Django itself stores it."""
    if isinstance(field, models.JSONField):
        return lambda v: None if v is None else json.dumps(v)  # ASCII-escaped, like Django
    if isinstance(field, models.DateTimeField):
        return connection.ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return connection.ops.adapt_datefield_value
    if isinstance(field, models.DecimalField):
        return lambda v: None if v is None else str(v)
    return None


# Thousands of keys per query: psycopg dumps a list element by element in Python, which the
# writer thread pays for with the GIL; a JSON text (``json.dumps``, in C) and an integer list's
# text spelling cost almost nothing, and the server unpacks them in key order.
_TEXT_ARRAY = (
    "ARRAY(SELECT e.v FROM jsonb_array_elements_text(%s::jsonb) WITH ORDINALITY AS e(v, i) "
    "ORDER BY e.i)"
)


def _array_params(owners: Sequence[int], values: Sequence[str]) -> list[str]:
    """The parameters of ``unnest(%s::bigint[], _TEXT_ARRAY)`` for these pairs."""
    return ["{" + ",".join(map(str, map(int, owners))) + "}", json.dumps(list(values))]


def lock_rows_by_key(
    model: type[models.Model],
    key: str,
    values: Sequence[str],
    names: Sequence[str],
    *,
    owner: str,
    owners: Sequence[int],
) -> list[dict[str, Any]]:
    """SELECT … FOR UPDATE the rows whose (``owner``, ``key``) is one of the pairs
    (``owners[i]``, ``values[i]``), as dicts of ``names`` (field names or attnames; ``pk`` for
    the primary key). A key is unique per owner only (a source code per organisation)."""
    if not values:
        return []
    if not _is_postgresql():
        found: list[dict[str, Any]] = []
        by_owner: dict[int, list[str]] = {}
        for owner_id, value in zip(owners, values, strict=True):
            by_owner.setdefault(owner_id, []).append(value)
        for owner_id, keys in by_owner.items():
            for start in range(0, len(keys), CHUNK):
                chunk = keys[start : start + CHUNK]
                found.extend(
                    model._default_manager.select_for_update()
                    .filter(**{owner: owner_id, f"{key}__in": chunk})
                    .values(*names)
                )
        return found
    quote = connection.ops.quote_name
    columns = ", ".join(
        "t." + _quoted(model._meta.pk if n == "pk" else _field(model, n)) for n in names
    )
    # Django has psycopg hand jsonb over as text (JSONField parses it): parse it likewise.
    json_at = [
        i
        for i, n in enumerate(names)
        if n != "pk" and isinstance(model._meta.get_field(n), models.JSONField)
    ]
    with connection.cursor() as cursor:
        # One index lookup per key (the subquery with FOR UPDATE is not flattened into a
        # join): as a plain join the planner, seeing thousands of keys, hashes the whole
        # table instead, a scan of every bureau's sources per chunk that grows as the
        # import fills the table (100,000 new rows: ~3 s of scans, against ~0.3 s).
        cursor.execute(
            f"SELECT s.* FROM unnest(%s::bigint[], {_TEXT_ARRAY}) AS k(owner, key), "
            f"LATERAL (SELECT {columns} FROM {quote(model._meta.db_table)} AS t "
            f"WHERE t.{_quoted(_field(model, owner))} = k.owner "
            f"AND t.{_quoted(_field(model, key))} = k.key FOR UPDATE OF t) AS s",
            _array_params(owners, values),
        )
        found = []
        for row in cursor.fetchall():
            row = list(row)
            for i in json_at:
                if isinstance(row[i], str):
                    row[i] = json.loads(row[i])
            found.append(dict(zip(names, row, strict=True)))
        return found


def ids_by_key(
    model: type[models.Model], key: str, values: Sequence[str], owner: str, owners: Sequence[int]
) -> dict[tuple[int, str], int]:
    """{(owner, key value): pk} for the given pairs (the embedded default's path)."""
    found: dict[tuple[int, str], int] = {}
    by_owner: dict[int, list[str]] = {}
    for owner_id, value in zip(owners, values, strict=True):
        by_owner.setdefault(owner_id, []).append(value)
    for owner_id, keys in by_owner.items():
        for start in range(0, len(keys), CHUNK):
            chunk = keys[start : start + CHUNK]
            rows = model._default_manager.filter(**{owner: owner_id, f"{key}__in": chunk})
            found.update(((owner_id, k), pk) for k, pk in rows.values_list(key, "pk"))
    return found


def update_rows(
    model: type[models.Model], names: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    """UPDATE the ``names`` columns of the rows identified by ``row['pk']``.

    Every row must carry every name (its current value where it did not change): the
    caller holds the rows locked, so writing an unchanged value back is harmless.
    """
    if not rows:
        return
    if not _is_postgresql():
        objects = [model(pk=row["pk"], **{n: row[n] for n in names}) for row in rows]
        model._default_manager.bulk_update(objects, list(names), batch_size=500)
        return
    table = connection.ops.quote_name(model._meta.db_table)
    fields = _columns(model, names)
    pk = model._meta.pk
    temp = connection.ops.quote_name(f"tmp_bulk_{model._meta.db_table}")
    quoted = [_quoted(f) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {temp}")
        column_list = ", ".join([_quoted(pk), *quoted])
        # Same column types as the table; dropped below, or with the rolled-back transaction.
        cursor.execute(
            f"CREATE TEMPORARY TABLE {temp} AS SELECT {column_list} FROM {table} WITH NO DATA"
        )
    _copy(
        f"tmp_bulk_{model._meta.db_table}",
        [pk, *fields],
        ([row["pk"], *(row[n] for n in names)] for row in rows),
    )
    assignments = ", ".join(f"{c} = t.{c}" for c in quoted)
    pk_column = _quoted(pk)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS s SET {assignments} FROM {temp} AS t "
            f"WHERE s.{pk_column} = t.{pk_column}"
        )
        cursor.execute(f"DROP TABLE {temp}")
