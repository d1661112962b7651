"""What every lottery service shares: the check of the actor's role and organisation."""

from __future__ import annotations

from django.utils.translation import gettext as _

from core.errors import ServiceError
from core.models import Organisation, User
from core.roles import user_can
from core.vocab import SupervisionClass

CLASS_ORDER = [c.value for c in SupervisionClass]  # key, general, special: strata order


def _require(user: User, capability: str, organisation: Organisation) -> None:
    if not user_can(user, capability) or user.organisation_id != organisation.pk:
        raise ServiceError(_("Your role does not allow this for this organisation."), code="denied")
