"""Read-only API of plans and draws, scoped like the pages.

A draw's drawn list, its witness values and its seed are confidential until disclosure: they
are in the response only when ``lottery.selectors.can_see_full_result`` allows it, and each
response that contains them is audited (``draw.view_result``), like the pages. The record
also holds the manifest, which embeds earlier draws' results: it is served only when
``lottery.selectors.can_see_manifest`` allows it too.
"""

from __future__ import annotations

from django.core.paginator import InvalidPage
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from core.roles import Cap, user_can
from lottery import readers
from lottery.display import RESULT_PAGE_SIZE, describe_rule, drawn_counts
from lottery.models import Draw, Plan
from lottery.selectors import (
    can_see_full_result,
    draw_list_for_user,
    plan_list_for_user,
)


class RuleSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="Rule kind, see lottery.rules.")
    text = serializers.CharField(help_text="The rule in words (in the request's language).")
    rule = serializers.DictField(help_text="The rule as configured.")


class PlanSerializer(serializers.ModelSerializer):
    rules_explained = serializers.SerializerMethodField()
    period = serializers.CharField(source="period_label", read_only=True)

    class Meta:
        model = Plan
        fields = [
            "id",
            "organisation",
            "kind",
            "year",
            "quarter",
            "period",
            "title",
            "status",
            "classes",
            "ruleset_code",
            "rules",
            "rules_explained",
            "check_items",
            "team_size",
            "planned_start",
            "planned_end",
            "created_at",
            "approved_at",
            "published_at",
        ]
        read_only_fields = fields

    @extend_schema_field(RuleSerializer(many=True))
    def get_rules_explained(self, plan: Plan) -> list[dict]:
        return [
            {"kind": rule.get("kind", ""), "text": describe_rule(rule), "rule": rule}
            for rule in plan.rules
        ]


class _ClassFieldMixin:
    """``class`` is the natural name of the field but a Python keyword: declare ``klass``."""

    def get_fields(self):
        fields = super().get_fields()
        fields["class"] = fields.pop("klass")
        return fields


class QuotaSerializer(_ClassFieldMixin, serializers.Serializer):
    klass = serializers.CharField(help_text="key / general / special")  # bound as "class"
    pool = serializers.IntegerField(help_text="Eligible sources after exclusions.")
    # A declared field named like a Field attribute: DRF's metaclass takes it out of the
    # class, so it shadows nothing; the stubs cannot tell.
    required = serializers.IntegerField(help_text="What the draw takes.")  # type: ignore[assignment]
    drawn_this_year = serializers.IntegerField()
    uncovered = serializers.IntegerField(help_text="Not yet covered in the coverage cycle.")
    joint = serializers.IntegerField(help_text="Marked for internal joint inspection.")
    lines = serializers.ListField(child=serializers.CharField(), help_text="The arithmetic.")


class DrawSerializer(serializers.ModelSerializer):
    """The commitment and the status: what everyone in scope may see."""

    quotas = QuotaSerializer(many=True, read_only=True)
    result_visible = serializers.SerializerMethodField(
        help_text="Whether you may see the drawn list (before disclosure: the bureau's "
        "operators and leaders only)."
    )

    class Meta:
        model = Draw
        fields = [
            "id",
            "number",
            "plan",
            "organisation",
            "status",
            "manifest_hash",
            "quotas",
            "witnesses_required",
            "public_value_spec",
            "prepared_at",
            "committed_at",
            "executed_at",
            "disclosed_at",
            "result_visible",
        ]
        read_only_fields = fields

    def get_result_visible(self, draw: Draw) -> bool:
        # The answer depends only on these three, so a page of draws asks once per bureau
        # rather than once per draw.
        cache = self.context.setdefault("result_visible", {})  # type: ignore[attr-defined]  # DRF's context is a dict
        key = (draw.organisation_id, draw.status, draw.disclosed_at is not None)
        if key not in cache:
            cache[key] = can_see_full_result(self.context["request"].user, draw)
        return cache[key]


class MemberSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=["leader", "member", "expert"])
    inspector_id = serializers.IntegerField()
    name = serializers.CharField()
    certificate_number = serializers.CharField(allow_blank=True)


class DrawnSourceSerializer(serializers.Serializer):
    position = serializers.IntegerField(
        source="selection.position", help_text="Position in the verifiable order."
    )
    source_id = serializers.IntegerField(source="selection.source_id")
    source_code = serializers.CharField(source="selection.source.source_code")
    source_name = serializers.CharField(source="selection.source.name")
    mode = serializers.CharField(source="selection.mode", help_text="on_site / off_site")
    joint = serializers.BooleanField(source="selection.joint")
    current = serializers.BooleanField(
        source="effective", help_text="False when replaced by an approved substitution."
    )
    replaces_by_substitution = serializers.IntegerField(
        source="replacement_for.pk", allow_null=True, default=None
    )
    team = MemberSerializer(many=True)


class SelectionSerializer(_ClassFieldMixin, DrawnSourceSerializer):
    klass = serializers.CharField(source="selection.stratum", help_text="key / general / special")


class SelectionPageSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Drawn sources matching the filter.")
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = SelectionSerializer(many=True)


class DrawnCountSerializer(_ClassFieldMixin, serializers.Serializer):
    klass = serializers.CharField(help_text="key / general / special")
    count = serializers.IntegerField(help_text="Drawn sources in force in the class.")


class EntropySerializer(serializers.Serializer):
    position = serializers.IntegerField()
    witness_name = serializers.CharField()
    witness_role = serializers.CharField()
    value = serializers.CharField()
    entered_at = serializers.DateTimeField()


class DrawDetailSerializer(DrawSerializer):
    """One draw; the drawn list, witness values and seed only when you may see them."""

    entropy = serializers.SerializerMethodField()
    seed = serializers.SerializerMethodField()
    drawn = serializers.SerializerMethodField(
        help_text="Per class, how many drawn sources are in force; the list itself is "
        "`selections/`, a page at a time."
    )

    class Meta(DrawSerializer.Meta):
        fields = [*DrawSerializer.Meta.fields, "entropy", "seed", "drawn"]
        read_only_fields = fields

    def _visible(self, draw: Draw) -> bool:
        # Decided (and the read recorded) by lottery.readers in the view; never here alone.
        return bool(self.context.get("secrets_visible"))

    @extend_schema_field(EntropySerializer(many=True, allow_null=True))
    def get_entropy(self, draw: Draw):
        if not self._visible(draw):
            return None
        return EntropySerializer(draw.entropy.all(), many=True).data

    @extend_schema_field(OpenApiTypes.STR)
    def get_seed(self, draw: Draw) -> str | None:
        return draw.seed if self._visible(draw) else None

    @extend_schema_field(DrawnCountSerializer(many=True, allow_null=True))
    def get_drawn(self, draw: Draw):
        if not self._visible(draw):
            return None
        counts = drawn_counts([draw.pk]).get(draw.pk, {})
        order = [q["class"] for q in draw.quotas] or list(counts)
        return [{"class": name, "count": counts.get(name, 0)} for name in order]


def _require(user, *capabilities: str) -> None:
    if not any(user_can(user, c) for c in capabilities):
        raise PermissionDenied


@extend_schema_view(
    list=extend_schema(summary="Plans you may see (抽查计划)"),
    retrieve=extend_schema(summary="One plan (404 outside your scope)"),
)
class PlanViewSet(viewsets.ReadOnlyModelViewSet):
    """Annual and quarterly spot-check plans with their ratio rules, read-only."""

    serializer_class = PlanSerializer
    filterset_fields = ["organisation", "kind", "year", "quarter", "status"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Plan.objects.none()
        _require(self.request.user, Cap.VIEW_PLANS)
        return plan_list_for_user(user=self.request.user).order_by("-year", "-quarter", "pk")


@extend_schema_view(
    list=extend_schema(summary="Draws you may see (摇号): commitment and status"),
    retrieve=extend_schema(
        summary="One draw; what was drawn only when you may see it (audited)",
        description="Before disclosure only the bureau's draw operators and leaders see "
        "`drawn`, `entropy` and `seed`; for everyone else they are null.",
    ),
)
class DrawViewSet(viewsets.ReadOnlyModelViewSet):
    """Witnessed draws: commitment, status and, for those who may see it, the result."""

    filterset_fields = ["organisation", "plan", "status"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Draw.objects.none()
        _require(self.request.user, Cap.VIEW_DRAWS, Cap.VIEW_PLANS)
        return draw_list_for_user(user=self.request.user).order_by("-prepared_at", "pk")

    def get_serializer_class(self):
        return DrawDetailSerializer if self.action == "retrieve" else DrawSerializer

    def retrieve(self, request, *args, **kwargs):
        draw = self.get_object()
        # The serializer shows the seed and values only when this reader allowed (and logged) it.
        visible = readers.draw_secrets_for_user(user=request.user, draw=draw, via="api")
        context = {**self.get_serializer_context(), "secrets_visible": visible}
        return Response(self.get_serializer_class()(draw, context=context).data)

    @extend_schema(
        summary="The drawn list, a page at a time, in the verifiable order (audited)",
        description=f"{RESULT_PAGE_SIZE} drawn sources a page, class by class in the order "
        "of the quotas, each with its current team; a replaced source stays in the list "
        "with `current` false and its replacement follows it. Filter by `class` and by "
        "`q` (part of the source code, name or company). 403 for whoever may not see the "
        "drawn list yet.",
        parameters=[
            OpenApiParameter("class", str, description="key / general / special"),
            OpenApiParameter("q", str, description="Part of the source code, name or company."),
            OpenApiParameter("page", int, description="Page number, from 1."),
        ],
        responses={200: SelectionPageSerializer},
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def selections(self, request, pk=None, format=None):  # format: the router's .json suffix
        draw = self.get_object()
        if not can_see_full_result(request.user, draw):
            raise PermissionDenied
        raw = request.query_params.get("page", "1")
        if not raw.isdigit() or int(raw) < 1:
            raise NotFound(_("Invalid page."))
        number = int(raw)
        stratum = request.query_params.get("class", "")
        query = request.query_params.get("q", "")
        try:
            result = readers.draw_result_for_user(
                user=request.user,
                draw=draw,
                via="api",
                page=number,
                stratum=stratum,
                query=query,
                detail={"page": number, "class": stratum, "q": query},
                exact_page=True,
            )
        except InvalidPage:
            raise NotFound(_("Invalid page.")) from None
        paged = result.page

        def link(n: int | None) -> str | None:
            if n is None:
                return None
            params = request.query_params.copy()
            params["page"] = n
            return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")

        rows = [row for stratum in result.strata for row in stratum.rows]
        return Response(
            {
                "count": paged.paginator.count,
                "page": paged.number,
                "pages": paged.paginator.num_pages,
                "next": link(paged.next_page_number() if paged.has_next() else None),
                "previous": link(paged.previous_page_number() if paged.has_previous() else None),
                "results": SelectionSerializer(rows, many=True).data,
            }
        )

    @extend_schema(
        summary="The publishable record (what verify_draw.py checks)",
        description="403 until you may see the drawn list and the manifest: the manifest "
        "embeds earlier draws' results (coverage tiers, previous inspectors), so it waits "
        "until those are disclosed, except for the bureau's draw operators and leaders.",
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["get"])
    def record(self, request, pk=None, format=None):  # format: the router's .json suffix
        record = readers.draw_record_for_user(user=request.user, draw=self.get_object(), via="api")
        if record is None:
            raise PermissionDenied
        return Response(record)


def register(router) -> None:
    router.register("plans", PlanViewSet, basename="plan")
    router.register("draws", DrawViewSet, basename="draw")
