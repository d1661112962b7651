"""Benchmark: the oversight dashboard of a city of 20 counties over 1,000,000 inspections.

    .venv/bin/python bench/dashboard.py                # builds the data once, then measures
    .venv/bin/python bench/dashboard.py --repeat 7

On PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/sjsj_bench_oversight)
it loads (COPY, once: later runs reuse them) a city (4199) of 20 county bureaus with 5,000
sources each; for each county and each quarter of 2024–2026 a plan, an executed draw and its
drawn sources; one task, one record and (nine times in ten) one published result per drawn
source: 1,000,000 tasks, records and selections. It then times the dashboard page for the city
team (Django's test client, the whole middleware and template stack, best of ``--repeat``)
for 2026 Q1 beside the *floor*: one GROUP BY over the same tables returning the same task
counts per county and class (the quarter's tasks joined with their first record and first
publication, with JIT off as the dashboard runs its GROUP BYs). Targets: <= 3x the floor;
< 300 ms as a secondary figure.

Then the annual statistics workbook of 2026 (``oversight.reports.render_xlsx``: the Excel file
of the annual report, four quarters of the city's units, Chinese headers, formatted) beside
its floor: the same number of cells (the same values) written with openpyxl's write-only mode
and nothing else. Target: <= 2x. The figures behind it (``report_data``, four times the
dashboard's queries) are timed too, apart: they are the dashboard's cost, not the writer's.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sjsj_bench_oversight")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("SJSJ_DATA_DIR", "/tmp/sjsj-bench-oversight")

CITY = "4199"
COUNTIES = 20
SOURCES_PER_COUNTY = 5_000
QUARTERS = [(y, q) for y in (2024, 2025, 2026) for q in (1, 2, 3, 4)]
TZ = ZoneInfo("Asia/Shanghai")


def ensure_database() -> None:
    import psycopg

    url = os.environ["DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def build(n_records: int) -> None:
    from django.db import connection, transaction

    from core.demo import seed_organisations
    from core.models import Organisation, Role
    from core.services import calendar_seed_from_library, user_create
    from core.uscc import make_uscc
    from inspections.models import InspectionTask
    from lottery.models import Draw, Plan
    from lottery.rules import PRESETS
    from registry.models import PollutionSource

    if InspectionTask.objects.count() >= n_records * 0.99:
        print(f"reusing {InspectionTask.objects.count():,} inspection tasks and records")
        return
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # the bench's own database
        cursor.execute(
            "TRUNCATE publication_publishedresult, publication_pendingpublication, "
            "inspections_inspectionrecord, inspections_inspectiontask, lottery_drawselection, "
            "lottery_draw, lottery_plan, registry_pollutionsource CASCADE"
        )
    calendar_seed_from_library(years=[2024, 2025, 2026])
    orgs = seed_organisations()
    province = orgs["province:410000"]
    bureau, _ = Organisation.objects.get_or_create(
        division_code=f"{CITY}00",
        kind="city_bureau",
        defaults={"name": "基准市生态环境局", "short_name": "基准市", "parent": province},
    )
    team, _ = Organisation.objects.get_or_create(
        division_code=f"{CITY}00",
        kind="city_team",
        defaults={"name": "基准市执法队", "short_name": "基准市执法队", "parent": bureau},
    )
    counties = [
        Organisation.objects.get_or_create(
            division_code=f"{CITY}{n:02d}",
            kind="county_bureau",
            defaults={"name": f"基准市第{n}县分局", "short_name": f"第{n}县", "parent": bureau},
        )[0]
        for n in range(1, COUNTIES + 1)
    ]
    from core.models import User

    user = User.objects.filter(username="bench_reviewer").first() or user_create(
        actor=None,
        username="bench_reviewer",
        password="Bench-2026!x",
        role=Role.CITY_REVIEWER,
        organisation=team,
        display_name="基准审查员",
    )
    classes = ["key"] * 20 + ["general"] * 75 + ["special"] * 5
    PollutionSource.objects.bulk_create(
        [
            PollutionSource(
                organisation=org,
                managed_by="county",
                source_code=f"B{org.division_code}{i:06d}",
                name=f"基准污染源{org.division_code}-{i}",
                company_name=f"基准企业{org.division_code}-{i}有限公司",
                uscc=make_uscc("91", org.division_code, f"{i:09d}"),
                supervision_class=classes[i % 100],
                special_reason="群众反复投诉" if classes[i % 100] == "special" else "",
                county_code=org.division_code,
            )
            for org in counties
            for i in range(SOURCES_PER_COUNTY)
        ],
        batch_size=10_000,
    )
    sources = {
        org.pk: list(
            PollutionSource.objects.filter(organisation=org)
            .order_by("pk")
            .values_list("pk", "supervision_class")
        )
        for org in counties
    }
    per_draw = n_records // (COUNTIES * len(QUARTERS))
    rng = random.Random(14)
    draws = []
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
        for org in counties:
            for year, quarter in QUARTERS:
                first = 3 * (quarter - 1) + 1
                plan = Plan.objects.create(
                    organisation=org,
                    kind="quarterly",
                    year=year,
                    quarter=quarter,
                    title=f"{year}年第{quarter}季度",
                    rules=PRESETS["shanxi_2024"].rules,
                    planned_start=date(year, first, 11),
                    planned_end=date(year, first + 2, 25),
                    status="published",
                    created_by=user,
                )
                draw = Draw.objects.create(
                    plan=plan,
                    organisation=org,
                    number=f"B-{org.division_code}-{year}Q{quarter}",
                    status="executed",
                    manifest_json="{}",
                    manifest_hash=f"{org.pk:08d}{year}{quarter}".ljust(64, "0"),
                    quotas=[
                        {"class": c, "pool": 1000, "required": per_draw // 3, "drawn_this_year": 0}
                        for c in ("key", "general", "special")
                    ],
                    seed="0" * 64,
                    executed_at=datetime(year, first, 9, 10, tzinfo=TZ),
                )
                draws.append((draw.pk, org.pk, year, quarter))
    raw = connection.connection
    with raw.cursor() as cur:
        cur.execute("SET session_replication_role = replica")
        with cur.copy(
            "COPY lottery_drawselection (draw_id, stratum, position, source_id, mode, joint) "
            "FROM STDIN"
        ) as copy:
            for draw_id, org_id, _y, _q in draws:
                for pos, (source_id, klass) in enumerate(rng.sample(sources[org_id], per_draw)):
                    copy.write_row((draw_id, klass, pos, source_id, "on_site", pos % 40 == 0))
        cur.execute(
            "SELECT s.id, s.source_id, s.joint, d.organisation_id, p.year, p.quarter "
            "FROM lottery_drawselection s JOIN lottery_draw d ON d.id = s.draw_id "
            "JOIN lottery_plan p ON p.id = d.plan_id ORDER BY s.id"
        )
        selections = cur.fetchall()
        with cur.copy(
            "COPY inspections_inspectiontask (kind, mode, trigger, trigger_detail, joint, "
            "joint_sections, joint_authorities, period_start, period_end, state, cancel_reason, "
            "return_reason, handling_ended_on, entry_due, created_at, approved_at, "
            "organisation_id, source_id, selection_id) FROM STDIN"
        ) as copy:
            for sel_id, source_id, joint, org_id, year, quarter in selections:
                first = 3 * (quarter - 1) + 1
                start = date(year, first, 11)
                ended = start + timedelta(days=rng.randrange(70))
                done = rng.random() < 0.93
                copy.write_row(
                    (
                        "drawn",
                        "on_site",
                        "",
                        "",
                        joint,
                        "",
                        "",
                        start,
                        date(year, first + 2, 25),
                        "approved" if done else "assigned",
                        "",
                        "",
                        ended if done else None,
                        ended + timedelta(days=9) if done else None,
                        datetime(year, first, 9, 11, tzinfo=TZ),
                        datetime.combine(ended, datetime.min.time(), TZ) if done else None,
                        org_id,
                        source_id,
                        sel_id,
                    )
                )
        cur.execute(
            "SELECT id, organisation_id, handling_ended_on FROM inspections_inspectiontask "
            "WHERE handling_ended_on IS NOT NULL ORDER BY id"
        )
        done_tasks = cur.fetchall()
        with cur.copy(
            "COPY inspections_inspectionrecord (task_id, version, credentials_shown, experts, "
            "body_camera_refs, witnesses, representative, off_site_means, result_type, ground, "
            "conclusion, case_filed, summary, reason, approved, created_by_id, created_at) "
            "FROM STDIN"
        ) as copy:
            for task_id, _org, ended in done_tasks:
                entered = datetime.combine(ended, datetime.min.time(), TZ) + timedelta(
                    days=rng.randrange(12), hours=10
                )
                result = rng.choice([1, 1, 1, 3, 3, 5])
                copy.write_row(
                    (
                        task_id,
                        1,
                        "{}",
                        "",
                        "",
                        "[]",
                        "",
                        "[]",
                        result,
                        "",
                        "",
                        False,
                        "",
                        "",
                        True,
                        user.pk,
                        entered,
                    )
                )
        with cur.copy(
            "COPY publication_publishedresult (record_version, random, correction_reason, "
            "withdrawn, is_current, company_name, uscc, source_name, publisher_name, "
            "division_code, plan_title, draw_number, check_items, item_codes, checked_on, "
            "result_type, result_label, inspectors, problems, withheld, withheld_reason, "
            "withheld_fields, published_at, organisation_id, task_id) FROM STDIN"
        ) as copy:
            for task_id, org_id, ended in done_tasks:
                if rng.random() < 0.1:
                    continue
                published = datetime.combine(ended, datetime.min.time(), TZ) + timedelta(
                    days=rng.randrange(35), hours=15
                )
                copy.write_row(
                    (
                        1,
                        True,
                        "",
                        False,
                        True,
                        "基准企业",
                        "",
                        "基准污染源",
                        "基准县分局",
                        CITY + "01",
                        "计划",
                        "B",
                        "[]",
                        "[]",
                        ended,
                        1,
                        "未发现问题",
                        "[]",
                        "[]",
                        False,
                        "",
                        "[]",
                        published,
                        org_id,
                        task_id,
                    )
                )
        cur.execute("SET session_replication_role = origin")
    raw.commit()
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE inspections_inspectiontask, inspections_inspectionrecord, "
            "publication_publishedresult, lottery_drawselection, registry_pollutionsource"
        )
    print(f"built {len(selections):,} tasks in {time.perf_counter() - started:.0f} s")


FLOOR_SQL = """
SELECT t.organisation_id, COALESCE(s.stratum, src.supervision_class) AS klass,
       count(*) FILTER (WHERE t.state <> 'cancelled') AS tasks,
       count(*) FILTER (WHERE t.state = 'approved') AS inspected,
       count(*) FILTER (WHERE (SELECT min(r.created_at) FROM inspections_inspectionrecord r
                               WHERE r.task_id = t.id AND r.result_type IS NOT NULL)::date
                              <= t.entry_due) AS entered_on_time,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM publication_publishedresult p
                                      WHERE p.task_id = t.id)) AS published
FROM inspections_inspectiontask t
LEFT JOIN lottery_drawselection s ON s.id = t.selection_id
JOIN registry_pollutionsource src ON src.id = t.source_id
WHERE t.organisation_id = ANY(%s) AND t.period_start BETWEEN %s AND %s
GROUP BY 1, 2
"""


def measure(repeat: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from core.models import Organisation, User

    user = User.objects.get(username="bench_reviewer")
    client = Client()
    client.force_login(user)
    url = "/lottery/quotas/?year=2026&quarter=1"
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    from oversight import selectors as sel

    period = sel.Period(2026, 1, date.today())
    rows = sel.bureau_rows(units=sel.units_for_user(user=user), period=period)
    best_page = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        client.get(url)
        best_page = min(best_page, time.perf_counter() - t)
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    ids = list(
        Organisation.objects.filter(
            division_code__startswith=CITY, kind="county_bureau"
        ).values_list("pk", flat=True)
    )
    best_floor = float("inf")
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")  # as the dashboard's own GROUP BYs run
    for _ in range(repeat):
        t = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(FLOOR_SQL, [ids, date(2026, 1, 1), date(2026, 3, 31)])
            floor_rows = cursor.fetchall()
        best_floor = min(best_floor, time.perf_counter() - t)
    tasks_page = sum(r.counts["tasks"] for r in rows)
    tasks_floor = sum(r[2] for r in floor_rows)
    inspected_page = sum(r.counts["inspected"] for r in rows)
    inspected_floor = sum(r[3] for r in floor_rows)
    assert (tasks_page, inspected_page) == (tasks_floor, inspected_floor), (
        tasks_page,
        tasks_floor,
        inspected_page,
        inspected_floor,
    )
    total = connection.cursor()
    total.execute("SELECT count(*) FROM inspections_inspectionrecord")
    print(
        f"\ncity of {len(ids)} counties, {total.fetchone()[0]:,} inspection records; "
        f"2026 Q1: {tasks_page:,} tasks, {len(rows)} rows, {len(ctx.captured_queries)} queries"
    )
    print(f"dashboard page (server, best of {repeat}): {best_page * 1000:8.0f} ms")
    print(f"floor (one GROUP BY, same counts):      {best_floor * 1000:8.0f} ms")
    print(
        f"ratio: {best_page / best_floor:.1f}x (target <= 3x); "
        f"< 300 ms: {'yes' if best_page < 0.3 else 'no'}"
    )


def measure_workbook(repeat: int) -> None:
    import io

    from openpyxl import Workbook

    from core.models import User
    from oversight.models import Report
    from oversight.reports import STATISTICS_COLUMNS, render_xlsx, report_data

    team = User.objects.get(username="bench_reviewer").organisation
    report = Report(organisation=team, kind=Report.Kind.ANNUAL, year=2026, quarter=0)
    t = time.perf_counter()
    data = report_data(report)
    figures = time.perf_counter() - t
    rows = [
        [quarter] + [r.get(key, "") for key, _label in STATISTICS_COLUMNS]
        for quarter, table in data["tables"].items()
        for r in table
    ]
    headers = ["季度"] + [str(label) for _key, label in STATISTICS_COLUMNS]
    cells = (len(rows) + 1) * len(headers)

    def floor() -> bytes:
        buffer = io.BytesIO()
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("统计表")
        sheet.append(headers)
        for row in rows:
            sheet.append(row)
        workbook.save(buffer)
        return buffer.getvalue()

    best_book = best_floor = float("inf")
    for _ in range(max(repeat, 5)):
        t = time.perf_counter()
        book = render_xlsx(data)
        best_book = min(best_book, time.perf_counter() - t)
        t = time.perf_counter()
        floor()
        best_floor = min(best_floor, time.perf_counter() - t)
    print(
        f"\nannual statistics workbook 2026: {len(rows)} rows x {len(headers)} columns "
        f"= {cells:,} cells, {len(book):,} bytes; its figures (report_data): "
        f"{figures * 1000:.0f} ms"
    )
    print(f"workbook (render_xlsx, best of {max(repeat, 5)}):   {best_book * 1000:8.1f} ms")
    print(f"floor (write-only, same cells):         {best_floor * 1000:8.1f} ms")
    print(f"ratio: {best_book / best_floor:.2f}x (target <= 2x)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--workbook-only", action="store_true", help="only the annual statistics workbook"
    )
    args = parser.parse_args()
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    build(args.records)
    if not args.workbook_only:
        measure(args.repeat)
    measure_workbook(args.repeat)


if __name__ == "__main__":
    main()
