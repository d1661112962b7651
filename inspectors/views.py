"""Staff pages of the inspector registry. Thin: selectors read, services write.

Who may do what: anyone with Cap.VIEW_REGISTRY reads what their scope holds (404 outside);
only registry editors of the inspector's own organisation change it (403 otherwise).
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Field
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import ServiceError
from core.models import Organisation
from core.paging import page_for_request, warn_if_filters_ignored
from core.request_types import AuthenticatedHttpRequest
from core.roles import Cap, user_can
from core.selectors import organisations_visible_to
from core.vocab import Expertise
from inspectors import services
from inspectors.exports import inspectors_xlsx_response
from inspectors.forms import (
    ConflictForm,
    DeactivateForm,
    InspectorFilterForm,
    InspectorForm,
    UnavailabilityForm,
    WithdrawForm,
)
from inspectors.models import Conflict, Inspector, InspectorChange, Unavailability
from inspectors.selectors import (
    inspector_detail_related,
    inspector_get_for_user,
    inspector_list_for_user,
    inspectors_own_record,
    user_may_edit_inspectors_of,
)
from registry.selectors import source_list_for_user

PAGE_SIZE = 50


def _require_view(request: HttpRequest) -> None:
    if not user_can(request.user, Cap.VIEW_REGISTRY):
        raise PermissionDenied


def _editable(request: HttpRequest, pk: int) -> Inspector:
    """The inspector (404 outside scope), if the user may change it (403 otherwise)."""
    _require_view(request)
    inspector = inspector_get_for_user(user=request.user, pk=pk)
    if not user_may_edit_inspectors_of(request.user, inspector.organisation_id):
        raise PermissionDenied
    return inspector


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _filter_form(request: HttpRequest) -> InspectorFilterForm:
    return InspectorFilterForm(
        request.GET or None,
        organisations=organisations_visible_to(request.user).filter(
            kind__in=[Organisation.Kind.COUNTY_BUREAU, Organisation.Kind.CITY_TEAM]
        ),
    )


@login_required
def inspector_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_view(request)
    form = _filter_form(request)
    qs = inspector_list_for_user(user=request.user, filters=form.filters())
    warn_if_filters_ignored(request, form)
    page = page_for_request(request, qs, PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "today": timezone.localdate(),
        "can_create": user_may_edit_inspectors_of(request.user, request.user.organisation_id),
        "own_record": inspectors_own_record(request.user),
    }
    if _is_htmx(request):
        return render(request, "inspectors/_inspector_table.html", context)
    return render(request, "inspectors/inspector_list.html", context)


@login_required
def inspector_export(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    """The current filter of the list, as an Excel workbook (every page, not just one)."""
    _require_view(request)
    form = _filter_form(request)
    return inspectors_xlsx_response(
        inspector_list_for_user(user=request.user, filters=form.filters())
    )


def _display_value(field: str, value: Any, organisations: dict[int, str]) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if field == "kind":
        return str(dict(Inspector.Kind.choices).get(value, value))
    if field == "gender":
        return str(dict(Inspector.Gender.choices).get(value, value))
    if field == "expertise" and isinstance(value, list):
        labels = dict(Expertise.choices)
        return "、".join(str(labels.get(code, code)) for code in value)
    if field == "unavailability_reason":
        return str(dict(Unavailability.Reason.choices).get(value, value))
    if field == "organisation":
        return organisations.get(value, str(value))
    return str(value)


HISTORY_LABELS = {
    "organisation": Inspector._meta.get_field("organisation").verbose_name,
    "user": Inspector._meta.get_field("user").verbose_name,
    "is_active": Inspector._meta.get_field("is_active").verbose_name,
    "unavailable": Unavailability._meta.verbose_name,
    "conflict": Conflict._meta.verbose_name,
    "reason": Conflict._meta.get_field("reason").verbose_name,
    "withdrawal_reason": Conflict._meta.get_field("withdrawal_reason").verbose_name,
    "unavailability_reason": Unavailability._meta.get_field("reason").verbose_name,
}


def _history_rows(changes: list[InspectorChange]) -> list[dict]:
    """Each history entry as (label, old, new) lines with Chinese field names."""
    org_ids = {
        v
        for change in changes
        for v in (change.changes or {}).get("organisation", [])
        if isinstance(v, int)
    }
    organisations = dict(Organisation.objects.filter(pk__in=org_ids).values_list("pk", "name"))
    rows = []
    for change in changes:
        lines = []
        for field, pair in (change.changes or {}).items():
            old, new = (pair + [None, None])[:2] if isinstance(pair, list) else (None, pair)
            label: str | Promise | None
            try:
                # History names concrete fields; anything else raises and is caught below.
                label = cast(Field, Inspector._meta.get_field(field)).verbose_name
            except Exception:  # noqa: BLE001 - not a model field (availability, conflict)
                label = HISTORY_LABELS.get(field, field)
            label = HISTORY_LABELS.get(field, label)
            lines.append(
                {
                    "label": label,
                    "old": _display_value(field, old, organisations),
                    "new": _display_value(field, new, organisations),
                }
            )
        rows.append({"change": change, "lines": lines})
    return rows


def _detail_context(request: HttpRequest, inspector: Inspector, **forms) -> dict:
    related = inspector_detail_related(inspector)
    today = timezone.localdate()
    can_edit = user_may_edit_inspectors_of(request.user, inspector.organisation_id)
    context = {
        "inspector": inspector,
        "today": today,
        "can_edit": can_edit,
        "unavailabilities": related["unavailabilities"],
        "conflicts": related["conflicts"],
        "history": _history_rows(related["changes"]),
        "certified_today": inspector.is_certified(today),
    }
    if can_edit:
        context["unavailability_form"] = forms.get("unavailability_form") or UnavailabilityForm()
        context["conflict_form"] = forms.get("conflict_form") or ConflictForm(
            initial={"valid_from": today}
        )
        context["source_choices"] = _source_choices(request, inspector)
        context["deactivate_form"] = DeactivateForm()
    return context


def _sources_in_scope(request: HttpRequest):
    return source_list_for_user(user=request.user)


def _source_choices(request: HttpRequest, inspector: Inspector) -> list:
    """Suggestions for the conflict form: the inspector's organisation's sources."""
    return list(
        _sources_in_scope(request)
        .filter(organisation_id=inspector.organisation_id)
        .order_by("source_code")
        .values_list("source_code", "name")[:500]
    )


@login_required
def inspector_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _require_view(request)
    inspector = inspector_get_for_user(user=request.user, pk=pk)
    return render(request, "inspectors/inspector_detail.html", _detail_context(request, inspector))


def _form_data(form: InspectorForm) -> dict:
    data = dict(form.cleaned_data)
    data["gender"] = data.get("gender") or ""
    data["expertise"] = list(data.get("expertise") or [])
    return data


@login_required
def inspector_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    organisation = request.user.organisation
    if organisation is None or not user_may_edit_inspectors_of(request.user, organisation):
        raise PermissionDenied
    form = InspectorForm(request.POST or None, initial={"on_staff": True, "kind": "enforcement"})
    if request.method == "POST" and form.is_valid():
        try:
            inspector = services.inspector_create(
                actor=request.user, organisation=organisation, data=_form_data(form)
            )
        except ServiceError as exc:
            form.add_service_error(exc)
        else:
            messages.success(
                request, _("%(name)s was added to the registry.") % {"name": inspector.name}
            )
            return redirect("inspectors:inspector_detail", pk=inspector.pk)
    return render(
        request,
        "inspectors/inspector_form.html",
        {"form": form, "organisation": organisation, "inspector": None},
    )


@login_required
def inspector_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    inspector = _editable(request, pk)
    form = InspectorForm(request.POST or None, initial=InspectorForm.initial_from(inspector))
    if request.method == "POST" and form.is_valid():
        try:
            services.inspector_update(
                actor=request.user, inspector=inspector, data=_form_data(form)
            )
        except ServiceError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("inspectors:inspector_detail", pk=inspector.pk)
    return render(
        request,
        "inspectors/inspector_form.html",
        {"form": form, "organisation": inspector.organisation, "inspector": inspector},
    )


@login_required
@require_POST
def inspector_set_active(request: AuthenticatedHttpRequest, pk: int, active: bool) -> HttpResponse:
    inspector = _editable(request, pk)
    form = DeactivateForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    if active:
        services.inspector_reactivate(actor=request.user, inspector=inspector, reason=reason)
        messages.success(request, _("%(name)s is active again.") % {"name": inspector.name})
    else:
        services.inspector_deactivate(actor=request.user, inspector=inspector, reason=reason)
        messages.success(request, _("%(name)s was deactivated.") % {"name": inspector.name})
    return redirect("inspectors:inspector_detail", pk=inspector.pk)


def _section(request: HttpRequest, inspector: Inspector, template: str, **extra) -> HttpResponse:
    """After a small form: the section again (htmx), or the whole page (with its errors)."""
    inspector.refresh_from_db()
    context = _detail_context(request, inspector, **extra)
    context.update(extra)
    if _is_htmx(request):
        return render(request, template, context)
    return render(request, "inspectors/inspector_detail.html", context)


@login_required
@require_POST
def unavailability_add(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    inspector = _editable(request, pk)
    form = UnavailabilityForm(request.POST)
    if form.is_valid():
        try:
            services.unavailability_add(
                actor=request.user, inspector=inspector, **form.cleaned_data
            )
        except ServiceError as exc:
            form.add_service_error(exc)
        else:
            if not _is_htmx(request):
                return redirect(reverse("inspectors:inspector_detail", args=[pk]) + "#availability")
            return _section(request, inspector, "inspectors/_availability.html")
    return _section(request, inspector, "inspectors/_availability.html", unavailability_form=form)


@login_required
@require_POST
def unavailability_remove(
    request: AuthenticatedHttpRequest, pk: int, period_pk: int
) -> HttpResponse:
    inspector = _editable(request, pk)
    period = inspector.unavailabilities.filter(pk=period_pk).first()
    if period is None:
        raise Http404
    services.unavailability_remove(actor=request.user, unavailability=period)
    if not _is_htmx(request):
        return redirect(reverse("inspectors:inspector_detail", args=[pk]) + "#availability")
    return _section(request, inspector, "inspectors/_availability.html")


@login_required
@require_POST
def conflict_declare(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    inspector = _editable(request, pk)
    form = ConflictForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        source = None
        code = data["source_code"].strip()
        if code:
            # A code is unique per bureau only: a city team's scope may hold it twice.
            found = list(_sources_in_scope(request).filter(source_code=code)[:2])
            if not found:
                form.add_error(
                    "source_code", _("No pollution source with this code in your scope.")
                )
            elif len(found) > 1:
                form.add_error(
                    "source_code",
                    _(
                        "Several bureaus in your scope have a source with this code: declare "
                        "the conflict by the company's credit code instead."
                    ),
                )
            else:
                source = found[0]
        if form.is_valid():
            try:
                services.conflict_declare(
                    actor=request.user,
                    inspector=inspector,
                    source=source,
                    company_uscc=data["company_uscc"],
                    reason=data["reason"],
                    valid_from=data["valid_from"],
                    valid_until=data["valid_until"],
                )
            except ServiceError as exc:
                form.add_service_error(exc)
            else:
                if not _is_htmx(request):
                    return redirect(
                        reverse("inspectors:inspector_detail", args=[pk]) + "#conflicts"
                    )
                return _section(request, inspector, "inspectors/_conflicts.html")
    return _section(request, inspector, "inspectors/_conflicts.html", conflict_form=form)


@login_required
@require_POST
def conflict_withdraw(request: AuthenticatedHttpRequest, pk: int, conflict_pk: int) -> HttpResponse:
    inspector = _editable(request, pk)
    conflict = inspector.conflicts.filter(pk=conflict_pk).first()
    if conflict is None:
        raise Http404
    form = WithdrawForm(request.POST)
    try:
        services.conflict_withdraw(
            actor=request.user,
            conflict=conflict,
            reason=form.cleaned_data["reason"] if form.is_valid() else "",
        )
    except ServiceError as exc:
        return _section(
            request,
            inspector,
            "inspectors/_conflicts.html",
            withdraw_error={"conflict": conflict.pk, "messages": exc.messages},
        )
    if not _is_htmx(request):
        return redirect(reverse("inspectors:inspector_detail", args=[pk]) + "#conflicts")
    return _section(request, inspector, "inspectors/_conflicts.html")
