"""Forms of the inspector pages. They only parse input; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.errors import ServiceError
from core.models import Organisation
from core.vocab import Expertise
from inspectors.fields import INSPECTOR
from inspectors.models import CertificateStatus, Inspector, Unavailability

YES_NO_ANY = [("", _("All")), ("yes", _("Yes")), ("no", _("No"))]
ACTIVE_CHOICES = [("active", _("Active")), ("inactive", _("Inactive")), ("all", _("All"))]


def _bool(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


class InspectorFilterForm(forms.Form):
    """The list's filters; ``filters()`` gives what ``inspector_list_for_user`` expects."""

    q = forms.CharField(label=_("Name or certificate number"), required=False, max_length=50)
    organisation: forms.ModelChoiceField[Organisation] = forms.ModelChoiceField(
        label=_("Organisation"), queryset=None, required=False, empty_label=_("All")
    )
    kind = forms.ChoiceField(
        label=_("Type"), choices=[("", _("All")), *Inspector.Kind.choices], required=False
    )
    on_staff = forms.ChoiceField(
        label=_("On staff and in post"), choices=YES_NO_ANY, required=False
    )
    expertise = forms.ChoiceField(
        label=_("Expertise"), choices=[("", _("All")), *Expertise.choices], required=False
    )
    certificate_status = forms.ChoiceField(
        label=_("Certificate"),
        choices=[
            ("", _("All")),
            (CertificateStatus.VALID, _("Valid")),
            (CertificateStatus.EXPIRING, _("Expiring within 60 days")),
            (CertificateStatus.EXPIRED, _("Expired")),
            (CertificateStatus.UNKNOWN, _("Validity not recorded")),
        ],
        required=False,
    )
    available_on = forms.DateField(
        label=_("Available on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    status = forms.ChoiceField(label=_("Status"), choices=ACTIVE_CHOICES, required=False)

    def __init__(self, *args, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations
        for field in self.fields.values():
            css = (
                "form-select form-select-sm"
                if isinstance(field.widget, forms.Select)
                else "form-control form-control-sm"
            )
            field.widget.attrs.setdefault("class", css)

    def filters(self) -> dict:
        data: dict = {}
        if self.is_bound:
            self.is_valid()  # cleaned_data keeps the valid fields: a bad one is just ignored
            data = self.cleaned_data
        status = data.get("status") or "active"
        return {
            "q": data.get("q", ""),
            "organisation": data.get("organisation"),
            "kind": data.get("kind", ""),
            "on_staff": _bool(data.get("on_staff", "")),
            "expertise": data.get("expertise", ""),
            "certificate_status": data.get("certificate_status", ""),
            "available_on": data.get("available_on"),
            "is_active": {"active": True, "inactive": False}.get(status),
        }


class InspectorForm(forms.Form):
    """Create and edit. Field names are the model's; the service validates the record."""

    name = forms.CharField(
        label=pgettext_lazy("person", "Name"), max_length=INSPECTOR["name"].rule.max_length
    )
    kind = forms.ChoiceField(label=_("Type"), choices=Inspector.Kind.choices)
    department = forms.CharField(
        label=_("Department (unit)"),
        max_length=INSPECTOR["department"].rule.max_length,
        required=False,
    )
    post = forms.CharField(
        label=_("Post"), max_length=INSPECTOR["post"].rule.max_length, required=False
    )
    certificate_number = forms.CharField(
        label=_("Enforcement certificate number"),
        max_length=INSPECTOR["certificate_number"].rule.max_length,
        required=False,
        help_text=_("Required for enforcement staff; leave blank for technical experts."),
    )
    certificate_valid_until = forms.DateField(
        label=_("Certificate valid until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    enforcement_scope = forms.CharField(
        label=_("Enforcement type (scope)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    on_staff = forms.BooleanField(label=_("On staff and in post"), required=False, initial=True)
    gender = forms.ChoiceField(
        label=_("Gender"), choices=[("", "—"), *Inspector.Gender.choices], required=False
    )
    # The range is the declared rule's, checked (and worded) by the service.
    years_of_service = forms.IntegerField(label=_("Years of service"), required=False)
    expertise = forms.MultipleChoiceField(
        label=_("Expertise"),
        choices=Expertise.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    professional_category = forms.CharField(
        label=_("Professional category"),
        max_length=INSPECTOR["professional_category"].rule.max_length,
        required=False,
    )
    # Checked (and worded) by the service, by the declared rule.
    region_code = forms.CharField(
        label=_("Region"), required=False, help_text=_("Six-digit administrative division code.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if isinstance(field.widget, forms.CheckboxSelectMultiple):
                continue
            if isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(field.widget, forms.Select):
                field.widget.attrs.setdefault("class", "form-select")
            else:
                field.widget.attrs.setdefault("class", "form-control")
            field.widget.attrs.setdefault("data-testid", f"field-{name}")

    def add_error(self, field, error):
        super().add_error(field, error)
        # Bootstrap shows the red border only with this class on the widget itself.
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                css = widget.attrs.get("class", "")
                if "is-invalid" not in css:
                    widget.attrs["class"] = f"{css} is-invalid".strip()

    @classmethod
    def initial_from(cls, inspector: Inspector) -> dict:
        return {name: getattr(inspector, name) for name in cls.base_fields}

    def add_service_error(self: forms.BaseForm, exc: ServiceError) -> None:
        """Show a service's refusal next to the field it concerns."""
        if hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                target = field if field in self.fields else None
                for error in errors:
                    self.add_error(target, error.message % (error.params or {}))
        else:
            for message in exc.messages:
                self.add_error(None, message)


class UnavailabilityForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.ChoiceField(label=_("Reason"), choices=Unavailability.Reason.choices)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    add_service_error = InspectorForm.add_service_error


class ConflictForm(forms.Form):
    """Either a pollution source (by its code) or a company credit code."""

    source_code = forms.CharField(
        label=_("Pollution source code"),
        max_length=50,
        required=False,
        widget=forms.TextInput(attrs={"list": "conflict-sources", "autocomplete": "off"}),
    )
    company_uscc = forms.CharField(
        label=_("Company credit code"),
        max_length=30,
        required=False,
        help_text=_("Covers every site of the company."),
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))
    valid_from = forms.DateField(
        label=_("Valid from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_until = forms.DateField(
        label=_("Valid until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    add_service_error = InspectorForm.add_service_error


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Reason for withdrawal"), max_length=500)


class DeactivateForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)
