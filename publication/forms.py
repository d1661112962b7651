"""Forms of the public portal (query strings) and of the bureau's publishing pages."""

from __future__ import annotations

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from core.models import Organisation
from inspections.models import ResultType
from publication.models import NARROWABLE_FIELDS, Withholding, WithholdReason

TEXT = {"class": "form-control"}


class ResultFilterForm(forms.Form):
    """The result list's query string. A value that makes no sense is dropped (and said),
    never a 500."""

    q = forms.CharField(required=False, max_length=100, strip=True)
    org = forms.ModelChoiceField(queryset=Organisation.objects.all(), required=False)
    year = forms.IntegerField(required=False, min_value=2000, max_value=2100)
    quarter = forms.TypedChoiceField(
        required=False,
        choices=[("", "")] + [(q, q) for q in (1, 2, 3, 4)],
        coerce=int,
        empty_value=None,
    )
    item = forms.CharField(
        required=False, max_length=20, validators=[RegexValidator(r"^[\w.\-]+$")]
    )
    result = forms.TypedChoiceField(
        required=False, choices=[("", ""), *ResultType.choices], coerce=int, empty_value=None
    )
    random = forms.ChoiceField(required=False, choices=[("", ""), ("1", "1"), ("0", "0")])
    page = forms.IntegerField(required=False, min_value=1, max_value=10_000)

    def filters(self) -> tuple[dict, list[str]]:
        """The valid filters, and the names of the ones that were dropped."""
        self.is_valid()
        clean = {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}
        return clean, sorted(self.errors)


class WithholdForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Reason"),
        choices=WithholdReason.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    scope = forms.ChoiceField(
        label=_("Scope"),
        choices=Withholding.Scope.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    # A form field named "fields": the form's metaclass moves it into self.fields.
    fields = forms.MultipleChoiceField(  # type: ignore[assignment]
        label=_("Fields left out"),
        required=False,
        choices=[(k, v) for k, v in NARROWABLE_FIELDS.items()],
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    detail = forms.CharField(
        label=_("Explanation"), max_length=2000, widget=forms.Textarea(attrs={**TEXT, "rows": 2})
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the withdrawal"),
        max_length=2000,
        widget=forms.Textarea(attrs={**TEXT, "rows": 2}),
    )


class NationalExportForm(forms.Form):
    period_start = forms.DateField(
        label=_("From"), widget=forms.DateInput(attrs={"type": "date", "class": "form-control"})
    )
    period_end = forms.DateField(
        label=_("Until"), widget=forms.DateInput(attrs={"type": "date", "class": "form-control"})
    )
