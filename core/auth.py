"""Authentication with a failed-login lockout.

After ``LOCKOUT_THRESHOLD`` wrong passwords in a row an account is locked for
``LOCKOUT_MINUTES``; a correct password during the lock is refused too, so guessing gains
nothing. Successful login resets the counter.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def _user_for(username: str | None):
    if not username:
        return None
    User = get_user_model()
    return User._default_manager.filter(**{User.USERNAME_FIELD: username}).first()


def is_locked(user) -> bool:
    return bool(user and user.locked_until and user.locked_until > timezone.now())


class LockoutModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        username = username or kwargs.get(get_user_model().USERNAME_FIELD)
        user = _user_for(username)
        if is_locked(user):
            return None
        authenticated = super().authenticate(request, username=username, password=password)
        if user is None:
            return authenticated
        User = get_user_model()
        if authenticated is None:
            # One UPDATE so two concurrent wrong guesses both count.
            User.objects.filter(pk=user.pk).update(failed_logins=F("failed_logins") + 1)
            user.refresh_from_db(fields=["failed_logins"])
            if user.failed_logins >= settings.LOCKOUT_THRESHOLD:
                until = timezone.now() + timedelta(minutes=settings.LOCKOUT_MINUTES)
                User.objects.filter(pk=user.pk).update(locked_until=until, failed_logins=0)
                from core.audit import audit_record

                audit_record(
                    actor=None,
                    action="user.lock",
                    obj=user,
                    after={"locked_until": until, "after_failed_logins": user.failed_logins},
                )
            return None
        if authenticated.failed_logins or authenticated.locked_until:
            User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
        return authenticated


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "locked": _(
            "Too many failed attempts: this account is locked for %(minutes)s minutes. "
            "Try again later or ask your system administrator."
        ),
    }

    def clean(self):
        username = self.cleaned_data.get("username")
        if is_locked(_user_for(username)):
            raise forms.ValidationError(
                self.error_messages["locked"],
                code="locked",
                params={"minutes": settings.LOCKOUT_MINUTES},
            )
        try:
            return super().clean()
        except forms.ValidationError:
            if is_locked(_user_for(username)):
                raise forms.ValidationError(
                    self.error_messages["locked"],
                    code="locked",
                    params={"minutes": settings.LOCKOUT_MINUTES},
                ) from None
            raise
