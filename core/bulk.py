"""Fast bulk inserts: COPY on PostgreSQL, bulk_create elsewhere.

Django's ``bulk_create`` builds one Python object and one parameter per cell; writing a
large draw's result that way costs seconds. COPY streams the rows instead. Callers pass every
column explicitly (COPY applies no ``auto_now_add`` or Python defaults).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection, models


def copy_insert(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence]) -> None:
    """Insert ``rows`` (tuples in the order of ``fields``) into ``model``'s table."""
    meta = model._meta
    if connection.vendor == "postgresql":
        columns = ", ".join(connection.ops.quote_name(meta.get_field(f).column) for f in fields)
        table = connection.ops.quote_name(meta.db_table)
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    attnames = [meta.get_field(f).attname for f in fields]
    model.objects.bulk_create(
        (model(**dict(zip(attnames, row, strict=True))) for row in rows), batch_size=1000
    )
