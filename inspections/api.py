"""The inspections API: tasks, their record versions and results, and the follow-up ledger.

Scoped exactly like the pages (``inspections.selectors.task_list_for_user``: an inspector sees
their team's drawn tasks and their bureau's targeted checks, staff their organisations'; 404
for the rest). Reading a drawn task is audited. Every write goes through
``inspections.services`` and a refusal is a 400 with the service's translated message.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from inspections import services
from inspections.models import (
    Finding,
    InspectionRecord,
    InspectionTask,
    NonCooperationGround,
    Problem,
    ResultType,
)
from inspections.selectors import record_current, task_list_for_user, task_team


class SourceBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    source_code = serializers.CharField()
    name = serializers.CharField()
    company_name = serializers.CharField()
    uscc = serializers.CharField()


class TeamMemberSerializer(serializers.Serializer):
    inspector = serializers.IntegerField(source="inspector_id")
    name = serializers.CharField(source="inspector.name")
    certificate_number = serializers.CharField(source="inspector.certificate_number")
    role = serializers.CharField()


class FindingSerializer(serializers.ModelSerializer):
    class Meta:
        model = Finding
        fields = ["check_item", "outcome", "note"]


class RecordSerializer(serializers.ModelSerializer):
    findings = FindingSerializer(many=True, read_only=True)

    class Meta:
        model = InspectionRecord
        fields = [
            "version",
            "checked_at",
            "members",
            "credentials_shown",
            "experts",
            "body_camera_refs",
            "witnesses",
            "representative",
            "off_site_means",
            "covered_from",
            "covered_until",
            "result_type",
            "ground",
            "conclusion",
            "case_filed",
            "summary",
            "reason",
            "approved",
            "created_by",
            "created_at",
            "findings",
        ]
        read_only_fields = fields


class TaskSerializer(serializers.ModelSerializer):
    # A field named "source" shadows Field.source (the stubs' type), as DRF allows.
    source = SourceBriefSerializer(read_only=True)  # type: ignore[assignment]
    draw = serializers.IntegerField(source="selection.draw_id", read_only=True, allow_null=True)
    team = serializers.SerializerMethodField()
    current_record = serializers.SerializerMethodField()

    class Meta:
        model = InspectionTask
        fields = [
            "id",
            "organisation",
            "kind",
            "mode",
            "draw",
            "source",
            "trigger",
            "trigger_detail",
            "opened_from",
            "joint",
            "joint_sections",
            "joint_authorities",
            "check_items",
            "period_start",
            "period_end",
            "state",
            "cancel_reason",
            "return_reason",
            "handling_ended_on",
            "entry_due",
            "approved_at",
            "team",
            "current_record",
        ]
        read_only_fields = fields

    @extend_schema_field(TeamMemberSerializer(many=True))
    def get_team(self, task: InspectionTask) -> list[dict]:
        return TeamMemberSerializer(task_team(task), many=True).data  # type: ignore[return-value]  # many=True: a list

    @extend_schema_field(RecordSerializer(allow_null=True))
    def get_current_record(self, task: InspectionTask) -> dict | None:
        record = record_current(task)
        return RecordSerializer(record).data if record else None


class FindingInSerializer(serializers.Serializer):
    check_item = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=Finding.Outcome.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class RecordInSerializer(serializers.Serializer):
    """A new version of the record. ``expected_version``: the version you started from."""

    expected_version = serializers.IntegerField(min_value=0)
    checked_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    members = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    credentials_shown = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        default=list,
        help_text=_("Members who showed their certificate and stated the purpose."),
    )
    experts = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    body_camera_refs = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, default=""
    )
    representative = serializers.CharField(
        required=False, allow_blank=True, max_length=100, default=""
    )
    result_type = serializers.ChoiceField(
        choices=ResultType.choices, required=False, allow_null=True, default=None
    )
    ground = serializers.ChoiceField(
        choices=NonCooperationGround.choices, required=False, allow_blank=True, default=""
    )
    conclusion = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, default=""
    )
    case_filed = serializers.BooleanField(required=False, default=False)
    summary = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")
    handling_ended_on = serializers.DateField(required=False, allow_null=True, default=None)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")
    findings = FindingInSerializer(many=True, required=False, default=list)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)


class ProblemSerializer(serializers.ModelSerializer):
    class Meta:
        model = Problem
        fields = [
            "id",
            "task",
            "check_item",
            "description",
            "legal_basis",
            "handling",
            "rectification_due",
            "document_number",
            "document_date",
            "receiving_body",
            "minor_list_entry",
            "evidence",
            "verification",
            "state",
            "verified_at",
            "closed_at",
            "created_at",
        ]
        read_only_fields = fields


class VerifySerializer(serializers.Serializer):
    evidence = serializers.CharField(max_length=2000)
    verification = serializers.CharField(required=False, allow_blank=True, max_length=2000)


def _ok(task: InspectionTask) -> Response:
    task.refresh_from_db()
    return Response(TaskSerializer(task).data)


@extend_schema_view(
    list=extend_schema(summary="Inspection tasks you may see"),
    retrieve=extend_schema(summary="One task, with its team and current record (audited)"),
)
class TaskViewSet(viewsets.ReadOnlyModelViewSet):
    """Inspection tasks: drawn (one per drawn source) and targeted."""

    serializer_class = TaskSerializer
    filterset_fields = ["organisation", "kind", "mode", "state", "joint"]

    def get_queryset(self):
        return (
            task_list_for_user(user=self.request.user)
            .select_related("source", "selection")
            .prefetch_related("check_items")
            .order_by("pk")
        )

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        results = response.data.get("results", response.data)
        drawn = [t["id"] for t in results if t.get("draw")]
        if drawn:  # a drawn list, even a page of it, is confidential until disclosure
            services.read_record(actor=request.user, action="inspection.view_tasks", tasks=drawn)
        return response

    def retrieve(self, request, *args, **kwargs):
        task = self.get_object()
        if task.selection_id:
            services.read_record(actor=request.user, action="inspection.view_task", obj=task)
        return Response(self.get_serializer(task).data)

    @extend_schema(request=None, responses=TaskSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None, format=None):  # format: the .json suffix
        task = self.get_object()
        services.task_start(actor=request.user, task=task)
        return _ok(task)

    @extend_schema(request=None, responses=TaskSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None, format=None):  # format: the .json suffix
        task = self.get_object()
        services.task_submit(actor=request.user, task=task)
        return _ok(task)

    @extend_schema(request=None, responses=TaskSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None, format=None):  # format: the .json suffix
        task = self.get_object()
        services.task_approve(actor=request.user, task=task)
        return _ok(task)

    @extend_schema(request=ReasonSerializer, responses=TaskSerializer, operation_id="tasks_return")
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request, pk=None, format=None):  # format: the .json suffix
        task = self.get_object()
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.task_return(actor=request.user, task=task, reason=data.validated_data["reason"])
        return _ok(task)

    @extend_schema(
        methods=["get"], request=None, responses=RecordSerializer(many=True), summary="Versions"
    )
    @extend_schema(
        methods=["post"],
        request=RecordInSerializer,
        responses={201: RecordSerializer},
        summary="Save a new version (refused if someone saved since expected_version)",
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def records(self, request, pk=None, format=None):  # format: the .json suffix
        task = self.get_object()
        if request.method == "GET":
            versions = task.records.order_by("version").prefetch_related("findings")
            return Response(RecordSerializer(versions, many=True).data)
        data = RecordInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        team = {a.inspector_id: a.inspector for a in task_team(task)}
        if task.selection_id is None:
            from inspectors.models import Inspector

            team = {i.pk: i for i in Inspector.objects.filter(organisation_id=task.organisation_id)}
        unknown = [pk for pk in values["members"] if pk not in team]
        if unknown:
            raise serializers.ValidationError(
                {"members": [_("%(ids)s: not in the current team.") % {"ids": unknown}]}
            )
        shown = set(values.pop("credentials_shown"))
        members = [team[pk] for pk in values.pop("members")]
        findings = {
            f["check_item"]: (f["outcome"], f.get("note", "")) for f in values.pop("findings")
        }
        items = set(task.check_items.values_list("pk", flat=True))
        if set(findings) - items:
            raise serializers.ValidationError(
                {"findings": [_("A finding names an item this task does not check.")]}
            )
        record = services.record_save(
            actor=request.user,
            task=task,
            members=members,
            credentials_shown={str(m.pk): m.pk in shown for m in members},
            findings=findings,
            **values,
        )
        return Response(RecordSerializer(record).data, status=status.HTTP_201_CREATED)


class ProblemViewSet(viewsets.ReadOnlyModelViewSet):
    """The follow-up ledger (台账): problems found, their handling and closing."""

    serializer_class = ProblemSerializer
    filterset_fields = ["task", "state", "handling"]

    def get_queryset(self):
        tasks = task_list_for_user(user=self.request.user)
        return Problem.objects.filter(task__in=tasks.values("pk")).order_by("pk")

    @extend_schema(request=VerifySerializer, responses=ProblemSerializer)
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None, format=None):  # format: the .json suffix
        problem = self.get_object()
        data = VerifySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        problem = services.problem_verify(
            actor=request.user,
            problem=problem,
            evidence=data.validated_data["evidence"],
            verification=data.validated_data.get("verification", ""),
        )
        return Response(ProblemSerializer(problem).data)

    @extend_schema(request=None, responses=ProblemSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None, format=None):  # format: the .json suffix
        problem = get_object_or_404(self.get_queryset(), pk=pk)
        problem = services.problem_close(actor=request.user, problem=problem)
        return Response(ProblemSerializer(problem).data)


def register(router) -> None:
    router.register("inspection-tasks", TaskViewSet, basename="inspection-task")
    router.register("inspection-problems", ProblemViewSet, basename="inspection-problem")
