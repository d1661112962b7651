"""Demo world, inspectors: a registry for every county bureau and city team.

Invented people (common surnames, invented given names), certificate numbers in the shape
region code + year of issue + serial (e.g. 14110220230012), a realistic mix of expiring and
expired certificates, off-staff people, experts, leave and training, and a few conflicts of
interest against the demo sources of the same county when the object registry has them.

Idempotent: an organisation that already has inspectors is left alone. Written through the
services (one bulk upsert for everyone, then the small per-person services), so the demo
leaves the same history and audit trail as real use.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from core.demo import SHOWCASE_COUNTY
from core.models import Organisation
from core.vocab import Expertise
from inspectors.models import Conflict, Inspector, Unavailability
from inspectors.services import (
    conflict_declare,
    inspector_bulk_upsert,
    inspector_link_user,
    unavailability_add,
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红鹏辉建国志宏海波晓东亮斌浩"
    "凯俊峰琳雪梅瑞文博宇晨欣怡佳颖振兴永庆立新卫民春燕丹慧淑兰德胜广利长江志远松"
)
DEPARTMENTS = (
    "执法一科",
    "执法二科",
    "执法三科",
    "综合执法科",
    "法制审核科",
    "污染防治科",
    "环境监测站",
)
CITY_DEPARTMENTS = ("执法一大队", "执法二大队", "执法三大队", "法制科", "稽查科")
POSTS = ("执法队员", "科员", "科员", "副科长", "科长", "四级主任科员", "一级科员")
CITY_POSTS = ("执法队员", "执法队员", "副大队长", "大队长", "科员")
SCOPES = (
    "生态环境保护行政执法（水、大气、固体废物、噪声污染防治）",
    "生态环境保护行政执法（排污许可、环境影响评价）",
    "生态环境保护行政执法（危险废物、辐射安全）",
    "生态环境保护行政执法（综合）",
)
CATEGORIES = (
    "环境工程",
    "环境科学",
    "化学工程",
    "法学",
    "生态学",
    "给排水工程",
    "机械工程",
    "分析化学",
)
EXPERT_UNITS = (
    "省环境科学研究院",
    "市环境监测站",
    "河南理工大学环境学院",
    "市辐射环境监督站",
    "第三方环境检测有限公司",
)
EXPERT_POSTS = ("高级工程师", "正高级工程师", "副教授", "工程师")
EXPERTISE_WEIGHTS = {
    Expertise.WATER: 8,
    Expertise.AIR: 8,
    Expertise.SOLID_WASTE: 5,
    Expertise.HAZARDOUS_WASTE: 5,
    Expertise.PERMIT: 6,
    Expertise.EIA: 4,
    Expertise.NOISE: 3,
    Expertise.AUTO_MONITORING: 4,
    Expertise.SOIL: 2,
    Expertise.RADIATION: 1,
}


def _names(rng: random.Random, count: int) -> list[str]:
    names: set[str] = set()
    while len(names) < count:
        given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
        names.add(rng.choice(SURNAMES) + given)
    result = sorted(names)
    rng.shuffle(result)
    return result


def _expertise(rng: random.Random, low: int, high: int) -> list[str]:
    codes, weights = zip(*EXPERTISE_WEIGHTS.items(), strict=True)
    picked: list[str] = []
    for code in rng.choices(codes, weights=weights, k=rng.randint(low, high)):
        if code not in picked:
            picked.append(str(code))
    return picked


def _rows_for(org: Organisation, rng: random.Random, today) -> list[dict]:
    city = org.kind == Organisation.Kind.CITY_TEAM
    staff = rng.randint(28, 32) if city else rng.randint(20, 40)
    experts = 2 if city else rng.randint(1, 3)
    names = _names(rng, staff + experts)
    rows = []
    years = sorted(rng.sample(range(2012, 2025), 6))
    for serial, name in enumerate(names[:staff], start=1):
        year = rng.choice(years)
        roll = rng.random()
        if roll < 0.06:  # expired
            valid_until = today - timedelta(days=rng.randint(1, 300))
        elif roll < 0.14:  # expiring within 60 days
            valid_until = today + timedelta(days=rng.randint(0, 60))
        else:
            valid_until = today + timedelta(days=rng.randint(90, 1800))
        rows.append(
            {
                "organisation": f"{org.kind}:{org.division_code}",
                "name": name,
                "kind": Inspector.Kind.ENFORCEMENT,
                "department": rng.choice(CITY_DEPARTMENTS if city else DEPARTMENTS),
                "post": rng.choice(CITY_POSTS if city else POSTS),
                "certificate_number": f"{org.division_code}{year}{serial:04d}",
                "certificate_valid_until": valid_until,
                "enforcement_scope": rng.choice(SCOPES),
                "on_staff": rng.random() < 0.85,
                "gender": "male" if rng.random() < 0.68 else "female",
                "years_of_service": max(1, min(35, today.year - year + rng.randint(0, 8))),
                "expertise": _expertise(rng, 1, 3),
                "professional_category": rng.choice(CATEGORIES),
                "region_code": org.division_code,
            }
        )
    for name in names[staff:]:
        rows.append(
            {
                "organisation": f"{org.kind}:{org.division_code}",
                "name": name,
                "kind": Inspector.Kind.EXPERT,
                "department": rng.choice(EXPERT_UNITS),
                "post": rng.choice(EXPERT_POSTS),
                "on_staff": False,
                "gender": "male" if rng.random() < 0.6 else "female",
                "years_of_service": rng.randint(8, 30),
                "expertise": _expertise(rng, 1, 2),
                "professional_category": rng.choice(CATEGORIES),
                "region_code": org.division_code,
            }
        )
    return rows


def _sources_by_org(org_ids: list[int]) -> dict[int, list]:
    try:
        from registry.models import PollutionSource
    except ImportError:  # the object registry is not built yet
        return {}
    by_org: dict[int, list] = {}
    for source in PollutionSource.objects.filter(organisation_id__in=org_ids).only(
        "pk", "organisation_id", "uscc", "name"
    ):
        by_org.setdefault(source.organisation_id, []).append(source)
    return by_org


@transaction.atomic
def seed(*, stdout, rng: random.Random) -> None:
    today = timezone.localdate()
    targets = list(
        Organisation.objects.filter(
            kind__in=[Organisation.Kind.COUNTY_BUREAU, Organisation.Kind.CITY_TEAM]
        )
        .exclude(pk__in=Inspector.objects.values("organisation_id"))
        .order_by("division_code", "kind")
    )
    rows: list[dict] = []
    for org in targets:
        rows.extend(_rows_for(org, rng, today))
    result = inspector_bulk_upsert(
        actor=None,
        organisation_by_code={f"{o.kind}:{o.division_code}": o for o in targets},
        rows=rows,
    )

    # Leave, training and secondments for about one in eight, around this quarter.
    periods = 0
    new_people = list(
        Inspector.objects.filter(organisation__in=targets, kind=Inspector.Kind.ENFORCEMENT)
        .order_by("organisation_id", "id")
        .only("pk", "organisation_id", "name")
    )
    reasons = [
        (Unavailability.Reason.LEAVE, "年休假"),
        (Unavailability.Reason.LEAVE, "病假"),
        (Unavailability.Reason.TRAINING, "省厅执法骨干培训"),
        (Unavailability.Reason.TRAINING, "排污许可证后监管培训"),
        (Unavailability.Reason.SECONDMENT, "借调至市局专项督察组"),
    ]
    for person in new_people:
        if rng.random() >= 0.12:
            continue
        start = today + timedelta(days=rng.randint(-20, 60))
        reason, note = rng.choice(reasons)
        length = {"leave": (2, 10), "training": (3, 14), "secondment": (30, 90)}[reason]
        unavailability_add(
            actor=None,
            inspector=person,
            start=start,
            end=start + timedelta(days=rng.randint(*length)),
            reason=reason,
            note=note,
        )
        periods += 1

    conflicts = _seed_conflicts(rng, today)
    linked = _link_showcase_inspector(today)
    accounts = _showcase_accounts(today)
    stdout.write(
        f"inspectors: {result.created} created in {len(targets)} organisations, "
        f"{periods} unavailability periods, {conflicts} conflicts"
        + (", wuzhi_inspector linked" if linked else "")
        + (f", {accounts} 武陟县 inspectors given accounts" if accounts else "")
    )


def _seed_conflicts(rng: random.Random, today) -> int:
    """A few declared conflicts against sources of the same organisation.

    Separate from the people, so they are added on a later run once the object registry
    has demo sources; an organisation that already has any conflict is left alone.
    """
    done = set(Conflict.objects.values_list("inspector__organisation_id", flat=True))
    orgs = list(
        Organisation.objects.filter(
            kind__in=[Organisation.Kind.COUNTY_BUREAU, Organisation.Kind.CITY_TEAM]
        )
        .exclude(pk__in=done)
        .values_list("pk", flat=True)
    )
    sources = _sources_by_org(orgs)
    people_by_org: dict[int, list[Inspector]] = {}
    for person in (
        Inspector.objects.filter(organisation_id__in=list(sources))
        .certified(today)
        .order_by("organisation_id", "id")
        .only("pk", "organisation_id", "name")
    ):
        people_by_org.setdefault(person.organisation_id, []).append(person)
    count = 0
    for org_id in sorted(sources):
        org_sources = sources[org_id]
        candidates = people_by_org.get(org_id, [])
        for person in rng.sample(candidates, k=min(len(candidates), rng.randint(1, 3))):
            source = rng.choice(org_sources)
            if source.uscc and rng.random() < 0.5:
                conflict_declare(
                    actor=None,
                    inspector=person,
                    company_uscc=source.uscc,
                    reason=rng.choice(["配偶在该单位任职", "近亲属为该单位股东"]),
                    valid_from=today - timedelta(days=rng.randint(30, 700)),
                )
            else:
                conflict_declare(
                    actor=None,
                    inspector=person,
                    source=source,
                    reason=rng.choice(["曾在该单位任职未满三年", "参与过该项目环评审批"]),
                    valid_from=today - timedelta(days=rng.randint(30, 700)),
                    valid_until=today + timedelta(days=rng.randint(180, 900)),
                )
            count += 1
    return count


def _link_showcase_inspector(today) -> bool:
    """Give the demo account ``wuzhi_inspector`` a registry record of 武陟县 (once)."""
    user = get_user_model().objects.filter(username="wuzhi_inspector").first()
    if user is None or Inspector.objects.filter(user=user).exists():
        return False
    record = (
        Inspector.objects.filter(
            organisation__division_code=SHOWCASE_COUNTY,
            organisation__kind=Organisation.Kind.COUNTY_BUREAU,
            user__isnull=True,
        )
        .certified(today + timedelta(days=90))
        .order_by("id")
        .first()
    )
    if record is None:
        return False
    inspector_link_user(actor=None, inspector=record, user=user)
    return True


def _showcase_accounts(today) -> int:
    """Every certified enforcement inspector of 武陟县 gets an account of their own
    (``wuzhi_i01``…, the demo password), linked to their record, so the draws grant each
    their tasks and the inspections of the demo are entered by the people on the teams."""
    from django.contrib.auth.hashers import make_password

    from core.demo import DEMO_PASSWORD
    from core.models import Role
    from core.services import user_create

    records = list(
        Inspector.objects.filter(
            organisation__division_code=SHOWCASE_COUNTY,
            organisation__kind=Organisation.Kind.COUNTY_BUREAU,
            kind=Inspector.Kind.ENFORCEMENT,
            user__isnull=True,
        ).order_by("id")
    )
    User = get_user_model()
    password_hash = make_password(DEMO_PASSWORD)
    made = 0
    for n, record in enumerate(records, start=1):
        username = f"wuzhi_i{n:02d}"
        if User.objects.filter(username=username).exists():
            continue
        user = user_create(
            actor=None,
            username=username,
            password=DEMO_PASSWORD,
            password_hash=password_hash,
            role=Role.INSPECTOR,
            organisation=record.organisation,
            display_name=record.name,
        )
        inspector_link_user(actor=None, inspector=record, user=user)
        made += 1
    return made
