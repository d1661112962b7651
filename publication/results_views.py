"""The portal's inspection results (no login): the list with search and filters, each
result's page with its corrections, the open-data downloads (CSV, Excel, JSON, Atom) and the
disclosure rate. What is shown is the published snapshot, never the back office's record.
"""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.syndication.views import Feed
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from exchange.excel import export_response
from inspections.models import ResultType
from publication.forms import ResultFilterForm
from publication.models import NARROWABLE_FIELDS, PublishedResult, WithholdReason
from publication.selectors import (
    disclosure_rates,
    public_draw_list,
    public_result_get,
    public_result_history,
    public_result_list,
    public_result_organisations,
    withheld_counts,
)

PAGE_SIZE = 20
#: A JSON page holds at most this many results.
JSON_PAGE_SIZE = 100
#: The list counts at most this many matches (a count over a million rows costs more than
#: the page itself); beyond it the pager says "more than".
COUNT_CAP = 10_000


class CappedPaginator(Paginator):
    """Counts at most COUNT_CAP matches, and not at all when the first page is not full
    (a search by credit code finds a handful: the page itself is the count)."""

    def __init__(self, object_list: QuerySet, per_page: int, *, page_number=None):
        super().__init__(object_list, per_page)
        self._queryset = object_list
        self._first = None
        if page_number in (None, 1):
            self._first = list(object_list[: per_page + 1])

    @cached_property
    def count(self) -> int:
        if self._first is not None and len(self._first) <= self.per_page:
            return len(self._first)
        return self._queryset.order_by().values("pk")[:COUNT_CAP].count()

    def page(self, number):
        number = self.validate_number(number)
        if number == 1 and self._first is not None:
            return self._get_page(self._first[: self.per_page], number, self)
        return super().page(number)


def _filters(request: HttpRequest) -> dict:
    form = ResultFilterForm(request.GET or None)
    if not form.is_bound:
        return {}
    filters, dropped = form.filters()
    if dropped and not request.path.endswith((".csv", ".xlsx", ".json", "feed/")):
        messages.warning(
            request,
            _("These filters made no sense and were ignored: %(names)s.")
            % {"names": "、".join(dropped)},
        )
    return filters


def _query(request: HttpRequest, *, without=("page",)) -> str:
    query = request.GET.copy()
    for key in without:
        query.pop(key, None)
    return query.urlencode()


def result_list(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    page = CappedPaginator(
        public_result_list(filters), PAGE_SIZE, page_number=filters.get("page")
    ).get_page(filters.get("page"))
    return render(
        request,
        "publication/result_list.html",
        {
            "page": page,
            "capped": page.paginator.count >= COUNT_CAP,
            "filters": filters,
            "organisations": public_result_organisations(),
            "years": list(range(timezone.localdate().year, 2019, -1)),
            "result_types": ResultType.choices,
            "query": _query(request),
            "withheld": withheld_counts(),
        },
    )


def result_detail(request: HttpRequest, pk: int) -> HttpResponse:
    entry = public_result_get(pk=pk)
    draw = (
        public_draw_list().filter(number=entry.draw_number).first() if entry.draw_number else None
    )
    return render(
        request,
        "publication/result_detail.html",
        {
            "entry": entry,
            "draw": draw,
            "history": public_result_history(entry),
            "narrowed": [
                NARROWABLE_FIELDS[f] for f in entry.withheld_fields if f in NARROWABLE_FIELDS
            ],
            "withheld_label": WithholdReason(entry.withheld_reason).label
            if entry.withheld_reason
            else "",
        },
    )


EXPORT_COLUMNS = [
    ("company_name", gettext_lazy("Company name")),
    ("uscc", gettext_lazy("Credit code")),
    ("source_name", gettext_lazy("Source")),
    ("publisher_name", gettext_lazy("Publishing body")),
    ("random", gettext_lazy("Random spot check")),
    ("draw_number", gettext_lazy("Draw number")),
    ("check_items", gettext_lazy("Check items")),
    ("checked_on", gettext_lazy("Date of the check")),
    ("result_label", gettext_lazy("Result")),
    ("inspectors", gettext_lazy("Inspectors and certificate numbers")),
    ("problems", gettext_lazy("Problems and their handling")),
    ("withheld", gettext_lazy("Withheld")),
    ("correction", gettext_lazy("Correction")),
    ("published_at", gettext_lazy("Published at")),
    ("url", gettext_lazy("Link to the result")),
]


def _cell(entry: PublishedResult, field: str, request: HttpRequest):
    if field == "random":
        return _("Yes") if entry.random else _("No")
    if field == "check_items":
        return "；".join(entry.check_items)
    if field == "inspectors":
        return "；".join(f"{i['name']}（{i['certificate_number']}）" for i in entry.inspectors)
    if field == "problems":
        return "；".join(f"{p['description']}：{p['handling']}" for p in entry.problems)
    if field == "withheld":
        if entry.withheld:
            return WithholdReason(entry.withheld_reason).label
        return "、".join(str(NARROWABLE_FIELDS[f]) for f in entry.withheld_fields)
    if field == "correction":
        if entry.withdrawn:
            return _("Withdrawn: %(reason)s") % {"reason": entry.correction_reason}
        return entry.correction_reason
    if field == "published_at":
        return timezone.localtime(entry.published_at).strftime("%Y-%m-%d %H:%M")
    if field == "checked_on":
        return entry.checked_on.isoformat() if entry.checked_on else ""
    if field == "url":
        return request.build_absolute_uri(reverse("publication:result_detail", args=[entry.pk]))
    return getattr(entry, field)


class _Echo:
    def write(self, value):
        return value


def results_csv(request: HttpRequest) -> StreamingHttpResponse:
    """Every matching result (not only one page), streamed: UTF-8 with a BOM for Excel."""
    entries = public_result_list(_filters(request))
    writer = csv.writer(_Echo())

    def rows():
        yield "\ufeff" + writer.writerow([str(label) for _f, label in EXPORT_COLUMNS])
        for entry in entries.iterator(chunk_size=2000):
            yield writer.writerow([_cell(entry, f, request) for f, _l in EXPORT_COLUMNS])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="results-{timezone.localdate():%Y%m%d}.csv"'
    )
    return response


def results_xlsx(request: HttpRequest) -> HttpResponseBase:
    entries = public_result_list(_filters(request))
    return export_response(
        [str(label) for _f, label in EXPORT_COLUMNS],
        (
            [_cell(entry, f, request) for f, _l in EXPORT_COLUMNS]
            for entry in entries.iterator(chunk_size=2000)
        ),
        filename=f"抽查结果_{timezone.localdate():%Y%m%d}.xlsx",
        sheet_name=_("Inspection results"),
    )


def _entry_json(entry: PublishedResult, request: HttpRequest) -> dict:
    return {
        "id": entry.pk,
        "url": request.build_absolute_uri(reverse("publication:result_detail", args=[entry.pk])),
        "company_name": entry.company_name,
        "uscc": entry.uscc,
        "source_name": entry.source_name,
        "publisher": entry.publisher_name,
        "division_code": entry.division_code,
        "random": entry.random,
        "plan": entry.plan_title,
        "draw_number": entry.draw_number,
        "check_items": entry.check_items,
        "checked_on": entry.checked_on.isoformat() if entry.checked_on else None,
        "result_type": entry.result_type,
        "result": entry.result_label,
        "inspectors": entry.inspectors,
        "problems": entry.problems,
        "withheld": entry.withheld,
        "withheld_reason": entry.withheld_reason,
        "withheld_fields": entry.withheld_fields,
        "withdrawn": entry.withdrawn,
        "corrects": entry.correction_of_id,
        "correction_reason": entry.correction_reason,
        "published_at": entry.published_at.isoformat(),
    }


def results_json(request: HttpRequest) -> JsonResponse:
    """The open-data API of the list: the same filters, ``page`` of 100 results."""
    filters = _filters(request)
    page = CappedPaginator(
        public_result_list(filters), JSON_PAGE_SIZE, page_number=filters.get("page")
    ).get_page(filters.get("page"))
    query = _query(request)

    def link(n):
        return request.build_absolute_uri(
            reverse("publication:results_json") + f"?{query}{'&' if query else ''}page={n}"
        )

    return JsonResponse(
        {
            "count": page.paginator.count,
            "count_capped": page.paginator.count >= COUNT_CAP,
            "next": link(page.next_page_number()) if page.has_next() else None,
            "previous": link(page.previous_page_number()) if page.has_previous() else None,
            "results": [_entry_json(e, request) for e in page.object_list],
        },
        json_dumps_params={"ensure_ascii": False},
    )


class ResultFeed(Feed):
    """New results and corrections, newest first (Atom)."""

    feed_type = Atom1Feed
    title = gettext_lazy("Spot-check results: new and corrected")
    subtitle = gettext_lazy("Results of random spot checks published by the bureaus.")

    def link(self):
        return reverse("publication:result_list")

    def items(self):
        return PublishedResult.objects.order_by("-published_at", "-pk")[:50]

    def item_title(self, entry):
        name = entry.company_name or _("Withheld result")
        if entry.withdrawn:
            return _("Withdrawn: %(name)s") % {"name": name}
        if entry.correction_of_id:
            return _("Correction: %(name)s — %(result)s") % {
                "name": name,
                "result": entry.result_label,
            }
        return f"{name} — {entry.result_label or _('withheld')}"

    def item_description(self, entry):
        return f"{entry.publisher_name} · {entry.checked_on or ''} · {entry.correction_reason}"

    def item_link(self, entry):
        return reverse("publication:result_detail", args=[entry.pk])

    def item_pubdate(self, entry):
        return entry.published_at

    def item_updateddate(self, entry):
        return entry.published_at


def disclosure(request: HttpRequest) -> HttpResponse:
    """Published ÷ due, per bureau, quarter and year (the seeds' target is 100%)."""
    year_text = request.GET.get("year", "")
    today = timezone.localdate()
    valid = year_text.isascii() and year_text.isdigit() and len(year_text) == 4
    valid = valid and 2000 <= int(year_text) <= 2100
    year = int(year_text) if valid else today.year
    if year_text and not valid:
        messages.warning(
            request,
            _("These filters made no sense and were ignored: %(names)s.") % {"names": "year"},
        )
    return render(
        request,
        "publication/disclosure.html",
        {
            "year": year,
            "rows": disclosure_rates(year=year, today=today),
            "years": list(range(today.year, 2019, -1)),
        },
    )
