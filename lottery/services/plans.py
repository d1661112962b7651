"""A plan's life: draft (create, edit, delete), then submit → approve → publish, or
return to draft; and a leader's leave to draw a quarter out of order."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record, model_snapshot
from core.errors import ServiceError
from core.models import Organisation, User
from core.roles import Cap
from lottery.models import Draw, Plan, RuleSet
from lottery.periods import inspection_period_error
from lottery.rules import validate_rules
from lottery.selectors import earlier_undrawn_plans
from lottery.services._shared import CLASS_ORDER, _require
from registry.models import CheckItem

PLAN_FIELDS = [
    "kind",
    "year",
    "quarter",
    "title",
    "classes",
    "ruleset_code",
    "ruleset_name",
    "rules",
    "team_size",
    "planned_start",
    "planned_end",
]


def _plan_snapshot(plan: Plan) -> dict:
    """What a clerk may change in a draft, for the before/after of its audit entries."""
    data = model_snapshot(plan, fields=PLAN_FIELDS)
    data["check_items"] = sorted(plan.check_items.values_list("pk", flat=True))
    return data


def _check_plan_input(
    *,
    organisation: Organisation,
    kind: str,
    year: int,
    quarter: int | None,
    title: str,
    classes: list[str],
    rules: list[dict],
    items: list,
    planned_start: date,
    planned_end: date,
    team_size: int,
) -> None:
    validate_rules(rules)
    if kind not in Plan.Kind.values:
        raise ServiceError(_("Choose an annual or a quarterly plan."))
    if not 2000 <= year <= 2100:
        raise ServiceError(_("Enter a year from 2000 to 2100."))
    if not title.strip():
        raise ServiceError(_("A plan needs a title."))
    if not classes or any(c not in CLASS_ORDER for c in classes):
        raise ServiceError(_("Choose at least one supervision class."))
    if kind == Plan.Kind.QUARTERLY and quarter not in (1, 2, 3, 4):
        raise ServiceError(_("A quarterly plan needs a quarter from 1 to 4."))
    error = inspection_period_error(
        year=year,
        quarter=quarter if kind == Plan.Kind.QUARTERLY else None,
        start=planned_start,
        end=planned_end,
    )
    if error:
        raise ServiceError(error)
    if team_size < 2:
        raise ServiceError(_("A team has at least two inspectors."))
    if any(item.organisation_id != organisation.pk for item in items):
        raise ServiceError(_("Check items must come from this organisation's list."))


def _duplicate_quarter(year: int, quarter: int | None) -> ServiceError:
    return ServiceError(
        _("This organisation already has a quarterly plan for %(year)s Q%(quarter)s.")
        % {"year": year, "quarter": quarter}
    )


def plan_create(
    *,
    actor: User,
    organisation: Organisation,
    kind: str,
    year: int,
    quarter: int | None,
    title: str,
    classes: list[str],
    rules: list[dict] | None = None,
    ruleset: RuleSet | None = None,
    check_items=(),
    planned_start: date,
    planned_end: date,
    team_size: int = 2,
) -> Plan:
    """Draft a plan; its ratio rules are a snapshot of the chosen rule set (or given rules).

    The inspection period lies within the plan's quarter (quarterly) or year (annual).
    """
    _require(actor, Cap.EDIT_PLANS, organisation)
    if ruleset is not None:
        rules = ruleset.rules
    items = list(check_items)
    _check_plan_input(
        organisation=organisation,
        kind=kind,
        year=year,
        quarter=quarter,
        title=title,
        classes=classes,
        rules=rules or [],
        items=items,
        planned_start=planned_start,
        planned_end=planned_end,
        team_size=team_size,
    )
    with transaction.atomic():
        try:
            with transaction.atomic():
                plan = Plan.objects.create(
                    organisation=organisation,
                    kind=kind,
                    year=year,
                    quarter=quarter if kind == Plan.Kind.QUARTERLY else None,
                    title=title,
                    classes=[c for c in CLASS_ORDER if c in classes],
                    ruleset_code=ruleset.code if ruleset else "",
                    ruleset_name=ruleset.name if ruleset else "",
                    rules=rules or [],
                    team_size=team_size,
                    planned_start=planned_start,
                    planned_end=planned_end,
                    created_by=actor,
                )
        except IntegrityError:
            raise _duplicate_quarter(year, quarter) from None
        plan.check_items.set(items)
        audit_record(actor=actor, action="plan.create", obj=plan, after=model_snapshot(plan))
    return plan


def _locked_plan(plan: Plan) -> Plan:
    return Plan.objects.select_for_update().select_related("organisation").get(pk=plan.pk)


def plan_edit(
    *,
    actor: User,
    plan: Plan,
    kind: str,
    year: int,
    quarter: int | None,
    title: str,
    classes: list[str],
    ruleset: RuleSet | None = None,
    rules: list[dict] | None = None,
    check_items=(),
    planned_start: date,
    planned_end: date,
    team_size: int = 2,
) -> Plan:
    """Change a draft plan: the same fields and checks as ``plan_create``. A plan awaiting
    approval or approved is changed only after a leader returns it to draft."""
    _require(actor, Cap.EDIT_PLANS, plan.organisation)
    if ruleset is not None:
        rules = ruleset.rules
    items = list(check_items)
    _check_plan_input(
        organisation=plan.organisation,
        kind=kind,
        year=year,
        quarter=quarter,
        title=title,
        classes=classes,
        rules=rules or [],
        items=items,
        planned_start=planned_start,
        planned_end=planned_end,
        team_size=team_size,
    )
    with transaction.atomic():
        # Locked: a leader approving or a second clerk editing waits for this change.
        plan = _locked_plan(plan)
        if plan.status != Plan.Status.DRAFT:
            raise ServiceError(_("Only a draft plan can be changed."))
        before = _plan_snapshot(plan)
        plan.kind = kind
        plan.year = year
        plan.quarter = quarter if kind == Plan.Kind.QUARTERLY else None
        plan.title = title
        plan.classes = [c for c in CLASS_ORDER if c in classes]
        plan.ruleset_code = ruleset.code if ruleset else ""
        plan.ruleset_name = ruleset.name if ruleset else ""
        plan.rules = rules or []
        plan.team_size = team_size
        plan.planned_start = planned_start
        plan.planned_end = planned_end
        try:
            with transaction.atomic():
                plan.save(update_fields=PLAN_FIELDS)
        except IntegrityError:
            raise _duplicate_quarter(year, quarter) from None
        plan.check_items.set(items)
        audit_record(
            actor=actor, action="plan.edit", obj=plan, before=before, after=_plan_snapshot(plan)
        )
    return plan


def plan_delete(*, actor: User, plan: Plan) -> None:
    """Delete a draft plan that never had a draw (a draw's record must keep its plan)."""
    _require(actor, Cap.EDIT_PLANS, plan.organisation)
    with transaction.atomic():
        plan = _locked_plan(plan)
        if plan.status != Plan.Status.DRAFT:
            raise ServiceError(_("Only a draft plan can be deleted."))
        if Draw.objects.filter(plan=plan).exists():
            raise ServiceError(_("A plan that has a draw cannot be deleted."))
        audit_record(actor=actor, action="plan.delete", obj=plan, before=_plan_snapshot(plan))
        plan.delete()


def _check_plan_items(plan: Plan) -> None:
    """A plan uses its year's published check-item list (一单两库: the list comes first): at
    least one item, every item published and from the list of the plan's own year."""
    year = plan.year
    published = CheckItem.objects.filter(
        organisation_id=plan.organisation_id, year=year, published_at__isnull=False
    )
    if not published.exists():
        raise ServiceError(
            _(
                "No check-item list for %(year)s has been published by this organisation: "
                "publish the %(year)s list first, then choose the plan's items from it."
            )
            % {"year": year},
            code="no_published_list",
        )
    items = list(plan.check_items.order_by("code"))
    if not items:
        raise ServiceError(
            _("A plan needs at least one check item from the published %(year)s list.")
            % {"year": year},
            code="no_check_items",
        )
    stray = [i.code for i in items if i.year != year or i.published_at is None]
    if stray:
        raise ServiceError(
            _(
                "Check items %(codes)s are not in the published %(year)s list; choose items "
                "from that list."
            )
            % {"codes": "、".join(stray), "year": year},
            code="check_items_not_in_list",
        )


def _plan_transition(
    plan: Plan,
    *,
    actor: User,
    from_states: Collection[str],
    to_state: str,
    verb: str,
    refusal: str,
    stamp: str,
    check: Callable[[Plan], None] | None = None,
    fields: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> Plan:
    """The one way a plan's status changes (a guard test holds every service to it): lock the
    plan, so a clerk's edit or a second leader's decision waits; refuse with ``refusal`` unless
    its stored status is in ``from_states``, then ``check(plan)`` may refuse too; write
    ``to_state`` with ``<stamp>_by``/``<stamp>_at`` (who, now) and ``fields``; audit
    ``plan.<verb>`` with the written fields before and the new status (and ``after``) after.
    The caller checks the actor's role first, and input that needs no lock."""
    with transaction.atomic():
        plan = _locked_plan(plan)
        if plan.status not in from_states:
            raise ServiceError(refusal)
        if check is not None:
            check(plan)
        values = {f"{stamp}_by": actor, f"{stamp}_at": timezone.now(), **(fields or {})}
        names = ["status", *values]
        before = model_snapshot(plan, fields=names)
        plan.status = to_state
        for name, value in values.items():
            setattr(plan, name, value)
        plan.save(update_fields=names)
        audit_record(
            actor=actor,
            action=f"plan.{verb}",
            obj=plan,
            before=before,
            after={"status": plan.status, **(after or {})},
        )
    return plan


def _ready_to_submit(plan: Plan) -> None:
    # A draft saved before the period rule existed must be fixed before it goes further.
    error = inspection_period_error(
        year=plan.year, quarter=plan.quarter, start=plan.planned_start, end=plan.planned_end
    )
    if error:
        raise ServiceError(error)
    _check_plan_items(plan)


def plan_submit(*, actor: User, plan: Plan) -> Plan:
    """A clerk submits a draft for a leader's approval; it can no longer be changed."""
    _require(actor, Cap.EDIT_PLANS, plan.organisation)
    return _plan_transition(
        plan,
        actor=actor,
        from_states=[Plan.Status.DRAFT],
        to_state=Plan.Status.SUBMITTED,
        verb="submit",
        refusal=_("Only a draft plan can be submitted for approval."),
        stamp="submitted",
        check=_ready_to_submit,
    )


def _refuse_if_drawn(plan: Plan) -> None:
    if Draw.objects.filter(plan=plan).exists():
        raise ServiceError(_("A plan that has a draw cannot go back to draft."))


def plan_return(*, actor: User, plan: Plan, reason: str) -> Plan:
    """A leader sends a plan awaiting approval, or approved but not yet published and without
    a draw, back to draft with a reason the clerk sees on the plan page."""
    _require(actor, Cap.APPROVE, plan.organisation)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("Say why the plan goes back to draft."))
    return _plan_transition(
        plan,
        actor=actor,
        from_states=[Plan.Status.SUBMITTED, Plan.Status.APPROVED],
        to_state=Plan.Status.DRAFT,
        verb="return",
        refusal=_(
            "Only a plan awaiting approval or approved and not yet published can be returned."
        ),
        stamp="returned",
        check=_refuse_if_drawn,
        fields={"approved_by": None, "approved_at": None, "return_reason": reason},
        after={"reason": reason},
    )


def plan_approve(*, actor: User, plan: Plan) -> Plan:
    """A leader approves a plan awaiting approval; only approved plans can be published."""
    _require(actor, Cap.APPROVE, plan.organisation)
    return _plan_transition(
        plan,
        actor=actor,
        from_states=[Plan.Status.SUBMITTED],
        to_state=Plan.Status.APPROVED,
        verb="approve",
        refusal=_("Only a plan awaiting approval can be approved."),
        stamp="approved",
    )


def plan_publish(*, actor: User, plan: Plan) -> Plan:
    """A leader publishes an approved plan; only a published plan can be drawn."""
    _require(actor, Cap.APPROVE, plan.organisation)
    return _plan_transition(
        plan,
        actor=actor,
        from_states=[Plan.Status.APPROVED],
        to_state=Plan.Status.PUBLISHED,
        verb="publish",
        refusal=_("Only an approved plan can be published."),
        stamp="published",
    )


def plan_allow_early_draw(*, actor: User, plan: Plan, reason: str) -> Plan:
    """A leader lets this quarter's draw go before an earlier quarter's (e.g. the earlier
    plan is being withdrawn, or its sources were all inspected by a special campaign)."""
    _require(actor, Cap.APPROVE, plan.organisation)
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise ServiceError(
            _("Say in at least 10 characters why this draw may go before the earlier one."),
            code="early_draw_reason",
        )
    if len(reason) > 1000:
        raise ServiceError(_("The reason has at most 1,000 characters."), code="early_draw_reason")
    with transaction.atomic():
        plan = _locked_plan(plan)
        if plan.kind != Plan.Kind.QUARTERLY or plan.status != Plan.Status.PUBLISHED:
            raise ServiceError(_("Only a published quarterly plan is drawn."))
        if plan.early_draw_reason:
            raise ServiceError(_("A reason is already recorded for this plan."))
        plan.early_draw_reason = reason
        plan.early_draw_by = actor
        plan.early_draw_at = timezone.now()
        plan.save(update_fields=["early_draw_reason", "early_draw_by", "early_draw_at"])
        audit_record(
            actor=actor,
            action="plan.allow_early_draw",
            obj=plan,
            after={
                "reason": reason,
                "earlier": [p.period_label for p in earlier_undrawn_plans(plan)],
            },
        )
    return plan
