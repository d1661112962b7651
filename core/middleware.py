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
