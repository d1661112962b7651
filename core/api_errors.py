"""One shape for every API error, Chinese first.

Whatever went wrong, the body is ``{"detail": ..., "code": ..., "errors": {...}}``: ``detail`` is one
sentence for a person (in the request's language, Chinese by default), ``code`` is a stable word for a
program, and ``errors`` maps each field (``non_field_errors`` for the rest) to its messages — empty
unless the request itself was invalid. Django's own ``Http404`` and ``PermissionDenied`` are turned
into the DRF exceptions first, so they get the same shape.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler


def _messages(detail: Any) -> Any:
    """DRF's nested ErrorDetail structure as plain lists and dicts of strings."""
    if isinstance(detail, dict):
        return {str(key): _messages(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_messages(item) for item in detail]
    return str(detail)


def _from_service(exc: DjangoValidationError) -> exceptions.APIException:
    """A service's refusal (``core.errors.ServiceError``, a Django ValidationError): 403 when
    the actor may not do it, otherwise 400 with the fields it names."""
    code = getattr(exc, "code", None) or "invalid"
    if code == "denied":
        return exceptions.PermissionDenied(detail=" ".join(exc.messages), code="denied")
    return exceptions.ValidationError(detail=as_serializer_error(exc), code=code)


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    service_code = None
    if isinstance(exc, DjangoValidationError):
        service_code = getattr(exc, "code", None)
        exc = _from_service(exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response  # not an API error: a real bug, let it be a 500
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        detail, code = _("The request is not valid."), service_code or "invalid"
        if service_code is not None:  # a refusal: say it in one sentence
            flat = [m for ms in errors.values() for m in (ms if isinstance(ms, list) else [ms])]
            detail = " ".join(str(m) for m in flat) or detail
    else:
        errors = {}
        detail = str(exc.detail) if isinstance(exc.detail, str) else str(exc.default_detail)
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
    response.data = {"detail": detail, "code": code, "errors": _messages(errors)}
    return response
