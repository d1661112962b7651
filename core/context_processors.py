from core.calendar import calendar_missing_years
from core.navigation import navigation_for
from core.roles import Cap, user_can


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": navigation_for(None)}
    context = {"nav_items": navigation_for(user)}
    # Only those who can load the holiday schedule are told it is missing: a clerk or an
    # inspector can do nothing about it.
    if user_can(user, Cap.ADMINISTER):
        from django.utils import timezone

        context["calendar_missing_years"] = calendar_missing_years(timezone.localdate())
    return context
