"""Source codes are unique per supervising organisation, no longer nationally.

A national constraint made an import tell a bureau that another bureau had registered a code
(issue 10). The unique (organisation, source_code) index replaces the plain one it covers; the
code keeps an index of its own for the draw's lookups and searches across a city.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0009_outbox_and_job_heartbeats'),
        ('registry', '0005_checkitem_sections'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='pollutionsource',
            name='source_org_code',
        ),
        migrations.AlterField(
            model_name='pollutionsource',
            name='source_code',
            field=models.CharField(db_index=True, max_length=40, verbose_name='source code'),
        ),
        migrations.AddConstraint(
            model_name='pollutionsource',
            constraint=models.UniqueConstraint(fields=('organisation', 'source_code'), name='source_unique_org_code'),
        ),
    ]
