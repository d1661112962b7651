"""Staff pages of the object registry and the check-item list. Thin: selectors read,
services write.

Who may do what: anyone with ``Cap.VIEW_REGISTRY`` reads what their scope holds (404
outside it); only registry editors of the record's own organisation change it (403
otherwise); a leader of that organisation publishes check items.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import ServiceError
from core.models import Organisation
from core.paging import page_for_request, warn_if_filters_ignored
from core.request_types import AuthenticatedHttpRequest
from core.roles import Cap, user_can
from exchange.excel import export_response
from registry import services
from registry.fields import CHECKITEM, SOURCE
from registry.filters import CheckItemFilterSet, SourceFilterSet
from registry.forms import CheckItemForm, SourceForm, SourceStatusForm, add_service_error
from registry.models import (
    CheckItem,
    PollutionSource,
)
from registry.selectors import (
    checkitem_get_for_user,
    checkitem_list_for_user,
    count_capped,
    keyset_page,
    source_companies_sharing_uscc,
    source_get_for_user,
    source_history,
    source_list_for_user,
    user_may_edit_registry_of,
    user_may_publish_checkitems_of,
)

PAGE_SIZE = 50
EXPORT_LIMIT = 20_000  # rows in one synchronous Excel export (about 10 s to write)
PAGING_PARAMS = ("after", "before", "page")


def _require_view(request: HttpRequest) -> None:
    if not user_can(request.user, Cap.VIEW_REGISTRY):
        raise PermissionDenied


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _query_without_paging(request: HttpRequest) -> str:
    query = request.GET.copy()
    for name in PAGING_PARAMS:
        query.pop(name, None)
    return query.urlencode()


def _own_registry_organisation(request: AuthenticatedHttpRequest) -> Organisation:
    """The organisation a new record is created for: the user's own, if it keeps a registry."""
    org = request.user.organisation
    if (
        org is None
        or org.kind not in (Organisation.Kind.COUNTY_BUREAU, Organisation.Kind.CITY_TEAM)
        or not user_may_edit_registry_of(request.user, org.pk)
    ):
        raise PermissionDenied
    return org


# --- display helpers ----------------------------------------------------------------------

# Declared once with each field's rule (``registry.fields``).
CHOICE_LABELS: dict[str, dict[str, Any]] = {**SOURCE.choice_labels(), **CHECKITEM.choice_labels()}


def display_value(field: str, value: Any) -> str:
    """A stored value as a clerk reads it (Chinese labels for codes, 是/否, — for empty)."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    labels = CHOICE_LABELS.get(field)
    if isinstance(value, list):
        return "、".join(str(labels.get(v, v)) if labels else str(v) for v in value)
    if labels:
        return str(labels.get(value, value))
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d")
    return str(value)


SOURCE_SECTIONS = [
    (
        _("Identification"),
        [
            "source_code",
            "name",
            "company_name",
            "uscc",
            "org_code",
            "legal_representative",
            "organisation",
            "managed_by",
        ],
    ),
    (
        _("Location and contact"),
        ["address", "county_code", "town", "longitude", "latitude", "phone"],
    ),
    (
        _("Permit and industry"),
        [
            "permit_number",
            "permit_category",
            "permit_valid_from",
            "permit_valid_until",
            "industry_code",
            "industry_name",
        ],
    ),
    (
        _("Supervision tags"),
        [
            "supervision_class",
            "special_reason",
            "positive_list",
            "positive_list_until",
            "credit_rating",
            "market_risk_class",
            "weather_grade",
            "pollution_types",
            "hazardous_waste_role",
            "tags",
        ],
    ),
    (
        _("Record"),
        [
            "violation_record",
            "last_penalty_date",
            "complaints_12m",
            "status",
            "status_date",
            "created_at",
            "updated_at",
        ],
    ),
]


def _label(model, field: str) -> str:
    return str(model._meta.get_field(field).verbose_name)


def _source_sections(source: PollutionSource) -> list[dict]:
    sections = []
    for title, fields in SOURCE_SECTIONS:
        rows = []
        for field in fields:
            value = getattr(source, field)
            if field in ("created_at", "updated_at"):
                text = timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
            elif field == "organisation":
                text = value.name
            else:
                text = display_value(field, value)
            rows.append({"field": field, "label": _label(PollutionSource, field), "value": text})
        sections.append({"title": title, "rows": rows})
    return sections


def _history_rows(changes) -> list[dict]:
    rows = []
    for change in changes:
        lines = []
        for field, pair in (change.changes or {}).items():
            old, new = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
            try:
                label = _label(PollutionSource, field)
            except Exception:  # noqa: BLE001 - a field since removed: show its code
                label = field
            lines.append(
                {
                    "label": label,
                    "old": display_value(field, old),
                    "new": display_value(field, new),
                }
            )
        rows.append({"change": change, "lines": lines})
    return rows


# --- sources ----------------------------------------------------------------------------


def _source_filterset(request: HttpRequest) -> SourceFilterSet:
    return SourceFilterSet(request.GET or None, request=request)


@login_required
def source_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The registry, filtered, 50 a page by source code (keyset: every page costs the same)."""
    _require_view(request)
    filterset = _source_filterset(request)
    qs = source_list_for_user(user=request.user, filters=filterset.filters_dict())
    warn_if_filters_ignored(request, filterset.form)
    page = keyset_page(
        qs,
        key="source_code",
        after=request.GET.get("after") or None,
        before=request.GET.get("before") or None,
        size=PAGE_SIZE,
    )
    context = {
        "form": filterset.form,
        "page": page,
        "query": _query_without_paging(request),
        "can_create": _can_create(request),
    }
    if _is_htmx(request):
        return render(request, "registry/_source_table.html", context)
    return render(request, "registry/source_list.html", context)


def _can_create(request: AuthenticatedHttpRequest) -> bool:
    try:
        _own_registry_organisation(request)
    except PermissionDenied:
        return False
    return True


SOURCE_EXPORT_FIELDS = SOURCE.names(exported=True)


def _export_cell(field: str, value: Any) -> Any:
    if field == "organisation":
        return value.name
    if field in CHOICE_LABELS or isinstance(value, list):
        return None if value in ("", []) else display_value(field, value)
    return value


@login_required
def source_export(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    """The list's current filter (every page) as an Excel workbook."""
    _require_view(request)
    filterset = _source_filterset(request)
    qs = source_list_for_user(user=request.user, filters=filterset.filters_dict())
    _count, too_many = count_capped(qs, EXPORT_LIMIT)
    if too_many:
        # A workbook of 100,000 rows takes about a minute to write: longer than a web worker
        # should hold a request. The whole registry has its own (audited) export.
        messages.error(
            request,
            _(
                "More than %(limit)s sources match: narrow the filter (e.g. by organisation or "
                "class) to export them here, or use the whole-registry export under Excel import."
            )
            % {"limit": f"{EXPORT_LIMIT:,}"},
        )
        return redirect(f"{reverse('registry:source_list')}?{_query_without_paging(request)}")
    rows = (
        [_export_cell(field, getattr(source, field)) for field in SOURCE_EXPORT_FIELDS]
        for source in qs.iterator(chunk_size=2000)
    )
    return export_response(
        [_label(PollutionSource, field) for field in SOURCE_EXPORT_FIELDS],
        rows,
        filename=f"检查对象名录_{timezone.localdate():%Y%m%d}.xlsx",
        sheet_name=str(_("Object registry")),
    )


@login_required
def source_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _require_view(request)
    source = source_get_for_user(user=request.user, pk=pk)
    can_edit = user_may_edit_registry_of(request.user, source.organisation_id)
    return render(
        request,
        "registry/source_detail.html",
        {
            "source": source,
            "sections": _source_sections(source),
            "history": _history_rows(source_history(source=source)),
            "siblings": source_companies_sharing_uscc(user=request.user, source=source),
            "can_edit": can_edit,
            "status_form": SourceStatusForm(initial={"status_date": timezone.localdate()})
            if can_edit
            else None,
        },
    )


@login_required
def source_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_view(request)
    organisation = _own_registry_organisation(request)
    form = SourceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            source = services.source_create(
                actor=request.user,
                organisation=organisation,
                data=form.service_data(),
                accept_bad_checksum=form.cleaned_data["accept_bad_checksum"],
            )
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Source %(name)s registered.") % {"name": source.name})
            return redirect("registry:source_detail", pk=source.pk)
    return render(
        request,
        "registry/source_form.html",
        {"form": form, "organisation": organisation, "source": None},
    )


def _editable_source(request: HttpRequest, pk: int) -> PollutionSource:
    """The source (404 outside scope), if the user may change it (403 otherwise)."""
    _require_view(request)
    source = source_get_for_user(user=request.user, pk=pk)
    if not user_may_edit_registry_of(request.user, source.organisation_id):
        raise PermissionDenied
    return source


@login_required
def source_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    source = _editable_source(request, pk)
    form = SourceForm(request.POST or None, instance=source)
    if request.method == "POST" and form.is_valid():
        try:
            services.source_update(
                actor=request.user,
                source=source,
                data=form.service_data(),
                accept_bad_checksum=form.cleaned_data["accept_bad_checksum"],
            )
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("registry:source_detail", pk=source.pk)
    return render(
        request,
        "registry/source_form.html",
        {"form": form, "organisation": source.organisation, "source": source},
    )


@login_required
@require_POST
def source_status(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    source = _editable_source(request, pk)
    form = SourceStatusForm(request.POST)
    if form.is_valid():
        try:
            services.source_set_status(
                actor=request.user,
                source=source,
                status=form.cleaned_data["status"],
                status_date=form.cleaned_data["status_date"],
            )
        except ServiceError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Status changed."))
    else:
        messages.error(request, _("Choose a status and a valid date."))
    return redirect("registry:source_detail", pk=source.pk)


# --- check items --------------------------------------------------------------------------


def _checkitem_filterset(request: HttpRequest) -> CheckItemFilterSet:
    return CheckItemFilterSet(request.GET or None, request=request)


@login_required
def checkitem_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_view(request)
    filterset = _checkitem_filterset(request)
    qs = checkitem_list_for_user(user=request.user, filters=filterset.filters_dict())
    warn_if_filters_ignored(request, filterset.form)
    page = page_for_request(request, qs, PAGE_SIZE)
    year = filterset.filters_dict().get("year") or timezone.localdate().year
    own = request.user.organisation_id
    context = {
        "form": filterset.form,
        "page": page,
        "query": _query_without_paging(request),
        "can_create": _can_create(request),
        "publish_year": int(year)
        if own is not None
        and user_may_publish_checkitems_of(request.user, own)
        and CheckItem.objects.filter(
            organisation_id=own, year=year, published_at__isnull=True
        ).exists()
        else None,
    }
    if _is_htmx(request):
        return render(request, "registry/_checkitem_table.html", context)
    return render(request, "registry/checkitem_list.html", context)


CHECKITEM_EXPORT_FIELDS = CHECKITEM.names(exported=True)


@login_required
def checkitem_export(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    _require_view(request)
    filterset = _checkitem_filterset(request)
    qs = checkitem_list_for_user(user=request.user, filters=filterset.filters_dict())
    rows = (
        [_export_cell(field, getattr(item, field)) for field in CHECKITEM_EXPORT_FIELDS]
        for item in qs.iterator(chunk_size=1000)
    )
    return export_response(
        [_label(CheckItem, field) for field in CHECKITEM_EXPORT_FIELDS],
        rows,
        filename=f"抽查事项清单_{timezone.localdate():%Y%m%d}.xlsx",
        sheet_name=str(_("Check-item list")),
    )


CHECKITEM_DETAIL_FIELDS = [
    "year",
    "code",
    "name",
    "is_key_item",
    "method",
    "checking_body",
    "responsible_section",
    "cooperating_sections",
    "legal_basis",
    "target_objects",
    "target_classes",
    "content",
    "required_expertise",
]


@login_required
def checkitem_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _require_view(request)
    item = checkitem_get_for_user(user=request.user, pk=pk)
    rows = [
        {
            "field": field,
            "label": _label(CheckItem, field),
            "value": display_value(field, getattr(item, field)),
        }
        for field in CHECKITEM_DETAIL_FIELDS
    ]
    return render(
        request,
        "registry/checkitem_detail.html",
        {
            "item": item,
            "rows": rows,
            "can_edit": not item.is_published
            and user_may_edit_registry_of(request.user, item.organisation_id),
            "can_publish": not item.is_published
            and user_may_publish_checkitems_of(request.user, item.organisation_id),
        },
    )


@login_required
def checkitem_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_view(request)
    organisation = _own_registry_organisation(request)
    form = CheckItemForm(request.POST or None, initial={"year": timezone.localdate().year})
    if not form.is_bound:
        form.initial["checking_body"] = organisation.name
    if request.method == "POST" and form.is_valid():
        try:
            item = services.checkitem_create(
                actor=request.user, organisation=organisation, data=form.service_data()
            )
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Check item added."))
            return redirect("registry:checkitem_detail", pk=item.pk)
    return render(
        request,
        "registry/checkitem_form.html",
        {"form": form, "organisation": organisation, "item": None},
    )


@login_required
def checkitem_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _require_view(request)
    item = checkitem_get_for_user(user=request.user, pk=pk)
    if not user_may_edit_registry_of(request.user, item.organisation_id):
        raise PermissionDenied
    form = CheckItemForm(request.POST or None, instance=item)
    if request.method == "POST" and form.is_valid():
        try:
            services.checkitem_update(actor=request.user, item=item, data=form.service_data())
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("registry:checkitem_detail", pk=item.pk)
    return render(
        request,
        "registry/checkitem_form.html",
        {"form": form, "organisation": item.organisation, "item": item},
    )


@login_required
@require_POST
def checkitem_publish(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _require_view(request)
    item = checkitem_get_for_user(user=request.user, pk=pk)
    if not user_may_publish_checkitems_of(request.user, item.organisation_id):
        raise PermissionDenied
    try:
        services.checkitem_publish(actor=request.user, item=item)
    except ServiceError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Check item published."))
    return redirect("registry:checkitem_detail", pk=item.pk)


@login_required
@require_POST
def checkitem_publish_year(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A leader publishes the rest of the own organisation's list for a year in one step."""
    _require_view(request)
    org = request.user.organisation
    if org is None or not user_may_publish_checkitems_of(request.user, org.pk):
        raise PermissionDenied
    try:
        year = int(request.POST.get("year", ""))
        count = services.checkitem_publish_year(actor=request.user, organisation=org, year=year)
    except ValueError:
        messages.error(request, _("Enter a year between 2000 and 2100."))
    except ServiceError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("%(count)s check items of the %(year)s list published.")
            % {"count": count, "year": year},
        )
    return redirect(f"{reverse('registry:checkitem_list')}?year={request.POST.get('year', '')}")
