from core.calendar import calendar_missing_years
from core.navigation import navigation_for


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    from django.utils import timezone

    return {
        "nav_items": navigation_for(user),
        "calendar_missing_years": calendar_missing_years(timezone.localdate()),
    }
