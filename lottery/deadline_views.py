"""The bureau's deadline regime: read by its staff, changed by its leader or an administrator."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from core.errors import ServiceError
from core.models import Organisation
from core.request_types import AuthenticatedHttpRequest
from core.roles import Cap, user_can
from lottery import services
from lottery.deadline_rules import DEADLINE_PRESETS, EVENTS, describe_deadline_rule
from lottery.models import DeadlineRegime
from lottery.selectors import DRAWING_KINDS, deadline_rules_for


class RegimeForm(forms.Form):
    """Every number of the regime; the service says which value it refuses, and why."""

    preset = forms.ChoiceField(label=_("Start from a preset"), required=False)
    check_items_month = forms.IntegerField(label=_("Check-item list: month"))
    check_items_day = forms.IntegerField(label=_("Check-item list: day"))
    annual_plan_month = forms.IntegerField(label=_("Annual plan: month"))
    annual_plan_day = forms.IntegerField(label=_("Annual plan: day"))
    quarterly_plan_day = forms.IntegerField(label=_("Quarterly plan: day of the first month"))
    draw_kind = forms.ChoiceField(
        label=_("Quarterly draw"),
        choices=[
            ("quarter_day", _("by a day of the quarter's first month")),
            ("window_before_quarter", _("within the last working days of the previous quarter")),
        ],
    )
    draw_day = forms.IntegerField(label=_("Quarterly draw: day of the first month"), required=False)
    draw_window_days = forms.IntegerField(
        label=_("Quarterly draw: working days of the window"), required=False
    )
    result_entry_days = forms.IntegerField(label=_("Result entry: working days"))
    result_publication_days = forms.IntegerField(label=_("Result publication: working days"))
    quarter_done_day = forms.IntegerField(label=_("Quarter's checks done: day of the last month"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["preset"].choices = [("", _("— keep these values —"))] + [
            (p.code, p.name) for p in DEADLINE_PRESETS.values()
        ]
        for field in self.fields.values():
            choice = isinstance(field, forms.ChoiceField)
            field.widget.attrs["class"] = (
                "form-select form-select-sm" if choice else "form-control form-control-sm"
            )

    @staticmethod
    def initial_from(rules: dict) -> dict:
        draw = rules["quarterly_draw"]
        return {
            "check_items_month": rules["check_items"]["month"],
            "check_items_day": rules["check_items"]["day"],
            "annual_plan_month": rules["annual_plan"]["month"],
            "annual_plan_day": rules["annual_plan"]["day"],
            "quarterly_plan_day": rules["quarterly_plan"]["day"],
            "draw_kind": draw["kind"],
            "draw_day": draw.get("day"),
            "draw_window_days": draw.get("days"),
            "result_entry_days": rules["result_entry"]["days"],
            "result_publication_days": rules["result_publication"]["days"],
            "quarter_done_day": rules["quarter_done"]["day"],
        }

    def rules(self, current: dict) -> dict:
        data = self.cleaned_data
        rules = {event: dict(rule) for event, rule in current.items()}
        rules["check_items"] |= {"month": data["check_items_month"], "day": data["check_items_day"]}
        rules["annual_plan"] |= {"month": data["annual_plan_month"], "day": data["annual_plan_day"]}
        rules["quarterly_plan"] |= {"month": 1, "day": data["quarterly_plan_day"]}
        source = rules["quarterly_draw"].get("source", "")
        if data["draw_kind"] == "window_before_quarter":
            rules["quarterly_draw"] = {
                "kind": "window_before_quarter",
                "days": data["draw_window_days"],
                "source": source,
            }
        else:
            rules["quarterly_draw"] = {
                "kind": "quarter_day",
                "month": 1,
                "day": data["draw_day"],
                "source": source,
            }
        rules["result_entry"]["days"] = data["result_entry_days"]
        rules["result_publication"]["days"] = data["result_publication_days"]
        rules["quarter_done"] |= {"month": 3, "day": data["quarter_done_day"]}
        return rules


def _organisation(request: AuthenticatedHttpRequest) -> Organisation | None:
    """The leader's own bureau; an administrator picks one with ``?organisation=``."""
    user = request.user
    if user_can(user, Cap.ADMINISTER):
        raw = request.GET.get("organisation", "")
        if not raw:
            return None
        if not raw.isdigit() or len(raw) > 9:
            messages.error(request, _("Unknown organisation."))
            return None
        found = Organisation.objects.filter(pk=int(raw), kind__in=DRAWING_KINDS).first()
        if found is None:
            messages.error(request, _("Unknown organisation."))
        return found
    if user.organisation is not None and user.organisation.kind in DRAWING_KINDS:
        return user.organisation
    return None


@login_required
def deadline_regime(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    if not (user_can(user, Cap.VIEW_PLANS) or user_can(user, Cap.ADMINISTER)):
        raise PermissionDenied
    organisation = _organisation(request)
    can_edit = organisation is not None and (
        user_can(user, Cap.ADMINISTER)
        or (user_can(user, Cap.APPROVE) and user.organisation_id == organisation.pk)
    )
    own = DeadlineRegime.objects.filter(organisation=organisation).first() if organisation else None
    current = deadline_rules_for([organisation])[organisation.pk] if organisation else None
    form = None
    if can_edit:
        assert organisation is not None and current is not None  # can_edit needs a bureau
        if request.method == "POST":
            form = RegimeForm(request.POST)
            if form.is_valid():
                preset = form.cleaned_data["preset"]
                rules = DEADLINE_PRESETS[preset].rules if preset else form.rules(current)
                try:
                    services.deadline_regime_save(
                        actor=user, organisation=organisation, rules=rules, based_on=preset
                    )
                except ServiceError as exc:
                    for message in exc.messages:
                        form.add_error(None, message)
                else:
                    messages.success(request, _("The deadlines were saved."))
                    url = request.path
                    if user_can(user, Cap.ADMINISTER):
                        url += f"?organisation={organisation.pk}"
                    return redirect(url)
        else:
            form = RegimeForm(initial=RegimeForm.initial_from(current))
    elif request.method == "POST":
        raise PermissionDenied
    rows = (
        [
            {
                "event": label,
                "rule": describe_deadline_rule(event, current[event]),
                "source": current[event].get("source", ""),
            }
            for event, label in EVENTS.items()
        ]
        if current
        else []
    )
    return render(
        request,
        "lottery/deadline_regime.html",
        {
            "organisation": organisation,
            "own": own,
            "rows": rows,
            "form": form,
            "organisations": (
                Organisation.objects.filter(kind__in=DRAWING_KINDS).order_by("division_code")[:500]
                if user_can(user, Cap.ADMINISTER)
                else []
            ),
        },
    )
