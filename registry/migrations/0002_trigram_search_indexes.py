"""Trigram indexes for the registry's substring search (PostgreSQL only).

Django's ``icontains`` becomes ``UPPER(col) LIKE UPPER('%q%')``, so the indexes are on
``UPPER(col)``. pg_trgm is a trusted extension (PostgreSQL 13+): a database owner may create
it. Where it cannot be created the search still works, only by scanning, so the migration
warns instead of failing. SQLite (the embedded default) has no equivalent and is skipped.
"""

import warnings

from django.db import migrations

INDEXES = {
    "source_name_trgm": "name",
    "source_company_trgm": "company_name",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        try:
            cursor.execute("SAVEPOINT registry_trgm")
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            cursor.execute("RELEASE SAVEPOINT registry_trgm")
        except Exception as exc:  # noqa: BLE001 - no privilege: search works, unindexed
            cursor.execute("ROLLBACK TO SAVEPOINT registry_trgm")
            warnings.warn(f"pg_trgm unavailable, registry search is unindexed: {exc}", stacklevel=1)
            return
        for name, column in INDEXES.items():
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON registry_pollutionsource "
                f"USING gin (UPPER({column}) gin_trgm_ops)"
            )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name in INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
