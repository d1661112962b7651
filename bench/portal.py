"""Benchmark: the public portal's result search over 1,000,000 published results.

    .venv/bin/python bench/portal.py                 # builds the data once, then measures
    .venv/bin/python bench/portal.py --seconds 10 --clients 8

On PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/sjsj_bench_portal) it
loads 1,000,000 published results (COPY, once: later runs reuse them), starts gunicorn on
loopback and, with concurrent keep-alive clients, measures requests per second and p50/p99
latency for: a trivial page of the same server (the floor: /favicon.ico, a redirect through
the whole middleware stack, no database), a trivial template page (the login page: the base
template, no query), search by company name, search by credit code, and
a result's page. Targets: search throughput >= 0.5x the trivial page's, p99 <= 4x its p99,
and p99 < 200 ms as a secondary figure.

It also times the daily deadline job (``results_publish_due``) with the million results in
the table against its floor: a bare indexed SELECT of the due ids. Target <= 3x.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sjsj_bench_portal")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("SJSJ_DATA_DIR", "/tmp/sjsj-bench-portal")

N_SOURCES = 100_000
PORT = 18765


def ensure_database() -> None:
    import psycopg

    url = os.environ["DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def build(n_results: int) -> None:
    """100,000 sources, one task and one published result each ten times over (COPY)."""
    from django.db import connection

    from core.models import Organisation
    from core.uscc import make_uscc
    from publication.models import PublishedResult
    from registry.models import PollutionSource

    if PublishedResult.objects.count() >= n_results:
        print(f"reusing {PublishedResult.objects.count():,} published results")
        return
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE publication_publishedresult, publication_pendingpublication, "
            "inspections_inspectiontask, registry_pollutionsource CASCADE"
        )
    org, _ = Organisation.objects.get_or_create(
        division_code="410823",
        kind=Organisation.Kind.COUNTY_BUREAU,
        defaults={"name": "武陟县生态环境分局"},
    )
    PollutionSource.objects.bulk_create(
        [
            PollutionSource(
                organisation=org,
                managed_by="county",
                source_code=f"P{i:09d}",
                name=f"基准污染源{i}",
                company_name=f"基准企业{i}有限公司",
                uscc=make_uscc("91", "410823", f"{i:09d}"),
                supervision_class="general",
            )
            for i in range(N_SOURCES)
        ],
        batch_size=5000,
    )
    sources = list(PollutionSource.objects.order_by("pk").values_list("pk", "company_name", "uscc"))
    raw = connection.connection  # psycopg 3
    day0 = date(2024, 1, 1)
    with (
        raw.cursor() as cur,
        cur.copy(
            "COPY inspections_inspectiontask (kind, mode, trigger, trigger_detail, joint, "
            "joint_sections, joint_authorities, period_start, period_end, state, cancel_reason, "
            "return_reason, created_at, organisation_id, source_id) FROM STDIN"
        ) as copy,
    ):
        for n in range(n_results):
            pk = sources[n % N_SOURCES][0]
            d = day0 + timedelta(days=n % 1000)
            copy.write_row(
                (
                    "targeted",
                    "on_site",
                    "complaint",
                    "",
                    False,
                    "",
                    "",
                    d,
                    d,
                    "approved",
                    "",
                    "",
                    "2024-01-01 00:00+08",
                    org.pk,
                    pk,
                )
            )
    task_ids = [
        r[0]
        for r in connection.cursor()
        .execute("SELECT id FROM inspections_inspectiontask ORDER BY id")
        .fetchall()
    ]
    labels = [
        "未发现问题",
        "未按规定公示应当公示的信息",
        "发现问题已责令改正",
        "不配合检查情节严重",
        "发现问题待后续处理",
    ]
    with (
        raw.cursor() as cur,
        cur.copy(
            "COPY publication_publishedresult (record_version, random, correction_reason, "
            "withdrawn, is_current, company_name, uscc, source_name, publisher_name, "
            "division_code, plan_title, draw_number, check_items, item_codes, checked_on, "
            "result_type, result_label, inspectors, problems, withheld, withheld_reason, "
            "withheld_fields, published_at, organisation_id, task_id) FROM STDIN"
        ) as copy,
    ):
        for n, task_id in enumerate(task_ids):
            _pk, company, uscc = sources[n % N_SOURCES]
            result = 1 + n % 5
            d = day0 + timedelta(days=n % 1000)
            copy.write_row(
                (
                    1,
                    True,
                    "",
                    False,
                    True,
                    company,
                    uscc,
                    f"基准污染源{n % N_SOURCES}",
                    org.name,
                    org.division_code,
                    "2024年抽查计划",
                    f"B{n:08d}",
                    '["01 废水排放检查", "02 固体废物"]',
                    '["01", "02"]',
                    d,
                    result,
                    labels[result - 1],
                    '[{"name": "张三", "certificate_number": "41082300001"}, '
                    '{"name": "李四", "certificate_number": "41082300002"}]',
                    "[]",
                    False,
                    "",
                    "[]",
                    f"{d.isoformat()} 10:00+08",
                    org.pk,
                    task_id,
                )
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE inspections_inspectiontask, publication_publishedresult")
    print(f"built {n_results:,} published results in {time.perf_counter() - started:.0f} s")


def load(paths: list[str], seconds: float, clients: int) -> dict:
    """``clients`` threads, each with one keep-alive connection, for ``seconds``."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client(seed: int) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        mine = []
        while time.perf_counter() < stop:
            path = rng.choice(paths)
            t = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Accept-Language": "zh-hans"})
                response = conn.getresponse()
                response.read()
                if response.status >= 400:
                    errors[0] += 1
            except (OSError, http.client.HTTPException):
                errors[0] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
                continue
            mine.append(time.perf_counter() - t)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "n": len(latencies),
        "errors": errors[0],
    }


def serve():
    env = dict(os.environ)
    return subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "config.wsgi:application",
            "-b",
            f"127.0.0.1:{PORT}",
            "-w",
            "2",
            "-k",
            "gthread",
            "--threads",
            "4",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )


def wait_up() -> None:
    for _ in range(100):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
            conn.request("GET", "/favicon.ico")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def job_vs_floor(today: date) -> tuple[float, float]:
    from django.db import connection

    from publication.models import PendingPublication
    from publication.services import results_publish_due

    best_job = best_floor = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        results_publish_due(today=today)
        best_job = min(best_job, time.perf_counter() - t)
        t = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT task_id FROM {PendingPublication._meta.db_table} WHERE publish_from <= %s",
                [today],
            )
            cursor.fetchall()
        best_floor = min(best_floor, time.perf_counter() - t)
    return best_job, best_floor


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    build(args.results)

    rng = random.Random(7)
    names = [
        f"/public/results/?q={urllib.parse.quote(f'基准企业{rng.randrange(N_SOURCES)}有限')}"
        for _ in range(200)
    ]
    from core.uscc import make_uscc

    codes = [
        f"/public/results/?q={make_uscc('91', '410823', f'{rng.randrange(N_SOURCES):09d}')}"
        for _ in range(200)
    ]
    from publication.models import PublishedResult

    low = PublishedResult.objects.order_by("pk").values_list("pk", flat=True).first()
    pages = [f"/public/results/{low + rng.randrange(args.results)}/" for _ in range(200)]

    server = serve()
    try:
        wait_up()
        for warm in (names[:20], codes[:20], pages[:20]):
            load(warm, 1, 2)
        figures = {}
        for label, paths in (
            ("trivial page (floor)", ["/favicon.ico"]),
            ("trivial template page", ["/accounts/login/"]),
            ("search by company name", names),
            ("search by credit code", codes),
            ("result page", pages),
        ):
            figures[label] = load(paths, args.seconds, args.clients)
    finally:
        server.terminate()
        server.wait()

    floor = figures["trivial page (floor)"]
    page_floor = figures["trivial template page"]
    print(
        f"\n{args.results:,} published results, {args.clients} clients, {args.seconds:.0f} s each"
    )
    print(
        f"{'':26} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'rps/floor':>10} "
        f"{'p99/floor':>10} {'rps/tmpl':>9} {'p99/tmpl':>9}"
    )
    for label, f in figures.items():
        print(
            f"{label:26} {f['rps']:8.0f} {f['p50']:8.1f} {f['p99']:8.1f} "
            f"{f['rps'] / floor['rps']:10.2f} {f['p99'] / floor['p99']:10.2f} "
            f"{f['rps'] / page_floor['rps']:9.2f} {f['p99'] / page_floor['p99']:9.2f}"
            + (f"  ({f['errors']} errors)" if f["errors"] else "")
        )
    print(
        "floor: /favicon.ico (a redirect through every middleware, no template, no query); "
        "tmpl: /accounts/login/ (the base template and a form, no query)"
    )
    job, bare = job_vs_floor(date.today())
    print(
        f"\ndaily job results_publish_due over the table: {job * 1000:.2f} ms; floor "
        f"(indexed SELECT of the due ids): {bare * 1000:.2f} ms; ratio {job / bare:.2f}"
    )


if __name__ == "__main__":
    main()
