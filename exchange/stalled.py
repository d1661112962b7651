"""The kinds of background job the ``jobs-stalled-sweep`` looks after, without this app
importing the apps that own them.

The sweep itself is ``exchange.imports.jobs_recover_stalled``; it registers the exchange's own
jobs (import checks and commits, registry exports). An app above the exchange (the oversight:
its report and archive builds) registers a :class:`StalledJob` from its ``AppConfig.ready()``,
as it registers its obligations with ``deadlines.providers``.

A job model looked after this way has ``heartbeat_at`` (renewed by its worker while it works),
``attempts`` (how many times the sweep queued it again), ``language`` (the requester's, for the
reason it fails with) and ``message``, and a field that says since when a worker has it
(``claimed``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils.functional import Promise


@dataclass(frozen=True)
class StalledJob:
    """A job of ``model`` in ``status``, claimed (``claimed`` set) and silent for the heartbeat
    timeout, is queued again by sending ``task_name(job.pk)`` through the outbox, with the
    fields ``requeue`` (besides clearing ``claimed``); after ``JOB_REQUEUES`` such losses it is
    failed instead, with the fields ``fail`` (the value ``"now"``: the sweep's time) and the
    message ``reason % {"n": losses}`` in the requester's language."""

    name: str
    model: type[models.Model]
    status: str
    task_name: str
    reason: Promise
    requeue: dict[str, Any] = field(default_factory=dict)
    fail: dict[str, Any] = field(default_factory=dict)
    claimed: str = "claimed_at"


_registry: dict[str, StalledJob] = {}


def register(kind: StalledJob) -> StalledJob:
    """Register (or replace, by name: ``ready()`` may run more than once) a kind of job."""
    _registry[kind.name] = kind
    return kind


def stalled_job_kinds() -> list[StalledJob]:
    return list(_registry.values())
