"""On PostgreSQL, compress a draw's manifest and result with lz4 instead of pglz.

A draw over 100,000 sources stores a 4 MB manifest and a 2 MB result; pglz took 30–45 ms to
compress the manifest, lz4 about 10 ms (for a slightly larger stored size). A server built
without lz4 keeps pglz.
"""

from django.db import migrations

COLUMNS = ["manifest_json", "result"]


def set_compression(method):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        alters = ", ".join(f"ALTER COLUMN {c} SET COMPRESSION {method}" for c in COLUMNS)
        schema_editor.execute(
            "DO $$ BEGIN "
            f"ALTER TABLE lottery_draw {alters}; "
            "EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN NULL; "
            "END $$;"
        )

    return run


class Migration(migrations.Migration):
    dependencies = [("lottery", "0004_result_indexes")]
    operations = [migrations.RunPython(set_compression("lz4"), set_compression("pglz"))]
