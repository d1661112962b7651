"""The Celery app, and the one place that defines the beat schedule."""

import os
from datetime import timedelta

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("sjsj")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every periodic job of the product lives here, and only here. Times are Asia/Shanghai.
app.conf.beat_schedule = {
    "calendar-coverage-check": {
        "task": "core.tasks.calendar_coverage_check",
        "schedule": crontab(hour=7, minute=0),
    },
    "import-files-purge": {
        "task": "exchange.tasks.import_files_purge",
        "schedule": crontab(hour=2, minute=30),
    },
    # The audit chain's head, published hourly on the public portal (/public/audit-checkpoints/).
    "audit-checkpoint-publish": {
        "task": "core.tasks.audit_checkpoint_publish_task",
        "schedule": crontab(minute=5),
    },
    # The transactional outbox (core/outbox.py): what could not be sent when it was written.
    "outbox-dispatch": {
        "task": "core.tasks.outbox_dispatch",
        "schedule": timedelta(seconds=30),
        "options": {"expires": 25},
    },
    # Imports, exports and report and archive builds whose worker died mid-job (the kinds
    # registered with exchange.stalled): queued again, or failed with the reason.
    "jobs-stalled-sweep": {
        "task": "exchange.tasks.jobs_stalled_sweep",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 240},
    },
    "lottery-draws-disclose-due": {
        "task": "lottery.tasks.draws_disclose_due_task",
        "schedule": crontab(hour=1, minute=30),
    },
    # Approved random-check results whose day has come (publication's pending list).
    "publication-results-publish-due": {
        "task": "publication.tasks.results_publish_due_task",
        "schedule": crontab(hour=1, minute=45),
    },
    # Obligations from the deadline regimes: reminders, overdue, escalation, warnings. After
    # publishing, so a result published today is not reported overdue.
    "deadlines-run": {
        "task": "deadlines.tasks.deadlines_run_task",
        "schedule": crontab(hour=6, minute=30),
    },
}
