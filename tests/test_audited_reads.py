"""The guard of the one door for confidential reads: over every entry point that can show a
draw's confidential data (pages, htmx fragments, JSON downloads, the API, the public portal,
inspection pages), for every persona, the data is shown if and only if an audit entry of the
read was written.

The secret: an executed, undisclosed Q1 draw's drawn sources and team members. It shows in Q1's
own result and record, and in Q2's manifest, which embeds Q1's coverage tiers and inspectors.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from core.models import AuditEntry
from inspections.models import InspectionTask
from inspections.services import tasks_create_for_draw
from lottery.models import DrawSelection, TeamAssignment
from tests.lottery.scenario import build_world, make_draw, make_plan

pytestmark = pytest.mark.django_db

READ_ACTIONS = (
    "draw.view_result",
    "draw.view_manifest",
    "inspection.view_task",
    "inspection.view_tasks",
    "inspection.view_own_tasks",
)
PERSONAS = [
    "county_clerk",
    "county_leader",
    "inspector_a",
    "city_reviewer",
    "outsider_clerk",
    "province_viewer",
    None,
]


@pytest.fixture
def world(county, county_clerk, county_leader, inspector_a):
    from guardian.shortcuts import assign_perm

    from inspectors.models import Inspector

    build_world(county)
    q1 = make_draw(make_plan(county, county_clerk, county_leader, quarter=1), county_clerk)
    q2 = make_draw(
        make_plan(county, county_clerk, county_leader, quarter=2), county_clerk, stage="committed"
    )
    tasks_create_for_draw(draw=q1)
    task = InspectionTask.objects.filter(selection__draw=q1).order_by("pk").first()
    member = TeamAssignment.objects.filter(selection=task.selection).first().inspector
    Inspector.objects.filter(pk=member.pk).update(user=inspector_a)
    assign_perm("lottery.view_drawn_task", inspector_a, task.selection)
    codes = DrawSelection.objects.filter(draw=q1).values_list("source__source_code", flat=True)
    names = TeamAssignment.objects.filter(selection__draw=q1).values_list(
        "inspector__name", flat=True
    )
    secrets = sorted(set(codes) | set(names) | {q1.seed})
    return {"q1": q1, "q2": q2, "task": task, "secrets": secrets}


def entry_points(w) -> list[tuple[str, str, dict]]:
    q1, q2, task = w["q1"].pk, w["q2"].pk, w["task"].pk
    return [
        ("page", reverse("lottery:draw_detail", args=[q1]), {}),
        (
            "htmx",
            reverse("lottery:draw_detail", args=[q1]) + "?page=1",
            {"HTTP_HX_REQUEST": "true"},
        ),
        ("record.json", reverse("lottery:draw_record_json", args=[q1]), {}),
        ("manifest.json", reverse("lottery:draw_manifest_json", args=[q2]), {}),
        ("q2 page", reverse("lottery:draw_detail", args=[q2]), {}),
        ("api detail", f"/api/v1/draws/{q1}/", {}),
        ("api selections", f"/api/v1/draws/{q1}/selections/", {}),
        ("api record", f"/api/v1/draws/{q1}/record/", {}),
        ("api q2 record", f"/api/v1/draws/{q2}/record/", {}),
        ("public page", reverse("publication:draw_detail", args=[q1]), {}),
        ("public q2 page", reverse("publication:draw_detail", args=[q2]), {}),
        ("public record", reverse("publication:draw_record", args=[q1]), {}),
        ("public manifest", reverse("publication:draw_manifest", args=[q2]), {}),
        ("my tasks", reverse("inspections:my_tasks"), {}),
        ("task board", reverse("inspections:board"), {}),
        ("task board of the draw", reverse("inspections:board") + f"?draw={q1}", {}),
        ("task page", reverse("inspections:task_detail", args=[task]), {}),
        ("task api", f"/api/v1/inspection-tasks/{task}/", {}),
        ("task list api", "/api/v1/inspection-tasks/", {}),
    ]


def body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def shown(text: str, secrets: list[str]) -> list[str]:
    # 检查员1 must not match 检查员12: a secret followed by another digit is someone else.
    return [s for s in secrets if re.search(re.escape(s) + r"(?!\d)", text)]


@pytest.mark.parametrize("persona", PERSONAS)
def test_confidential_data_is_shown_if_and_only_if_the_read_is_audited(request, world, persona):
    user = request.getfixturevalue(persona) if persona else None
    failures = []
    for label, url, headers in entry_points(world):
        client = APIClient() if url.startswith("/api/") else Client()
        if user is not None:
            client.force_login(user) if not url.startswith("/api/") else client.force_authenticate(
                user
            )
        before = AuditEntry.objects.filter(action__in=READ_ACTIONS).count()
        response = client.get(url, **headers)
        assert response.status_code < 500, (label, response.status_code)
        leaked = shown(body(response), world["secrets"]) if response.status_code == 200 else []
        audited = AuditEntry.objects.filter(action__in=READ_ACTIONS).count() > before
        if bool(leaked) != audited:
            failures.append(f"{label}: shown={leaked[:3]} audited={audited}")
    assert not failures, f"{persona}: " + "; ".join(failures)
