"""Reads of obligations and notifications, limited to what the user may see."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from core.roles import Cap, user_can
from core.selectors import organisations_visible_to
from deadlines.models import Notification, Obligation


def notifications_for(user) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user)


def unread_count(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def obligations_for(user) -> QuerySet[Obligation]:
    """The obligations of the organisations the user can see; the calendar's for admins."""
    scope = Q(organisation__in=organisations_visible_to(user))
    if user_can(user, Cap.ADMINISTER):
        scope |= Q(organisation__isnull=True)
    return Obligation.objects.filter(scope).select_related("organisation")
