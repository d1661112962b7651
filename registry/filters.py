"""The list filters, shared by the pages, the Excel export and the API (django-filter).

The FilterSets only parse the query string; the filtering itself is done by the selectors
(``source_apply_filters`` / ``checkitem_apply_filters``), so every way in filters alike.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from core.models import Organisation
from core.selectors import organisations_visible_to
from core.vocab import CheckMethod, SupervisionClass
from registry.models import (
    CheckItem,
    CreditRating,
    ManagedBy,
    PermitCategory,
    PollutionSource,
    PollutionType,
    SourceStatus,
)
from registry.selectors import (
    CHECKITEM_FILTERS,
    SOURCE_FILTERS,
    checkitem_apply_filters,
    source_apply_filters,
)


def _registry_organisations(request):
    """The bureaus and city teams the user may see (those are the ones keeping records)."""
    user = getattr(request, "user", None)
    return organisations_visible_to(user).filter(
        kind__in=[Organisation.Kind.COUNTY_BUREAU, Organisation.Kind.CITY_TEAM]
    )


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        css = (
            "form-select form-select-sm"
            if isinstance(field.widget, forms.Select)
            else "form-control form-control-sm"
        )
        field.widget.attrs.setdefault("class", css)


@extend_schema_field(OpenApiTypes.BOOL)
class YesNoFilter(django_filters.TypedChoiceFilter):
    """``true`` / ``false`` / empty (any), shown as 是/否 in the page's select."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", [("", _("All")), ("true", _("Yes")), ("false", _("No"))])
        kwargs.setdefault("coerce", lambda value: {"true": True, "false": False}.get(value))
        kwargs.setdefault("method", "_noop")
        super().__init__(*args, **kwargs)


class _SelectorFilterSet(django_filters.FilterSet):
    """Parse with django-filter, filter with the app's selector function."""

    filter_names: tuple[str, ...] = ()

    def filters_dict(self) -> dict:
        """The valid filters as the selector expects them; an invalid value is just ignored."""
        if not self.is_bound:
            return {}
        self.form.is_valid()
        data = getattr(self.form, "cleaned_data", {})
        return {name: data.get(name) for name in self.filter_names if name in data}

    def filter_queryset(self, queryset):
        return self.apply(queryset, self.filters_dict())

    @staticmethod
    def apply(queryset, filters):  # pragma: no cover - overridden
        raise NotImplementedError

    def _noop(self, queryset, name, value):
        return queryset  # every filter is applied at once by ``filter_queryset``

    @property
    def form(self):
        form = super().form
        if not getattr(form, "_styled", False):
            _style(form)
            form._styled = True
        return form


class SourceFilterSet(_SelectorFilterSet):
    filter_names = SOURCE_FILTERS

    class Meta:
        model = PollutionSource
        fields: list[str] = []

    q = django_filters.CharFilter(
        label=_("Search"),
        method="_noop",
        help_text=_("Name, company, credit code or source code."),
    )
    organisation = django_filters.ModelChoiceFilter(
        label=_("Organisation"),
        queryset=_registry_organisations,
        method="_noop",
        empty_label=_("All"),
    )
    supervision_class = django_filters.ChoiceFilter(
        label=_("Supervision class"),
        choices=SupervisionClass.choices,
        method="_noop",
        empty_label=_("All"),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=SourceStatus.choices, method="_noop", empty_label=_("All")
    )
    positive_list = YesNoFilter(label=_("Positive list"))
    credit_rating = django_filters.ChoiceFilter(
        label=_("Credit rating"), choices=CreditRating.choices, method="_noop", empty_label=_("All")
    )
    permit_category = django_filters.ChoiceFilter(
        label=_("Permit category"),
        choices=PermitCategory.choices,
        method="_noop",
        empty_label=_("All"),
    )
    pollution_type = django_filters.ChoiceFilter(
        label=_("Pollution type"),
        choices=PollutionType.choices,
        method="_noop",
        empty_label=_("All"),
    )
    managed_by = django_filters.ChoiceFilter(
        label=_("Managed by"), choices=ManagedBy.choices, method="_noop", empty_label=_("All")
    )
    tag = django_filters.CharFilter(label=_("Tag"), method="_noop")

    @staticmethod
    def apply(queryset, filters):
        return source_apply_filters(queryset, filters)

    def filters_dict(self) -> dict:
        filters = super().filters_dict()
        if filters.get("positive_list") == "":
            filters["positive_list"] = None
        return filters


class CheckItemFilterSet(_SelectorFilterSet):
    filter_names = CHECKITEM_FILTERS

    class Meta:
        model = CheckItem
        fields: list[str] = []

    q = django_filters.CharFilter(
        label=_("Search"), method="_noop", help_text=_("Item name, code or legal basis.")
    )
    organisation = django_filters.ModelChoiceFilter(
        label=_("Organisation"),
        queryset=_registry_organisations,
        method="_noop",
        empty_label=_("All"),
    )
    year = django_filters.NumberFilter(label=_("Year"), method="_noop")
    published = YesNoFilter(label=_("Published"))
    is_key_item = YesNoFilter(label=_("Key item"))
    method = django_filters.ChoiceFilter(
        label=_("Check method"), choices=CheckMethod.choices, method="_noop", empty_label=_("All")
    )

    @staticmethod
    def apply(queryset, filters):
        return checkitem_apply_filters(queryset, filters)

    def filters_dict(self) -> dict:
        filters = super().filters_dict()
        for name in ("published", "is_key_item"):
            if filters.get(name) == "":
                filters[name] = None
        return filters
