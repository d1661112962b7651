"""Request types for annotations.

Behind ``login_required`` the request's user is a signed-in ``User``, never an
``AnonymousUser``; annotating such a view's request with ``AuthenticatedHttpRequest`` tells
mypy so. The class only exists for type checking: Django still passes its own request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from core.models import User


class AuthenticatedHttpRequest(HttpRequest):
    user: User
