"""The API token endpoint: throttled by django-axes like the login page; an expired token
is replaced by a new one."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response

from core.tokens import token_expired


class ObtainExpiringToken(ObtainAuthToken):
    """The token for a user name and password (throttled by django-axes like the login
    page); an expired token is replaced by a new one."""

    def post(self, request, *args, **kwargs):
        serializer = self.serializer_class(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        token, created = Token.objects.get_or_create(user=user)
        if not created and token_expired(token):
            token.delete()
            token = Token.objects.create(user=user)
        expires = token.created + timedelta(hours=settings.SJSJ_API_TOKEN_HOURS)
        return Response({"token": token.key, "expires": expires.isoformat()})
