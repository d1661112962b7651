"""Benchmark: the inspection tasks of a large draw, and an inspector's task list, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sjsj_bench_cover .venv/bin/python bench/tasks.py

1. The 本溪 (benxi_2025_county) draw at 100,000 sources and 500 inspectors, set up as
   bench/draw.py does (about 16,000 drawn), then ``inspections.services.tasks_create_for_draw``
   on it: one task per effective drawn source and a check-item row per task and plan item.
   Printed beside a floor from the same run: a psycopg3 COPY of as many bare rows (the task
   rows and the check-item rows, the same columns, no keys, no checks) into TEMPORARY tables.
   Target: tasks_create_for_draw <= 3x the floor. A second run on the same draw (idempotent:
   it creates nothing) is timed too.
2. An inspector's task list (``inspections.selectors.task_list_for_user``, the first page of
   50 with its count, as a paginated page reads it) with 100,000 tasks in the database (the
   draw's and targeted checks) and every inspector granted their drawn tasks, against a
   trivial query (the first page of all tasks by pk, with its count) and ``SELECT 1``.

Each figure is the fastest of ``--repeat`` runs (the machine is shared).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sjsj_bench_cover")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("SJSJ_DATA_DIR", "/tmp/sjsj-bench")

PAGE = 50
TOTAL_TASKS = 100_000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sources", type=int, default=100_000)
    parser.add_argument("--inspectors", type=int, default=500)
    parser.add_argument("--preset", default="benxi_2025_county")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from draw import ensure_database, setup_world

    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from inspections.services import tasks_create_for_draw

    org, clerk, plan, rng = setup_world(args.sources, args.inspectors, args.preset)
    draw = execute_draw(plan, clerk, rng)
    # Round by round, so that a busy moment of the shared machine hits every figure alike.
    inf = float("inf")
    create = again = statement = fk_checks = floor = keyed = real = inf
    for _ in range(args.repeat):
        c, a, n_tasks, n_items = time_create(draw, 1)
        create, again = min(create, c), min(again, a)
        st, fk = time_split(draw, 1)
        if st + fk < statement + fk_checks:
            statement, fk_checks = st, fk
        floor = min(floor, floor_time(n_tasks, n_items))
        keyed = min(keyed, floor_time(n_tasks, n_items, keyed=True))
        real = min(real, copy_real_time(draw))
    _clear_tasks()
    tasks_create_for_draw(draw=draw)  # the draw's tasks, for the list below
    print(
        f"tasks_create_for_draw at {args.sources:,} sources: {n_tasks:,} tasks + "
        f"{n_items:,} check-item rows in {create:.3f}s; floor (COPY of as many bare rows into "
        f"TEMPORARY tables) {floor:.3f}s; create/floor {create / floor:.2f}x (target <= 3x); "
        f"second run (creates nothing) {again:.3f}s",
        flush=True,
    )
    print(
        f"  of which: the INSERT statement {statement:.3f}s, the foreign-key checks at commit "
        f"{fk_checks:.3f}s; the same COPY into TEMPORARY tables with the real tables' indexes "
        f"and checks (no foreign keys) {keyed:.3f}s; create/keyed floor {create / keyed:.2f}x",
        flush=True,
    )
    print(
        f"  the same rows by COPY into the real tables, foreign keys checked, rolled back "
        f"(what any way of writing these rows into this schema pays) {real:.3f}s; "
        f"create/that {create / real:.2f}x",
        flush=True,
    )
    user = fill_and_grant(org, draw)
    listing, trivial, select1, mine = time_list(user, args.repeat)
    print(
        f"task list, inspector, first page of {PAGE} + count, {TOTAL_TASKS:,} tasks in the "
        f"database ({mine} of them the inspector's): {listing * 1000:.1f} ms; trivial query "
        f"(first page of all tasks by pk + count) {trivial * 1000:.1f} ms; SELECT 1 "
        f"{select1 * 1000:.2f} ms; list/trivial {listing / trivial:.1f}x",
        flush=True,
    )


def execute_draw(plan, clerk, rng):
    from lottery.services import draw_add_entropy, draw_commit, draw_execute, draw_prepare

    draw = draw_commit(actor=clerk, draw=draw_prepare(actor=clerk, plan=plan))
    for i in range(2):
        draw_add_entropy(
            actor=clerk,
            draw=draw,
            witness_name=f"见证人{i}",
            witness_role="",
            value=f"{rng.randrange(10**6):06d}",
        )
    return draw_execute(actor=clerk, draw=draw)


def _clear_tasks() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE inspections_inspectiontask CASCADE")


def time_create(draw, repeat: int) -> tuple[float, float, int, int]:
    from inspections.models import InspectionTask
    from inspections.services import tasks_create_for_draw

    best = again = float("inf")
    for _ in range(repeat):
        _clear_tasks()
        t0 = time.perf_counter()
        created = tasks_create_for_draw(draw=draw)
        best = min(best, time.perf_counter() - t0)
        t0 = time.perf_counter()
        assert tasks_create_for_draw(draw=draw) == 0
        again = min(again, time.perf_counter() - t0)
    n_items = InspectionTask.check_items.through.objects.count()
    assert created == InspectionTask.objects.count() > 0
    return best, again, created, n_items


def time_split(draw, repeat: int) -> tuple[float, float]:
    """The statement, and the deferred foreign-key checks that run at commit, timed apart."""
    from django.db import connection, transaction

    from inspections.services import tasks_create_for_draw

    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        _clear_tasks()
        with transaction.atomic():
            t0 = time.perf_counter()
            tasks_create_for_draw(draw=draw)
            t1 = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            t2 = time.perf_counter()
        if t2 - t0 < sum(best):
            best = (t1 - t0, t2 - t1)
    return best


def floor_time(n_tasks: int, n_items: int, *, keyed: bool = False) -> float:
    """COPY ``n_tasks`` bare task rows (the task table's columns) and ``n_items`` bare
    check-item rows into TEMPORARY tables without keys, indexes or checks; ``keyed``: with the
    real tables' indexes and check constraints (LIKE … INCLUDING ALL; no foreign keys)."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        if keyed:
            cursor.execute(
                "CREATE TEMP TABLE floor_task (LIKE inspections_inspectiontask INCLUDING ALL) "
                "ON COMMIT DROP; CREATE TEMP TABLE floor_task_items "
                "(LIKE inspections_inspectiontask_check_items INCLUDING ALL) ON COMMIT DROP"
            )
        else:
            cursor.execute(
                "CREATE TEMP TABLE floor_task (id bigint, organisation_id bigint, kind text, "
                "selection_id bigint, source_id bigint, mode text, trigger text, trigger_detail "
                "text, opened_from_id bigint, joint boolean, joint_sections text, "
                "joint_authorities text, period_start date, period_end date, state text, "
                "cancel_reason text, return_reason text, handling_ended_on date, entry_due date, "
                "created_by_id bigint, created_at timestamptz, approved_by_id bigint, "
                "approved_at timestamptz) ON COMMIT DROP; "
                "CREATE TEMP TABLE floor_task_items (id bigint, inspectiontask_id bigint, "
                "checkitem_id bigint) ON COMMIT DROP"
            )
        t0 = time.perf_counter()
        with cursor.cursor.copy(
            "COPY floor_task (id, organisation_id, kind, selection_id, source_id, mode, trigger, "
            "trigger_detail, opened_from_id, joint, joint_sections, joint_authorities, "
            "period_start, period_end, state, cancel_reason, return_reason, handling_ended_on, "
            "entry_due, created_by_id, created_at, approved_by_id, approved_at) FROM STDIN"
        ) as copy:
            start, end = date(2026, 4, 15), date(2026, 6, 20)
            for i in range(n_tasks):
                copy.write_row(
                    (i, 1, "drawn", i, i, "on_site", "", "", None, False, "", "", start, end)
                    + ("assigned", "", "", None, None, None, "2026-04-01", None, None)
                )
        with cursor.cursor.copy(
            "COPY floor_task_items (id, inspectiontask_id, checkitem_id) FROM STDIN"
        ) as copy:
            for i in range(n_items):
                copy.write_row((i, i, 1))
        return time.perf_counter() - t0


class _Rollback(Exception):
    pass


def copy_real_time(draw) -> float:
    """COPY the draw's task rows and their check-item rows (all columns, as the service
    writes them) into the real tables, check the foreign keys, and roll back."""
    from django.db import connection, transaction
    from django.utils import timezone

    from core.bulk import copy_insert
    from inspections.models import InspectionTask
    from lottery.selectors import effective_selections

    _clear_tasks()
    plan = draw.plan
    selections = [(s.pk, s.source_id, s.mode, s.joint) for s in effective_selections(draw)]
    items = list(plan.check_items.values_list("pk", flat=True))
    base = 10**12
    now = timezone.now()
    elapsed = 0.0
    try:
        with transaction.atomic():
            t0 = time.perf_counter()
            copy_insert(
                InspectionTask,
                [
                    "id",
                    "organisation",
                    "kind",
                    "selection",
                    "source",
                    "mode",
                    "trigger",
                    "trigger_detail",
                    "joint",
                    "joint_sections",
                    "joint_authorities",
                    "period_start",
                    "period_end",
                    "state",
                    "cancel_reason",
                    "return_reason",
                    "created_at",
                ],
                (
                    (base + i, draw.organisation_id, "drawn", pk, source, mode, "", "", joint)
                    + ("", "", plan.planned_start, plan.planned_end, "assigned", "", "", now)
                    for i, (pk, source, mode, joint) in enumerate(selections)
                ),
            )
            through = InspectionTask.check_items.through
            copy_insert(
                through,
                ["inspectiontask", "checkitem"],
                ((base + i, item) for i in range(len(selections)) for item in items),
            )
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            elapsed = time.perf_counter() - t0
            raise _Rollback
    except _Rollback:
        pass
    return elapsed


def fill_and_grant(org, draw):
    """Up to TOTAL_TASKS tasks: the draw's, plus targeted checks of the registry's sources
    (written by COPY: this is data, not what is timed). Every inspector of the draw gets a
    user and the grants the draw gives (``lottery.view_drawn_task`` on their drawn sources);
    returns the user of the inspector with the most tasks."""
    from collections import Counter

    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.utils import timezone
    from guardian.models import UserObjectPermission

    from core.bulk import copy_insert
    from core.models import Role
    from inspections.models import InspectionTask, Trigger
    from inspectors.models import Inspector
    from lottery.models import DrawSelection, TeamAssignment
    from registry.models import PollutionSource

    have = InspectionTask.objects.count()
    sources = list(
        PollutionSource.objects.filter(organisation=org)
        .order_by("pk")
        .values_list("pk", flat=True)[: TOTAL_TASKS - have]
    )
    now = timezone.now()
    copy_insert(
        InspectionTask,
        [
            "organisation",
            "kind",
            "source",
            "mode",
            "trigger",
            "trigger_detail",
            "joint",
            "joint_sections",
            "joint_authorities",
            "period_start",
            "period_end",
            "state",
            "cancel_reason",
            "return_reason",
            "created_at",
        ],
        (
            (org.pk, "targeted", pk, "on_site", Trigger.COMPLAINT, "", False, "", "")
            + (date(2026, 1, 5), date(2026, 1, 30), "assigned", "", "", now)
            for pk in sources
        ),
    )
    User = get_user_model()
    User.objects.filter(username__startswith="bench_inspector_").delete()
    team = list(
        TeamAssignment.objects.filter(selection__draw=draw).values_list(
            "inspector_id", "selection_id"
        )
    )
    people = sorted({i for i, _s in team})
    password = make_password(None)
    User.objects.bulk_create(
        [
            User(
                username=f"bench_inspector_{pk}",
                password=password,
                role=Role.INSPECTOR,
                organisation=org,
            )
            for pk in people
        ],
        batch_size=1000,
    )
    users = dict(
        User.objects.filter(username__startswith="bench_inspector_").values_list("username", "pk")
    )
    Inspector.objects.filter(user__isnull=False).update(user=None)
    for pk in people:
        Inspector.objects.filter(pk=pk).update(user_id=users[f"bench_inspector_{pk}"])
    content_type = ContentType.objects.get_for_model(DrawSelection)
    from django.contrib.auth.models import Permission

    perm = Permission.objects.get(content_type=content_type, codename="view_drawn_task")
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE guardian_userobjectpermission")
    UserObjectPermission.objects.bulk_create(
        [
            UserObjectPermission(
                user_id=users[f"bench_inspector_{i}"],
                permission=perm,
                content_type=content_type,
                object_pk=str(s),
            )
            for i, s in team
        ],
        batch_size=5000,
        ignore_conflicts=True,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE inspections_inspectiontask, inspections_inspectiontask_check_items, "
            "guardian_userobjectpermission, lottery_drawselection"
        )
    busiest, _n = Counter(i for i, _s in team).most_common(1)[0]
    return User.objects.get(username=f"bench_inspector_{busiest}")


def time_list(user, repeat: int) -> tuple[float, float, float, int]:
    from django.core.paginator import Paginator
    from django.db import connection

    from inspections.models import InspectionTask
    from inspections.selectors import task_list_for_user

    def first_page(qs) -> int:
        page = Paginator(qs, PAGE).get_page(1)
        rows = list(page.object_list)
        return page.paginator.count if rows or page.paginator.count == 0 else -1

    listing = trivial = select1 = float("inf")
    mine = 0
    for _ in range(repeat + 2):  # the first runs warm the caches
        t0 = time.perf_counter()
        mine = first_page(task_list_for_user(user=user).order_by("-period_start", "pk"))
        listing = min(listing, time.perf_counter() - t0)
        t0 = time.perf_counter()
        first_page(InspectionTask.objects.select_related("source", "selection").order_by("pk"))
        trivial = min(trivial, time.perf_counter() - t0)
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        select1 = min(select1, time.perf_counter() - t0)
    return listing, trivial, select1, mine


if __name__ == "__main__":
    main()
