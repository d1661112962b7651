"""Thin Celery tasks: each calls a service or selector and is harmless to run twice."""

import logging

from celery import shared_task
from django.utils import timezone

from core.calendar import calendar_missing_years

logger = logging.getLogger(__name__)


@shared_task
def calendar_coverage_check() -> list[int]:
    """Warn every morning while this year or the next has no official schedule loaded."""
    missing = calendar_missing_years(timezone.localdate())
    if missing:
        logger.warning("Working-day calendar has no official schedule for %s", missing)
    return missing


@shared_task
def ping(value: str) -> str:
    """A round trip through the broker, for the health check and the tests."""
    return f"pong:{value}"


@shared_task
def audit_checkpoint_publish_task() -> int | None:
    """Hourly: publish the audit chain's head if it moved. Running twice publishes once."""
    from core.audit import audit_checkpoint_publish

    checkpoint = audit_checkpoint_publish()
    return checkpoint.seq if checkpoint else None


@shared_task
def outbox_dispatch() -> int:
    """Every 30 s: send the outbox's unsent messages (the broker was down when they were
    written). Running it twice, or two at once, sends each message once."""
    from core.outbox import outbox_dispatch_pending

    return outbox_dispatch_pending()
