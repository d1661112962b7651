"""Rule sets (ratio rules) and deadline regimes: the presets and a bureau's own copies."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from core.audit import audit_record, model_snapshot
from core.errors import ServiceError
from core.models import Organisation, User
from core.roles import Cap, user_can
from lottery.models import RuleSet
from lottery.rules import PRESETS, validate_rules


def ruleset_ensure_presets() -> list[RuleSet]:
    """Create or refresh the system presets (one per seed regime)."""
    sets = []
    for preset in PRESETS.values():
        ruleset, _created = RuleSet.objects.update_or_create(
            organisation=None,
            code=preset.code,
            defaults={"name": str(preset.name), "source": preset.source, "rules": preset.rules},
        )
        sets.append(ruleset)
    return sets


def ruleset_save(
    *,
    actor: User,
    organisation: Organisation,
    code: str,
    name: str,
    rules: list[dict],
    source: str = "",
) -> RuleSet:
    """Create or change a bureau's own rule set (the presets stay as the seeds define them).

    Plans keep a snapshot of their rules, so changing a rule set never changes a plan or a
    draw that already used it.
    """
    if organisation is None:
        raise ServiceError(_("The presets cannot be changed; save a copy for a bureau."))
    validate_rules(rules)
    if not code or not name:
        raise ServiceError(_("A rule set needs a code and a name."))
    with transaction.atomic():
        existing = (
            RuleSet.objects.select_for_update().filter(organisation=organisation, code=code).first()
        )
        before = model_snapshot(existing) if existing else None
        ruleset, _created = RuleSet.objects.update_or_create(
            organisation=organisation,
            code=code,
            defaults={"name": name, "rules": rules, "source": source},
        )
        audit_record(
            actor=actor,
            action="ruleset.save",
            obj=ruleset,
            before=before,
            after=model_snapshot(ruleset),
        )
    return ruleset


def deadline_regime_ensure_presets():
    """Create or refresh the preset deadline regimes (one per seed)."""
    from lottery.deadline_rules import DEADLINE_PRESETS
    from lottery.models import DeadlineRegime

    regimes = []
    for preset in DEADLINE_PRESETS.values():
        regime, _created = DeadlineRegime.objects.update_or_create(
            organisation=None,
            code=preset.code,
            defaults={"name": str(preset.name), "source": preset.source, "rules": preset.rules},
        )
        regimes.append(regime)
    return regimes


def deadline_regime_save(
    *, actor: User, organisation: Organisation, rules: dict, based_on: str = "", name: str = ""
):
    """Set the organisation's own deadline regime (its editable copy), audited. Only the
    bureau's leader or an administrator may; values that make no date are refused."""
    from lottery.deadline_rules import DEADLINE_PRESETS, validate_deadline_rules
    from lottery.models import DeadlineRegime

    allowed = user_can(actor, Cap.ADMINISTER) or (
        user_can(actor, Cap.APPROVE) and actor.organisation_id == organisation.pk
    )
    if not allowed:
        raise ServiceError(
            _("Only the bureau's leader or an administrator may change its deadlines."),
            code="denied",
        )
    if organisation.kind not in (Organisation.Kind.COUNTY_BUREAU, Organisation.Kind.CITY_TEAM):
        raise ServiceError(_("Only a bureau that draws has deadlines."), code="deadline_rule")
    clean = validate_deadline_rules(rules)
    if based_on and based_on not in DEADLINE_PRESETS:
        raise ServiceError(_("Unknown preset."), code="deadline_rule")
    with transaction.atomic():
        existing = (
            DeadlineRegime.objects.select_for_update().filter(organisation=organisation).first()
        )
        before = model_snapshot(existing) if existing else None
        preset = DEADLINE_PRESETS.get(based_on or (existing.based_on if existing else ""))
        regime, _created = DeadlineRegime.objects.update_or_create(
            organisation=organisation,
            defaults={
                "code": f"org-{organisation.pk}",
                "name": name or (str(preset.name) if preset else organisation.name),
                "source": preset.source if preset else "",
                "based_on": preset.code if preset else "",
                "rules": clean,
            },
        )
        audit_record(
            actor=actor,
            action="deadline_regime.save",
            obj=regime,
            before=before,
            after=model_snapshot(regime),
        )
    return regime
