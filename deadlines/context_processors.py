from django.urls import NoReverseMatch, reverse


def notifications(request):
    """Where the top bar loads its unread count from: the count itself is fetched after the
    page (``deadlines:notification_badge``), so a page costs no query for it. Nothing for the
    public, and nothing at all if the URLs are not installed."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    try:
        return {
            "notifications_url": reverse("deadlines:notification_list"),
            "notifications_badge_url": reverse("deadlines:notification_badge"),
        }
    except NoReverseMatch:
        return {}
