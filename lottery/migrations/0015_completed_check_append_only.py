"""On PostgreSQL a completed spot check is append-only, like the drawn results it completes.

Coverage and the frequency cap of later draws rest on these rows, and later manifests embed
what they say, so a row (or one of its check items) is never updated, deleted or truncated:
the functions of migrations 0002 and 0013 refuse it.
"""

from django.db import migrations

TABLES = ["lottery_completedcheck", "lottery_completedcheck_check_items"]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    for table in TABLES:
        run(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION lottery_append_only();"
        )
        run(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION sjsj_refuse_truncate();"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")


class Migration(migrations.Migration):
    dependencies = [("lottery", "0014_completed_check")]
    operations = [migrations.RunPython(forwards, backwards)]
