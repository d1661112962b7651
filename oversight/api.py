"""The oversight API: the dashboard's figures, scoped like the page (a county leader its own
bureau, the city team its counties, the province all; 403 for other roles), and the finished
reports with their files, scoped like the reports page (``selectors.reports_for_user``)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.reverse import reverse

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


class ReportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_display = serializers.CharField(source="get_kind_display")
    organisation = OrganisationBriefSerializer()
    year = serializers.IntegerField()
    quarter = serializers.IntegerField(help_text="0: the year")
    version = serializers.IntegerField()
    finished_at = serializers.DateTimeField()
    data_sha256 = serializers.CharField(help_text="SHA-256 of the figures behind the report")
    figures = serializers.JSONField(source="data", help_text="the figures behind the report")
    pdf = serializers.SerializerMethodField()
    xlsx = serializers.SerializerMethodField()

    def _file(self, report, what: str) -> str | None:
        if not getattr(report, what).name:
            return None
        return reverse(
            "oversight-report-download",
            kwargs={"pk": report.pk, "what": what},
            request=self.context.get("request"),
        )

    def get_pdf(self, report) -> str | None:
        return self._file(report, "pdf")

    def get_xlsx(self, report) -> str | None:
        return self._file(report, "xlsx")


class ReportViewSet(viewsets.ReadOnlyModelViewSet):
    """Finished reports (circulars, quarterly and annual reports, returns, year-end reports,
    self-check sheets) the user may read, newest first; each file's download is audited."""

    serializer_class = ReportSerializer

    def get_queryset(self):
        from oversight.models import Report

        reports = sel.reports_for_user(user=self.request.user).filter(status=Report.Status.DONE)
        params = self.request.query_params
        year, kind = params.get("year", ""), params.get("kind", "")
        if year:
            if not (
                len(year) == 4 and year.isascii() and year.isdigit() and 2000 <= int(year) <= 2100
            ):
                raise serializers.ValidationError({"year": _("Give a year from 2000 to 2100.")})
            reports = reports.filter(year=int(year))
        if kind:
            if kind not in Report.Kind.values:
                raise serializers.ValidationError({"kind": _("There is no such report.")})
            reports = reports.filter(kind=kind)
        return reports.order_by("-finished_at", "-pk")

    @extend_schema(
        parameters=[
            OpenApiParameter("year", OpenApiTypes.INT, description="2000–2100"),
            OpenApiParameter("kind", OpenApiTypes.STR, description="a report kind"),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], url_path=r"download/(?P<what>pdf|xlsx)")
    def download(self, request, pk=None, what: str = "pdf", format=None):  # the .json suffix
        from oversight.views import report_file_response

        return report_file_response(user=request.user, report=self.get_object(), what=what)


def register(router) -> None:
    router.register("oversight", OversightViewSet, basename="oversight")
    router.register("oversight-reports", ReportViewSet, basename="oversight-report")
