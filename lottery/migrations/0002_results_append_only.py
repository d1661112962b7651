"""On PostgreSQL the database refuses to UPDATE or DELETE drawn results and entropy.

A drawn result is never edited or deleted: changes are new substitution rows. The trigger
makes that hold even for code that forgets, and for anyone with plain SQL access.
"""

from django.db import migrations

TABLES = ["lottery_drawselection", "lottery_teamassignment", "lottery_drawentropy"]
FUNCTION = """
CREATE OR REPLACE FUNCTION lottery_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '%% is append-only: drawn results are never edited or deleted', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION lottery_append_only();"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
    schema_editor.execute("DROP FUNCTION IF EXISTS lottery_append_only();")


class Migration(migrations.Migration):
    dependencies = [("lottery", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
