"""Fast bulk inserts: COPY on PostgreSQL, bulk_create elsewhere; and a helper thread that
works on the calling thread's database connection, so Python and the database both work.

Django's ``bulk_create`` builds one Python object and one parameter per cell; writing a
large draw's result that way costs seconds. COPY streams the rows instead. Callers pass every
column explicitly (COPY applies no ``auto_now_add`` or Python defaults).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.utils import timezone, translation


def _concrete(model: type[models.Model], name: str) -> models.Field:
    """The field named ``name``, which must have a column of its own (not a reverse relation)."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or not field.column:
        raise ValueError(f"{model._meta.label}.{name} has no column")
    return field


def _columns(model: type[models.Model], fields: Sequence[str]) -> str:
    return ", ".join(connection.ops.quote_name(str(_concrete(model, f).column)) for f in fields)


def copy_insert(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence]) -> None:
    """Insert ``rows`` (tuples in the order of ``fields``) into ``model``'s table."""
    meta = model._meta
    if connection.vendor == "postgresql":
        columns = _columns(model, fields)
        table = connection.ops.quote_name(meta.db_table)
        with (
            connection.cursor() as cursor,
            # Django's error classes (IntegrityError...), as its own cursor raises them.
            connection.wrap_database_errors,
            cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    attnames = [_concrete(model, f).attname for f in fields]
    model._default_manager.bulk_create(
        (model(**dict(zip(attnames, row, strict=True))) for row in rows), batch_size=1000
    )


def copy_text(model: type[models.Model], fields: Sequence[str], data: str) -> None:
    """Insert rows given in COPY's text format (PostgreSQL only): each line ends with a
    newline and has the values of ``fields`` separated by tabs, ``\\N`` for NULL, already
    escaped by the caller. One call, however many rows: for a helper thread that should not
    need the GIL once per row."""
    meta = model._meta
    columns = _columns(model, fields)
    table = connection.ops.quote_name(meta.db_table)
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        copy.write(data)


class SideJob:
    """``work()`` on a helper thread that uses the calling thread's database connection, and so
    its transaction: the database files one batch while Python prepares the next.

    The connection serves one thread at a time: until ``wait()`` returns, the calling thread
    must not use it. ``wait()`` re-raises whatever ``work`` raised. The helper sees the
    caller's language and time zone (Django activates both per thread).
    """

    def __init__(self, work: Callable[[], None], *, name: str = "database-side"):
        self._wrapper = connections[DEFAULT_DB_ALIAS]
        self._error: BaseException | None = None
        language = translation.get_language()
        zone = timezone.get_current_timezone()
        wrapper = self._wrapper

        def run() -> None:
            connections[DEFAULT_DB_ALIAS] = wrapper
            try:
                with translation.override(language), timezone.override(zone):
                    work()
            except BaseException as exc:  # noqa: BLE001 - re-raised by wait()
                self._error = exc
            finally:
                del connections[DEFAULT_DB_ALIAS]

        wrapper.inc_thread_sharing()
        self._thread = threading.Thread(target=run, name=name, daemon=True)
        self._thread.start()

    def wait(self) -> None:
        self._thread.join()
        self._wrapper.dec_thread_sharing()
        if self._error is not None:
            raise self._error
