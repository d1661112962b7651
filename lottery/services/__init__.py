"""The only writers of plans and draws (being split by sub-domain: issue 11)."""

from lottery.services.ceremony import *  # noqa: F403
from lottery.services.ceremony import _TEAM_ROWS_PER_COPY  # noqa: F401
