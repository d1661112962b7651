"""The oversight API: the dashboard's figures, scoped like the page (a county leader its own
bureau, the city team its counties, the province all; 403 for other roles)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from oversight import selectors as sel


class OrganisationBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    short_name = serializers.CharField()
    kind = serializers.CharField()
    division_code = serializers.CharField()


class ClassFiguresSerializer(serializers.Serializer):
    klass = serializers.CharField(source="class")
    pool = serializers.IntegerField()
    # Declared fields named like Field attributes ("required", "label"): DRF's metaclass takes
    # them out of the class, so they shadow nothing; the stubs cannot tell.
    required = serializers.IntegerField(allow_null=True)  # type: ignore[assignment]
    drawn = serializers.IntegerField(allow_null=True)
    inspected = serializers.IntegerField()
    entered_on_time = serializers.IntegerField()
    published_on_time = serializers.IntegerField()
    open = serializers.IntegerField()


class FigureSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    text = serializers.CharField()
    tone = serializers.ChoiceField(choices=["green", "amber", "red", "neutral"])
    rule = serializers.CharField()
    value = serializers.FloatField(allow_null=True)


class CountsSerializer(serializers.Serializer):
    tasks = serializers.IntegerField()
    random = serializers.IntegerField()
    targeted = serializers.IntegerField()
    inspected = serializers.IntegerField()
    open = serializers.IntegerField()
    entered_on_time = serializers.IntegerField()
    entered_late = serializers.IntegerField()
    entry_overdue = serializers.IntegerField()
    published_on_time = serializers.IntegerField()
    published_late = serializers.IntegerField()
    publication_overdue = serializers.IntegerField()
    disclosed = serializers.IntegerField()
    disclosure_due = serializers.IntegerField()
    off_site = serializers.IntegerField()
    joint = serializers.IntegerField()


class BureauRowSerializer(serializers.Serializer):
    organisation = OrganisationBriefSerializer()
    regime = serializers.CharField(source="regime.code")
    plan = serializers.IntegerField(source="plan.pk", allow_null=True, default=None)
    draw = serializers.CharField(source="draw.number", allow_null=True, default=None)
    draw_late = serializers.BooleanField(source="deadline.late")
    tone = serializers.CharField()
    key_minimum = serializers.IntegerField()
    classes = ClassFiguresSerializer(many=True)
    counts = CountsSerializer()
    figures = FigureSerializer(many=True)


class DashboardSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    quarter = serializers.IntegerField()
    message = serializers.CharField()
    rows = BureauRowSerializer(many=True)


class OversightViewSet(viewsets.ViewSet):
    """The dashboard of a quarter: one row per county bureau and city team in scope."""

    @extend_schema(
        parameters=[
            OpenApiParameter("year", OpenApiTypes.INT, description="2000–2100"),
            OpenApiParameter("quarter", OpenApiTypes.INT, description="1–4"),
            OpenApiParameter("city", OpenApiTypes.STR, description="four-digit city code"),
        ],
        responses=DashboardSerializer,
    )
    def list(self, request, *args, **kwargs):
        if not sel.can_oversee(request.user):
            raise PermissionDenied
        period, message = sel.parse_period(request.query_params, timezone.localdate())
        city = request.query_params.get("city", "")
        if city and not (len(city) == 4 and city.isdigit()):
            raise Http404
        units = sel.units_for_user(user=request.user, city=city)
        rows = sel.bureau_rows(units=units, period=period)
        data = {"year": period.year, "quarter": period.quarter, "message": message, "rows": rows}
        return Response(DashboardSerializer(data).data)


def register(router) -> None:
    router.register("oversight", OversightViewSet, basename="oversight")
