"""Object registry and check-item API: scoped like the pages, writes through the services.

Reads go through the selectors (404 outside your scope), filters through the same
FilterSets as the pages, and every write through ``registry.services`` so the API refuses
exactly what the pages and the importer refuse.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import PermissionDenied as DRFPermissionDenied
from rest_framework.pagination import CursorPagination

from core.errors import ServiceError
from core.models import Organisation
from core.roles import Cap, user_can
from core.vocab import Expertise, SupervisionClass
from registry import services
from registry.fields import CHECKITEM, SOURCE
from registry.filters import CheckItemFilterSet, SourceFilterSet
from registry.models import CheckItem, PollutionSource, PollutionType
from registry.selectors import (
    checkitem_list_for_user,
    source_list_for_user,
    user_may_edit_registry_of,
)


def _service_call(fn, **kwargs):
    """Run a service; its refusal becomes a 400 with the same (translated) messages."""
    try:
        return fn(**kwargs)
    except ServiceError as exc:
        if hasattr(exc, "error_dict"):
            raise serializers.ValidationError(
                {
                    ("non_field_errors" if field == "__all__" else field): messages
                    for field, messages in exc.message_dict.items()
                }
            ) from exc
        raise serializers.ValidationError(exc.messages) from exc


def _own_registry_organisation(user) -> Organisation:
    org = user.organisation
    if (
        org is None
        or org.kind not in (Organisation.Kind.COUNTY_BUREAU, Organisation.Kind.CITY_TEAM)
        or not user_may_edit_registry_of(user, org.pk)
    ):
        raise DRFPermissionDenied
    return org


class SourceSerializer(serializers.ModelSerializer):
    """A pollution source (one site). ``organisation`` is the writer's own; ``managed_by``
    follows it; ``source_code`` cannot change once registered."""

    organisation_name = serializers.CharField(source="organisation.name", read_only=True)
    uscc = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=30,
        help_text="统一社会信用代码; normalised to upper case. A wrong check digit is refused "
        "unless accept_bad_checksum is true (then stored with uscc_checksum_ok=false).",
    )
    pollution_types = serializers.ListField(
        child=serializers.ChoiceField(choices=PollutionType.choices), required=False
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=20), required=False, max_length=20
    )
    accept_bad_checksum = serializers.BooleanField(write_only=True, required=False, default=False)

    class Meta:
        model = PollutionSource
        # Every declared field (``registry.fields``); those the API may not write are read-only.
        fields = [
            "id",
            "organisation_name",
            *SOURCE.names(),
            "accept_bad_checksum",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [*SOURCE.names(api=False), "created_at", "updated_at"]
        validators: list = []  # the service checks uniqueness and every rule
        extra_kwargs: dict[str, dict[str, Any]] = {"source_code": {"validators": []}}

    def _split(self, validated_data: dict) -> tuple[dict, bool]:
        accept = validated_data.pop("accept_bad_checksum", False)
        return validated_data, accept

    def create(self, validated_data):
        user = self.context["request"].user
        data, accept = self._split(validated_data)
        return _service_call(
            services.source_create,
            actor=user,
            organisation=_own_registry_organisation(user),
            data=data,
            accept_bad_checksum=accept,
        )

    def update(self, instance, validated_data):
        data, accept = self._split(validated_data)
        if data.get("source_code") == instance.source_code:
            data.pop("source_code")
        source = _service_call(
            services.source_update,
            actor=self.context["request"].user,
            source=instance,
            data=data,
            accept_bad_checksum=accept,
        )
        source.refresh_from_db()
        return source


class SourcePagination(CursorPagination):
    """Cursor pages by source code: constant cost however deep, no COUNT over the registry."""

    ordering = ("source_code", "id")  # a code is unique per organisation only
    page_size = 50
    max_page_size = 500
    page_size_query_param = "page_size"


class _ScopedWriteMixin:
    def _require_view(self):
        if not user_can(self.request.user, Cap.VIEW_REGISTRY):
            raise DRFPermissionDenied

    def perform_update(self, serializer):
        if not user_may_edit_registry_of(self.request.user, serializer.instance.organisation_id):
            raise DRFPermissionDenied
        serializer.save()


@extend_schema_view(
    list=extend_schema(summary="Pollution sources you may see (检查对象名录库)"),
    retrieve=extend_schema(summary="One pollution source (404 outside your scope)"),
    create=extend_schema(summary="Register a source for your own organisation"),
    update=extend_schema(summary="Change a source of your own organisation"),
    partial_update=extend_schema(summary="Change some fields of a source"),
)
class SourceViewSet(
    _ScopedWriteMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The object registry. Reads are scoped to your organisations; only registry editors of
    a source's own organisation may write. Sources are never deleted (status ``cancelled``)."""

    serializer_class = SourceSerializer
    filterset_class = SourceFilterSet
    pagination_class = SourcePagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return PollutionSource.objects.none()
        self._require_view()
        return source_list_for_user(user=self.request.user)


class CheckItemSerializer(serializers.ModelSerializer):
    organisation_name = serializers.CharField(source="organisation.name", read_only=True)
    target_classes = serializers.ListField(
        child=serializers.ChoiceField(choices=SupervisionClass.choices), required=False
    )
    required_expertise = serializers.ListField(
        child=serializers.ChoiceField(choices=Expertise.choices), required=False
    )

    class Meta:
        model = CheckItem
        fields = ["id", "organisation_name", *CHECKITEM.names(), "created_at", "updated_at"]
        read_only_fields = [*CHECKITEM.names(api=False), "created_at", "updated_at"]
        validators: list = []

    def create(self, validated_data):
        user = self.context["request"].user
        return _service_call(
            services.checkitem_create,
            actor=user,
            organisation=_own_registry_organisation(user),
            data=validated_data,
        )

    def update(self, instance, validated_data):
        item = _service_call(
            services.checkitem_update,
            actor=self.context["request"].user,
            item=instance,
            data=validated_data,
        )
        item.refresh_from_db()
        return item


@extend_schema_view(
    list=extend_schema(summary="Check items you may see (抽查事项清单), published or not"),
    retrieve=extend_schema(summary="One check item (404 outside your scope)"),
    create=extend_schema(summary="Add an item to your organisation's list"),
    update=extend_schema(summary="Change an unpublished item"),
    partial_update=extend_schema(summary="Change some fields of an unpublished item"),
)
class CheckItemViewSet(
    _ScopedWriteMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The check-item list. Publication is a leader's approval and is done on the pages."""

    serializer_class = CheckItemSerializer
    filterset_class = CheckItemFilterSet

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CheckItem.objects.none()
        self._require_view()
        return checkitem_list_for_user(user=self.request.user)


def register(router) -> None:
    router.register("sources", SourceViewSet, basename="source")
    router.register("checkitems", CheckItemViewSet, basename="checkitem")
