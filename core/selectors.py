"""Reads that every app uses to decide what a user may see.

The rule: a county bureau sees its own records; a city bureau or city team sees its city
and every county in it; the province sees the whole province; a system administrator sees
everything. On top of that, django-guardian grants (``core.view_organisation`` on one
organisation) open single organisations to a user, e.g. a reviewer seconded to another city.
"""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Q, QuerySet
from guardian.shortcuts import get_objects_for_user

from core.models import Organisation, Role


def organisations_visible_to(user) -> QuerySet[Organisation]:
    """Every organisation whose records ``user`` may read. Empty for the anonymous public."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Organisation.objects.none()
    if user.is_superuser or user.role == Role.ADMIN:
        return Organisation.objects.all()
    condition = Q(pk__in=[])
    org = user.organisation
    if org is not None:
        if org.kind == Organisation.Kind.COUNTY_BUREAU:
            condition = Q(pk=org.pk)
        else:
            condition = Q(division_code__startswith=org.scope_prefix)
    granted = get_objects_for_user(
        user, "core.view_organisation", klass=Organisation, accept_global_perms=False
    )
    return Organisation.objects.filter(condition | Q(pk__in=granted.values("pk")))


_QS = TypeVar("_QS", bound=QuerySet)


def scope_queryset(queryset: _QS, user, *, field: str = "organisation") -> _QS:
    """Filter any queryset with an organisation foreign key down to what ``user`` may see."""
    return queryset.filter(**{f"{field}__in": organisations_visible_to(user)})
