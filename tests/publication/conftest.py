"""Staff of any county, to publish what the public then reads."""

from __future__ import annotations

import pytest

from core.models import Role
from core.services import user_create
from tests.conftest import PASSWORD


@pytest.fixture
def staff(orgs):
    """A clerk and a leader for any county: ``staff("410825")`` -> (clerk, leader)."""
    made = {}

    def for_county(code):
        if code not in made:
            org = orgs[f"county:{code}"]
            made[code] = tuple(
                user_create(
                    actor=None,
                    username=f"{role}-{code}",
                    password=PASSWORD,
                    role=role,
                    organisation=org,
                    display_name=f"{role}-{code}",
                )
                for role in (Role.CLERK, Role.LEADER)
            )
        return made[code]

    return for_county


# An executed draw with its inspection tasks, and one task of the inspector personas.
from tests.inspections.conftest import drawn, task  # noqa: E402, F401
