"""Forms of the plan and draw pages. They only shape input; the services decide."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from django import forms
from django.utils.translation import gettext_lazy as _

from core.errors import ServiceError
from core.vocab import SupervisionClass
from lottery.models import Plan, RuleSet
from lottery.periods import inspection_period_error

if TYPE_CHECKING:
    from registry.models import CheckItem


class ServiceErrorMixin:
    add_error: Callable[..., None]  # the form's it is mixed into (an annotation only)

    def add_service_error(self, exc: ServiceError) -> None:
        """Show a service's refusal at the top of the form."""
        for message in exc.messages:
            self.add_error(None, message)


class PlanForm(ServiceErrorMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), choices=Plan.Kind.choices, initial=Plan.Kind.QUARTERLY
    )
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    quarter = forms.TypedChoiceField(
        label=_("Quarter"),
        choices=[("", "—"), (1, "1"), (2, "2"), (3, "3"), (4, "4")],
        coerce=int,
        empty_value=None,
        required=False,
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    classes = forms.MultipleChoiceField(
        label=_("Supervision classes covered"),
        choices=SupervisionClass.choices,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        initial=[c.value for c in SupervisionClass],
    )
    ruleset = forms.ModelChoiceField(
        label=_("Ratio rule set"),
        queryset=RuleSet.objects.none(),
        empty_label=None,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        help_text=_(
            "The plan keeps a copy of these rules: a later change to the set does not "
            "change this plan."
        ),
    )
    check_items: forms.ModelMultipleChoiceField[CheckItem] = forms.ModelMultipleChoiceField(
        label=_("Check items"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        help_text=_("From your organisation's check-item list."),
    )
    planned_start = forms.DateField(
        label=_("Inspections from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    planned_end = forms.DateField(
        label=_("Inspections until"), widget=forms.DateInput(attrs={"type": "date"})
    )
    team_size = forms.IntegerField(
        label=_("Inspectors per team"), min_value=2, max_value=10, initial=2
    )

    def __init__(self, *args, rulesets, check_items, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ruleset"].queryset = rulesets
        self.fields["check_items"].queryset = check_items
        self.fields["check_items"].label_from_instance = lambda item: (
            f"{item.year} · {item.code} {item.name}"
        )

    def clean(self):
        data = super().clean()
        quarterly = data.get("kind") == Plan.Kind.QUARTERLY
        if quarterly and not data.get("quarter"):
            self.add_error("quarter", _("A quarterly plan needs a quarter."))
            return data
        year, start, end = data.get("year"), data.get("planned_start"), data.get("planned_end")
        if isinstance(year, int) and isinstance(start, date) and isinstance(end, date):
            # The service checks the same rule; here it shows beside the dates.
            error = inspection_period_error(
                year=year, quarter=data.get("quarter") if quarterly else None, start=start, end=end
            )
            if error:
                self.add_error("planned_end" if end < start else "planned_start", error)
        return data


class PrepareForm(ServiceErrorMixin, forms.Form):
    witnesses = forms.IntegerField(
        label=_("Witness values required"),
        min_value=1,
        max_value=9,
        initial=2,
        help_text=_("How many witnesses will each give a value (e.g. dice digits) at the draw."),
    )
    public_value_spec = forms.CharField(
        label=_("Public value named in advance (optional)"),
        max_length=300,
        required=False,
        help_text=_(
            "Recommended: a value from an event after the commitment, e.g. the next draw of a "
            "named lottery; it is added to the seed."
        ),
    )
    digits = forms.IntegerField(
        label=_("Digits per witness value"),
        min_value=4,
        max_value=20,
        initial=6,
        required=False,  # 6 when left empty
        help_text=_("Each witness gives exactly this many digits 0–9, e.g. six dice."),
    )
    public_value_digits = forms.IntegerField(
        label=_("Digits of the public value"),
        min_value=1,
        max_value=64,
        required=False,
        help_text=_("E.g. 3 for a 3D lottery result. Required with a public value."),
    )
    max_team_share = forms.IntegerField(
        label=_("Accept a higher share of teams per inspector (%)"),
        min_value=1,
        max_value=100,
        required=False,
        help_text=_(
            "Leave empty for the default limit. Only when an expertise is scarce and the bureau "
            "accepts that its holders go on more teams; recorded in the manifest."
        ),
    )


class ReturnForm(ServiceErrorMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason for return"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The clerk sees it on the plan page, e.g. what to change."),
    )


class DiscardForm(ServiceErrorMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)


class AbandonForm(ServiceErrorMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=1000, widget=forms.Textarea)


class EntropyForm(ServiceErrorMixin, forms.Form):
    witness_name = forms.CharField(label=_("Witness"), max_length=50)
    witness_role = forms.CharField(
        label=_("Witness's role"),
        max_length=100,
        required=False,
        help_text=_("E.g. discipline inspection, public representative."),
    )
    value = forms.CharField(
        label=_("Value"),
        max_length=100,
        help_text=_("What the witness rolled or wrote down, e.g. six dice digits."),
    )


class ExecuteForm(ServiceErrorMixin, forms.Form):
    public_value = forms.CharField(label=_("Public value"), max_length=300, required=False)


class SubstitutionRequestForm(ServiceErrorMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("E.g. recusal (relationship with the company), the source closed down."),
    )
    inspector = forms.TypedChoiceField(
        label=_("Inspector to replace"),
        coerce=int,
        empty_value=None,
        required=False,
    )

    def __init__(self, *args, team=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["inspector"].choices = [("", _("— none: replace the source —"))] + [
            (m.inspector_id, f"{m.name}（{m.role_label}）") for m in team
        ]


class SubstitutionDecideForm(ServiceErrorMixin, forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=[("approve", _("Approve")), ("reject", _("Reject"))]
    )
    note = forms.CharField(label=_("Note"), max_length=1000, required=False)


class QuarterForm(forms.Form):
    year = forms.IntegerField(min_value=2000, max_value=2100, required=False)
    quarter = forms.TypedChoiceField(
        choices=[(1, "1"), (2, "2"), (3, "3"), (4, "4")], coerce=int, required=False
    )
