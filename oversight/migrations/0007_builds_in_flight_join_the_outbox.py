"""Builds in flight when the outbox took over: before it, a build was sent by ``.delay`` after
the request committed, so a queued build whose message was lost (the broker was down) waited
for ever, and an archive being built had no ``started_at`` for the stalled-job sweep to see.

A queued build gets an outbox row (sending it twice is harmless: the task claims its build with
a conditional UPDATE), and a running archive counts as started when it was requested, so the
sweep queues it again or fails it with a reason."""

from django.db import migrations
from django.db.models import F

TASKS = {
    "Report": "oversight.tasks.report_build_task",
    "Archive": "oversight.tasks.archive_build_task",
}


def forwards(apps, schema_editor):
    OutboxMessage = apps.get_model("core", "OutboxMessage")
    for model_name, task_name in TASKS.items():
        model = apps.get_model("oversight", model_name)
        queued = model.objects.filter(status="queued").values_list("pk", flat=True)
        OutboxMessage.objects.bulk_create(
            OutboxMessage(task_name=task_name, args=[pk]) for pk in queued
        )
    Archive = apps.get_model("oversight", "Archive")
    Archive.objects.filter(status="running", started_at__isnull=True).update(
        started_at=F("requested_at")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0009_outbox_and_job_heartbeats"),
        ("oversight", "0006_job_heartbeats"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
