"""The only doors to a draw's confidential data: its drawn list, its seed and witness values,
its record, and its manifest while that embeds undisclosed earlier results.

Each reader asks ``lottery.selectors`` whether the user may see the data (``can_see_*``,
the single place that decides) and, when it returns the data, records the read through one
service (``services.draw_log_result_view`` / ``draw_log_manifest_view``) in the same step:
shown ⇔ audited, whichever page, fragment, download or API asks. ``tests/test_audited_reads.py``
holds every entry point to that, for every persona. A reader returns None when the user may
not see the data; the caller decides whether that is a 403 or simply nothing shown.
"""

from __future__ import annotations

from django.core.paginator import InvalidPage

from lottery import services
from lottery.display import DrawResult, draw_result
from lottery.models import Draw
from lottery.selectors import (
    can_see_full_result,
    can_see_manifest,
    can_see_record,
    confidential_earlier_draws,
    draw_record,
)


def draw_result_for_user(
    *,
    user,
    draw: Draw,
    via: str,
    page=1,
    stratum: str = "",
    query: str = "",
    detail=None,
    exact_page: bool = False,
) -> DrawResult | None:
    """A page of the drawn list with its teams, or None. With ``exact_page`` a page number
    beyond the list raises ``django.core.paginator.InvalidPage`` (and nothing is recorded,
    since nothing is shown) instead of showing the last page."""
    if not can_see_full_result(user, draw):
        return None
    result = draw_result(draw, page=page, stratum=stratum, query=query)
    if exact_page:
        assert result.page is not None  # draw_result pages when given a page
        if result.page.number != int(page) and result.page.paginator.count:
            raise InvalidPage(page)
    services.draw_log_result_view(actor=user, draw=draw, via=via, detail=detail)
    return result


def draw_secrets_for_user(*, user, draw: Draw, via: str) -> bool:
    """Whether the seed and the witness values may be shown (with the manifest they *are*
    the drawn list); when they may, the read is recorded."""
    if not can_see_full_result(user, draw):
        return False
    services.draw_log_result_view(actor=user, draw=draw, via=via)
    return True


def draw_record_for_user(*, user, draw: Draw, via: str, public: bool = False) -> dict | None:
    """The publishable record (manifest, entropy, seed, result), or None. ``public``: the
    portal's rule, where a disclosed draw's result is everyone's, but its manifest still
    waits for the earlier draws it embeds."""
    confidential = confidential_earlier_draws(draw)
    if public:
        allowed = draw.disclosed_at is not None and can_see_manifest(
            user, draw, confidential=confidential
        )
    else:
        allowed = can_see_record(user, draw, confidential=confidential)
    if not allowed:
        return None
    services.draw_log_result_view(actor=user, draw=draw, via=via)
    services.draw_log_manifest_view(actor=user, draw=draw, confidential=confidential, via=via)
    return draw_record(draw)


def draw_manifest_for_user(*, user, draw: Draw, via: str) -> str | None:
    """The frozen manifest, or None while it embeds results the user may not see."""
    confidential = confidential_earlier_draws(draw)
    if not can_see_manifest(user, draw, confidential=confidential):
        return None
    services.draw_log_manifest_view(actor=user, draw=draw, confidential=confidential, via=via)
    return draw.manifest_json
