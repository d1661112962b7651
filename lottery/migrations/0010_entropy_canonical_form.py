"""Store every executed draw's witness names and values in the form its seed used.

Before algorithm version 3 the values were stored as typed (`" 3 5 1 7 3 7 "`, `６６１２３４`)
while the seed used their normalised form, so the published record did not verify (issue 9).
For each executed version 2 draw this re-derives the normalised form with the version 2 rules
(engine.normalise_text), proves it by recomputing the seed and comparing it with the stored
one, and only then stores it. A draw it cannot prove is printed and left as it is. A
committed version 2 draw not yet executed has no seed to prove: its values are stored in the
normalised form its execution will use (the same function), so its record will verify too.

DrawEntropy is append-only on PostgreSQL (migration 0002's trigger); this repair is the one
deliberate exception, so the trigger is disabled for its duration only.
"""

from django.db import migrations

V2_PREFIX = '{"algorithm":"sjsj-es-hmac-sha256/2"'


TRIGGER = "lottery_drawentropy_append_only"


def canonical_entropy(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        # ALTER TABLE refuses while deferred foreign-key checks are pending.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute(f"ALTER TABLE lottery_drawentropy DISABLE TRIGGER {TRIGGER}")
    try:
        _repair(apps)
    finally:
        if postgres:
            schema_editor.execute(f"ALTER TABLE lottery_drawentropy ENABLE TRIGGER {TRIGGER}")


def _repair(apps):
    from lottery import engine

    Draw = apps.get_model("lottery", "Draw")
    DrawEntropy = apps.get_model("lottery", "DrawEntropy")
    repaired, unproven = 0, []
    draws = Draw.objects.filter(status="executed").exclude(seed="").order_by("pk")
    for draw in draws.only("pk", "number", "manifest_hash", "seed", "public_value"):
        rows = list(DrawEntropy.objects.filter(draw_id=draw.pk).order_by("position"))
        clean = [
            {
                "witness": engine.normalise_text(r.witness_name),
                "value": engine.normalise_text(r.value),
            }
            for r in rows
        ]
        public = engine.normalise_text(draw.public_value) if draw.public_value else None
        if all(
            (r.witness_name, r.value) == (c["witness"], c["value"]) for r, c in zip(rows, clean)
        ) and public == (draw.public_value or None):
            continue  # already canonical (version 3, or typed plainly)
        head = Draw.objects.filter(pk=draw.pk).values_list("manifest_json", flat=True).first()
        if not (head or "").startswith(V2_PREFIX):
            unproven.append(f"{draw.number}: not a version 2 draw, values not canonical")
            continue
        try:
            seed = engine.compute_seed(draw.manifest_hash, clean, public).hex()
        except engine.EngineError as exc:
            unproven.append(f"{draw.number}: {exc}")
            continue
        if seed != draw.seed:
            unproven.append(f"{draw.number}: the normalised values do not give the stored seed")
            continue
        for row, item in zip(rows, clean):
            row.witness_name, row.value = item["witness"], item["value"]
            row.save(update_fields=["witness_name", "value"])
        if public != (draw.public_value or None):
            Draw.objects.filter(pk=draw.pk).update(public_value=public or "")
        repaired += 1
    for draw in Draw.objects.filter(status="committed", manifest_json__startswith=V2_PREFIX):
        for row in DrawEntropy.objects.filter(draw_id=draw.pk):
            name, value = engine.normalise_text(row.witness_name), engine.normalise_text(row.value)
            if (name, value) != (row.witness_name, row.value):
                row.witness_name, row.value = name, value
                row.save(update_fields=["witness_name", "value"])
    if repaired or unproven:
        print(f"\n  lottery: {repaired} draw(s) now store the entropy their seed used")
    for line in unproven:
        print(f"  lottery: NOT REPAIRED (seed not proven), left as it was: {line}")


class Migration(migrations.Migration):
    dependencies = [("lottery", "0009_draw_entropy_digits_v3")]

    operations = [migrations.RunPython(canonical_entropy, migrations.RunPython.noop)]
