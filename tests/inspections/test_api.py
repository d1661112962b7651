"""The inspections API: scoped like the pages, writes through the services, refusals as 400."""

from rest_framework.test import APIClient

from inspections.models import InspectionRecord, InspectionTask, Problem
from inspections.selectors import task_team
from inspections.services import problem_add


def api(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


def body(task, version=0, **extra):
    team = [a.inspector for a in task_team(task)][:2]
    data = {
        "expected_version": version,
        "checked_at": "2026-03-12T09:30:00+08:00",
        "members": [m.pk for m in team],
        "credentials_shown": [m.pk for m in team],
        "body_camera_refs": "DSJ-1",
        "findings": [
            {"check_item": i.pk, "outcome": "compliant", "note": ""} for i in task.check_items.all()
        ],
    }
    data.update(extra)
    return data


def test_tasks_are_scoped_like_the_pages(task, inspector_a, outsider_clerk, county_clerk):
    mine = api(inspector_a).get("/api/v1/inspection-tasks/").json()
    assert [t["id"] for t in mine["results"]] == [task.pk]
    assert mine["results"][0]["team"][0]["certificate_number"]
    assert api(outsider_clerk).get(f"/api/v1/inspection-tasks/{task.pk}/").status_code == 404
    assert api(outsider_clerk).get("/api/v1/inspection-tasks/").json()["count"] == 0
    staff = api(county_clerk).get("/api/v1/inspection-tasks/").json()
    assert staff["count"] == InspectionTask.objects.count()
    assert APIClient().get("/api/v1/inspection-tasks/").status_code in (401, 403)


def test_a_record_through_the_api_and_its_refusals(task, inspector_a, inspector_b, county_leader):
    url = f"/api/v1/inspection-tasks/{task.pk}/records/"
    created = api(inspector_a).post(url, body(task, result_type=1), format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["version"] == 1
    stale = api(inspector_b).post(url, body(task, version=0), format="json")
    assert stale.status_code == 400 and stale.json()["code"] == "version"
    no_ground = api(inspector_b).post(url, body(task, version=1, result_type=4), format="json")
    assert no_ground.status_code == 400 and "ground" in no_ground.json()["errors"]
    alone = api(inspector_b).post(
        url,
        body(task, version=1, result_type=1, members=[task_team(task)[0].inspector_id]),
        format="json",
    )
    assert alone.status_code == 400 and "members" in alone.json()["errors"]
    assert InspectionRecord.objects.filter(task=task).count() == 1

    denied = api(inspector_a).post(f"/api/v1/inspection-tasks/{task.pk}/approve/")
    assert denied.status_code == 403
    submitted = api(inspector_a).post(f"/api/v1/inspection-tasks/{task.pk}/submit/")
    assert submitted.status_code == 200 and submitted.json()["state"] == "submitted"
    again = api(inspector_a).post(f"/api/v1/inspection-tasks/{task.pk}/submit/")
    assert again.status_code == 400 and again.json()["code"] == "submitted_twice"
    approved = api(county_leader).post(f"/api/v1/inspection-tasks/{task.pk}/approve/")
    assert approved.json()["state"] == "approved"
    versions = api(county_leader).get(url).json()
    assert [v["approved"] for v in versions] == [True]


def test_the_ledger_through_the_api(task, inspector_a, county_leader, outsider_clerk):
    problem = problem_add(
        actor=inspector_a,
        task=task,
        description="标识缺失",
        handling="order",
        rectification_due="2026-04-01",
    )
    listed = api(inspector_a).get("/api/v1/inspection-problems/").json()
    assert [p["id"] for p in listed["results"]] == [problem.pk]
    assert api(outsider_clerk).get(f"/api/v1/inspection-problems/{problem.pk}/").status_code == 404
    refused = api(county_leader).post(f"/api/v1/inspection-problems/{problem.pk}/close/")
    assert refused.status_code == 400
    api(inspector_a).post(
        f"/api/v1/inspection-problems/{problem.pk}/verify/",
        {"evidence": "整改照片"},
        format="json",
    )
    closed = api(county_leader).post(f"/api/v1/inspection-problems/{problem.pk}/close/")
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    assert Problem.objects.get(pk=problem.pk).state == "closed"
