"""On PostgreSQL the database itself keeps a draw's life append-only and monotone.

A draw goes prepared → committed → executed (or prepared → discarded, or committed →
abandoned), never back; its frozen inputs never change; what is set once (commitment,
result, seed, abandonment, disclosure) is never changed or cleared; no draw row is ever
deleted. A substitution goes requested → approved or rejected, once. And no role but a
superuser (the database's owner of last resort, who could drop the triggers anyway) may
TRUNCATE a draw table or the audit trail: ``UPDATE lottery_draw SET status='discarded'``
followed by a redraw, the quiet redo, is refused, whatever code or console runs it.

The application connects as a role that owns no table (``manage.py db_app_role``), so it
cannot disable these triggers either; migrations run as the owner.
"""

from django.db import migrations

DRAW_FUNCTION = r"""
CREATE OR REPLACE FUNCTION lottery_draw_monotone() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'draw %% is never deleted', OLD.number;
    END IF;
    IF NEW.id <> OLD.id OR NEW.plan_id <> OLD.plan_id
       OR NEW.organisation_id <> OLD.organisation_id OR NEW.number <> OLD.number
       OR NEW.manifest_json <> OLD.manifest_json OR NEW.manifest_hash <> OLD.manifest_hash
       OR NEW.quotas IS DISTINCT FROM OLD.quotas
       OR NEW.witnesses_required <> OLD.witnesses_required
       OR NEW.public_value_spec <> OLD.public_value_spec
       OR NEW.entropy_digits <> OLD.entropy_digits
       OR NEW.public_value_digits <> OLD.public_value_digits
       OR NEW.team_forecast IS DISTINCT FROM OLD.team_forecast
       OR NEW.prepared_by_id IS DISTINCT FROM OLD.prepared_by_id
       OR NEW.prepared_at IS DISTINCT FROM OLD.prepared_at THEN
        RAISE EXCEPTION 'the frozen inputs of draw %% never change', OLD.number;
    END IF;
    IF NEW.status <> OLD.status AND NOT (
           (OLD.status = 'prepared' AND NEW.status IN ('committed', 'discarded'))
        OR (OLD.status = 'committed' AND NEW.status IN ('executed', 'abandoned'))) THEN
        RAISE EXCEPTION 'draw %% cannot go from %% to %%', OLD.number, OLD.status, NEW.status;
    END IF;
    IF (OLD.committed_at IS NOT NULL AND (NEW.committed_at IS DISTINCT FROM OLD.committed_at
            OR NEW.committed_by_id IS DISTINCT FROM OLD.committed_by_id))
       OR (OLD.executed_at IS NOT NULL AND (NEW.executed_at IS DISTINCT FROM OLD.executed_at
            OR NEW.executed_by_id IS DISTINCT FROM OLD.executed_by_id
            OR NEW.seed <> OLD.seed OR NEW.public_value <> OLD.public_value
            OR NEW.result IS DISTINCT FROM OLD.result))
       OR (OLD.abandoned_at IS NOT NULL AND (NEW.abandoned_at IS DISTINCT FROM OLD.abandoned_at
            OR NEW.abandoned_by_id IS DISTINCT FROM OLD.abandoned_by_id
            OR NEW.abandon_reason <> OLD.abandon_reason))
       OR (OLD.disclosed_at IS NOT NULL AND NEW.disclosed_at IS DISTINCT FROM OLD.disclosed_at)
    THEN
        RAISE EXCEPTION 'what draw %% recorded once never changes', OLD.number;
    END IF;
    IF NEW.status <> 'executed' AND (NEW.seed <> '' OR NEW.result IS NOT NULL
            OR NEW.executed_at IS NOT NULL OR NEW.disclosed_at IS NOT NULL) THEN
        RAISE EXCEPTION 'draw %% has a result only when executed', OLD.number;
    END IF;
    IF NEW.status <> 'abandoned' AND NEW.abandoned_at IS NOT NULL THEN
        RAISE EXCEPTION 'draw %% is abandoned only with its status', OLD.number;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

SUBSTITUTION_FUNCTION = r"""
CREATE OR REPLACE FUNCTION lottery_substitution_monotone() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'substitution %% is never deleted', OLD.id;
    END IF;
    IF NEW.id <> OLD.id OR NEW.draw_id <> OLD.draw_id OR NEW.kind <> OLD.kind
       OR NEW.selection_id <> OLD.selection_id
       OR NEW.inspector_id IS DISTINCT FROM OLD.inspector_id
       OR NEW.reason <> OLD.reason OR NEW.requested_by_id <> OLD.requested_by_id
       OR NEW.requested_at <> OLD.requested_at THEN
        RAISE EXCEPTION 'the request of substitution %% never changes', OLD.id;
    END IF;
    IF OLD.status <> 'requested' THEN
        RAISE EXCEPTION 'substitution %% was decided; the decision never changes', OLD.id;
    END IF;
    IF NEW.status NOT IN ('requested', 'approved', 'rejected') THEN
        RAISE EXCEPTION 'substitution %% cannot become %%', OLD.id, NEW.status;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

TRUNCATE_FUNCTION = r"""
CREATE OR REPLACE FUNCTION sjsj_refuse_truncate() RETURNS trigger AS $$
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        RETURN NULL;  -- the superuser could drop this trigger anyway; tests flush this way
    END IF;
    RAISE EXCEPTION '%% is never truncated', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
"""

TRUNCATE_TABLES = [
    "lottery_draw",
    "lottery_drawentropy",
    "lottery_drawexclusion",
    "lottery_drawselection",
    "lottery_teamassignment",
    "lottery_substitution",
    "core_auditentry",
    "core_auditchainhead",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    run(DRAW_FUNCTION)
    run(SUBSTITUTION_FUNCTION)
    run(TRUNCATE_FUNCTION)
    run(
        "CREATE TRIGGER lottery_draw_monotone BEFORE UPDATE OR DELETE ON lottery_draw "
        "FOR EACH ROW EXECUTE FUNCTION lottery_draw_monotone();"
    )
    run(
        "CREATE TRIGGER lottery_substitution_monotone BEFORE UPDATE OR DELETE ON "
        "lottery_substitution FOR EACH ROW EXECUTE FUNCTION lottery_substitution_monotone();"
    )
    run(
        "CREATE TRIGGER lottery_drawexclusion_append_only BEFORE UPDATE OR DELETE ON "
        "lottery_drawexclusion FOR EACH ROW EXECUTE FUNCTION lottery_append_only();"
    )
    for table in TRUNCATE_TABLES:
        run(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION sjsj_refuse_truncate();"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    for table in TRUNCATE_TABLES:
        run(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};")
    run("DROP TRIGGER IF EXISTS lottery_drawexclusion_append_only ON lottery_drawexclusion;")
    run("DROP TRIGGER IF EXISTS lottery_substitution_monotone ON lottery_substitution;")
    run("DROP TRIGGER IF EXISTS lottery_draw_monotone ON lottery_draw;")
    run("DROP FUNCTION IF EXISTS sjsj_refuse_truncate();")
    run("DROP FUNCTION IF EXISTS lottery_substitution_monotone();")
    run("DROP FUNCTION IF EXISTS lottery_draw_monotone();")


class Migration(migrations.Migration):
    dependencies = [
        ("lottery", "0012_plan_early_draw_reason"),
        ("core", "0002_audit_append_only"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
