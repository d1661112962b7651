"""Inspector registry API: scoped like the pages, writes through the services."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import PermissionDenied as DRFPermissionDenied

from core.errors import ServiceError
from core.models import Organisation
from core.roles import Cap, user_can
from core.vocab import Expertise
from inspectors import services
from inspectors.fields import INSPECTOR
from inspectors.forms import InspectorFilterForm
from inspectors.models import CertificateStatus, Conflict, Inspector, Unavailability
from inspectors.selectors import inspector_list_for_user, inspector_with_related_queryset


class UnavailabilitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Unavailability
        fields = ["id", "start", "end", "reason", "note"]
        read_only_fields = fields


class ConflictSerializer(serializers.ModelSerializer):
    source_code = serializers.CharField(source="source.source_code", read_only=True, default=None)
    in_force = serializers.SerializerMethodField(help_text="In force today.")

    class Meta:
        model = Conflict
        fields = [
            "id",
            "source",
            "source_code",
            "company_uscc",
            "reason",
            "valid_from",
            "valid_until",
            "withdrawn_at",
            "withdrawal_reason",
            "in_force",
        ]
        read_only_fields = fields

    def get_in_force(self, obj: Conflict) -> bool:
        return obj.is_in_force(timezone.localdate())


class InspectorSerializer(serializers.ModelSerializer):
    """An inspector with their availability and conflicts (both read-only here)."""

    expertise = serializers.ListField(
        child=serializers.ChoiceField(choices=Expertise.choices), required=False
    )
    gender = serializers.ChoiceField(
        choices=[("", ""), *Inspector.Gender.choices], required=False, allow_blank=True
    )
    certificate_status = serializers.ChoiceField(choices=CertificateStatus.choices, read_only=True)
    unavailabilities = UnavailabilitySerializer(many=True, read_only=True)
    conflicts = ConflictSerializer(many=True, read_only=True)

    class Meta:
        model = Inspector
        # Every declared field (``inspectors.fields``); those the API may not write are
        # read-only.
        fields = [
            "id",
            *INSPECTOR.names(),
            "certificate_status",
            "unavailabilities",
            "conflicts",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [*INSPECTOR.names(api=False), "created_at", "updated_at"]
        # The services enforce the record's rules (certificate required and unique, etc.).
        validators: list = []
        extra_kwargs: dict[str, dict[str, Any]] = {"certificate_number": {"validators": []}}

    def _call(self, fn, **kwargs):
        try:
            return fn(**kwargs)
        except ServiceError as exc:
            if hasattr(exc, "error_dict"):
                detail = {
                    ("non_field_errors" if k == "__all__" else k): v
                    for k, v in exc.message_dict.items()
                }
                raise serializers.ValidationError(detail) from exc
            raise serializers.ValidationError(exc.messages) from exc

    def create(self, validated_data):
        user = self.context["request"].user
        organisation: Organisation | None = user.organisation
        return self._call(
            services.inspector_create, actor=user, organisation=organisation, data=validated_data
        )

    def update(self, instance, validated_data):
        user = self.context["request"].user
        return self._call(
            services.inspector_update, actor=user, inspector=instance, data=validated_data
        )


FILTER_PARAMETERS = [
    OpenApiParameter("q", OpenApiTypes.STR, description="Name or certificate number (partial)."),
    OpenApiParameter("organisation", OpenApiTypes.INT, description="Organisation id."),
    OpenApiParameter("kind", OpenApiTypes.STR, enum=Inspector.Kind.values),
    OpenApiParameter("on_staff", OpenApiTypes.STR, enum=["yes", "no"]),
    OpenApiParameter("expertise", OpenApiTypes.STR, enum=Expertise.values),
    OpenApiParameter(
        "certificate_status",
        OpenApiTypes.STR,
        enum=["valid", "expiring", "expired", "unknown"],
        description="valid includes expiring (within 60 days).",
    ),
    OpenApiParameter(
        "available_on", OpenApiTypes.DATE, description="No leave/training/secondment that day."
    ),
    OpenApiParameter(
        "status",
        OpenApiTypes.STR,
        enum=["active", "inactive", "all"],
        description="Default: active.",
    ),
]


@extend_schema_view(
    list=extend_schema(
        summary="Inspectors you may see (执法检查人员名录库)", parameters=FILTER_PARAMETERS
    ),
    retrieve=extend_schema(summary="One inspector (404 outside your scope)"),
    create=extend_schema(summary="Add an inspector to your own organisation"),
    update=extend_schema(summary="Change an inspector of your own organisation"),
    partial_update=extend_schema(summary="Change some fields of an inspector"),
)
class InspectorViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The inspector registry. Reads are scoped to your organisations; only registry
    editors of the inspector's own organisation may write; deactivation is on the pages."""

    serializer_class = InspectorSerializer
    filter_backends: list = []  # filtering is the selector's, shared with the pages

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Inspector.objects.none()
        user = self.request.user
        if not user_can(user, Cap.VIEW_REGISTRY):
            raise DRFPermissionDenied
        filters = None
        if self.action == "list":
            form = InspectorFilterForm(
                self.request.query_params or None,
                organisations=Organisation.objects.all(),
            )
            if self.request.query_params and not form.is_valid():
                raise serializers.ValidationError(form.errors)
            filters = form.filters()
        qs = inspector_list_for_user(user=user, filters=filters)
        return inspector_with_related_queryset(qs)


def register(router) -> None:
    router.register("inspectors", InspectorViewSet, basename="inspector")
