"""On PostgreSQL a draw's filing with its city team is kept as filed.

The filing is the city team's evidence of what was drawn (a SHA-256 of the executed draw):
a quiet redo would show as a digest that no longer matches, unless the filing could be
edited to the new one or removed. So a filing is never updated, deleted or truncated, like
the draw it describes (lottery migration 0013's TRUNCATE function refuses every role but a
superuser).
"""

from django.db import migrations

KEPT = r"""
CREATE OR REPLACE FUNCTION oversight_filing_kept() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the filing of a draw is never changed or removed';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    run(KEPT)
    run(
        "CREATE TRIGGER oversight_drawfiling_kept BEFORE UPDATE OR DELETE ON oversight_drawfiling "
        "FOR EACH ROW EXECUTE FUNCTION oversight_filing_kept();"
    )
    run(
        "CREATE TRIGGER oversight_drawfiling_no_truncate BEFORE TRUNCATE ON oversight_drawfiling "
        "FOR EACH STATEMENT EXECUTE FUNCTION sjsj_refuse_truncate();"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    run("DROP TRIGGER IF EXISTS oversight_drawfiling_no_truncate ON oversight_drawfiling;")
    run("DROP TRIGGER IF EXISTS oversight_drawfiling_kept ON oversight_drawfiling;")
    run("DROP FUNCTION IF EXISTS oversight_filing_kept();")


class Migration(migrations.Migration):
    dependencies = [
        ("oversight", "0007_builds_in_flight_join_the_outbox"),
        ("lottery", "0013_draw_tables_monotone"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
