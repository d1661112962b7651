"""Benchmark: a full draw (objects + inspectors, every constraint) on PostgreSQL.

    .venv/bin/python bench/draw.py                      # 10k/100k/300k sources, 50/500/1500 inspectors
    .venv/bin/python bench/draw.py --sizes 100000:500   # one size

For each size it prints the time to prepare (freeze pools, exclusions, weights, tiers,
conflicts, quotas into a manifest), to execute (seed, selection, teams, writing the rows),
and beside them the time to simply read the same pool's ids from the database, so the
overhead is a ratio. Target: prepare + execute <= 1 s at 100,000 and within 3x the read.
Also printed: the Python and PostgreSQL CPU time of the draw (which side it waits for), the
time to read the pool's rows with the columns the draw's own pool query reads, and a floor:
what no correct draw of this kind can skip, done as cheaply as possible and nothing else:
read those rows, one keyed hash (the engine's HMAC) per candidate, and COPY the drawn rows and
team rows into temporary tables without keys or indexes. If floor/read is above 3, the 3x
target is out of reach of any implementation that scores every candidate and stores its
result as rows, however fast the rest.
Uses its own database (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/sjsj_bench).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sjsj_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("SJSJ_DATA_DIR", "/tmp/sjsj-bench")


def ensure_database() -> None:
    import psycopg

    url = os.environ["DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000:50,100000:500,300000:1500")
    parser.add_argument(
        "--preset",
        default="benxi_2025_county",
        help="ratio regime (default: 本溪 2025, the heaviest: 3-year coverage of general objects)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="draw this many times on the same data and print the fastest (the machine is shared)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="print a pyinstrument profile of each phase"
    )
    args = parser.parse_args()
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    print(
        f"{'sources':>8} {'inspectors':>10} {'read ids':>9} {'prepare':>8} {'execute':>8} "
        f"{'total':>7} {'total/read':>10} {'drawn':>6} {'py cpu':>7} {'db cpu':>7} "
        f"{'read rows':>9} {'floor':>7} {'floor/read':>10}"
    )
    for spec in args.sizes.split(","):
        n_sources, n_inspectors = (int(x) for x in spec.split(":"))
        run(n_sources, n_inspectors, args.preset, args.profile, args.repeat)


def setup_world(n_sources: int, n_inspectors: int, preset: str):
    """A clean bench database with one county bureau of ``n_sources`` sources and
    ``n_inspectors`` inspectors, and its published 2026Q2 plan with one check item. Returns
    (organisation, clerk, plan, rng); bench/tasks.py reuses it."""
    from django.db import connection

    from core.models import Organisation, Role
    from core.services import user_create
    from core.uscc import make_uscc
    from inspectors.models import Conflict, Inspector
    from lottery.models import Plan
    from lottery.rules import PRESETS
    from lottery.services import (
        plan_approve,
        plan_create,
        plan_publish,
        plan_submit,
    )
    from registry.models import PollutionSource

    rng = random.Random(n_sources)
    code = f"9{n_sources % 100000:05d}"[:6]
    with connection.cursor() as cursor:  # start clean: the previous run's rows go
        # TRUNCATE, not DELETE: a registry in use is not a table of dead rows.
        cursor.execute(
            "TRUNCATE lottery_teamassignment, lottery_drawselection, lottery_substitution, "
            "lottery_drawentropy, lottery_drawexclusion, lottery_draw, lottery_plan_check_items, "
            "lottery_plan, inspectors_conflict, inspectors_unavailability, "
            "inspectors_inspectorchange, inspectors_inspector, registry_sourcechange, "
            "registry_pollutionsource CASCADE"  # and the inspection tasks made from the draws
        )
    org, _ = Organisation.objects.get_or_create(
        division_code=code,
        kind=Organisation.Kind.COUNTY_BUREAU,
        defaults={"name": f"基准县{code}"},
    )
    for name, role in (("bench_clerk", Role.CLERK), ("bench_leader", Role.LEADER)):
        from django.contrib.auth import get_user_model

        get_user_model().objects.filter(username=name).delete()
        user_create(actor=None, username=name, password="Bench-2026!", role=role, organisation=org)
    clerk = get_user_model().objects.get(username="bench_clerk")
    leader = get_user_model().objects.get(username="bench_leader")
    classes = ["key"] * 15 + ["general"] * 80 + ["special"] * 5
    sources = []
    for i in range(n_sources):
        klass = rng.choice(classes)
        sources.append(
            PollutionSource(
                organisation=org,
                managed_by="county",
                source_code=f"B{i:09d}",
                name=f"基准污染源{i}",
                company_name=f"基准企业{i // 2}",
                uscc=make_uscc("91", "410823", f"{i // 2:09d}"),
                supervision_class=klass,
                special_reason="投诉" if klass == "special" else "",
                status="suspended" if rng.random() < 0.02 else "active",
                positive_list=rng.random() < 0.05,
                credit_rating=rng.choice(["green", "blue", "yellow", "red", "unrated", "unrated"]),
                complaints_12m=rng.choice([0, 0, 0, 1, 3]),
            )
        )
    PollutionSource.objects.bulk_create(sources, batch_size=5000)
    inspectors = Inspector.objects.bulk_create(
        [
            Inspector(
                organisation=org,
                name=f"检查员{i}",
                kind="enforcement",
                certificate_number=f"B{code}{i:06d}",
                certificate_valid_until=date(2030, 1, 1),
                on_staff=True,
                is_active=True,
                expertise=rng.sample(["air", "water", "hazardous_waste", "auto_monitoring"], 2),
            )
            for i in range(n_inspectors)
        ]
    )
    # Conflicts for 1% of sources, so recusal is exercised at scale.
    picked = rng.sample(sources, n_sources // 100)
    Conflict.objects.bulk_create(
        [
            Conflict(
                inspector=rng.choice(inspectors),
                source=s,
                reason="亲属",
                valid_from=date(2020, 1, 1),
            )
            for s in picked
        ]
    )
    with connection.cursor() as cursor:  # as autovacuum would have, in a registry in use
        cursor.execute(
            "ANALYZE registry_pollutionsource, inspectors_inspector, inspectors_conflict"
        )
    from django.utils import timezone

    from registry.models import CheckItem

    item, _ = CheckItem.objects.get_or_create(
        organisation=org,
        year=2026,
        code="BENCH-01",
        defaults={
            "name": "基准抽查事项",
            "legal_basis": "《中华人民共和国环境保护法》",
            "checking_body": org.name,
            "published_at": timezone.now(),
        },
    )
    plan = plan_create(
        actor=clerk,
        check_items=[item],
        organisation=org,
        kind=Plan.Kind.QUARTERLY,
        year=2026,
        quarter=2,
        title="基准",
        classes=["key", "general", "special"],
        rules=[r for r in PRESETS[preset].rules if r["kind"] != "risk_weight"]
        + [
            {
                "kind": "risk_weight",
                "credit": {"red": 3, "yellow": 2},
                "complaints_at_least": 3,
                "complaints": 2,
            }
        ],
        planned_start=date(2026, 4, 15),
        planned_end=date(2026, 6, 20),
    )
    plan = plan_submit(actor=clerk, plan=plan)
    plan = plan_publish(actor=leader, plan=plan_approve(actor=leader, plan=plan))
    return org, clerk, plan, rng


def run(
    n_sources: int, n_inspectors: int, preset: str, profile: bool = False, repeat: int = 3
) -> None:
    from django.db import connection

    org, clerk, plan, rng = setup_world(n_sources, n_inspectors, preset)
    best = None
    reads, row_reads = [], []
    for attempt in range(repeat):
        if attempt:  # the same plan again: the previous attempt's draw goes
            with connection.cursor() as cursor:
                cursor.execute(
                    "TRUNCATE lottery_teamassignment, lottery_drawselection, "
                    "lottery_substitution, lottery_drawentropy, lottery_drawexclusion, "
                    "lottery_draw CASCADE"
                )
        figures = attempt_draw(plan, org, clerk, rng, profile)
        reads.append(figures[0])
        row_reads.append(figures[6])
        if best is None or figures[1] + figures[2] < best[1] + best[2]:
            best = figures
    _read, prepare, execute, drawn, cpu, db, _read_rows = best
    # Like the draw, each read counts its fastest attempt: the ratios compare best with best.
    read, read_rows = min(reads), min(row_reads)
    total = prepare + execute
    floor = min(floor_time(org) for _ in range(repeat))
    print(
        f"{n_sources:>8} {n_inspectors:>10} {read:>8.3f}s {prepare:>7.3f}s {execute:>7.3f}s "
        f"{total:>6.3f}s {total / read:>9.1f}x {drawn:>6} {cpu:>6.3f}s {db:>6.3f}s "
        f"{read_rows:>8.3f}s {floor:>6.3f}s {floor / read:>9.1f}x",
        flush=True,
    )
    commit = min(commitment_time() for _ in range(repeat))
    print(
        f"{'':>8} total/floor {total / floor:.2f}x · the commitment (canonical manifest + "
        f"SHA-256, which the floor leaves out) {commit:.3f}s · total/(floor + commitment) "
        f"{total / (floor + commit):.2f}x",
        flush=True,
    )


def commitment_time() -> float:
    """What committing to the inputs costs at least: encode the draw's manifest canonically
    and hash it (no correct draw can skip publishing this hash before the entropy)."""
    import hashlib
    import json

    from lottery import engine
    from lottery.models import Draw

    manifest = json.loads(Draw.objects.order_by("-pk").values_list("manifest_json", flat=True)[0])
    t0 = time.perf_counter()
    hashlib.sha256(engine.canonical_json(manifest)).hexdigest()
    return time.perf_counter() - t0


def floor_time(org) -> float:
    """The least a draw of this kind must do, and only that (see the module docstring), on the
    same data as the draw just timed: read the pool's rows, score every candidate, write the
    rows of the drawn sources and their teams (as many as the draw wrote) without any check."""
    from django.db import connection, transaction

    from lottery import engine
    from lottery.models import DrawSelection, TeamAssignment

    n_drawn = DrawSelection.objects.count()
    n_team = TeamAssignment.objects.count()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE floor_selection (id bigint, draw_id bigint, source_id bigint, "
            "stratum text, position integer, mode text, joint boolean, created_at timestamptz) "
            "ON COMMIT DROP; CREATE TEMP TABLE floor_team (id bigint, selection_id bigint, "
            "inspector_id bigint, role text) ON COMMIT DROP"
        )
        t0 = time.perf_counter()
        cursor.execute(
            "SELECT id, source_code, supervision_class, status, positive_list, "
            "positive_list_until, credit_rating, last_penalty_date, complaints_12m "
            "FROM registry_pollutionsource WHERE organisation_id = %s",
            [org.pk],
        )
        rows = cursor.fetchall()
        pool = sorted(({"id": r[1], "weight": 1, "tier": 0} for r in rows), key=lambda e: e["id"])
        mac = engine._HmacSha256(bytes(32))
        engine._scores(mac, "general", pool)
        ids = [r[0] for r in rows]
        with cursor.cursor.copy(
            "COPY floor_selection (id, draw_id, source_id, stratum, position, mode, joint, "
            "created_at) FROM STDIN"
        ) as copy:
            for i in range(n_drawn):
                copy.write_row((i, 1, ids[i], "general", i, "on_site", False, "2026-04-01"))
        with cursor.cursor.copy(
            "COPY floor_team (id, selection_id, inspector_id, role) FROM STDIN"
        ) as copy:
            for i in range(n_team):
                copy.write_row((i, i // 2, i % 500, "member"))
        return time.perf_counter() - t0


def attempt_draw(plan, org, clerk, rng, profile: bool) -> tuple:
    from lottery.models import Draw
    from lottery.services import draw_add_entropy, draw_commit, draw_execute, draw_prepare
    from registry.models import PollutionSource

    t0 = time.perf_counter()
    list(PollutionSource.objects.filter(organisation=org).values_list("id", flat=True))
    read = time.perf_counter() - t0
    t0 = time.perf_counter()
    list(  # the columns the draw's pool query reads, for a second point of comparison
        PollutionSource.objects.filter(organisation=org)
        .order_by()
        .values_list(
            "id",
            "source_code",
            "supervision_class",
            "status",
            "positive_list",
            "positive_list_until",
            "credit_rating",
            "last_penalty_date",
            "complaints_12m",
        )
    )
    read_rows = time.perf_counter() - t0
    profiler = _profiler(profile)
    db0 = _backend_cpu()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    draw = draw_prepare(actor=clerk, plan=plan)
    prepare = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    _report(profiler, "prepare")
    draw = draw_commit(actor=clerk, draw=draw)
    for i in range(2):
        draw_add_entropy(
            actor=clerk,
            draw=draw,
            witness_name=f"见证人{i}",
            witness_role="",
            value=f"{rng.randrange(10**6):06d}",
        )
    profiler = _profiler(profile)
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    draw = draw_execute(actor=clerk, draw=draw)
    execute = time.perf_counter() - t0
    cpu += time.process_time() - cpu0
    db = _backend_cpu() - db0 if db0 is not None else float("nan")
    _report(profiler, "execute")
    drawn = sum(len(v) for v in Draw.objects.get(pk=draw.pk).result["objects"].values())
    return read, prepare, execute, drawn, cpu, db, read_rows


def _backend_cpu() -> float | None:
    """CPU seconds used so far by this connection's PostgreSQL backend (a local server only):
    with the Python process's own, it shows which side a draw waits for."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _profiler(enabled: bool):
    if not enabled:
        return None
    from pyinstrument import Profiler  # optional: pip install pyinstrument

    profiler = Profiler(interval=0.0005)
    profiler.start()
    return profiler


def _report(profiler, phase: str) -> None:
    if profiler is not None:
        profiler.stop()
        print(f"--- {phase} ---")
        print(profiler.output_text(unicode=False, color=False, show_all=False))


if __name__ == "__main__":
    main()
