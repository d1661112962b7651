"""Read-only admin of rule sets, plans and draws.

Every change to a plan or a draw is a service call with its checks and its audit entry (and a
draw's result is append-only in the database), so the admin shows but never edits. It never
shows a draw's drawn list, witness values or seed: those are confidential until disclosure
and every view of them is audited, which the admin's pages are not.
"""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin
from core.errors import ServiceError
from lottery.models import Draw, DrawExclusion, Plan, RuleSet
from lottery.rules import validate_rules
from lottery.selectors import EARLIER_RESULT_REASONS
from lottery.services import ruleset_save


class RuleSetForm(forms.ModelForm):
    """Bureau rule sets are configuration: JSON rules, checked by ``validate_rules``."""

    class Meta:
        model = RuleSet
        fields = ["organisation", "code", "name", "source", "rules"]

    def clean(self):
        data = super().clean()
        if not data.get("organisation"):
            raise forms.ValidationError(
                _("The presets cannot be changed; save a copy for a bureau.")
            )
        try:
            validate_rules(data.get("rules"))
        except ServiceError as exc:
            raise forms.ValidationError(exc.messages) from None
        return data


@admin.register(RuleSet)
class RuleSetAdmin(admin.ModelAdmin):
    """Presets are read-only; a bureau's own rule sets are edited here, through the service."""

    form = RuleSetForm
    list_display = ["name", "code", "organisation", "source", "created_at"]
    list_filter = ["organisation"]
    search_fields = ["name", "code"]

    def has_change_permission(self, request, obj=None):
        return obj is None or obj.organisation_id is not None

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        saved = ruleset_save(
            actor=request.user,
            organisation=obj.organisation,
            code=obj.code,
            name=obj.name,
            rules=obj.rules,
            source=obj.source,
        )
        obj.pk = saved.pk


@admin.register(Plan)
class PlanAdmin(ReadOnlyAdmin):
    list_display = ["title", "organisation", "kind", "year", "quarter", "status", "approved_at"]
    list_filter = ["kind", "status", "year"]
    search_fields = ["title", "organisation__name"]
    list_select_related = ["organisation"]


@admin.register(Draw)
class DrawAdmin(ReadOnlyAdmin):
    list_display = ["number", "organisation", "plan", "status", "committed_at", "executed_at"]
    list_filter = ["status"]
    search_fields = ["number", "manifest_hash", "organisation__name"]
    list_select_related = ["organisation", "plan"]
    fields = [
        "number",
        "plan",
        "organisation",
        "status",
        "manifest_hash",
        "quotas",
        "witnesses_required",
        "public_value_spec",
        "prepared_by",
        "prepared_at",
        "committed_by",
        "committed_at",
        "executed_by",
        "executed_at",
        "disclosed_at",
    ]
    readonly_fields = fields  # type: ignore[assignment]  # names only, no groups


@admin.register(DrawExclusion)
class DrawExclusionAdmin(ReadOnlyAdmin):
    """Exclusions taken from the registry (suspended, cancelled, positive list).

    Frequency-cap exclusions are left out: which sources reached the cap follows from earlier
    draws' results, confidential until disclosure (``lottery.selectors.can_see_manifest``);
    the draw's page shows them to those who may see them.
    """

    list_display = ["draw", "source", "reason", "detail"]
    list_filter = ["reason"]
    list_select_related = ["draw", "source"]

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(reason__in=EARLIER_RESULT_REASONS)
