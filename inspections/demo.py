"""Demo world, inspections part: tasks for every executed draw, and the showcase county's
inspections worked through the services by the people on the teams, on the demo clock.

武陟县's last-quarter draw is mostly done: records with each of the five result types,
problems in the follow-up ledger (some closed), most results approved, a few waiting for the
leader, one entered late. This quarter's tasks have started: some in progress, one recorded.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from core.errors import ServiceError
from core.models import Organisation, Role
from inspections.models import Finding, InspectionTask, NonCooperationGround, Problem
from inspections.selectors import task_team
from inspections.services import (
    problem_add,
    problem_close,
    problem_verify,
    record_save,
    task_approve,
    task_start,
    task_submit,
    tasks_create_for_draw,
)
from lottery.demo import demo_clock
from lottery.models import Draw

State = InspectionTask.State
# (result type, weight): most checks find nothing; the rest as the seeds' examples go.
RESULTS = [(1, 60), (3, 14), (5, 12), (2, 8), (4, 6)]
PROBLEMS = [
    ("危险废物贮存场所未设置识别标志", "《危险废物贮存污染控制标准》（GB 18597）"),
    ("废气处理设施运行记录不完整", "《排污许可管理条例》第三十四条"),
    ("雨水排放口有废水排放痕迹", "《中华人民共和国水污染防治法》第三十九条"),
    ("自动监测设备未按规定校准", "《污染源自动监控设施现场监督检查办法》"),
]


def seed(*, stdout, rng: random.Random) -> None:
    from core.demo import SHOWCASE_COUNTY

    created = sum(
        tasks_create_for_draw(draw=draw)
        for draw in Draw.objects.filter(status=Draw.Status.EXECUTED).order_by("pk")
    )
    org = Organisation.objects.filter(
        division_code=SHOWCASE_COUNTY, kind=Organisation.Kind.COUNTY_BUREAU
    ).first()
    leader = org and org.users.filter(role=Role.LEADER).order_by("pk").first()
    draws = list(
        Draw.objects.filter(organisation=org, status=Draw.Status.EXECUTED).order_by(
            "plan__year", "plan__quarter"
        )
    )
    worked: dict[str, Any] = {"recorded": 0, "approved": 0, "problems": 0}
    today = timezone.localdate()
    if leader and draws:
        if len(draws) > 1:  # last quarter's: nearly all done
            _work(draws[0], leader, rng, worked, share=1.0, approve_share=0.85, today=today)
        _work(draws[-1], leader, rng, worked, share=0.25, approve_share=0.0, today=today)
    stdout.write(
        f"inspections: tasks created: {created}; 武陟县: {worked['recorded']} recorded, "
        f"{worked['approved']} approved, {worked['problems']} problems in the ledger"
    )
    for line in worked.get("refused", []):
        stdout.write(f"inspections: refused: {line}")


def _account(inspector):
    return get_user_model().objects.filter(pk=inspector.user_id).first()


def _work(draw, leader, rng, worked, *, share, approve_share, today) -> None:
    tasks = list(
        InspectionTask.objects.filter(
            selection__draw=draw, state=State.ASSIGNED, mode="on_site"
        ).order_by("pk")
    )
    tasks = tasks[: max(1, int(len(tasks) * share))]
    for n, task in enumerate(tasks):
        members = [a.inspector for a in task_team(task) if a.inspector.certificate_number]
        users = [u for u in (_account(m) for m in members) if u is not None]
        if len(members) < 2 or not users:
            continue
        last = min(task.period_end, today - timedelta(days=1))
        if last <= task.period_start:
            continue
        day = task.period_start + timedelta(days=rng.randint(0, (last - task.period_start).days))
        try:
            _inspect(
                task,
                members[:2],
                users[0],
                leader,
                rng,
                day,
                n,
                worked,
                today,
                approve=rng.random() < approve_share,
                late=(n == 3 and share == 1.0),
            )
        except ServiceError as exc:  # a demo that cannot be made says so, and goes on
            worked.setdefault("refused", []).append(f"task {task.pk}: {' '.join(exc.messages)}")


def _inspect(task, members, user, leader, rng, day, n, worked, today, *, approve, late):
    with demo_clock(day):
        task_start(actor=user, task=task)
    if task.period_end >= today and n % 2:
        return  # this quarter: some only started
    result = rng.choices([r for r, _ in RESULTS], weights=[w for _, w in RESULTS])[0]
    items = list(task.check_items.all())
    findings = {
        item.pk: (
            Finding.Outcome.PROBLEM if result in (3, 5) and i == 0 else Finding.Outcome.COMPLIANT,
            "现场检查发现问题，已拍照取证" if result in (3, 5) and i == 0 else "符合要求",
        )
        for i, item in enumerate(items)
    }
    checked = timezone.make_aware(datetime.combine(day, time(9 + n % 6, 15)))
    # One record entered late: the 7-working-day deadline runs from the check's end.
    entered = day + timedelta(days=14 if late else rng.randint(0, 3))
    with demo_clock(entered):
        record_save(
            actor=user,
            task=task,
            expected_version=0,
            checked_at=checked,
            members=members,
            credentials_shown={str(m.pk): True for m in members},
            body_camera_refs=f"DSJ-{day:%Y%m%d}-{n:02d}, DSJ-{day:%Y%m%d}-{n + 1:02d}",
            representative=rng.choice(["王经理", "张厂长", "刘主任", "赵科长"]),
            witnesses=[{"name": "陈立新", "role": "村委会委员"}] if n % 5 == 0 else [],
            result_type=result,
            ground=NonCooperationGround.REFUSED_MATERIALS if result == 4 else "",
            summary={
                1: "现场检查未发现环境违法问题。",
                2: "企业未按规定公开自行监测信息。",
                3: "发现问题，企业当场整改到位。",
                4: "企业拒不提供台账资料，阻碍检查。",
                5: "发现环境违法问题，需进一步调查处理。",
            }[result],
            findings=findings,
            handling_ended_on=day,
        )
    worked["recorded"] += 1
    if result in (3, 5):
        description, basis = PROBLEMS[n % len(PROBLEMS)]
        with demo_clock(entered):
            problem = problem_add(
                actor=user,
                task=task,
                description=description,
                legal_basis=basis,
                handling=Problem.Handling.CORRECTED_ON_SPOT
                if result == 3
                else Problem.Handling.RECTIFICATION_ORDER,
                rectification_due=None if result == 3 else day + timedelta(days=30),
            )
        worked["problems"] += 1
        if result == 3 or n % 3 == 0:
            with demo_clock(min(entered + timedelta(days=10), today)):
                problem_verify(
                    actor=user,
                    problem=problem,
                    evidence="整改前后对比照片、整改报告",
                    verification="复查确认已整改到位",
                )
                if approve:
                    problem_close(actor=leader, problem=problem)
    if task.period_end >= today or late:
        return
    with demo_clock(entered + timedelta(days=1)):
        task_submit(actor=user, task=task)
    if approve:
        with demo_clock(entered + timedelta(days=2)):
            task_approve(actor=leader, task=task)
        worked["approved"] += 1
