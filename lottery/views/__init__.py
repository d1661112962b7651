"""Staff pages of plans and draws (being split by sub-domain: issue 11)."""

from lottery.views.plans import *  # noqa: F403
