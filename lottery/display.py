"""How plans and draws are shown to people: rules in words, the frozen manifest in figures,
the drawn list with its teams and substitutions.

Read-only helpers shared by the staff pages, the PDF record, the API and the public portal, so
the four never describe the same draw differently. Nothing here decides who may see what:
callers check ``lottery.selectors.can_see_full_result`` before asking for a result.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.db.models import Case, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.vocab import Expertise, SupervisionClass
from lottery.models import (
    Draw,
    DrawExclusion,
    DrawSelection,
    Plan,
    Substitution,
    TeamAssignment,
)
from lottery.rules import CYCLE_LABELS
from lottery.selectors import QuarterStanding, drawn_counts, effective_teams
from registry.models import CreditRating

CLASS_LABELS = dict(SupervisionClass.choices)

PLAN_STEPS = {
    "drafted": gettext_lazy("drafted by %(who)s at %(at)s"),
    "submitted": gettext_lazy("submitted for approval by %(who)s at %(at)s"),
    "returned": gettext_lazy("returned to draft by %(who)s at %(at)s"),
    "approved": gettext_lazy("approved by %(who)s at %(at)s"),
    "published": gettext_lazy("published by %(who)s at %(at)s"),
}


def plan_history(plan: Plan) -> list[dict]:
    """Who took each step of the plan and when, oldest first; the last return with its
    reason (the earlier rounds are in the audit log)."""
    steps = [
        ("drafted", plan.created_by, plan.created_at),
        ("submitted", plan.submitted_by, plan.submitted_at),
        ("returned", plan.returned_by, plan.returned_at),
        ("approved", plan.approved_by, plan.approved_at),
        ("published", plan.published_by, plan.published_at),
    ]
    rows = []
    for key, who, at in sorted(((k, w, t) for k, w, t in steps if t), key=lambda s: s[2]):
        rows.append(
            {
                "key": key,
                "text": PLAN_STEPS[key]
                % {"who": who or "—", "at": timezone.localtime(at).strftime("%Y-%m-%d %H:%M")},
                "reason": plan.return_reason if key == "returned" else "",
            }
        )
    return rows


RULE_KIND_LABELS = {
    "class_percentage": gettext_lazy("Ratio per class"),
    "staff_ratio": gettext_lazy("Staff ratio (1:N)"),
    "coverage": gettext_lazy("Full coverage"),
    "no_minimum": gettext_lazy("No minimum"),
    "frequency_cap": gettext_lazy("Frequency cap"),
    "positive_list": gettext_lazy("Positive list"),
    "risk_weight": gettext_lazy("Risk weighting"),
    "pool": gettext_lazy("Pool"),
    "joint_share": gettext_lazy("Internal joint inspection"),
}


def class_label(klass: str) -> str:
    return str(CLASS_LABELS.get(klass, klass))


def describe_rule(rule: dict) -> str:
    """One ratio rule as a sentence (in the active language)."""
    kind = rule.get("kind")
    klass = class_label(rule.get("class", ""))
    if kind == "class_percentage":
        if rule.get("per") == "year":
            return _(
                "%(class)s: at least %(pct)s%% of the pool a year, spread over the quarters left."
            ) % {"class": klass, "pct": rule["percent"]}
        return _("%(class)s: at least %(pct)s%% of the pool every quarter.") % {
            "class": klass,
            "pct": rule["percent"],
        }
    if kind == "staff_ratio":
        return _(
            "%(class)s: 1:%(n)s — each on-staff certified inspector accounts for %(n)s objects "
            "checked a year, spread over the quarters left."
        ) % {"class": klass, "n": rule["objects_per_inspector"]}
    if kind == "coverage":
        text = _(
            "%(class)s: every object checked within the %(cycle)s; objects not yet checked in "
            "the cycle are drawn first."
        ) % {"class": klass, "cycle": CYCLE_LABELS.get(rule.get("cycle"), rule.get("cycle"))}  # type: ignore[arg-type]  # no key: .get(None) gives the default
        if rule.get("cycle") == "three_years" and rule.get("anchor_year"):
            text += " " + _("(cycles counted from %(year)s)") % {"year": rule["anchor_year"]}
        return text
    if kind == "no_minimum":
        return _("%(class)s: no minimum ratio; a check may be launched at any time.") % {
            "class": klass
        }
    if kind == "frequency_cap":
        text = _(
            "The same object is checked for the same item at most %(n)s times a year; objects "
            "that reached the cap are left out of the pool."
        ) % {"n": rule["max_per_year"]}
        exempt = rule.get("exempt_classes") or []
        if exempt:
            text += " " + _("Exempt: %(classes)s.") % {
                "classes": "、".join(class_label(c) for c in exempt)
            }
        return text
    if kind == "positive_list":
        if rule.get("mode") == "exclude":
            return _("Positive-list objects are left out of the pool (exempt from random checks).")
        return _(
            "Positive-list objects, when drawn, get off-site supervision instead of an on-site "
            "visit (complaints excepted)."
        )
    if kind == "risk_weight":
        credit_labels = dict(CreditRating.choices)
        parts = [
            _("credit rating “%(level)s” ×%(w)s")
            % {"level": credit_labels.get(level, level), "w": weight}
            for level, weight in sorted(
                (rule.get("credit") or {}).items(), key=lambda item: (-item[1], item[0])
            )
        ]
        if "penalty" in rule:
            parts.append(
                _("penalised within %(days)s days ×%(w)s")
                % {"days": rule.get("penalty_days", 365), "w": rule["penalty"]}
            )
        if "complaints" in rule:
            parts.append(
                _("%(n)s or more complaints in 12 months ×%(w)s")
                % {"n": rule.get("complaints_at_least", 1), "w": rule["complaints"]}
            )
        return _(
            "Higher risk, higher chance: a source's draw weight is the largest that applies "
            "(%(parts)s), otherwise 1."
        ) % {"parts": "；".join(parts) or "—"}
    if kind == "pool":
        return {
            "own": _("The organisation's own supervised objects."),
            "city_managed": _("The city-managed objects of the whole city."),
            "city_area": _("Every object in the city's area."),
        }.get(rule.get("scope"), str(rule.get("scope")))  # type: ignore[arg-type]  # no key: .get(None) gives the default
    if kind == "joint_share":
        return _(
            "%(class)s: %(pct)s%% a year checked by internal joint inspection (one visit, several "
            "matters); the first drawn are marked joint."
        ) % {"class": klass, "pct": rule["percent"]}
    return json.dumps(rule, ensure_ascii=False)


def describe_rules(rules: list[dict]) -> list[dict]:
    """Rules as rows of (kind label, sentence), in the order of the rule set."""
    return [
        {
            "kind": rule.get("kind"),
            "label": RULE_KIND_LABELS.get(rule.get("kind"), ""),  # type: ignore[arg-type]  # no key: .get(None) gives the default
            "text": describe_rule(rule),
        }
        for rule in rules
    ]


def class_minimums(rules: list[dict], klass: str) -> list[str]:
    """The sentences of the rules that set a minimum for ``klass`` (for the quota table)."""
    return [
        describe_rule(r)
        for r in rules
        if r.get("class") == klass
        and r.get("kind") in {"class_percentage", "staff_ratio", "coverage", "no_minimum"}
    ]


# --- the frozen manifest -----------------------------------------------------------------


@dataclass
class StratumSummary:
    name: str
    label: str
    quota: int
    pool_size: int
    pool_digest: str
    first_tier: int  # tier-0 members (not yet covered in the cycle)
    weighted: int  # members with a weight above 1
    lines: list[str] = field(default_factory=list)
    drawn_this_year: int = 0
    uncovered: int = 0
    joint: int = 0


@dataclass
class ExpertiseLoad:
    """One expertise the check items require: who can bring it, and how the draw will load
    them if they are few (each drawn source that requires it needs one of them)."""

    name: str
    label: str
    sources: int  # pool members that require it
    expected: float  # of those, how many the quotas are expected to draw
    certified: int  # certified inspectors holding it
    experts: int  # technical experts holding it
    per_holder: float  # expected drawn sources per holder
    concentrated: bool  # far above the average inspector's load: worth fixing before commit


@dataclass
class ManifestSummary:
    strata: list[StratumSummary]
    inspector_pool: int
    certified: int
    experts: int
    inspector_digest: str
    team_size: int
    constraints: int
    witnesses: int
    public_value_spec: str | None
    rules: list[dict]
    off_site: int
    exclusions: list[tuple[str, int]]  # (reason label, count)
    exclusions_total: int
    exclusions_by_reason: dict[str, int] = field(default_factory=dict)  # reason code: count
    expertise: list[ExpertiseLoad] = field(default_factory=list)
    average_load: float = 0.0  # expected teams per certified inspector

    @property
    def concentrated(self) -> list[ExpertiseLoad]:
        return [e for e in self.expertise if e.concentrated]

    @property
    def concentrated_text(self) -> str:
        """E.g. "排污许可（1 人具备，预计 26 个对象）", for the warning."""
        return _(", ").join(
            _("%(skill)s (%(holders)s holders for about %(sources)s sources)")
            % {"skill": e.label, "holders": e.certified or e.experts, "sources": e.expected}
            for e in self.concentrated
        )


def manifest_summary(draw: Draw) -> ManifestSummary:
    """Pool sizes and digests, quotas with their arithmetic, the inspector pool and the
    exclusion counts by reason: everything the commitment fixes, in figures."""
    manifest = json.loads(draw.manifest_json)
    quotas = {q["class"]: q for q in draw.quotas}
    strata = []
    for stratum in manifest["strata"]:
        q = quotas.get(stratum["name"], {})
        strata.append(
            StratumSummary(
                name=stratum["name"],
                label=class_label(stratum["name"]),
                quota=stratum["quota"],
                pool_size=len(stratum["pool"]),
                pool_digest=stratum["pool_digest"],
                first_tier=sum(1 for e in stratum["pool"] if e["tier"] == 0),
                weighted=sum(1 for e in stratum["pool"] if e["weight"] > 1),
                lines=list(q.get("lines", [])),
                drawn_this_year=q.get("drawn_this_year", 0),
                uncovered=q.get("uncovered", 0),
                joint=q.get("joint", 0),
            )
        )
    people = manifest["inspectors"]["pool"]
    # The manifest keeps the exclusions as [code, reason, detail]: count them from there, so
    # what is shown is exactly what the commitment covers.
    counts = Counter(reason for _code, reason, _detail in manifest["draw"].get("exclusions", []))
    reason_labels = dict(DrawExclusion.Reason.choices)
    return ManifestSummary(
        strata=strata,
        inspector_pool=len(people),
        certified=sum(1 for p in people if p["certified"]),
        experts=sum(1 for p in people if p["expert"]),
        inspector_digest=manifest["inspectors"]["pool_digest"],
        team_size=manifest["constraints"]["team_size"],
        constraints=len(manifest["constraints"]["objects"]),
        witnesses=manifest["entropy_spec"]["witnesses"],
        public_value_spec=_public_value_text(manifest["entropy_spec"]),
        rules=describe_rules(manifest["draw"].get("rules", [])),
        off_site=len(manifest["draw"].get("off_site", [])),
        exclusions=[
            (str(reason_labels.get(reason, reason)), n)
            for reason, n in sorted(counts.items(), key=lambda item: -item[1])
        ],
        exclusions_total=sum(counts.values()),
        exclusions_by_reason=dict(counts),
        **_expertise_loads(manifest, draw.team_forecast),
    )


def _public_value_text(spec: dict) -> str | None:
    """The public value's source, with its format in version 3 (a dict there)."""
    public = spec["public_value"]
    if public is None or isinstance(public, str):
        return public
    return _("%(description)s (%(digits)s digits)") % public


def _expertise_loads(manifest: dict, forecast: dict | None = None) -> dict:
    """Per required expertise, the expected drawn sources per person who holds it, beside the
    average inspector's expected load: a rare expertise sends its few holders to every source
    that needs it (a team grows past its size to include one), which a clerk should see
    before committing, while the inspector registry can still be put right."""
    needed: dict[str, list[str]] = defaultdict(list)
    for object_id, rule in manifest["constraints"]["objects"].items():
        for skill in rule["requires"]:
            needed[skill].append(object_id)
    if not needed:  # no check item requires an expertise: nothing to weigh
        return {"expertise": [], "average_load": 0.0}
    share = {}  # pool member -> the chance its stratum's quota draws it
    for stratum in manifest["strata"]:
        pool = stratum["pool"]
        chance = min(1.0, stratum["quota"] / len(pool)) if pool else 0.0
        for entry in pool:
            share[entry["id"]] = chance
    people = manifest["inspectors"]["pool"]
    certified = sum(1 for p in people if p["certified"])
    team_size = manifest["constraints"]["team_size"]
    drawn = sum(min(s["quota"], len(s["pool"])) for s in manifest["strata"])
    average = drawn * team_size / certified if certified else 0.0
    labels = dict(Expertise.choices)
    loads = []
    for skill, objects in sorted(needed.items()):
        expected = sum(share.get(o, 0.0) for o in objects)
        holders_c = sum(1 for p in people if p["certified"] and skill in p["expertise"])
        holders_x = sum(1 for p in people if p["expert"] and skill in p["expertise"])
        holders = holders_c or holders_x
        per_holder = expected / holders if holders else expected
        if forecast and forecast.get("load"):
            # The engine's own teams (lottery.forecast at prepare), cap and leaders included:
            # the teams each holder is expected to join, not a formula's guess.
            ids = [
                p["id"]
                for p in people
                if skill in p["expertise"] and (p["certified"] if holders_c else p["expert"])
            ]
            if ids:
                per_holder = sum(forecast["load"].get(i, 0.0) for i in ids) / len(ids)
        loads.append(
            ExpertiseLoad(
                name=skill,
                label=str(labels.get(skill, skill)),
                sources=len(objects),
                expected=round(expected, 1),
                certified=holders_c,
                experts=holders_x,
                per_holder=round(per_holder, 1),
                concentrated=per_holder >= 3 and per_holder > 2 * average,
            )
        )
    return {"expertise": loads, "average_load": round(average, 1)}


def exclusion_rows(
    draw: Draw, *, limit: int | None = None, hide_reasons: Iterable[str] = ()
) -> list[DrawExclusion]:
    """Every exclusion with its reason and the source's name, by reason then source code;
    without those of ``hide_reasons`` (the caller decides what the user may see)."""
    qs = (
        DrawExclusion.objects.filter(draw=draw)
        .exclude(reason__in=list(hide_reasons))
        .select_related("source")
        .only("reason", "detail", "source__source_code", "source__name")
        .order_by("reason", "source__source_code")
    )
    return list(qs[:limit] if limit else qs)


# --- the result ----------------------------------------------------------------------------


@dataclass
class Member:
    role: str
    role_label: str
    inspector_id: int
    name: str
    certificate_number: str


@dataclass
class ResultRow:
    selection: DrawSelection
    team: list[Member]
    replaced_by: Substitution | None = None  # approved object substitution of this row
    replacement_for: Substitution | None = None  # this row came in by that substitution
    team_changed_by: list[Substitution] = field(default_factory=list)
    pending: list[Substitution] = field(default_factory=list)

    @property
    def effective(self) -> bool:
        return self.replaced_by is None


@dataclass
class ResultStratum:
    name: str
    label: str
    rows: list[ResultRow]
    total: int | None = None  # drawn sources in force in the whole class, when rows are a page

    @property
    def effective_count(self) -> int:
        if self.total is not None:
            return self.total
        return sum(1 for r in self.rows if r.effective)


@dataclass
class SubstitutionRow:
    substitution: Substitution
    replacement: DrawSelection | None = None
    new_team: list[Member] = field(default_factory=list)
    added: set[int] = field(default_factory=set)  # inspector ids new to the team (a recusal)

    @property
    def nobody_added(self) -> bool:
        """An approved recusal that took someone off without putting anyone on: the rest of
        the team already had the team size and every required expertise."""
        sub = self.substitution
        return (
            sub.kind == Substitution.Kind.INSPECTOR
            and sub.status == Substitution.Status.APPROVED
            and bool(self.new_team)
            and not self.added
        )


@dataclass
class DrawResult:
    strata: list[ResultStratum]
    substitutions: list[SubstitutionRow]
    pending_count: int = 0
    page: Page | None = None  # when the rows are one page of a filtered list (see draw_result)
    #: Of the rows the filter matches, those replaced by an approved substitution: they stay
    #: listed (struck out) but are not drawn sources in force.
    matched_replaced: int = 0
    stratum: str = ""  # the filter applied, if any
    query: str = ""
    classes: list[tuple[str, str]] = field(default_factory=list)  # (name, label) to filter by

    @property
    def filter_query(self) -> str:
        """The filter as a query string, for the page links."""
        return urlencode({k: v for k, v in (("class", self.stratum), ("q", self.query)) if v})

    @property
    def effective_count(self) -> int:
        return sum(s.effective_count for s in self.strata)

    @property
    def matched_in_force(self) -> int:
        """Drawn sources in force among the rows the filter matches."""
        return self.page.paginator.count - self.matched_replaced if self.page else 0


def _added_by_recusal(recusals: list[Substitution]) -> dict[int, set[int]]:
    """For each approved inspector substitution, who its team snapshot has that the snapshot
    before it did not (snapshots: see ``effective_teams``)."""
    if not recusals:
        return {}
    recusal_ids = {s.pk for s in recusals}
    snapshots: dict[int, dict[int | None, set[int]]] = defaultdict(lambda: defaultdict(set))
    for selection_id, sub_id, inspector_id in TeamAssignment.objects.filter(
        selection_id__in={s.selection_id for s in recusals}
    ).values_list("selection_id", "substitution_id", "inspector_id"):
        # The first team (drawn, or brought by an object substitution) is the base: None.
        snapshots[selection_id][sub_id if sub_id in recusal_ids else None].add(inspector_id)
    added = {}
    for sub in recusals:
        teams = snapshots[sub.selection_id]
        before = max((k for k in teams if k is not None and k < sub.pk), default=None)
        added[sub.pk] = teams[sub.pk] - teams[before]
    return added


def team_member(a: TeamAssignment) -> Member:
    return Member(
        role=a.role,
        role_label=str(a.get_role_display()),
        inspector_id=a.inspector_id,
        name=a.inspector.name,
        certificate_number=a.inspector.certificate_number,
    )


def _team_order(a: TeamAssignment) -> int:
    return {"leader": 0, "member": 1, "expert": 2}.get(a.role, 3)


#: Drawn sources per page of the result on screen: a draw over a large registry takes
#: thousands, and the whole list would be tens of megabytes of HTML.
RESULT_PAGE_SIZE = 100


def draw_result(
    draw: Draw, *, page: int | str | None = None, stratum: str = "", query: str = ""
) -> DrawResult:
    """The drawn list as it stands, per class in the verifiable order: originals (marked when
    replaced), approved replacements, each current team, and every substitution with who,
    when, why and what replaced what. A fixed number of queries, whatever the size.

    With ``page`` (a page number; out of range gives the last page), only that page of
    ``RESULT_PAGE_SIZE`` rows, optionally of one class (``stratum``) and of the sources whose
    code, name or company contains ``query``; the class counts stay those of the whole draw.
    """
    order = [q["class"] for q in draw.quotas] or [c.value for c in SupervisionClass]
    qs = DrawSelection.objects.filter(draw=draw).select_related("source", "substitution")
    paged = None
    selections: list[DrawSelection]
    if page is not None:
        stratum = stratum if stratum in order else ""
        query = query.strip()
        if stratum:
            qs = qs.filter(stratum=stratum)
        if query:
            qs = qs.filter(
                Q(source__source_code__icontains=query)
                | Q(source__name__icontains=query)
                | Q(source__company_name__icontains=query)
            )
        rank = Case(
            *(When(stratum=name, then=Value(i)) for i, name in enumerate(order)),
            default=Value(len(order)),
        )
        qs = qs.annotate(stratum_rank=rank).order_by("stratum_rank", "position", "pk")
        paged = Paginator(qs, RESULT_PAGE_SIZE).get_page(page)
        selections = list(paged.object_list)
    else:
        selections = list(qs.order_by("stratum", "position"))
    subs = list(
        Substitution.objects.filter(draw=draw)
        .select_related("selection__source", "inspector", "requested_by", "decided_by")
        .order_by("requested_at", "pk")
    )
    approved = [s for s in subs if s.status == Substitution.Status.APPROVED]
    replaced = {s.selection_id: s for s in approved if s.kind == Substitution.Kind.OBJECT}
    matched_replaced = (
        qs.filter(pk__in=list(replaced)).count() if paged is not None and replaced else 0
    )
    effective = [s for s in selections if s.pk not in replaced]
    teams = effective_teams(effective)
    new_teams: dict[int | None, list[Member]] = defaultdict(list)
    for a in (
        TeamAssignment.objects.filter(substitution__in=[s.pk for s in approved])
        .select_related("inspector")
        .order_by("pk")
    ):
        new_teams[a.substitution_id].append(team_member(a))
    added = _added_by_recusal([s for s in approved if s.kind == Substitution.Kind.INSPECTOR])
    # Every substitution's replacement, whether or not this page or filter shows its row.
    by_selection_sub = {
        s.substitution_id: s
        for s in DrawSelection.objects.filter(draw=draw, substitution__isnull=False)
        .select_related("source")
        .order_by()
    }
    team_changes: dict[int, list[Substitution]] = defaultdict(list)
    pending: dict[int, list[Substitution]] = defaultdict(list)
    for sub in subs:
        if sub.status == Substitution.Status.REQUESTED:
            pending[sub.selection_id].append(sub)
        elif sub.status == Substitution.Status.APPROVED and sub.kind == Substitution.Kind.INSPECTOR:
            team_changes[sub.selection_id].append(sub)
    grouped: dict[str, list[ResultRow]] = {name: [] for name in order}
    for s in selections:
        grouped.setdefault(s.stratum, []).append(
            ResultRow(
                selection=s,
                team=[team_member(a) for a in sorted(teams.get(s.pk, []), key=_team_order)],
                replaced_by=replaced.get(s.pk),
                replacement_for=s.substitution,
                team_changed_by=team_changes.get(s.pk, []),
                pending=pending.get(s.pk, []),
            )
        )
    totals = drawn_counts([draw.pk]).get(draw.pk, {}) if paged is not None else None
    return DrawResult(
        strata=[
            ResultStratum(
                name=name,
                label=class_label(name),
                rows=rows,
                total=totals.get(name, 0) if totals is not None else None,
            )
            for name, rows in grouped.items()
            if paged is None or rows  # a page shows the classes it has rows of
        ],
        page=paged,
        matched_replaced=matched_replaced,
        stratum=stratum,
        query=query,
        classes=[(name, class_label(name)) for name in order],
        substitutions=[
            SubstitutionRow(
                substitution=s,
                replacement=by_selection_sub.get(s.pk),
                new_team=new_teams.get(s.pk, []),
                added=added.get(s.pk, set()),
            )
            for s in subs
        ],
        pending_count=sum(len(v) for v in pending.values()),
    )


# --- deadlines -------------------------------------------------------------------------------


def deadline_status(standing: QuarterStanding, today: date) -> dict:
    """A bureau's quarterly draw against its deadline, in words: the reviewer's overview and
    the home cards say the same thing. ``due_text`` is the due date (or 衡水's window)."""
    if standing.due is None:  # the regime needs a year whose holiday schedule is not loaded
        return {"late": False, "text": standing.due_problem, "due_text": ""}
    if standing.opens is not None:
        due_text = _("window %(start)s to %(end)s") % {
            "start": standing.opens.isoformat(),
            "end": standing.due.isoformat(),
        }
    else:
        due_text = _("due by %(date)s") % {"date": standing.due.isoformat()}
    days = standing.days_late(today)
    if standing.executed:
        if days > 0:
            return {
                "late": True,
                "text": _("executed %(n)s days late") % {"n": days},
                "due_text": due_text,
            }
        return {"late": False, "text": _("executed on time"), "due_text": due_text}
    if days > 0:
        return {
            "late": True,
            "text": _("overdue by %(n)s days") % {"n": days},
            "due_text": due_text,
        }
    if days == 0:
        return {"late": False, "text": _("due today"), "due_text": due_text}
    return {"late": False, "text": _("due in %(n)s days") % {"n": -days}, "due_text": due_text}
