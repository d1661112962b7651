"""The draw ceremony end to end on the database: prepare, commit, entropy, execute, verify,
substitute; refusals; and two simultaneous executions producing exactly one draw."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone

from core.errors import ServiceError
from core.models import AuditEntry
from lottery import engine
from lottery.models import Draw, DrawExclusion, DrawSelection, Plan, Substitution, TeamAssignment
from lottery.rules import PRESETS
from lottery.selectors import effective_selections, effective_teams
from lottery.services import (
    draw_add_entropy,
    draw_commit,
    draw_execute,
    draw_prepare,
    draw_record,
    plan_create,
    substitution_decide,
    substitution_request,
)
from tests.lottery.factories import make_inspectors, make_sources
from tests.lottery.scenario import complete_checks, publish
from tests.sql import triggers_off


@pytest.fixture
def world(county, county_clerk, county_leader):
    make_sources(county, 40, klass="key")
    make_sources(county, 200, klass="general")
    make_sources(county, 6, klass="special")
    make_sources(county, 3, klass="key", status="suspended")
    make_sources(county, 2, klass="general", status="cancelled")
    make_inspectors(county, 12)
    return county


def _plan(world, clerk, leader, preset="luliang_2020_county", quarter=1, year=2026, **kw):
    plan = plan_create(
        actor=clerk,
        organisation=world,
        kind=Plan.Kind.QUARTERLY,
        year=year,
        quarter=quarter,
        title=f"{year}Q{quarter}",
        classes=["key", "general", "special"],
        rules=PRESETS[preset].rules,
        planned_start=date(year, 3 * quarter - 2, 15),
        planned_end=date(year, 3 * quarter, 20),
        **kw,
    )
    return publish(plan, clerk, leader)


def _run(draw, clerk, values=("351 624", "６６１２３４")):
    draw = draw_commit(actor=clerk, draw=draw)
    for i, value in enumerate(values):
        draw_add_entropy(
            actor=clerk, draw=draw, witness_name=f"见证人{i}", witness_role="群众代表", value=value
        )
    return draw_execute(actor=clerk, draw=draw)


def test_a_full_draw_meets_quotas_and_verifies(world, county_clerk, county_leader):
    plan = _plan(world, county_clerk, county_leader)
    draw = draw_prepare(actor=county_clerk, plan=plan)
    quotas = {q["class"]: q["required"] for q in draw.quotas}
    # key: 40 eligible (3 suspended excluded): 25% = 10, coverage 40/4 = 10 -> 10.
    # general: 200 eligible; 1:10 with 12 inspectors = 120/yr -> 30 this quarter.
    # special: 25% of 6 = ceil(1.5) = 2.
    assert quotas == {"key": 10, "general": 30, "special": 2}
    reasons = sorted(DrawExclusion.objects.filter(draw=draw).values_list("reason", flat=True))
    assert reasons == ["cancelled", "cancelled", "suspended", "suspended", "suspended"]
    draw = _run(draw, county_clerk)
    assert draw.status == Draw.Status.EXECUTED
    counts = {k: len(v) for k, v in draw.result["objects"].items()}
    assert counts == quotas
    assert engine.verify(draw_record(draw)) == []
    teams = effective_teams(effective_selections(draw))
    for selection_team in teams.values():
        roles = sorted(a.role for a in selection_team)
        assert roles.count("leader") == 1 and len(roles) >= 2
    assert AuditEntry.objects.filter(action="draw.execute", object_id=str(draw.pk)).exists()


def test_a_draw_cannot_be_redone(world, county_clerk, county_leader):
    plan = _plan(world, county_clerk, county_leader)
    draw = _run(draw_prepare(actor=county_clerk, plan=plan), county_clerk)
    with pytest.raises(ServiceError, match="already been executed|已执行"):
        draw_execute(actor=county_clerk, draw=draw)
    with pytest.raises(ServiceError):
        draw_prepare(actor=county_clerk, plan=plan)
    with pytest.raises(ServiceError):
        draw_add_entropy(
            actor=county_clerk, draw=draw, witness_name="x", witness_role="", value="999999"
        )


def test_entropy_only_after_commitment_and_witnesses_required(world, county_clerk, county_leader):
    draw = draw_prepare(actor=county_clerk, plan=_plan(world, county_clerk, county_leader))
    with pytest.raises(ServiceError):
        draw_add_entropy(
            actor=county_clerk, draw=draw, witness_name="甲", witness_role="", value="111111"
        )
    draw_commit(actor=county_clerk, draw=draw)
    draw_add_entropy(
        actor=county_clerk, draw=draw, witness_name="甲", witness_role="", value="111111"
    )
    with pytest.raises(ServiceError):
        draw_execute(actor=county_clerk, draw=draw)  # 2 witnesses required, 1 entered
    with pytest.raises(ServiceError):
        draw_add_entropy(
            actor=county_clerk, draw=draw, witness_name="乙", witness_role="", value="  "
        )


def test_entropy_refuses_a_second_value_from_a_witness_and_any_value_beyond_the_count(
    world, county_clerk, county_leader
):
    """The manifest fixes one value per witness and how many; values can never be removed, so
    accepting an extra one or a repeated witness would leave a draw that can never execute."""
    draw = draw_prepare(actor=county_clerk, plan=_plan(world, county_clerk, county_leader))
    draw_commit(actor=county_clerk, draw=draw)
    draw_add_entropy(
        actor=county_clerk, draw=draw, witness_name="张三", witness_role="", value="111111"
    )
    for same in ("张三", " 张三 ", "张\u3000三"):  # spaces are removed at entry
        with pytest.raises(ServiceError, match="张三"):
            draw_add_entropy(
                actor=county_clerk, draw=draw, witness_name=same, witness_role="", value="222222"
            )
    with pytest.raises(ServiceError, match="U\\+200B"):  # an invisible character: refused
        draw_add_entropy(
            actor=county_clerk, draw=draw, witness_name="张\u200b三", witness_role="", value="2"
        )
    draw_add_entropy(
        actor=county_clerk, draw=draw, witness_name="李四", witness_role="", value="４５６７８９"
    )
    with pytest.raises(ServiceError, match="2"):
        draw_add_entropy(
            actor=county_clerk, draw=draw, witness_name="王五", witness_role="", value="333333"
        )
    assert draw.entropy.count() == 2
    assert AuditEntry.objects.filter(action="draw.entropy", object_id=str(draw.pk)).count() == 2
    executed = draw_execute(actor=county_clerk, draw=draw)  # the values it has still execute
    assert executed.status == Draw.Status.EXECUTED


def test_an_unapproved_plan_cannot_be_drawn(world, county_clerk):
    plan = plan_create(
        actor=county_clerk,
        organisation=world,
        kind=Plan.Kind.QUARTERLY,
        year=2026,
        quarter=2,
        title="draft",
        classes=["key"],
        rules=PRESETS["wuzhi_2021"].rules,
        planned_start=date(2026, 4, 15),
        planned_end=date(2026, 6, 20),
    )
    with pytest.raises(ServiceError):
        draw_prepare(actor=county_clerk, plan=plan)


def test_others_cannot_operate_the_draw(
    world, county_clerk, county_leader, outsider_clerk, inspector_a
):
    plan = _plan(world, county_clerk, county_leader)
    for user in (outsider_clerk, inspector_a):
        with pytest.raises(ServiceError):
            draw_prepare(actor=user, plan=plan)


def test_too_few_inspectors_is_refused_with_the_reason(county, county_clerk, county_leader):
    make_sources(county, 10, klass="key")
    make_inspectors(county, 1)
    make_inspectors(county, 5, valid_until=date(2020, 1, 1))  # expired certificates
    with pytest.raises(ServiceError, match="1"):
        draw_prepare(actor=county_clerk, plan=_plan(county, county_clerk, county_leader))


def test_a_year_of_quarterly_draws_covers_every_key_object(world, county_clerk, county_leader):
    seen: set[int] = set()
    for quarter in (1, 2, 3, 4):
        plan = _plan(world, county_clerk, county_leader, quarter=quarter)
        draw = _run(
            draw_prepare(actor=county_clerk, plan=plan),
            county_clerk,
            values=(f"{quarter}11111", f"{quarter}22222"),
        )
        seen |= {s.source_id for s in effective_selections(draw) if s.stratum == "key"}
    eligible_key = set(
        world.sources.filter(supervision_class="key", status="active").values_list("pk", flat=True)
    )
    assert seen == eligible_key


def test_an_object_substitution_takes_the_next_in_the_verifiable_order(
    world, county_clerk, county_leader
):
    draw = _run(
        draw_prepare(actor=county_clerk, plan=_plan(world, county_clerk, county_leader)),
        county_clerk,
    )
    first = effective_selections(draw)[0]
    sub = substitution_request(actor=county_clerk, selection=first, reason="企业已停产")
    with pytest.raises(ServiceError):
        substitution_decide(actor=county_clerk, substitution=sub, approve=True)  # not a leader
    substitution_decide(actor=county_leader, substitution=sub, approve=True)
    manifest = draw_record(draw)["manifest"]
    stratum = next(s for s in manifest["strata"] if s["name"] == first.stratum)
    order = engine.stratum_order(bytes.fromhex(draw.seed), stratum)
    quota = stratum["quota"]
    replacement = DrawSelection.objects.get(substitution=sub)
    assert replacement.source.source_code == order[quota]  # the next one after the quota
    current = {s.pk for s in effective_selections(draw)}
    assert first.pk not in current and replacement.pk in current
    assert len(effective_teams([replacement])[replacement.pk]) >= 2
    # The original rows are untouched: verification of the original draw still matches.
    assert engine.verify(draw_record(draw)) == []


def test_a_recusal_replaces_one_inspector_and_keeps_the_rest(world, county_clerk, county_leader):
    draw = _run(
        draw_prepare(actor=county_clerk, plan=_plan(world, county_clerk, county_leader)),
        county_clerk,
    )
    selection = effective_selections(draw)[0]
    team = effective_teams([selection])[selection.pk]
    recused = next(a for a in team if a.role == "member")
    sub = substitution_request(
        actor=county_clerk,
        selection=selection,
        reason="与企业负责人系亲属",
        inspector=recused.inspector,
    )
    substitution_decide(actor=county_leader, substitution=sub, approve=True)
    new_team = effective_teams([selection])[selection.pk]
    new_ids = {a.inspector_id for a in new_team}
    assert recused.inspector_id not in new_ids
    assert {a.inspector_id for a in team if a.role == "leader"} <= new_ids
    assert len(new_ids) == len(team)


def test_drawn_rows_cannot_be_edited_or_deleted_on_postgresql(world, county_clerk, county_leader):
    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger exists on PostgreSQL")
    draw = _run(
        draw_prepare(actor=county_clerk, plan=_plan(world, county_clerk, county_leader)),
        county_clerk,
    )
    selection = DrawSelection.objects.filter(draw=draw).first()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        DrawSelection.objects.filter(pk=selection.pk).update(position=999)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        TeamAssignment.objects.filter(selection=selection).delete()


def test_a_tampered_result_row_fails_verification_and_says_where(
    world, county_clerk, county_leader
):
    draw = _run(
        draw_prepare(actor=county_clerk, plan=_plan(world, county_clerk, county_leader)),
        county_clerk,
    )
    selection = DrawSelection.objects.filter(draw=draw, stratum="key", position=3).get()
    other = (
        world.sources.filter(supervision_class="key")
        .exclude(pk__in=DrawSelection.objects.filter(draw=draw).values("source_id"))
        .exclude(status="suspended")
        .first()
    )
    with connection.cursor() as cursor:
        # An intruder with superuser access switches triggers off for the session.
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            "UPDATE lottery_drawselection SET source_id = %s WHERE id = %s",
            [other.pk, selection.pk],
        )
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")
    problems = engine.verify(draw_record(draw))
    assert problems and any("key" in p and "3" in p for p in problems), problems


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_executions_produce_exactly_one_draw(orgs):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL")
    from core.models import Role
    from core.services import user_create

    county = orgs["county:410823"]
    clerk = user_create(
        actor=None, username="c1", password="x-Test-2026", role=Role.CLERK, organisation=county
    )
    clerk2 = user_create(
        actor=None, username="c2", password="x-Test-2026", role=Role.CLERK, organisation=county
    )
    leader = user_create(
        actor=None, username="l1", password="x-Test-2026", role=Role.LEADER, organisation=county
    )
    make_sources(county, 30, klass="key")
    make_inspectors(county, 6)
    draw = draw_prepare(actor=clerk, plan=_plan(county, clerk, leader))
    draw = draw_commit(actor=clerk, draw=draw)
    for i in range(2):
        draw_add_entropy(
            actor=clerk, draw=draw, witness_name=f"w{i}", witness_role="", value=f"{i}77777"
        )
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(user):
        try:
            barrier.wait()
            draw_execute(actor=user, draw=Draw.objects.get(pk=draw.pk))
            outcomes.append("executed")
        except ServiceError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(u,)) for u in (clerk, clerk2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["executed", "refused"]
    assert DrawSelection.objects.filter(draw=draw).count() == 8  # 25% of 30 = ceil(7.5)
    assert AuditEntry.objects.filter(action="draw.execute").count() == 1


@pytest.mark.parametrize(
    ("preset", "cycle_quarters"),
    [
        ("luliang_2020_county", (1, 2, 3, 4)),  # every key object each year
        ("benxi_2025_county", (1, 2, 3, 4)),  # every key object each year
        ("hengshui_gxq_2023", (1, 2)),  # every key object each half-year
        ("hengshui_gxq_2023", (3, 4)),
    ],
)
def test_each_regime_covers_every_key_object_within_its_cycle(
    world, county_clerk, county_leader, preset, cycle_quarters
):
    seen: set[int] = set()
    for quarter in cycle_quarters:
        plan = _plan(world, county_clerk, county_leader, preset=preset, quarter=quarter)
        draw = _run(
            draw_prepare(actor=county_clerk, plan=plan),
            county_clerk,
            values=(f"{quarter}33333", f"{quarter}44444"),
        )
        selections = effective_selections(draw)
        excluded = set(draw.exclusions.values_list("source_id", flat=True))
        assert not excluded & {s.source_id for s in selections}
        seen |= {s.source_id for s in selections if s.stratum == "key"}
    eligible_key = set(
        world.sources.filter(supervision_class="key", status="active").values_list("pk", flat=True)
    )
    assert seen == eligible_key


def test_positive_list_sources_are_drawn_for_off_site_supervision(
    world, county_clerk, county_leader
):
    world.sources.filter(supervision_class="key").update(positive_list=True)
    plan = _plan(world, county_clerk, county_leader, preset="benxi_2025_county")
    draw = _run(draw_prepare(actor=county_clerk, plan=plan), county_clerk)
    modes = {s.mode for s in effective_selections(draw) if s.stratum == "key"}
    assert modes == {"off_site"}


def test_positive_list_sources_are_excluded_where_the_regime_exempts_them(
    world, county_clerk, county_leader
):
    listed = list(world.sources.filter(supervision_class="key")[:5])
    world.sources.filter(pk__in=[s.pk for s in listed]).update(positive_list=True)
    plan = _plan(world, county_clerk, county_leader, preset="luliang_2020_county")
    draw = draw_prepare(actor=county_clerk, plan=plan)
    reasons = dict(draw.exclusions.values_list("source_id", "reason"))
    assert all(reasons[s.pk] == "positive_list" for s in listed)


def test_the_frequency_cap_excludes_sources_checked_twice_this_year(
    county, county_clerk, county_leader
):
    from registry.models import CheckItem

    make_sources(county, 4, klass="key")
    make_inspectors(county, 4)
    item = CheckItem.objects.create(
        organisation=county,
        year=2026,
        code="01",
        name="污染防治设施运行情况",
        legal_basis="《环境保护法》",
        checking_body="生态环境分局",
        method="on_site",
        published_at=timezone.now(),
    )
    for quarter in (1, 2):  # 4 key objects, a quarter takes 25% .. coverage takes all 4/4, 4/3
        plan = _plan(
            county,
            county_clerk,
            county_leader,
            preset="benxi_2025_county",
            quarter=quarter,
            check_items=[item],
        )
        complete_checks(
            _run(
                draw_prepare(actor=county_clerk, plan=plan),
                county_clerk,
                values=(f"{quarter}55555", f"{quarter}66666"),
            )
        )
    # Checked so far this year for item 01: counted per source; those at 2 are excluded now.
    plan = _plan(
        county,
        county_clerk,
        county_leader,
        preset="benxi_2025_county",
        quarter=3,
        check_items=[item],
    )
    draw = draw_prepare(actor=county_clerk, plan=plan)
    capped = set(draw.exclusions.filter(reason="frequency_cap").values_list("source_id", flat=True))
    twice = {
        sid
        for sid in county.sources.values_list("pk", flat=True)
        if DrawSelection.objects.filter(source_id=sid, draw__plan__year=2026).count() >= 2
    }
    assert capped == twice


def test_an_inspector_sees_own_tasks_and_loses_them_on_recusal(
    county, county_clerk, county_leader, inspector_a
):
    from inspectors.models import Inspector
    from lottery.selectors import selections_for_inspector

    make_sources(county, 8, klass="key")
    people = make_inspectors(county, 4)
    Inspector.objects.filter(pk=people[0].pk).update(user=inspector_a)
    draw = _run(
        draw_prepare(actor=county_clerk, plan=_plan(county, county_clerk, county_leader)),
        county_clerk,
    )
    mine = {
        a.selection_id
        for a in TeamAssignment.objects.filter(selection__draw=draw, inspector=people[0])
    }
    assert (
        mine
        and set(selections_for_inspector(user=inspector_a).values_list("pk", flat=True)) == mine
    )
    selection = DrawSelection.objects.get(pk=next(iter(mine)))
    sub = substitution_request(
        actor=county_clerk, selection=selection, reason="回避", inspector=people[0]
    )
    substitution_decide(actor=county_leader, substitution=sub, approve=True)
    visible = set(selections_for_inspector(user=inspector_a).values_list("pk", flat=True))
    assert selection.pk not in visible and visible == mine - {selection.pk}


def test_a_bureau_saves_its_own_rule_set_and_plans_snapshot_it(county, county_clerk, sysadmin):
    from lottery.models import RuleSet
    from lottery.services import ruleset_save

    rules = [{"kind": "class_percentage", "class": "key", "percent": 30, "per": "quarter"}]
    ruleset = ruleset_save(
        actor=sysadmin, organisation=county, code="wuzhi-2027", name="武陟2027", rules=rules
    )
    plan = plan_create(
        actor=county_clerk,
        organisation=county,
        kind=Plan.Kind.QUARTERLY,
        year=2026,
        quarter=3,
        title="自定义",
        classes=["key"],
        ruleset=ruleset,
        planned_start=date(2026, 7, 15),
        planned_end=date(2026, 9, 20),
    )
    ruleset_save(
        actor=sysadmin,
        organisation=county,
        code="wuzhi-2027",
        name="武陟2027",
        rules=[{"kind": "no_minimum", "class": "key"}],
    )
    plan.refresh_from_db()
    assert plan.rules == rules  # the plan keeps what it was made with
    assert RuleSet.objects.filter(organisation=county).count() == 1
    with pytest.raises(ServiceError):
        ruleset_save(
            actor=sysadmin,
            organisation=county,
            code="bad",
            name="x",
            rules=[{"kind": "class_percentage", "class": "key", "percent": 300, "per": "quarter"}],
        )


def test_a_manifest_changed_after_commitment_is_refused_at_execution(
    world, county_clerk, county_leader
):
    draw = draw_commit(
        actor=county_clerk,
        draw=draw_prepare(actor=county_clerk, plan=_plan(world, county_clerk, county_leader)),
    )
    for i in range(2):
        draw_add_entropy(
            actor=county_clerk, draw=draw, witness_name=f"w{i}", witness_role="", value=f"{i}99999"
        )
    # Someone with database access changes a weight in a frozen pool after the commitment.
    tampered = draw.manifest_json.replace('"weight":1', '"weight":2', 1)
    with triggers_off():  # the database refuses it otherwise: an attacker as superuser
        Draw.objects.filter(pk=draw.pk).update(manifest_json=tampered)
    with pytest.raises(ServiceError):
        draw_execute(actor=county_clerk, draw=draw)
    assert not DrawSelection.objects.filter(draw=draw).exists()


def test_a_failure_while_teams_are_stored_leaves_nothing_written(
    world, county_clerk, county_leader, monkeypatch
):
    """The result is written while the teams are computed (on PostgreSQL by a second thread,
    a few rows per statement here); a team that cannot be made halfway, or a row the
    database refuses, must leave no drawn row behind and the draw still committed."""
    from lottery.services import storage

    monkeypatch.setattr(storage, "_TEAM_ROWS_PER_COPY", 4)
    plan = _plan(world, county_clerk, county_leader)
    draw = draw_commit(actor=county_clerk, draw=draw_prepare(actor=county_clerk, plan=plan))
    for i in range(2):
        draw_add_entropy(
            actor=county_clerk,
            draw=draw,
            witness_name=f"见证人{i}",
            witness_role="",
            value="555555",
        )
    real_iter_teams = engine.iter_teams

    def failing_halfway(seed, manifest, objects):
        for number, team in enumerate(real_iter_teams(seed, manifest, objects)):
            if number == 20:
                raise engine.ConstraintError(team["object"], "nobody left")
            yield team

    monkeypatch.setattr(engine, "iter_teams", failing_halfway)
    with pytest.raises(ServiceError, match="nobody left"):
        draw_execute(actor=county_clerk, draw=draw)

    def unknown_inspector(seed, manifest, objects):
        for number, team in enumerate(real_iter_teams(seed, manifest, objects)):
            yield {**team, "leader": "I999999"} if number == 15 else team

    if connection.vendor == "postgresql":  # SQLite checks foreign keys only at the commit
        monkeypatch.setattr(engine, "iter_teams", unknown_inspector)
        with pytest.raises(DatabaseError):
            draw_execute(actor=county_clerk, draw=draw)
    assert not DrawSelection.objects.filter(draw=draw).exists()
    assert not TeamAssignment.objects.filter(selection__draw=draw).exists()
    assert Draw.objects.get(pk=draw.pk).status == Draw.Status.COMMITTED

    monkeypatch.setattr(engine, "iter_teams", real_iter_teams)
    draw = draw_execute(actor=county_clerk, draw=draw)
    assert TeamAssignment.objects.filter(selection__draw=draw).count() == 2 * sum(
        len(codes) for codes in draw.result["objects"].values()
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the writer thread is PostgreSQL's")
def test_a_writer_failing_at_its_first_statement_stops_the_draw_with_its_error(
    world, county_clerk, county_leader, monkeypatch
):
    """The writer reads the selections' ids while the first stratum is scored; if that very
    first statement fails, the draw stops with the database's error instead of waiting for
    ids that never come, and nothing is written."""
    plan = _plan(world, county_clerk, county_leader)
    draw = draw_commit(actor=county_clerk, draw=draw_prepare(actor=county_clerk, plan=plan))
    for i in range(2):
        draw_add_entropy(
            actor=county_clerk,
            draw=draw,
            witness_name=f"见证人{i}",
            witness_role="",
            value="246810",
        )
    monkeypatch.setattr(DrawSelection._meta, "db_table", "lottery_no_such_table")
    with pytest.raises(DatabaseError):
        draw_execute(actor=county_clerk, draw=draw)
    monkeypatch.undo()
    assert not DrawSelection.objects.filter(draw=draw).exists()
    assert Draw.objects.get(pk=draw.pk).status == Draw.Status.COMMITTED
    assert draw_execute(actor=county_clerk, draw=draw).status == Draw.Status.EXECUTED


def test_a_company_wide_conflict_keeps_the_inspector_off_every_site_of_that_company(
    county, county_clerk, county_leader
):
    from inspectors.services import conflict_declare
    from registry.models import PollutionSource

    sites = make_sources(county, 8, klass="key")
    # Seven sites of one company (one credit code), as in the Shanghai list; one other.
    company = sites[:7]
    PollutionSource.objects.filter(pk__in=[s.pk for s in company]).update(uscc=sites[0].uscc)
    people = make_inspectors(county, 3)
    conflict_declare(
        actor=county_clerk,
        inspector=people[0],
        company_uscc=sites[0].uscc,
        reason="亲属持股",
        valid_from=date(2025, 1, 1),
    )
    plan = _plan(county, county_clerk, county_leader, preset="wuzhi_2021")
    draw = draw_prepare(actor=county_clerk, plan=plan)
    assert engine.load_json(draw.manifest_json)["constraints"]["objects"] == {
        site.source_code: {"conflicts": [f"I{people[0].pk}"], "previous": [], "requires": []}
        for site in company
    }
    draw = _run(draw, county_clerk)
    teams = TeamAssignment.objects.filter(
        selection__draw=draw, selection__source__in=[s.pk for s in company]
    )
    assert teams.exists()  # at least 2 of the 8 are drawn, so at least one of the seven
    assert not teams.filter(inspector=people[0]).exists()


def test_a_drawn_source_gone_from_the_registry_refuses_the_draw_and_names_it(
    world, county_clerk, county_leader
):
    from registry.models import PollutionSource

    plan = _plan(world, county_clerk, county_leader)
    draw = draw_commit(actor=county_clerk, draw=draw_prepare(actor=county_clerk, plan=plan))
    for i in range(2):
        draw_add_entropy(
            actor=county_clerk,
            draw=draw,
            witness_name=f"见证人{i}",
            witness_role="",
            value="777777",
        )
    # Only by hand in the database: the registry itself never deletes a source.
    gone = PollutionSource.objects.filter(
        organisation=world, supervision_class="key", status="active"
    )
    codes = sorted(gone.values_list("source_code", flat=True))
    gone.delete()
    with pytest.raises(ServiceError) as refused:
        draw_execute(actor=county_clerk, draw=draw)
    assert any(code in str(refused.value) for code in codes)
    assert not DrawSelection.objects.filter(draw=draw).exists()
    assert Draw.objects.get(pk=draw.pk).status == Draw.Status.COMMITTED


def test_a_recusal_the_frozen_pool_cannot_fill_is_refused_when_asked_in_words(
    world, county, county_clerk, county_leader
):
    """Found by clicking through: recusing the only holder of an expertise the source needs
    sat waiting for a leader who then got the engine's English. It is refused when asked,
    in Chinese, naming the expertise and what can be done instead: replace the source."""
    from tests.lottery.factories import make_check_item

    (only,) = make_inspectors(county, 1, expertise=["permit"])
    item = make_check_item(county, "ZX-03", expertise=["permit"], name="排污许可执行情况")
    draw = _run(
        draw_prepare(
            actor=county_clerk,
            plan=_plan(world, county_clerk, county_leader, check_items=[item]),
            max_team_share=100,  # the lone holder goes on every team: accepted for this plan
        ),
        county_clerk,
    )
    selection = next(
        s
        for s in effective_selections(draw)
        if only.pk in {a.inspector_id for a in effective_teams([s])[s.pk]}
    )
    with pytest.raises(ServiceError) as refused:
        substitution_request(actor=county_clerk, selection=selection, reason="回避", inspector=only)
    message = " ".join(refused.value.messages)
    assert "排污许可" in message and selection.source.source_code in message
    assert "permit" not in message and "nobody" not in message
    assert not Substitution.objects.exists()

    # A request made before this check (or by another path) gets the same words at approval.
    stuck = Substitution.objects.create(
        draw=draw,
        selection=selection,
        inspector=only,
        reason="回避",
        kind=Substitution.Kind.INSPECTOR,
        requested_by=county_clerk,
    )
    with pytest.raises(ServiceError, match="排污许可"):
        substitution_decide(actor=county_leader, substitution=stuck, approve=True)
    stuck.refresh_from_db()
    assert stuck.status == Substitution.Status.REQUESTED
    rejected = substitution_decide(actor=county_leader, substitution=stuck, approve=False)
    assert rejected.status == Substitution.Status.REJECTED

    # What the message offers instead works: the source is replaced from the same order.
    change = substitution_request(actor=county_clerk, selection=selection, reason="存在利害关系")
    approved = substitution_decide(actor=county_leader, substitution=change, approve=True)
    assert approved.status == Substitution.Status.APPROVED
    assert DrawSelection.objects.filter(substitution=approved).exists()
