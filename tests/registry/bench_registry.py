"""Benchmarks of the object registry at 100,000 sources (not part of the suite).

    .venv/bin/pytest tests/registry/bench_registry.py -s -p no:cacheprovider

Prints figures; asserts only generous ceilings so a regression by an order of magnitude fails.
Runs on the test database (PostgreSQL by default), which it fills and then throws away.
"""

from __future__ import annotations

import random
import statistics
import time

import pytest
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.uscc import make_uscc
from registry.models import PollutionSource
from registry.services import source_bulk_upsert

N = 100_000
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WORDS = ["宏达", "鑫源", "华润", "金牛", "天成", "中原", "恒信", "瑞丰", "永兴", "东方"]
TRADES = [("化工", "C2614"), ("造纸", "C2221"), ("铸造", "C3391"), ("电镀", "C3360")]


def rows_for(counties, n: int, rng: random.Random) -> tuple[list[dict], dict]:
    rows, org_by_code = [], {}
    for i in range(n):
        org = counties[i % len(counties)]
        word, (trade, industry) = rng.choice(WORDS), rng.choice(TRADES)
        company = f"{org.short_name}{word}{trade}有限公司{i // 3}"
        body = "".join(rng.choice(ALPHABET) for _ in range(9))
        klass = rng.choices(["key", "general", "special"], [15, 80, 5])[0]
        code = f"{org.division_code}-{i:07d}"
        rows.append(
            {
                "source_code": code,
                "name": f"{company}{i % 3 + 1}号厂区",
                "company_name": company,
                "uscc": make_uscc("91", org.division_code, body),
                "supervision_class": klass,
                "special_reason": "上年度被列入重点督办" if klass == "special" else "",
                "industry_code": industry,
                "industry_name": trade,
                "pollution_types": rng.sample(["water", "air", "hazardous_waste", "noise"], 2),
                "credit_rating": rng.choice(["green", "blue", "unrated", "yellow", "red"]),
                "complaints_12m": rng.randint(0, 3),
                "address": f"{org.short_name}产业集聚区{i}号",
                "tags": ["园区内"] if i % 7 == 0 else [],
            }
        )
        org_by_code[code] = org
    return rows, org_by_code


def timed(fn, repeat: int = 1) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


@pytest.mark.django_db(transaction=True)
def test_registry_at_100k(orgs, county, county_clerk, city_reviewer, client):
    rng = random.Random(7)
    counties = [o for k, o in orgs.items() if k.startswith("county:4108")]
    rows, org_by_code = rows_for(counties, N, rng)
    # The county's clerk imports his own share; the system loads everyone else's.
    own = [r for r in rows if org_by_code[r["source_code"]] == county]
    others = [r for r in rows if org_by_code[r["source_code"]] != county]

    seconds, counts = timed(
        lambda: source_bulk_upsert(actor=None, organisation_by_code=org_by_code, rows=others)
    )
    print(f"\nbulk upsert, {len(others):,} new rows (system): {seconds:.2f} s {counts}")
    seconds, counts = timed(
        lambda: source_bulk_upsert(actor=county_clerk, organisation_by_code=org_by_code, rows=own)
    )
    print(f"bulk upsert, {len(own):,} new rows (county clerk): {seconds:.2f} s {counts}")
    assert PollutionSource.objects.count() == N

    seconds, counts = timed(
        lambda: source_bulk_upsert(actor=None, organisation_by_code=org_by_code, rows=rows)
    )
    print(f"bulk upsert, {N:,} rows again, nothing changed: {seconds:.2f} s {counts}")
    assert counts == (0, 0, N)
    for row in rows[::10]:
        row["complaints_12m"] += 1
        row["credit_rating"] = "red"
    seconds, counts = timed(
        lambda: source_bulk_upsert(actor=None, organisation_by_code=org_by_code, rows=rows)
    )
    print(f"bulk upsert, {N:,} rows, every tenth changed: {seconds:.2f} s {counts}")
    assert counts[1] == N // 10
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE registry_pollutionsource")

    url = reverse("registry:source_list")
    cases = {
        "county clerk, first page": (county_clerk, {}),
        "city reviewer (whole city), first page": (city_reviewer, {}),
        "city reviewer, class=key & status=active": (
            city_reviewer,
            {"supervision_class": "key", "status": "active"},
        ),
        "city reviewer, q=宏达化工": (city_reviewer, {"q": "宏达化工"}),
        "city reviewer, q=credit-code prefix": (city_reviewer, {"q": rows[5000]["uscc"][:12]}),
        "city reviewer, tag=园区内": (city_reviewer, {"tag": "园区内"}),
        "city reviewer, deep page (after=410883-0090000)": (
            city_reviewer,
            {"after": "410883-0090000"},
        ),
    }
    print(f"\nlist page GET {url}, 50 rows a page, median of 7 (after one warm-up):")
    for label, (user, params) in cases.items():
        client.force_login(user)
        assert client.get(url, params).status_code == 200
        reset_queries()
        seconds, response = timed(lambda p=params: client.get(url, p), repeat=7)
        with CaptureQueriesContext(connection) as queries:
            client.get(url, params)
        print(f"  {label:<52} {seconds * 1000:7.1f} ms  {len(queries)} queries")
        assert response.status_code == 200
        assert seconds < 1.0
