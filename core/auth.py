"""Login: throttled by django-axes, tokens that expire.

django-axes counts failed logins per user name *and* address (``AXES_LOCKOUT_PARAMETERS``):
after ``SJSJ_LOCKOUT_THRESHOLD`` failures that name is refused from that address for
``SJSJ_LOCKOUT_MINUTES``, the right password too, so guessing gains nothing, while nobody
can lock a colleague out from elsewhere. The same happens for a name that does not exist,
and every refusal says the same words, so the login page never tells which names exist.
Each lockout is an audit entry. To stop an account at once, an administrator deactivates it:
its sessions and API tokens stop working at the next request.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "The user name or the password is wrong. After %(limit)s failures a name is "
            "refused from this computer for %(minutes)s minutes."
        ),
    }

    def get_invalid_login_error(self):
        from django import forms

        return forms.ValidationError(
            self.error_messages["invalid_login"],
            code="invalid_login",
            params={"limit": settings.AXES_FAILURE_LIMIT, "minutes": settings.LOCKOUT_MINUTES},
        )


def _locked_out(sender, request, username, ip_address, **kwargs):
    from core.audit import audit_record

    audit_record(
        actor=None,
        action="user.lock",
        object_type="core.user",
        object_repr=(username or "")[:200],
        after={"ip_address": ip_address, "minutes": settings.LOCKOUT_MINUTES},
    )


def connect_signals() -> None:
    from axes.signals import user_locked_out

    receiver(user_locked_out, dispatch_uid="core.auth.locked_out")(_locked_out)


# --- the client's address, and a limit per address across user names ----------------------


def client_ip(request) -> str:
    """The client's address. Behind a reverse proxy (``SJSJ_TRUSTED_PROXIES``: the proxies'
    own addresses), the right-most address in X-Forwarded-For that is not one of them;
    otherwise REMOTE_ADDR alone, so a client cannot choose its address by sending the header.
    django-axes and the per-address login limit both use this."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    trusted = set(getattr(settings, "SJSJ_TRUSTED_PROXIES", ()))
    if remote not in trusted:
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for address in reversed([a for a in forwarded if a]):
        if address not in trusted:
            return address[:45]
    return remote


def login_rate_key(group, request) -> str:
    return client_ip(request)


def login_rate(group, request) -> str:
    return settings.SJSJ_LOGIN_RATE


def login_view():
    """The login page, with django-ratelimit's limit of login attempts per address across
    all user names (``SJSJ_LOGIN_RATE``, e.g. 60/10m: generous, since a whole bureau may sit
    behind one address), on top of django-axes' lockout per name and address."""
    from django.contrib.auth import views as auth_views
    from django_ratelimit.decorators import ratelimit

    view = auth_views.LoginView.as_view(authentication_form=LoginForm)
    return ratelimit(
        key="core.auth.login_rate_key", rate="core.auth.login_rate", method="POST", block=True
    )(view)


def rate_limited(request, exception):
    """django-ratelimit's refusal: a 429 page that says why, in the user's language."""
    from django.shortcuts import render

    return render(request, "registration/rate_limited.html", status=429)
