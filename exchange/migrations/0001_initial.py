# The import jobs and registry exports, moved from ``core`` (issue 11) without a row copied:
# the models take over core's tables (``db_table``), so the database is left as it is. The
# content types move with them, so permissions (and object permissions) on them still hold.

import django.db.models.deletion
import exchange.models
from django.conf import settings
from django.db import migrations, models


MODELS = ["importjob", "registryexport"]


def content_types_to_exchange(apps, schema_editor):
    """Relabel core's content types of the moved models (a database made before the move has
    them; a new one gets exchange's at the end of ``migrate``)."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not ContentType.objects.filter(app_label="exchange", model=model).exists():
            ContentType.objects.filter(app_label="core", model=model).update(app_label="exchange")


def content_types_to_core(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not ContentType.objects.filter(app_label="core", model=model).exists():
            ContentType.objects.filter(app_label="exchange", model=model).update(app_label="core")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('core', '0010_importjob_registryexport_to_exchange'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    state_operations = [
        migrations.CreateModel(
            name='ImportJob',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('sources', 'Pollution sources'), ('inspectors', 'Inspectors')], max_length=20, verbose_name='kind')),
                ('file', models.FileField(max_length=200, upload_to=exchange.models.import_upload_to, verbose_name='file')),
                ('original_name', models.CharField(max_length=200, verbose_name='file name')),
                ('size', models.PositiveBigIntegerField(default=0, verbose_name='size in bytes')),
                ('sha256', models.CharField(blank=True, max_length=64, verbose_name='SHA-256')),
                ('status', models.CharField(choices=[('uploaded', 'Uploaded'), ('validating', 'Checking'), ('validated', 'Checked'), ('failed', 'Refused'), ('committing', 'Importing'), ('committed', 'Imported')], default='uploaded', max_length=12, verbose_name='status')),
                ('in_background', models.BooleanField(default=False, verbose_name='runs in the background')),
                ('rows_total', models.PositiveIntegerField(default=0, verbose_name='rows')),
                ('rows_done', models.PositiveIntegerField(default=0, verbose_name='rows done')),
                ('message', models.TextField(blank=True, verbose_name='message')),
                ('report', models.JSONField(blank=True, default=dict, verbose_name='dry-run report')),
                ('error_report', models.FileField(blank=True, max_length=200, upload_to='imports/reports/', verbose_name='error report')),
                ('accept_warnings', models.BooleanField(default=False, verbose_name='warnings accepted')),
                ('result', models.JSONField(blank=True, null=True, verbose_name='result')),
                ('claimed_at', models.DateTimeField(blank=True, null=True, verbose_name='claimed at')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='uploaded at')),
                ('validated_at', models.DateTimeField(blank=True, null=True, verbose_name='checked at')),
                ('committed_at', models.DateTimeField(blank=True, null=True, verbose_name='imported at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('language', models.CharField(blank=True, max_length=15, verbose_name='language')),
                ('files_purged_at', models.DateTimeField(blank=True, null=True, verbose_name='files removed at')),
                ('heartbeat_at', models.DateTimeField(blank=True, null=True, verbose_name='last sign of life')),
                ('attempts', models.PositiveSmallIntegerField(default=0, verbose_name='attempts')),
                ('committed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='imported by')),
                ('created_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='uploaded by')),
                ('organisation', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='import_jobs', to='core.organisation', verbose_name='organisation')),
            ],
            options={
                'verbose_name': 'import job',
                'verbose_name_plural': 'import jobs',
                'db_table': 'core_importjob',
                'ordering': ['-created_at', '-id'],
                'indexes': [models.Index(fields=['organisation', '-created_at'], name='importjob_org')],
                'constraints': [models.CheckConstraint(condition=models.Q(('kind__in', ['sources', 'inspectors'])), name='importjob_kind'), models.CheckConstraint(condition=models.Q(('status__in', ['uploaded', 'validating', 'validated', 'failed', 'committing', 'committed'])), name='importjob_status')],
            },
        ),
        migrations.CreateModel(
            name='RegistryExport',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('sources', 'Pollution sources'), ('inspectors', 'Inspectors')], max_length=20, verbose_name='kind')),
                ('status', models.CharField(choices=[('requested', 'Being prepared'), ('ready', 'Ready'), ('failed', 'Failed')], default='requested', max_length=12, verbose_name='status')),
                ('file', models.FileField(blank=True, max_length=200, upload_to='exports/', verbose_name='file')),
                ('rows', models.PositiveIntegerField(default=0, verbose_name='rows')),
                ('message', models.TextField(blank=True, verbose_name='message')),
                ('language', models.CharField(blank=True, max_length=15, verbose_name='language')),
                ('claimed_at', models.DateTimeField(blank=True, null=True, verbose_name='claimed at')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='requested at')),
                ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='finished at')),
                ('file_purged_at', models.DateTimeField(blank=True, null=True, verbose_name='file removed at')),
                ('heartbeat_at', models.DateTimeField(blank=True, null=True, verbose_name='last sign of life')),
                ('attempts', models.PositiveSmallIntegerField(default=0, verbose_name='attempts')),
                ('requested_by', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='requested by')),
            ],
            options={
                'verbose_name': 'registry export',
                'verbose_name_plural': 'registry exports',
                'db_table': 'core_registryexport',
                'ordering': ['-created_at', '-id'],
                'constraints': [models.CheckConstraint(condition=models.Q(('kind__in', ['sources', 'inspectors'])), name='registryexport_kind'), models.CheckConstraint(condition=models.Q(('status__in', ['requested', 'ready', 'failed'])), name='registryexport_status')],
            },
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=state_operations, database_operations=[]),
        migrations.RunPython(content_types_to_exchange, content_types_to_core, elidable=False),
    ]
