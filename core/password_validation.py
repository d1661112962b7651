"""Password rules with messages in the interface's languages.

Django 5.2 changed the wording of its minimum-length error, and its Chinese catalog does not
have the new wording yet, so the error came out in English beside a Chinese help text.
"""

from __future__ import annotations

from django.contrib.auth import password_validation
from django.utils.translation import gettext as _


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    def get_error_message(self):
        return _("This password is too short: it needs at least %(n)s characters.") % {
            "n": self.min_length
        }
