"""The error type every service raises for a refusal a user can understand."""

from django.core.exceptions import ValidationError


class ServiceError(ValidationError):
    """A clear, translated refusal: nothing was changed.

    It is a ``ValidationError`` so forms and DRF show it without extra glue.
    """
