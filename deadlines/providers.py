"""Obligations that upper apps know how to derive, without this app importing them.

An app above ``deadlines`` (the oversight: its reports and returns) registers a
:class:`Provider` from its ``AppConfig.ready()``. The daily job asks every provider for the
obligations today's state calls for (``wanted``) and which are fulfilled (``done``), exactly as
it asks its own derivations. A provider may also *condition* obligations this app makes itself
(``conditions``): such an obligation is done only when this app's own check **and** the
provider's say so (the quarterly plan is done once the plan is published and its return to the
city team generated).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date


@dataclass
class Wanted:
    """One obligation as today's state says it should be."""

    kind: str
    key: str
    organisation_id: int | None
    title: str
    link: str
    responsible: str
    due_on: date | None
    opens_on: date | None = None
    due_problem: str = ""
    year: int | None = None
    quarter: int | None = None
    plan_id: int | None = None
    task_id: int | None = None
    inspector_id: int | None = None
    remind_now: bool = False


@dataclass(frozen=True)
class Provider:
    """``wanted(today, horizon)`` gives the obligations of ``kinds`` that should exist today
    (the job drops those due before ``horizon``); ``done(obligations)`` gives the ``id()`` of
    those fulfilled (saved or not) among obligations of ``kinds`` and ``conditions``."""

    name: str
    kinds: frozenset[str]
    wanted: Callable[[date, date], list[Wanted]]
    done: Callable[[list], set[int]]
    conditions: frozenset[str] = frozenset()


_registry: dict[str, Provider] = {}


def register(provider: Provider) -> Provider:
    """Register (or replace, by name: ``ready()`` may run more than once) a provider."""
    _registry[provider.name] = provider
    return provider


def providers() -> list[Provider]:
    return list(_registry.values())
