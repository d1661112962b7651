"""A page of a list from the request's ``?page=``: a number that is not a page answers with a
message and the first (or last) page, never a 500 and never silently."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import HttpRequest
from django.utils.translation import gettext as _


def page_for_request(
    request: HttpRequest,
    object_list,
    per_page: int,
    *,
    paginator_class: type[Paginator] = Paginator,
    param: str = "page",
) -> Page:
    paginator = paginator_class(object_list, per_page)
    raw = request.GET.get(param, "").strip()
    if not raw:
        return paginator.page(1)
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9 or int(raw) < 1:
        messages.warning(request, _("Unknown page; showing the first."))
        return paginator.page(1)
    number = int(raw)
    if number > paginator.num_pages:
        messages.warning(
            request,
            _("There is no page %(asked)s; showing the last page, %(last)s.")
            % {"asked": number, "last": paginator.num_pages},
        )
        return paginator.page(paginator.num_pages)
    return paginator.page(number)


def warn_if_filters_ignored(request: HttpRequest, form) -> None:
    """A list's filter form with a value that is not valid: the list ignores it, and says so
    (on a full page; an htmx partial has no place for the message)."""
    if request.headers.get("HX-Request") == "true" or not form.is_bound:
        return
    if form.errors:
        messages.warning(request, _("Some filters made no sense and were ignored."))
