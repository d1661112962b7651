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
