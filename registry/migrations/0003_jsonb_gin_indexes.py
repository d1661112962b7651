"""GIN indexes for the tag and pollution-type filters (PostgreSQL only).

The selectors filter these JSON lists with ``@>`` (jsonb containment), which a
``jsonb_path_ops`` GIN index serves; SQLite matches the JSON text and is skipped.
"""

from django.db import migrations

INDEXES = {
    "source_tags_gin": "tags",
    "source_pollution_types_gin": "pollution_types",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name, column in INDEXES.items():
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON registry_pollutionsource "
                f"USING gin ({column} jsonb_path_ops)"
            )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name in INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("registry", "0002_trigram_search_indexes")]

    operations = [migrations.RunPython(create, drop)]
