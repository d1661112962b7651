"""The transactional outbox: Celery tasks that survive a broker outage.

A change that needs a worker (a large import, a registry export, a record PDF, the inspection
tasks of a draw) calls ``outbox_enqueue(task_name, *args)`` instead of ``task.delay(...)``.
That writes an ``OutboxMessage`` row in the caller's transaction, so the job and its message
commit or roll back together, and tries to send it once the transaction commits, through a
connection of its own with short timeouts: with the broker down the request still answers
within a second or two, and the page says the job is queued. The ``outbox-dispatch`` beat job
(``outbox_dispatch_pending``) sends whatever is still unsent once the broker is back.

A sender claims its rows with ``SELECT … FOR UPDATE SKIP LOCKED`` and marks them sent in the
same transaction, so the commit-time sender and any number of sweeps never send a row twice.
A message can still reach the broker twice in one case (sent, then the database failed before
the row was marked): every task sent this way is therefore harmless to run twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from importlib import import_module

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.models import OutboxMessage

logger = logging.getLogger(__name__)

#: Seconds a sender waits for the broker (connect, then each socket operation), no retries.
PUBLISH_TIMEOUT = 1.0
#: Rows a sweep sends at most (the next sweep sends the rest).
SWEEP_BATCH = 500
#: Sent rows are kept this long (to look back at), then deleted by the sweep.
KEEP_SENT = timedelta(days=7)


def _task(task_name: str):
    """The registered task called ``task_name`` (its module imported first: a web process
    imports task modules only when something uses them). A task registered under a name that
    is not its module's path (a task that moved, still answering to its old name for the rows
    queued before) is found once every app's tasks are loaded."""
    module, _dot, _name = task_name.rpartition(".")
    import_module(module)
    if task_name not in current_app.tasks:
        current_app.autodiscover_tasks(force=True)
    return current_app.tasks[task_name]


def outbox_enqueue(task_name: str, *args) -> OutboxMessage:
    """Queue ``task_name(*args)`` in the caller's transaction; sent when it commits (at once
    outside a transaction), or by the next ``outbox-dispatch`` sweep if the broker is down.
    ``args`` must be JSON values. Raises ``KeyError`` for a task that does not exist."""
    _task(task_name)  # a misspelt name fails here, in the caller, not in a sweep
    message = OutboxMessage.objects.create(task_name=task_name, args=list(args))
    transaction.on_commit(lambda: outbox_dispatch_one(message.pk))
    return message


def _connection():
    """A connection of its own to the broker, failing fast: no connection retries, a short
    connect and socket timeout, whatever the worker's connection is configured with."""
    return current_app.connection_for_write(
        settings.CELERY_BROKER_URL,
        connect_timeout=PUBLISH_TIMEOUT,
        transport_options={
            "socket_connect_timeout": PUBLISH_TIMEOUT,
            "socket_timeout": PUBLISH_TIMEOUT,
            "max_retries": 0,
        },
    )


def _send(message: OutboxMessage, connection) -> bool:
    """Publish one claimed row and record the outcome on it (in the caller's transaction)."""
    now = timezone.now()
    try:
        _task(message.task_name).apply_async(
            args=message.args, connection=connection, retry=False, ignore_result=True
        )
    except Exception as exc:  # noqa: BLE001 - the broker is unreachable, or refused it
        logger.warning("outbox %s (%s): not sent: %s", message.pk, message.task_name, exc)
        outcome: dict[str, object] = {"last_error": f"{now:%Y-%m-%d %H:%M:%S} {exc}"[:2000]}
    else:
        outcome = {"dispatched_at": now}
    OutboxMessage.objects.filter(pk=message.pk).update(attempts=message.attempts + 1, **outcome)
    return "dispatched_at" in outcome


def _run_eagerly(message_id: int) -> bool:
    """``CELERY_TASK_ALWAYS_EAGER`` (development): run the task here, once, outside any
    transaction of ours (a task holding the row's lock would block its own progress reports)."""
    message = OutboxMessage.objects.filter(pk=message_id, dispatched_at__isnull=True).first()
    if message is None or not OutboxMessage.objects.filter(
        pk=message_id, dispatched_at__isnull=True
    ).update(dispatched_at=timezone.now(), attempts=message.attempts + 1):
        return False
    _task(message.task_name).apply(args=message.args)
    return True


def outbox_dispatch_one(message_id: int) -> bool:
    """Send one row if nobody sent or is sending it. Never raises (it runs after the caller's
    commit, where an exception would turn a saved change into an error page). Returns whether
    the row was sent now."""
    try:
        if current_app.conf.task_always_eager:
            return _run_eagerly(message_id)
        with transaction.atomic():
            message = (
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(pk=message_id, dispatched_at__isnull=True)
                .first()
            )
            if message is None:  # sent already, or a sweep is sending it
                return False
            with _connection() as connection:
                return _send(message, connection)
    except Exception:
        logger.exception(
            "outbox %s: dispatch failed; the outbox-dispatch sweep retries", message_id
        )
        return False


def outbox_dispatch_pending(*, limit: int = SWEEP_BATCH) -> int:
    """The ``outbox-dispatch`` beat job: send every unsent row, oldest first, and forget rows
    sent more than ``KEEP_SENT`` ago. Rows another sender holds are skipped; the first
    failure stops the sweep (the broker is down: the next sweep tries again). Returns how
    many rows were sent; running it again at once sends nothing more."""
    sent = 0
    if current_app.conf.task_always_eager:
        unsent = OutboxMessage.objects.filter(dispatched_at__isnull=True).order_by("created_at")
        return sum(_run_eagerly(pk) for pk in list(unsent.values_list("pk", flat=True)[:limit]))
    with transaction.atomic():
        pending = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(dispatched_at__isnull=True)
            .order_by("created_at", "id")[:limit]
        )
        if pending:
            with _connection() as connection:
                for message in pending:
                    if not _send(message, connection):
                        break
                    sent += 1
    OutboxMessage.objects.filter(dispatched_at__lt=timezone.now() - KEEP_SENT).delete()
    if sent:
        logger.info("outbox: %s message(s) sent", sent)
    return sent


def outbox_pending() -> dict:
    """How many messages wait to be sent, and since when (for ``/health/``)."""
    pending = OutboxMessage.objects.filter(dispatched_at__isnull=True)
    oldest = pending.order_by("created_at").values_list("created_at", flat=True).first()
    return {"pending": pending.count(), "oldest": oldest}
