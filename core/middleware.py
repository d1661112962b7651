"""Requests the application refuses before any view runs."""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext as _


class RejectNulMiddleware:
    """A NUL character in the query string is never meaningful and PostgreSQL refuses it in
    any text it is given, so every view would fail on it: answer 400 with a message at the
    door (POSTed form fields are refused by Django's own form validation)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.META.get("QUERY_STRING", "") or any(
            "\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists()
        ):
            return render(
                request,
                "400.html",
                {"message": _("The address contains a character that is not allowed (NUL).")},
                status=400,
            )
        return self.get_response(request)


class PrivateResponsesMiddleware:
    """What a logged-in user is shown is never stored by a browser or a proxy (a shared
    office computer keeps no confidential list or record in its cache), and staff sessions
    are short. Every response also says which browser features the site never uses."""

    PERMISSIONS_POLICY = (
        "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), "
        "bluetooth=(), display-capture=(), interest-cohort=()"
    )

    def __init__(self, get_response):
        from django.conf import settings

        self.get_response = get_response
        self.staff_seconds = settings.SJSJ_STAFF_SESSION_SECONDS

    def __call__(self, request):
        from django.utils.cache import patch_cache_control

        user = getattr(request, "user", None)
        authenticated = bool(user and user.is_authenticated)
        if (
            authenticated
            and user.is_staff
            and hasattr(request, "session")
            and request.session.get_expiry_age() > self.staff_seconds
        ):
            request.session.set_expiry(self.staff_seconds)
        response = self.get_response(request)
        # The API authenticates a token in the view (it sets ``request.user`` then), and a
        # request that carries credentials is private whatever they turned out to be.
        user = getattr(request, "user", None)
        if (
            authenticated
            or (user is not None and user.is_authenticated)
            or "HTTP_AUTHORIZATION" in request.META
        ):
            patch_cache_control(response, no_store=True, private=True)
        response.headers.setdefault("Permissions-Policy", self.PERMISSIONS_POLICY)
        return response
