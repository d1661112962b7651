"""An index for the oversight's reads of a quarter's tasks per unit (the dashboard's GROUP BYs
filter on organisation and inspection period). Created by this app so inspections/ is left
alone; on PostgreSQL only (SQLite runs the smoke tests)."""

from django.db import migrations

CREATE = (
    "CREATE INDEX IF NOT EXISTS oversight_task_org_period "
    "ON inspections_inspectiontask (organisation_id, period_start)"
)
DROP = "DROP INDEX IF EXISTS oversight_task_org_period"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("oversight", "0001_initial"),
        ("inspections", "0002_drafts_evidence"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
