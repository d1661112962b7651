"""Forms of the inspection pages. They check shape only; the services decide what is allowed."""

from __future__ import annotations

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from core.errors import ServiceError
from inspections.models import (
    RESULT_HELP,
    Finding,
    InspectionTask,
    NonCooperationGround,
    OffSiteMeans,
    Problem,
    ResultType,
    Trigger,
)

DATE = forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(
    attrs={"type": "datetime-local", "class": "form-control"}, format="%Y-%m-%dT%H:%M"
)
TEXT = {"class": "form-control"}


class ServiceErrorForm(forms.Form):
    def add_service_error(self, exc: ServiceError) -> None:
        """A service's refusal, under the field it names where the form has that field."""
        if hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                target = field if field in self.fields else None
                for error in errors:
                    self.add_error(target, error.message % (error.params or {}))
        else:
            for message in exc.messages:
                self.add_error(None, message)


def _witnesses(text: str) -> list[dict]:
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        for sep in ("，", ",", "、", " "):
            if sep in line:
                name, role = line.split(sep, 1)
                break
        else:
            name, role = line, ""
        rows.append({"name": name.strip()[:50], "role": role.strip()[:50]})
    return rows


class RecordForm(ServiceErrorForm):
    """The on-site record (or the off-site one): members, findings per item, the result."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    checked_at = forms.DateTimeField(
        label=_("Date and time of the check"), required=False, widget=DATETIME
    )
    members = forms.TypedMultipleChoiceField(
        label=_("Members present"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        help_text=_(
            "At least two certified members of the current team; experts only in addition."
        ),
    )
    experts = forms.CharField(
        label=_("Experts taking part"),
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs=TEXT),
    )
    body_camera_refs = forms.CharField(
        label=_("Body camera file references"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={**TEXT, "rows": 2}),
        help_text=_(
            "The body camera records the whole check: give the file numbers, not the video."
        ),
    )
    representative = forms.CharField(
        label=_("Source's representative present"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs=TEXT),
    )
    witnesses = forms.CharField(
        label=_("Witnesses (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={**TEXT, "rows": 2}),
        help_text=_("One per line: name, role."),
    )
    off_site_means = forms.MultipleChoiceField(
        label=_("Means of off-site supervision"),
        choices=OffSiteMeans.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    covered_from = forms.DateField(label=_("Period covered from"), required=False, widget=DATE)
    covered_until = forms.DateField(label=_("Period covered until"), required=False, widget=DATE)
    result_type = forms.TypedChoiceField(
        label=_("Result type"),
        choices=[("", _("Not decided yet (draft)")), *ResultType.choices],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    ground = forms.ChoiceField(
        label=_("Ground (result type 4)"),
        choices=[("", "—"), *NonCooperationGround.choices],
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    conclusion = forms.CharField(
        label=_("Investigation's conclusion"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={**TEXT, "rows": 2}),
    )
    case_filed = forms.BooleanField(
        label=_("A case was filed"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    summary = forms.CharField(
        label=_("Summary"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={**TEXT, "rows": 3}),
    )
    handling_ended_on = forms.DateField(
        label=_("Check and its handling ended on"),
        required=False,
        widget=DATE,
        help_text=_("The result must be entered within 7 working days after this day."),
    )
    reason = forms.CharField(
        label=_("What changed in this version"),
        required=False,
        max_length=1000,
        widget=forms.TextInput(attrs=TEXT),
    )

    def __init__(self, *args, task: InspectionTask, team: list, items: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.task = task
        self.items = items
        self.team = team
        cast(forms.ChoiceField, self.fields["members"]).choices = [
            (i.pk, f"{i.name}（{i.certificate_number or _('expert')}）") for i in team
        ]
        self.result_help = [
            (value, label, RESULT_HELP[value]) for value, label in ResultType.choices
        ]
        for inspector in team:
            self.fields[f"shown_{inspector.pk}"] = forms.BooleanField(
                label=_("%(name)s showed the certificate and stated the purpose")
                % {"name": inspector.name},
                required=False,
                widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
            )
        for item in items:
            self.fields[f"outcome_{item.pk}"] = forms.ChoiceField(
                label=item.name,
                choices=[("", "—"), *Finding.Outcome.choices],
                required=False,
                widget=forms.Select(attrs={"class": "form-select form-select-lg"}),
            )
            self.fields[f"note_{item.pk}"] = forms.CharField(
                label=_("Note"),
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={**TEXT, "rows": 1}),
            )
        if task.mode == "off_site":
            for name in ("members", "body_camera_refs", "representative", "witnesses"):
                self.fields[name].required = False

    def shown_fields(self):
        return [(i, self[f"shown_{i.pk}"]) for i in self.team]

    def item_fields(self):
        return [(i, self[f"outcome_{i.pk}"], self[f"note_{i.pk}"]) for i in self.items]

    def clean(self):
        data = super().clean()
        if (
            data.get("result_type") is not None
            and self.task.mode == "on_site"
            and not (data.get("body_camera_refs") or "").strip()
        ):
            self.add_error(
                "body_camera_refs",
                _("The body camera records the whole check: give its file references."),
            )
        start, end = data.get("covered_from"), data.get("covered_until")
        if start and end and end < start:
            self.add_error("covered_until", _("The period ends before it starts."))
        return data

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        by_pk = {i.pk: i for i in self.team}
        members = [by_pk[pk] for pk in data["members"] if pk in by_pk]
        findings = {}
        for item in self.items:
            outcome = data.get(f"outcome_{item.pk}")
            if outcome:
                findings[item.pk] = (outcome, data.get(f"note_{item.pk}", ""))
        return {
            "expected_version": data["expected_version"],
            "checked_at": data["checked_at"],
            "members": members,
            "credentials_shown": {str(i.pk): bool(data.get(f"shown_{i.pk}")) for i in members},
            "result_type": data["result_type"],
            "ground": data["ground"],
            "conclusion": data["conclusion"],
            "case_filed": data["case_filed"],
            "findings": findings,
            "handling_ended_on": data["handling_ended_on"],
            "reason": data["reason"],
            "experts": data["experts"],
            "body_camera_refs": data["body_camera_refs"],
            "representative": data["representative"],
            "witnesses": _witnesses(data["witnesses"]),
            "off_site_means": data["off_site_means"],
            "covered_from": data["covered_from"],
            "covered_until": data["covered_until"],
            "summary": data["summary"],
        }


def record_initial(record) -> dict:
    """The form's starting values from the current version (or nothing)."""
    if record is None:
        return {"expected_version": 0}
    initial = {
        "expected_version": record.version,
        "checked_at": record.checked_at,
        "members": [m.pk for m in record.members.all()],
        "experts": record.experts,
        "body_camera_refs": record.body_camera_refs,
        "representative": record.representative,
        "witnesses": "\n".join(
            f"{w.get('name', '')}，{w.get('role', '')}".rstrip("，") for w in record.witnesses
        ),
        "off_site_means": record.off_site_means,
        "covered_from": record.covered_from,
        "covered_until": record.covered_until,
        "result_type": record.result_type,
        "ground": record.ground,
        "conclusion": record.conclusion,
        "case_filed": record.case_filed,
        "summary": record.summary,
        "handling_ended_on": record.task.handling_ended_on,
    }
    for pk, shown in (record.credentials_shown or {}).items():
        initial[f"shown_{pk}"] = bool(shown)
    for finding in record.findings.all():
        initial[f"outcome_{finding.check_item_id}"] = finding.outcome
        initial[f"note_{finding.check_item_id}"] = finding.note
    return initial


class ReasonForm(ServiceErrorForm):
    reason = forms.CharField(
        label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={**TEXT, "rows": 2})
    )


class CorrectionForm(ServiceErrorForm):
    result_type = forms.TypedChoiceField(
        label=_("Corrected result type"),
        choices=ResultType.choices,
        coerce=int,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    conclusion = forms.CharField(
        label=_("Investigation's conclusion"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={**TEXT, "rows": 2}),
    )
    case_filed = forms.BooleanField(
        label=_("A case was filed"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    reason = forms.CharField(
        label=_("Reason for the correction"),
        max_length=1000,
        widget=forms.Textarea(attrs={**TEXT, "rows": 2}),
    )


class ProblemForm(ServiceErrorForm):
    check_item = forms.TypedChoiceField(
        label=_("Check item"),
        coerce=int,
        required=False,
        empty_value=None,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    description = forms.CharField(
        label=_("Problem"), max_length=2000, widget=forms.Textarea(attrs={**TEXT, "rows": 2})
    )
    legal_basis = forms.CharField(
        label=_("Legal basis"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={**TEXT, "rows": 1}),
    )
    handling = forms.ChoiceField(
        label=_("Handling"),
        choices=Problem.Handling.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    rectification_due = forms.DateField(
        label=_("Rectification deadline"), required=False, widget=DATE
    )
    document_number = forms.CharField(
        label=_("Document number"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs=TEXT),
    )
    document_date = forms.DateField(label=_("Document date"), required=False, widget=DATE)
    receiving_body = forms.CharField(
        label=_("Receiving body"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs=TEXT),
    )
    minor_list_entry = forms.CharField(
        label=_("Minor-violation list entry"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs=TEXT),
    )

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["check_item"].choices = [("", "—"), *((i.pk, i.name) for i in items)]
        self.item_ids = {i.pk for i in items}

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        item = data.pop("check_item")
        data["check_item_id"] = item if item in self.item_ids else None
        return {k: v for k, v in data.items() if v not in (None, "") or k in ("description",)}


class VerifyForm(ServiceErrorForm):
    evidence = forms.CharField(
        label=_("Evidence of the rectification"),
        max_length=2000,
        widget=forms.Textarea(attrs={**TEXT, "rows": 2}),
        help_text=_("What shows it was put right; attach photos or documents below."),
    )
    verification = forms.CharField(
        label=_("Verification"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={**TEXT, "rows": 2}),
    )


class EvidenceForm(ServiceErrorForm):
    file = forms.FileField(
        label=_("Photo or PDF"),
        widget=forms.ClearableFileInput(
            attrs={
                "class": "form-control",
                "accept": "image/jpeg,image/png,image/webp,application/pdf",
            }
        ),
    )
    description = forms.CharField(
        label=_("Description"), required=False, max_length=200, widget=forms.TextInput(attrs=TEXT)
    )
    problem = forms.TypedChoiceField(
        label=_("For problem"),
        coerce=int,
        required=False,
        empty_value=None,
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, *args, problems=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["problem"].choices = [
            ("", _("The check itself")),
            *((p.pk, p.description[:40]) for p in problems),
        ]


class TargetedForm(ServiceErrorForm):
    source_code = forms.CharField(
        label=_("Source code"), max_length=40, widget=forms.TextInput(attrs=TEXT)
    )
    trigger = forms.ChoiceField(
        label=_("Trigger"),
        choices=Trigger.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    detail = forms.CharField(
        label=_("Details of the trigger"),
        max_length=2000,
        widget=forms.Textarea(attrs={**TEXT, "rows": 2}),
    )
    period_start = forms.DateField(label=_("Inspection from"), widget=DATE)
    period_end = forms.DateField(label=_("Inspection until"), widget=DATE)


class FollowOnForm(ServiceErrorForm):
    detail = forms.CharField(
        label=_("The clue found off-site"),
        max_length=2000,
        widget=forms.Textarea(attrs={**TEXT, "rows": 2}),
    )
    period_start = forms.DateField(label=_("Inspection from"), widget=DATE)
    period_end = forms.DateField(label=_("Inspection until"), widget=DATE)


class JointForm(ServiceErrorForm):
    joint = forms.BooleanField(
        label=_("Joint inspection"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    joint_sections = forms.CharField(
        label=_("Sections taking part"),
        required=False,
        max_length=1000,
        widget=forms.TextInput(attrs=TEXT),
    )
    joint_authorities = forms.CharField(
        label=_("Other authorities taking part"),
        required=False,
        max_length=1000,
        widget=forms.TextInput(attrs=TEXT),
    )


class BoardFilterForm(forms.Form):
    """The task board's query string; nonsense is ignored, never a 500."""

    state = forms.ChoiceField(
        choices=[("", _("All states")), *InspectionTask.State.choices], required=False
    )
    kind = forms.ChoiceField(
        choices=[("", _("Random and targeted")), *InspectionTask.Kind.choices], required=False
    )
    draw = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    late = forms.BooleanField(required=False)
    q = forms.CharField(required=False, max_length=100)
    page = forms.IntegerField(required=False, min_value=1, max_value=100000)
