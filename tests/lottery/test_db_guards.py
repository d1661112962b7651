"""The database refuses every SQL route around a draw's rules: a status moved back (the quiet
redo), a result or commitment changed, a row deleted, a table truncated, a trigger disabled by
the application's role. Checked on PostgreSQL, where the triggers live."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from core.models import AuditEntry
from lottery.models import Draw, Substitution
from lottery.services import substitution_decide, substitution_request
from tests.lottery.scenario import build_world, make_draw, make_plan

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL triggers"),
]
APP_ROLE = "sjsj_test_app"


@pytest.fixture
def executed(county, county_clerk, county_leader):
    build_world(county)
    return make_draw(make_plan(county, county_clerk, county_leader), county_clerk)


def _refused(sql: str, params=(), *, role: str | None = None) -> str:
    with pytest.raises(DatabaseError) as exc, transaction.atomic(), connection.cursor() as cur:
        if role:
            cur.execute(f"SET LOCAL ROLE {role}")
        cur.execute(sql, params)
    return str(exc.value)


@pytest.mark.parametrize(
    ("sql", "why"),
    [
        ("UPDATE lottery_draw SET status = 'discarded' WHERE id = %s", "cannot go from"),
        ("UPDATE lottery_draw SET status = 'committed' WHERE id = %s", "cannot go from"),
        ("UPDATE lottery_draw SET seed = repeat('0', 64) WHERE id = %s", "never changes"),
        ("UPDATE lottery_draw SET manifest_hash = repeat('0', 64) WHERE id = %s", "frozen"),
        ("UPDATE lottery_draw SET disclosed_at = now() - interval '1 day' WHERE id = %s", ""),
        ("UPDATE lottery_draw SET executed_at = now() WHERE id = %s", "never changes"),
        ("DELETE FROM lottery_draw WHERE id = %s", "never deleted"),
    ],
)
def test_a_quiet_redo_or_edit_of_a_draw_is_refused_even_as_superuser(executed, sql, why):
    from lottery.services import draws_disclose_due

    if "disclosed_at" in sql:
        draws_disclose_due(today=executed.plan.planned_end.replace(year=2099))
        why = "never changes"
    message = _refused(sql, [executed.pk])
    assert why in message
    executed.refresh_from_db()
    assert executed.status == Draw.Status.EXECUTED


def test_a_decided_substitution_never_changes(executed, county_clerk, county_leader):
    selection = executed.selections.order_by("pk").first()
    sub = substitution_request(actor=county_clerk, selection=selection, reason="企业已关闭")
    substitution_decide(actor=county_leader, substitution=sub, approve=False, note="不符合条件")
    _refused("UPDATE lottery_substitution SET status = 'approved' WHERE id = %s", [sub.pk])
    _refused("DELETE FROM lottery_substitution WHERE id = %s", [sub.pk])
    assert Substitution.objects.get(pk=sub.pk).status == Substitution.Status.REJECTED


@pytest.mark.parametrize(
    "sql",
    [
        "TRUNCATE lottery_draw CASCADE",
        "TRUNCATE lottery_drawselection CASCADE",
        "TRUNCATE lottery_teamassignment",
        "TRUNCATE lottery_drawentropy",
        "TRUNCATE lottery_substitution CASCADE",
        "TRUNCATE lottery_drawexclusion",
        "TRUNCATE core_auditentry",
        "TRUNCATE core_auditchainhead",
        "ALTER TABLE lottery_draw DISABLE TRIGGER USER",
        "ALTER TABLE core_auditentry DISABLE TRIGGER ALL",
        "UPDATE lottery_draw SET status = 'discarded'",
        "DELETE FROM core_auditentry",
    ],
)
def test_the_application_role_cannot_route_around_the_rules(executed, sql):
    call_command("db_app_role", APP_ROLE)
    audits = AuditEntry.objects.count()
    _refused(sql, role=APP_ROLE)
    executed.refresh_from_db()
    assert executed.status == Draw.Status.EXECUTED and AuditEntry.objects.count() == audits


def test_the_application_role_still_does_its_work(executed):
    """Rows only: it reads and writes as the services do."""
    call_command("db_app_role", APP_ROLE)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {APP_ROLE}")
        cursor.execute(
            "UPDATE lottery_draw SET record_pdf_state = 'x' WHERE id = %s", [executed.pk]
        )
        cursor.execute(
            "SELECT count(*) FROM lottery_drawselection WHERE draw_id = %s", [executed.pk]
        )
        assert cursor.fetchone()[0] > 0
        transaction.set_rollback(True)


def _as_superuser_without_triggers(sql: str, params=()) -> None:
    """What only the database's superuser can do: run SQL with every trigger off."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)


def test_both_verify_commands_report_a_draw_changed_or_removed_behind_the_trail(
    executed, county, county_clerk, county_leader, capsys
):
    from django.core.management.base import CommandError

    call_command("verify_draw", "--all")
    call_command("verify_audit_chain")
    prepared = make_draw(
        make_plan(county, county_clerk, county_leader, quarter=2), county_clerk, stage="prepared"
    )
    capsys.readouterr()

    _as_superuser_without_triggers(
        "UPDATE lottery_draw SET status = 'discarded' WHERE id = %s", [executed.pk]
    )
    _as_superuser_without_triggers(
        "DELETE FROM lottery_drawexclusion WHERE draw_id = %s", [prepared.pk]
    )
    _as_superuser_without_triggers("DELETE FROM lottery_draw WHERE id = %s", [prepared.pk])

    with pytest.raises(CommandError):
        call_command("verify_draw", "--all")
    out = capsys.readouterr().out
    assert f"{executed.number}: differs" in out and "status discarded" in out
    assert f"#{prepared.pk}: differs" in out and "row is missing" in out
    with pytest.raises(CommandError) as exc:
        call_command("verify_audit_chain")
    out = capsys.readouterr().out
    assert "disagree" in str(exc.value)
    assert executed.number in out and f"#{prepared.pk}" in out


# --- every table that holds a draw's state or outcome, derived from the models ----------------

#: Lottery tables that hold configuration or a plan, not a draw's state or outcome. Each is
#: written by its audited services and may change; a draw never reads it again once prepared.
CONFIG_TABLES = {
    # Rule-set presets and a bureau's copies: a draw freezes the rules it used into its manifest.
    "lottery_ruleset",
    # A plan is edited until it is published; its draw freezes the plan (rules, classes, check
    # items) into the manifest, and a drawn plan cannot be deleted: lottery_draw's foreign key
    # refers to it and its rows are never deleted (nor truncated, so no CASCADE either).
    "lottery_plan",
    "lottery_plan_check_items",
    # Deadline configuration of a bureau (and the presets): dates to remind, no draw state.
    "lottery_deadlineregime",
}
#: Outside the lottery: what was published, and the audit trail with its anchors.
OTHER_GUARDED = {
    "publication_publishedresult",
    "publication_nationalexportline",
    "core_auditentry",
    "core_auditcheckpoint",
    "oversight_drawfiling",
}
#: Its one row moves with every audit entry (the anchor is the published checkpoints):
#: TRUNCATE is refused, UPDATE is the service's own.
TRUNCATE_ONLY = {"core_auditchainhead"}

# pg_trigger.tgtype bits
ROW, BEFORE, DELETE, UPDATE, TRUNCATE = 1, 2, 8, 16, 32


def _lottery_tables() -> set[str]:
    from django.apps import apps

    models = apps.get_app_config("lottery").get_models(include_auto_created=True)
    tables = {m._meta.db_table for m in models}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename LIKE 'lottery\\_%%'"
        )
        in_database = {row[0] for row in cursor.fetchall()}
    assert in_database == tables, "a lottery table without a model, or a model without a table"
    return tables


def _guarded_tables() -> set[str]:
    return (_lottery_tables() - CONFIG_TABLES) | OTHER_GUARDED


def _triggers(table: str) -> list[tuple[int, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.tgtype, t.tgenabled FROM pg_trigger t "
            "WHERE t.tgrelid = %s::regclass AND NOT t.tgisinternal",
            [table],
        )
        return cursor.fetchall()


def test_every_draw_table_is_append_only_or_monotone_and_never_truncated():
    """Derived from the models: a new lottery table holding a draw's state fails here until it
    has its triggers (or is argued into CONFIG_TABLES)."""
    assert _lottery_tables() >= CONFIG_TABLES, "a configuration table was renamed or removed"
    missing = {}
    for table in sorted(_guarded_tables() | TRUNCATE_ONLY):
        enabled = [tgtype for tgtype, state in _triggers(table) if state != "D"]
        wants = {"TRUNCATE": any(t & TRUNCATE and t & BEFORE for t in enabled)}
        if table not in TRUNCATE_ONLY:
            rows = [t for t in enabled if t & ROW and t & BEFORE]
            wants["UPDATE"] = any(t & UPDATE for t in rows)
            wants["DELETE"] = any(t & DELETE for t in rows)
        if not all(wants.values()):
            missing[table] = [what for what, ok in wants.items() if not ok]
    assert not missing, f"tables without their guard triggers: {missing}"


@pytest.fixture
def every_draw_table_filled(executed, county_clerk, county_leader):
    """A row in every guarded table: a substitution, a completed check, a filing, a published
    result (with its national export line), audit entries and a checkpoint."""
    from core.audit import audit_checkpoint_publish
    from oversight.services import draw_file
    from tests.lottery.scenario import complete_checks

    selection = executed.selections.order_by("pk").first()
    substitution_request(actor=county_clerk, selection=selection, reason="企业已关闭")
    complete_checks(executed)
    draw_file(actor=county_clerk, draw=executed)
    audit_checkpoint_publish()
    return executed


def test_the_application_role_can_neither_delete_truncate_nor_switch_off_any_guard(
    every_draw_table_filled,
):
    call_command("db_app_role", APP_ROLE)
    counts = {}
    for table in sorted(_guarded_tables()):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    # Published results are refused row by row in tests/publication/test_results.py.
    empty = [t for t, n in counts.items() if not n and not t.startswith("publication_")]
    assert not empty, f"the fixture must put a row in {empty} for this test to mean anything"
    for table in counts:
        refused = _refused(f"TRUNCATE {table} CASCADE", role=APP_ROLE)
        assert "never truncated" in refused or "permission denied" in refused
        if counts[table]:
            _refused(f"DELETE FROM {table}", role=APP_ROLE)
            _refused(f"DELETE FROM {table}")  # even as the database's superuser
        for sql in (
            f"ALTER TABLE {table} DISABLE TRIGGER ALL",
            f"ALTER TABLE {table} DISABLE TRIGGER USER",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        ):
            assert "must be owner" in _refused(sql, role=APP_ROLE), sql
    assert "permission denied" in _refused(
        "SET LOCAL session_replication_role = replica", role=APP_ROLE
    )
    for table, n in counts.items():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table}")
            assert cursor.fetchone()[0] == n, table


def test_db_app_role_takes_back_what_leads_to_the_owner(db):
    """A role made earlier by hand may have kept CREATEROLE (with which, on PostgreSQL 15, it
    could grant itself the owner's role) or be a member of the owner's role already: the
    command takes the first back and refuses the second."""
    role = "sjsj_guards_member"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP ROLE IF EXISTS {role}")
        cursor.execute(f"CREATE ROLE {role} NOSUPERUSER CREATEROLE CREATEDB")
        cursor.execute(f"GRANT ALL ON lottery_draw TO {role}")
    try:
        call_command("db_app_role", role)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = %s", [role]
            )
            assert cursor.fetchone() == (False, False)
            cursor.execute(
                "SELECT has_table_privilege(%s, 'lottery_draw', 'TRUNCATE'), "
                "has_table_privilege(%s, 'lottery_draw', 'TRIGGER')",
                [role, role],
            )
            assert cursor.fetchone() == (False, False)
            cursor.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'lottery_draw'")
            owner = connection.ops.quote_name(cursor.fetchone()[0])
            cursor.execute(f"GRANT {owner} TO {role}")
        with pytest.raises(CommandError, match="member of its owner"):
            call_command("db_app_role", role)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP OWNED BY {role}")
            cursor.execute(f"DROP ROLE {role}")


def test_an_early_disclosure_by_sql_is_reported_by_both_verify_commands(executed, capsys):
    """The triggers let ``disclosed_at`` be set once, as the services do, so the application's
    role can disclose a drawn list early by SQL: the trail, which records each disclosure,
    tells it apart from the services' own."""
    from django.core.management.base import CommandError

    call_command("db_app_role", APP_ROLE)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {APP_ROLE}")
        cursor.execute("UPDATE lottery_draw SET disclosed_at = now() WHERE id = %s", [executed.pk])
    capsys.readouterr()
    with pytest.raises(CommandError):
        call_command("verify_draw", "--all")
    out = capsys.readouterr().out
    assert f"{executed.number}: differs" in out
    assert "disclosed, but no audit entry records its disclosure" in out
    with pytest.raises(CommandError, match="disagree"):
        call_command("verify_audit_chain")
    assert executed.number in capsys.readouterr().out


def test_a_disclosure_by_the_services_agrees_with_the_trail(executed):
    from lottery.services import draws_disclose_due

    assert draws_disclose_due(today=executed.plan.planned_end.replace(year=2099)) == 1
    call_command("verify_draw", "--all")
    call_command("verify_audit_chain")


#: Rows the triggers let in (INSERT is how the services write), added by SQL to a draw that
#: was executed: each changes what the draw says, and ``verify_draw`` recomputes it all.
FORGED_ROWS = {
    "a source added to the drawn list": (
        "INSERT INTO lottery_drawselection (stratum, position, mode, joint, created_at, draw_id, "
        "source_id) SELECT stratum, 999, mode, joint, now(), draw_id, %(undrawn)s "
        "FROM lottery_drawselection WHERE draw_id = %(draw)s ORDER BY id LIMIT 1"
    ),
    "an inspector added to a team": (
        "INSERT INTO lottery_teamassignment (role, created_at, inspector_id, selection_id) "
        "SELECT 'member', now(), %(inspector)s, id FROM lottery_drawselection "
        "WHERE draw_id = %(draw)s ORDER BY id LIMIT 1"
    ),
    "a witness value added": (
        "INSERT INTO lottery_drawentropy (position, witness_name, witness_role, value, "
        "entered_at, draw_id, entered_by_id) SELECT 9, '某人', '群众代表', '123456', now(), "
        "draw_id, entered_by_id FROM lottery_drawentropy WHERE draw_id = %(draw)s LIMIT 1"
    ),
    "an approved substitution with no replacement": (
        "INSERT INTO lottery_substitution (kind, reason, status, requested_at, decided_at, "
        "decision_note, decided_by_id, draw_id, requested_by_id, selection_id) "
        "SELECT 'object', '企业已关闭', 'approved', now(), now(), '', d.executed_by_id, d.id, "
        "d.executed_by_id, s.id FROM lottery_draw d JOIN lottery_drawselection s "
        "ON s.draw_id = d.id WHERE d.id = %(draw)s ORDER BY s.id LIMIT 1"
    ),
    "a source excluded afterwards": (
        "INSERT INTO lottery_drawexclusion (reason, detail, draw_id, source_id) "
        "VALUES ('suspended', '', %(draw)s, %(undrawn)s)"
    ),
}


@pytest.mark.parametrize("what", sorted(FORGED_ROWS))
def test_a_row_added_by_sql_to_an_executed_draw_is_found_by_verify_draw(executed, what, capsys):
    from django.core.management.base import CommandError

    from inspectors.models import Inspector
    from registry.models import PollutionSource

    drawn = executed.selections.values("source_id")
    params = {
        "draw": executed.pk,
        "undrawn": PollutionSource.objects.exclude(pk__in=drawn)
        .filter(organisation=executed.organisation, status="active")
        .values_list("pk", flat=True)
        .first(),
        "inspector": Inspector.objects.filter(organisation=executed.organisation)
        .exclude(pk__in=executed.selections.order_by("id")[:1].values("team__inspector_id"))
        .values_list("pk", flat=True)
        .first(),
    }
    call_command("verify_draw", executed.number)
    call_command("db_app_role", APP_ROLE)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {APP_ROLE}")
        cursor.execute(FORGED_ROWS[what], params)
        assert cursor.rowcount == 1
    capsys.readouterr()
    with pytest.raises(CommandError):
        call_command("verify_draw", "--all")
    assert f"{executed.number}: differs" in capsys.readouterr().out
