"""On PostgreSQL the database keeps published results frozen, and makes name search fast.

A published entry is never deleted and never edited: the only change allowed is
``is_current`` going once from true to false, when a correction replaces the entry. No role
but a superuser may TRUNCATE them. A line of a national export is never deleted either (it is
what makes a re-export send nothing twice). Company-name search (``icontains``) uses a
trigram index (``pg_trgm``) on the expression Django's lookup compares.
"""

from django.db import migrations

FROZEN = r"""
CREATE OR REPLACE FUNCTION publication_result_frozen() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'published result %% is never deleted: publish a correction', OLD.id;
    END IF;
    IF (to_jsonb(NEW) - 'is_current') <> (to_jsonb(OLD) - 'is_current')
       OR (NEW.is_current AND NOT OLD.is_current) THEN
        RAISE EXCEPTION 'published result %% is frozen: publish a correction', OLD.id;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

LINE = r"""
CREATE OR REPLACE FUNCTION publication_export_line_kept() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'what was exported stays recorded';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    run(FROZEN)
    run(
        "CREATE TRIGGER publication_result_frozen BEFORE UPDATE OR DELETE "
        "ON publication_publishedresult FOR EACH ROW "
        "EXECUTE FUNCTION publication_result_frozen();"
    )
    run(LINE)
    run(
        "CREATE TRIGGER publication_export_line_kept BEFORE UPDATE OR DELETE "
        "ON publication_nationalexportline FOR EACH ROW "
        "EXECUTE FUNCTION publication_export_line_kept();"
    )
    for table in ("publication_publishedresult", "publication_nationalexportline"):
        run(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION sjsj_refuse_truncate();"
        )
    run("CREATE EXTENSION IF NOT EXISTS pg_trgm;")
    run(
        # Django's icontains is UPPER(col) LIKE UPPER(%s): index that expression.
        "CREATE INDEX IF NOT EXISTS pubres_company_trgm ON publication_publishedresult "
        "USING gin ((UPPER(company_name::text)) gin_trgm_ops);"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    run("DROP INDEX IF EXISTS pubres_company_trgm;")
    for table in ("publication_publishedresult", "publication_nationalexportline"):
        run(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};")
    run("DROP TRIGGER IF EXISTS publication_export_line_kept ON publication_nationalexportline;")
    run("DROP FUNCTION IF EXISTS publication_export_line_kept();")
    run("DROP TRIGGER IF EXISTS publication_result_frozen ON publication_publishedresult;")
    run("DROP FUNCTION IF EXISTS publication_result_frozen();")


class Migration(migrations.Migration):
    dependencies = [
        ("publication", "0001_published_results"),
        ("lottery", "0013_draw_tables_monotone"),  # sjsj_refuse_truncate()
    ]
    operations = [migrations.RunPython(forwards, backwards)]
