# The import jobs and registry exports moved to the ``exchange`` app (issue 11). Their tables
# stay where they are (``core_importjob``, ``core_registryexport``), now owned by
# ``exchange.0001_initial``: this migration only takes the models out of core's state.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0009_outbox_and_job_heartbeats'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='registryexport',
                    name='requested_by',
                ),
                migrations.DeleteModel(
                    name='ImportJob',
                ),
                migrations.DeleteModel(
                    name='RegistryExport',
                ),
            ],
            database_operations=[],
        ),
    ]
