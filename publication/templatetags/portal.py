"""The portal's home cards are included by core's public home page, which knows nothing of
the apps above it: the figures come from this tag instead of the view."""

from django import template

from publication.selectors import public_counts

register = template.Library()


@register.simple_tag
def portal_counts() -> dict[str, int]:
    return public_counts()
