"""The public portal's draw pages (no login): the commitment once committed, the full record
only after disclosure, and a record that the downloaded script verifies."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from lottery import engine
from lottery.display import draw_result
from lottery.models import DrawSelection
from lottery.services import draws_disclose_due, substitution_request
from tests.lottery.scenario import build_world, make_draw, make_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(county, county_clerk, county_leader):
    build_world(county)
    return make_plan(county, county_clerk, county_leader)


def codes(draw):
    return list(
        DrawSelection.objects.filter(draw=draw).values_list("source__source_code", flat=True)
    )


def test_a_prepared_draw_is_not_public(client, plan, county_clerk):
    draw = make_draw(plan, county_clerk, stage="prepared")
    assert client.get(reverse("publication:draw_detail", args=[draw.pk])).status_code == 404
    assert client.get(reverse("publication:draw_manifest", args=[draw.pk])).status_code == 404
    assert draw.number not in client.get(reverse("publication:draw_list")).content.decode()


@pytest.mark.smoke
def test_before_disclosure_the_public_sees_only_the_commitment(client, plan, county_clerk):
    draw = make_draw(plan, county_clerk)
    listing = client.get(reverse("publication:draw_list")).content.decode()
    assert plan.title in listing and draw.manifest_hash[:16] in listing
    # "Record" alone is 监管记录 in the registry's catalog, which wins: the column says 公开记录.
    assert "<th>公开记录</th>" in listing and "监管记录" not in listing
    page = client.get(reverse("publication:draw_detail", args=[draw.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert draw.manifest_hash in html and 'data-testid="public-confidential"' in html
    assert [s.pool_size for s in page.context["summary"].strata] == [20, 40, 4]
    for code in codes(draw):
        assert code not in html
    assert draw.seed not in html and "351624" not in html
    assert client.get(reverse("publication:draw_record", args=[draw.pk])).status_code == 404
    manifest = client.get(reverse("publication:draw_manifest", args=[draw.pk]))
    assert engine.manifest_hash(json.loads(manifest.content)) == draw.manifest_hash


@pytest.mark.smoke
def test_after_disclosure_the_public_sees_the_full_record_and_can_verify_it(
    client, plan, county_clerk, tmp_path
):
    draw = make_draw(plan, county_clerk)
    rows = draw_result(draw).strata[1].rows
    substitution_request(actor=county_clerk, selection=rows[0].selection, reason="内部：待核实")
    draws_disclose_due(today=plan.planned_end.replace(day=28))
    html = client.get(reverse("publication:draw_detail", args=[draw.pk])).content.decode()
    assert "内部：待核实" not in html  # an open request is not public
    for code in codes(draw):
        assert code in html
    team = draw_result(draw).strata[0].rows[0].team
    assert team[0].name in html and team[0].certificate_number in html
    assert draw.seed in html and "351624" in html and "见证人甲" in html
    assert "python verify_draw.py verify record.json" in html
    assert 'data-testid="substitute-form"' not in html  # no staff forms in public

    record = client.get(reverse("publication:draw_record", args=[draw.pk]))
    script = client.get(reverse("publication:verify_script"))
    assert script["Content-Type"].startswith("text/x-python")
    (tmp_path / "record.json").write_bytes(record.content)
    (tmp_path / "verify_draw.py").write_bytes(b"".join(script.streaming_content))
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
    assert run.returncode == 0 and "matches" in run.stdout, run.stderr


def test_the_public_home_page_links_to_the_draw_records(client):
    html = client.get(reverse("home")).content.decode()
    assert reverse("publication:draw_list") in html
    assert reverse("publication:verify_script") in html


def test_the_verify_script_is_the_engine(client):
    body = b"".join(client.get(reverse("publication:verify_script")).streaming_content)
    assert body == Path(engine.__file__).read_bytes()


def test_the_public_list_of_a_large_draw_comes_a_page_at_a_time(
    client, plan, county_clerk, monkeypatch
):
    import lottery.display

    monkeypatch.setattr(lottery.display, "RESULT_PAGE_SIZE", 3)
    draw = make_draw(plan, county_clerk)
    draws_disclose_due(today=plan.planned_end.replace(day=28))
    url = reverse("publication:draw_detail", args=[draw.pk])
    seen = []
    page = 1
    while True:
        html = client.get(url, {"page": page}).content.decode()
        seen += [code for code in codes(draw) if f'data-source="{code}"' in html]
        if 'data-testid="result-next"' not in html:
            break
        page += 1
    assert sorted(seen) == sorted(codes(draw)) and page == -(-len(seen) // 3)
    one = codes(draw)[2]
    html = client.get(url, {"q": one}).content.decode()
    assert html.count('data-testid="result-row"') == 1 and f'data-source="{one}"' in html
