"""Fixtures of the deadline tests: the inspection fixtures (an executed draw, a task with
two inspector personas on its team) and a bureau with a clerk, a leader and its city team's
reviewer."""

from tests.inspections.conftest import drawn, task  # noqa: F401
