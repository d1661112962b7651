"""Forms of the registry pages. They parse and label input; the services validate and write.

The model forms skip Django's model validation (``_post_clean``) on purpose: the rules live
in ``registry.services`` and their errors are put back on the right fields by
``add_service_error``, so a page, the API and the importer refuse exactly the same things.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from core.errors import ServiceError
from core.vocab import Expertise, SupervisionClass
from registry.fields import CHECKITEM, SOURCE
from registry.models import CheckItem, PollutionSource, PollutionType, SourceStatus

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def add_service_error(form: forms.BaseForm, exc: ServiceError) -> None:
    """Show a service's refusal on the form: per field where the form has that field."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _bootstrap(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, (forms.CheckboxInput,)):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.CheckboxSelectMultiple):
            continue
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")


class _ServiceModelForm(forms.ModelForm):
    def _post_clean(self):
        """No model validation here: the service is the one place that validates."""


class SourceForm(_ServiceModelForm):
    """Create or edit a source. ``managed_by`` follows the organisation; the status has its
    own action on the detail page (it is dated and shows in the history as such)."""

    pollution_types = forms.MultipleChoiceField(
        label=PollutionSource._meta.get_field("pollution_types").verbose_name,
        choices=PollutionType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    tags = forms.CharField(
        label=PollutionSource._meta.get_field("tags").verbose_name,
        required=False,
        help_text=_("Separate tags with commas, e.g. 涉VOCs, 园区内."),
    )
    accept_bad_checksum = forms.BooleanField(
        label=_("Keep the credit code even though its check digit is wrong"),
        required=False,
        help_text=_(
            "Only for a code copied exactly from a licence or an official list that itself "
            "carries the error; the source is then flagged."
        ),
    )

    class Meta:
        model = PollutionSource
        fields = SOURCE.names(form=True)
        widgets = {
            "permit_valid_from": DATE_WIDGET,
            "permit_valid_until": DATE_WIDGET,
            "positive_list_until": DATE_WIDGET,
            "last_penalty_date": DATE_WIDGET,
            "special_reason": forms.Textarea(attrs={"rows": 2}),
            "violation_record": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "uscc": _("18 characters (GB 32100-2015); lower case is accepted."),
            "industry_code": _("GB/T 4754-2017, e.g. C2614."),
            "county_code": _("Six-digit division code; a county bureau's own code if left empty."),
            "special_reason": _("Required for a special object."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Long enough for a code typed with spaces or in lower case; the service normalises.
        self.fields["uscc"].max_length = 30
        self.fields["uscc"].widget.attrs["maxlength"] = 30
        self.fields["uscc"].validators = []
        if self.instance.pk:
            self.fields["source_code"].disabled = True
            self.fields["source_code"].help_text = _("The source code cannot be changed.")
            self.initial["tags"] = ", ".join(self.instance.tags or [])
        _bootstrap(self)

    def service_data(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if k != "accept_bad_checksum"}
        if self.instance.pk:
            data.pop("source_code", None)
        return data


class SourceStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=SourceStatus.choices)
    status_date = forms.DateField(label=_("As of"), widget=DATE_WIDGET, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _bootstrap(self)


class CheckItemForm(_ServiceModelForm):
    target_classes = forms.MultipleChoiceField(
        label=CheckItem._meta.get_field("target_classes").verbose_name,
        choices=SupervisionClass.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    required_expertise = forms.MultipleChoiceField(
        label=CheckItem._meta.get_field("required_expertise").verbose_name,
        choices=Expertise.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = CheckItem
        fields = CHECKITEM.names(form=True)
        widgets = {
            "legal_basis": forms.Textarea(attrs={"rows": 3}),
            "target_objects": forms.Textarea(attrs={"rows": 2}),
            "content": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _bootstrap(self)

    def service_data(self) -> dict:
        return dict(self.cleaned_data)
