"""SQL the application never runs, for tests that play someone with database access."""

from __future__ import annotations

from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def triggers_off():
    """Run the block with every trigger off, as only the database's superuser can (the
    tests' role is one): to tamper as an attacker would, or to set up a past no service
    would write. A no-op where there are no triggers (SQLite)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
        yield
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = origin")
