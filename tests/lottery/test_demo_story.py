"""The demo tells the story on a demo clock that follows today's date: bureaus drew this
quarter before the deadline (one per city is late), next quarter's plans wait, and 武陟县's
last-quarter draw is disclosed: a visitor downloads its record and the script, and the script
says “matches”. Every demo draw verifies."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from core.demo import DEMO_PASSWORD
from lottery.models import Draw, Plan
from lottery.periods import next_quarter, quarter_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    call_command("demo_seed", quiet_users=True)


def test_the_demo_tells_the_story(demo, client, tmp_path, capsys):
    """One demo build (it takes seconds) for the three checks below."""
    _a_visitor_verifies_the_disclosed_demo_draw_with_the_downloaded_script(client, tmp_path)
    _every_demo_draw_verifies_and_typed_values_were_normalised(capsys)
    _the_demo_follows_today_and_is_not_a_red_wall(client)
    _the_showcase_county_inspected_last_quarter(client)


def _the_showcase_county_inspected_last_quarter(client):
    from inspections.models import InspectionRecord, InspectionTask, Problem

    tasks = InspectionTask.objects.filter(organisation__division_code="410823")
    assert tasks.filter(state="approved").count() >= 3
    assert tasks.filter(state="submitted").exists()  # waiting for the leader
    types = set(
        InspectionRecord.objects.filter(task__in=tasks).values_list("result_type", flat=True)
    )
    assert len(types) >= 3, types
    assert Problem.objects.filter(task__in=tasks, state="closed").exists()
    # the people on the teams can sign in and see their tasks
    record = InspectionRecord.objects.filter(task__in=tasks).first()
    response = client.post(
        "/accounts/login/", {"username": record.created_by.username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302
    page = client.get(reverse("inspections:my_tasks"))
    assert record.task.source.name in page.content.decode()
    client.logout()


def _a_visitor_verifies_the_disclosed_demo_draw_with_the_downloaded_script(client, tmp_path):
    disclosed = Draw.objects.filter(status=Draw.Status.EXECUTED, disclosed_at__isnull=False)
    draw = disclosed.get(organisation__division_code="410823")
    page = client.get(reverse("publication:draw_detail", args=[draw.pk]))
    assert 'data-testid="public-record-download"' in page.content.decode()
    record = client.get(reverse("publication:draw_record", args=[draw.pk]))
    script = client.get(reverse("publication:verify_script"))
    assert record.status_code == script.status_code == 200
    (tmp_path / "record.json").write_bytes(record.content)
    (tmp_path / "verify_draw.py").write_bytes(
        b"".join(script.streaming_content) if script.streaming else script.content
    )
    run = subprocess.run(
        [
            sys.executable,
            "verify_draw.py",
            "verify",
            "record.json",
            "--manifest-hash",
            draw.manifest_hash,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0 and run.stdout.strip() == "matches", run.stdout + run.stderr


def _the_demo_follows_today_and_is_not_a_red_wall(client):
    today = timezone.localdate()
    year, quarter = quarter_of(today)
    executed = Draw.objects.filter(
        status=Draw.Status.EXECUTED, plan__year=year, plan__quarter=quarter
    )
    assert executed.count() >= 20
    # Drawn on the demo clock, before the quarter's deadline, never in the future.
    assert all(d.executed_at.date() <= today for d in executed)
    assert (
        Plan.objects.filter(
            status=Plan.Status.PUBLISHED,
            year=next_quarter(today)[0],
            quarter=next_quarter(today)[1],
        ).count()
        >= 20
    )

    response = client.post(
        "/accounts/login/", {"username": "jiaozuo_reviewer", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302  # the demo password works through the login page
    page = client.get(reverse("lottery:quota_overview")).content.decode()
    rows = page.count('data-testid="overview-row"')
    late = page.count('data-late="1"')
    assert rows >= 5 and 1 <= late < rows / 2, (rows, late)


def _every_demo_draw_verifies_and_typed_values_were_normalised(capsys):
    call_command("verify_draw", "--all")
    out = capsys.readouterr().out
    assert out.count(": matches") == Draw.objects.filter(status=Draw.Status.EXECUTED).count()
    values = [e.value for d in Draw.objects.all() for e in d.entropy.all()]
    assert values and all(v.isascii() and v.isdigit() and len(v) == 6 for v in values)
