"""API tokens that expire: DRF's token, valid ``SJSJ_API_TOKEN_HOURS`` after it was issued.

Kept apart from ``core.auth``: DRF imports the authentication class while its own views
module is loading, so this module imports no view.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token


def token_expired(token: Token) -> bool:
    return token.created < timezone.now() - timedelta(hours=settings.SJSJ_API_TOKEN_HOURS)


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token, valid for ``SJSJ_API_TOKEN_HOURS`` after it was issued."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token_expired(token):
            raise exceptions.AuthenticationFailed(
                _("The API token has expired: ask for a new one at /api/v1/token/.")
            )
        return user, token
