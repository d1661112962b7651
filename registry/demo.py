"""Demo world, object registry: sources for every county bureau and city team, and each
bureau's check-item list for the year.

Invented but believable: Chinese company names, valid credit codes (``make_uscc`` with the
county's division code), a realistic class mix (~15% key, ~5% special), some companies with
several sites, credit ratings, positive list, a few suspended or cancelled. Everything goes
through ``source_bulk_upsert`` (COPY on PostgreSQL) and the check-item services, so the demo
obeys the same rules as real data. Idempotent: an organisation that already has sources (or
a list for the year) is left alone.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from core.divisions import CITIES, COUNTIES
from core.models import Organisation
from core.uscc import ALPHABET, make_uscc
from registry.models import CheckItem, PollutionSource
from registry.services import checkitem_create, checkitem_publish_year, source_bulk_upsert

# (GB/T 4754-2017 code, industry, company-name trade word, pollution types, hazardous waste?)
INDUSTRIES = [
    ("C2614", "有机化学原料制造", "化工", ["water", "air", "hazardous_waste"], True),
    ("C2662", "专项化学用品制造", "化学品", ["water", "air", "hazardous_waste"], True),
    ("C2641", "涂料制造", "涂料", ["air", "hazardous_waste"], True),
    ("C2710", "化学药品原料药制造", "制药", ["water", "air", "hazardous_waste"], True),
    ("C2221", "机制纸及纸板制造", "纸业", ["water", "solid_waste"], False),
    ("C3391", "黑色金属铸造", "铸造", ["air", "noise", "solid_waste"], False),
    ("C3360", "金属表面处理及热处理加工", "表面处理", ["water", "hazardous_waste"], True),
    ("C3011", "水泥制造", "水泥", ["air", "noise"], False),
    ("C3120", "炼钢", "钢铁", ["air", "water", "solid_waste"], True),
    ("C3130", "钢压延加工", "钢材", ["air", "water"], False),
    ("C2521", "炼焦", "焦化", ["air", "water", "hazardous_waste"], True),
    ("D4411", "火力发电", "热电", ["air", "water", "solid_waste"], False),
    ("C1351", "牲畜屠宰", "肉类食品", ["water"], False),
    ("C1391", "淀粉及淀粉制品制造", "淀粉", ["water"], False),
    ("C1511", "酒精制造", "生物能源", ["water", "air"], False),
    ("C1713", "棉印染精加工", "印染", ["water"], False),
    ("C1931", "毛皮鞣制加工", "皮革", ["water", "hazardous_waste"], True),
    ("C3031", "粘土砖瓦及建筑砌块制造", "建材", ["air", "noise"], False),
    ("C2922", "塑料板、管、型材制造", "塑业", ["air"], False),
    ("C3670", "汽车零部件及配件制造", "汽车部件", ["air", "hazardous_waste"], True),
    ("C2625", "有机肥料及微生物肥料制造", "肥业", ["air", "water"], False),
    ("N7724", "危险废物治理", "环保科技", ["hazardous_waste", "air"], True),
    ("N7820", "环境卫生管理", "环境服务", ["water", "air", "solid_waste"], False),
    ("Q8411", "综合医院", "医院", ["water", "hazardous_waste"], True),
    ("F5265", "机动车燃油零售", "石化加油站", ["air", "soil"], False),
]
BRANDS = [
    "宏达",
    "鑫源",
    "恒信",
    "瑞丰",
    "永兴",
    "金泰",
    "华威",
    "天成",
    "中诚",
    "博远",
    "德隆",
    "嘉禾",
    "兴旺",
    "润泽",
    "东升",
    "鸿运",
    "万通",
    "信诚",
    "新星",
    "顺达",
    "金鼎",
    "聚丰",
    "海川",
    "晨光",
    "国盛",
    "宇航",
    "昌盛",
    "利民",
    "隆基",
    "益民",
    "佳和",
    "富源",
]
SURNAMES = list("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕")
GIVEN = [
    "建国",
    "志强",
    "秀英",
    "海燕",
    "国庆",
    "红梅",
    "永刚",
    "立新",
    "春生",
    "玉兰",
    "振华",
    "晓东",
    "文博",
    "丽娟",
    "德明",
    "学军",
]
TOWNS = ["城关镇", "产业集聚区", "工业园区", "经济技术开发区", "东城街道", "西城街道", "北郊乡"]
ROADS = ["建设路", "人民路", "工业路", "纬三路", "经五路", "滨河路", "迎宾大道", "产业大道"]
SPECIAL_REASONS = [
    "上年度被列入挂牌督办",
    "近一年多次被群众信访举报",
    "上季度因环境违法行为受到行政处罚",
    "同一排口在线监测数据超标5次以上",
    "环境信用评价为严重失信",
    "被媒体曝光环境问题",
]
TAGS = ["涉VOCs", "园区内", "涉重金属", "两高项目", "重点排污单位", "涉危险化学品", "尾矿库"]
CITY_CENTRES = {
    "410800": (Decimal("113.24"), Decimal("35.22")),
    "141100": (Decimal("111.14"), Decimal("37.52")),
    "210500": (Decimal("123.77"), Decimal("41.29")),
    "131100": (Decimal("115.67"), Decimal("37.74")),
}
AREA_CODES = {"410800": "0391", "141100": "0358", "210500": "024", "131100": "0318"}


def _place(county_code: str) -> str:
    """The short place name a local company carries: 武陟县 → 武陟, 河北衡水高新技术产业开发区 → 衡水高新."""
    name = COUNTIES[county_code][0]
    if "高新" in name:
        return CITIES[COUNTIES[county_code][1]][0][:-1] + "高新"
    if len(name) > 2 and name[-1] in "县区市":
        name = name[:-1]
    return name.replace("满族自治", "")


def _body(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(9))


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _violation(rng: random.Random, pollution: list[str], hazardous: bool) -> str:
    choices = ["污染防治设施未正常运行", "未按证排污"]
    if "air" in pollution:
        choices.append("废气超标排放")
    if "water" in pollution:
        choices.append("废水超标排放")
    if hazardous:
        choices.append("未按规定贮存危险废物")
    return rng.choice(choices)


def _sources_for(
    org: Organisation, count: int, rng: random.Random, today: date, used: set[str]
) -> list[dict]:
    """``count`` sites of invented companies; about one company in six has two or three."""
    city = org.city_code
    if org.kind == Organisation.Kind.CITY_TEAM:
        counties = [code for code, (_n, c) in COUNTIES.items() if c == city]
        prefix = f"{city}-S"
    else:
        counties = [org.division_code]
        prefix = f"{org.division_code}-"
    lon0, lat0 = CITY_CENTRES.get(city, (Decimal("113"), Decimal("35")))
    rows: list[dict] = []
    serial = 0
    while len(rows) < count:
        county = rng.choice(counties)
        code, industry, trade, pollution, hazardous = rng.choice(INDUSTRIES)
        company = f"{_place(county)}{rng.choice(BRANDS)}{trade}有限公司"
        if company in used:
            company = company.replace("有限公司", f"{rng.choice('一二三四五')}分公司")
            if company in used:
                continue
        used.add(company)
        uscc = make_uscc("91", county, _body(rng))
        sites = rng.choices([1, 2, 3], [84, 12, 4])[0]
        town = rng.choice(TOWNS)
        boss = _person(rng)
        for site in range(sites):
            if len(rows) >= count:
                break
            serial += 1
            klass = rng.choices(["key", "general", "special"], [15, 80, 5])[0]
            if klass == "key":
                permit = rng.choices(["key", "simplified"], [85, 15])[0]
            else:
                permit = rng.choices(["simplified", "registration", "none"], [35, 50, 15])[0]
            credit = rng.choices(
                ["green", "blue", "unrated", "yellow", "red", "black"], [28, 30, 30, 8, 3, 1]
            )[0]
            if klass == "special" and credit in ("green", "blue"):
                credit = "yellow"
            start = date(rng.randint(2020, 2024), rng.randint(1, 12), rng.randint(1, 28))
            status = rng.choices(["active", "changed", "suspended", "cancelled"], [94, 2, 3, 1])[0]
            penalised = klass == "special" or rng.random() < 0.04
            penalty_date = today - timedelta(days=rng.randint(30, 700)) if penalised else None
            positive = klass != "special" and credit in ("green", "blue") and rng.random() < 0.12
            hw_role = (
                "operator"
                if code == "N7724"
                else ("generator" if hazardous and rng.random() < 0.8 else "none")
            )
            site_name = company if sites == 1 else f"{company}{'一二三'[site]}厂区"
            row = {
                "source_code": f"{prefix}{serial:04d}",
                "name": site_name,
                "company_name": company,
                "uscc": uscc,
                "legal_representative": boss,
                "address": (
                    f"{CITIES[city][0]}{COUNTIES[county][0]}{town}"
                    f"{rng.choice(ROADS)}{rng.randint(1, 399)}号"
                ),
                "phone": f"{AREA_CODES.get(city, '0391')}-{rng.randint(2000000, 8999999)}",
                "county_code": county,
                "town": town,
                "longitude": (lon0 + Decimal(rng.randint(-3000, 3000)) / 10000).quantize(
                    Decimal("0.000001")
                ),
                "latitude": (lat0 + Decimal(rng.randint(-2000, 2000)) / 10000).quantize(
                    Decimal("0.000001")
                ),
                "industry_code": code,
                "industry_name": industry,
                "permit_category": permit,
                "permit_number": (
                    f"{uscc}{site + 1:03d}{'W' if permit == 'registration' else 'P'}"
                    if permit != "none"
                    else ""
                ),
                "permit_valid_from": start if permit != "none" else None,
                "permit_valid_until": start + timedelta(days=5 * 365) if permit != "none" else None,
                "supervision_class": klass,
                "special_reason": rng.choice(SPECIAL_REASONS) if klass == "special" else "",
                "positive_list": positive,
                "positive_list_until": date(today.year, 12, 31) if positive else None,
                "credit_rating": credit,
                "market_risk_class": rng.choices(
                    ["A", "B", "C", "D", "unrated"], [30, 40, 12, 3, 15]
                )[0],
                "weather_grade": (
                    rng.choice(["A", "B", "C", "D", "leading"])
                    if klass == "key" and code.startswith("C")
                    else "none"
                ),
                "pollution_types": pollution,
                "hazardous_waste_role": hw_role,
                "violation_record": (
                    f"{penalty_date:%Y年%m月}因{_violation(rng, pollution, hw_role != 'none')}受到行政处罚"
                    if penalty_date
                    else ""
                ),
                "last_penalty_date": penalty_date,
                "complaints_12m": (
                    rng.randint(2, 8)
                    if klass == "special"
                    else rng.choices([0, 1, 2], [85, 11, 4])[0]
                ),
                "status": status,
                "status_date": (
                    today - timedelta(days=rng.randint(10, 300)) if status != "active" else None
                ),
                "tags": sorted(set(rng.sample(TAGS, rng.choices([0, 1, 2], [60, 30, 10])[0]))),
            }
            rows.append(row)
    return rows


# (name, legal basis, target classes, method, key item, expertise, content)
CHECK_ITEMS = [
    (
        "污染防治设施运行情况",
        "《中华人民共和国环境保护法》《中华人民共和国大气污染防治法》《中华人民共和国水污染防治法》",
        ["key", "general", "special"],
        "on_site",
        True,
        ["air", "water"],
        "废水、废气等污染防治设施是否正常运行，污染物是否达标排放",
    ),
    (
        "排污许可制度落实及证后执行情况",
        "《排污许可管理条例》《排污许可管理办法》",
        ["key", "general", "special"],
        "on_site",
        True,
        ["permit"],
        "是否持证排污、按证排污，执行报告、环境管理台账和自行监测是否落实",
    ),
    (
        "固体废物及危险废物管理情况",
        "《中华人民共和国固体废物污染环境防治法》《危险废物转移管理办法》",
        ["key", "special"],
        "on_site",
        True,
        ["hazardous_waste", "solid_waste"],
        "危险废物识别标志、管理计划、申报登记、贮存和转移联单执行情况",
    ),
    (
        "自动监控设施运行情况",
        "《污染源自动监控管理办法》《排污许可管理条例》",
        ["key"],
        "off_site",
        True,
        ["auto_monitoring"],
        "自动监测设备是否正常运行、数据是否真实有效并按规定联网传输",
    ),
    (
        "辐射安全项目管理情况",
        "《中华人民共和国放射性污染防治法》《放射性同位素与射线装置安全和防护条例》",
        ["key", "general"],
        "on_site",
        False,
        ["radiation"],
        "辐射安全许可证、辐射工作人员培训和个人剂量监测、辐射防护设施情况",
    ),
    (
        "建设项目环评及“三同时”制度落实情况",
        "《中华人民共和国环境影响评价法》《建设项目环境保护管理条例》",
        ["key", "general", "special"],
        "on_site",
        False,
        ["eia"],
        "是否依法履行环评手续，环境保护设施是否与主体工程同时设计、同时施工、同时投产使用",
    ),
    (
        "竣工环境保护自主验收情况",
        "《建设项目环境保护管理条例》《建设项目竣工环境保护验收暂行办法》",
        ["general"],
        "documentary",
        False,
        ["eia"],
        "是否按规定开展竣工环境保护验收并公开验收报告",
    ),
    (
        "环境安全隐患情况",
        "《中华人民共和国突发事件应对法》《突发环境事件应急管理办法》",
        ["key", "special"],
        "on_site",
        False,
        ["hazardous_waste"],
        "突发环境事件应急预案备案、环境风险防控措施和应急物资落实情况",
    ),
    (
        "企业环境信息依法披露情况",
        "《企业环境信息依法披露管理办法》",
        ["key", "general"],
        "documentary",
        False,
        [],
        "是否按规定公开排污信息、环境信息依法披露报告",
    ),
    (
        "噪声污染防治情况",
        "《中华人民共和国噪声污染防治法》",
        ["general"],
        "on_site",
        False,
        ["noise"],
        "工业噪声排放是否符合排放标准，噪声污染防治设施运行情况",
    ),
]


def seed_sources(*, stdout, rng: random.Random) -> int:
    today = timezone.localdate()
    targets = list(
        Organisation.objects.filter(
            kind__in=[Organisation.Kind.COUNTY_BUREAU, Organisation.Kind.CITY_TEAM]
        )
        .exclude(pk__in=PollutionSource.objects.values("organisation_id"))
        .order_by("division_code", "kind")
    )
    used = set(PollutionSource.objects.values_list("company_name", flat=True).distinct())
    rows: list[dict] = []
    org_by_code: dict[str, Organisation] = {}
    for org in targets:
        count = 60 if org.kind == Organisation.Kind.CITY_TEAM else rng.randint(150, 400)
        for row in _sources_for(org, count, rng, today, used):
            rows.append(row)
            org_by_code[row["source_code"]] = org
    created, _updated, _unchanged = source_bulk_upsert(
        actor=None, organisation_by_code=org_by_code, rows=rows
    )
    stdout.write(f"sources: {created} created for {len(targets)} organisations")
    return created


def seed_check_items(*, stdout, year: int) -> int:
    """The year's list for every bureau and city team; published, except a draft 11th item
    on the showcase county so the publish button has something to do."""
    targets = (
        Organisation.objects.filter(
            kind__in=[Organisation.Kind.COUNTY_BUREAU, Organisation.Kind.CITY_TEAM]
        )
        .exclude(pk__in=CheckItem.objects.filter(year=year).values("organisation_id"))
        .order_by("division_code", "kind")
    )
    created = 0
    for org in targets:
        for number, (name, basis, classes, method, key, expertise, content) in enumerate(
            CHECK_ITEMS, start=1
        ):
            checkitem_create(
                actor=None,
                organisation=org,
                data={
                    "year": year,
                    "code": f"{year}-{number:02d}",
                    "name": name,
                    "legal_basis": basis,
                    "checking_body": org.name,
                    "target_objects": "本辖区检查对象名录库中的"
                    + "、".join(
                        {"key": "重点", "general": "一般", "special": "特殊"}[c] for c in classes
                    )
                    + "监管对象",
                    "target_classes": classes,
                    "content": content,
                    "method": method,
                    "is_key_item": key,
                    "required_expertise": expertise,
                },
            )
            created += 1
        checkitem_publish_year(actor=None, organisation=org, year=year)
        if org.division_code == "410823" and org.kind == Organisation.Kind.COUNTY_BUREAU:
            checkitem_create(
                actor=None,
                organisation=org,
                data={
                    "year": year,
                    "code": f"{year}-11",
                    "name": "碳排放情况",
                    "legal_basis": "《碳排放权交易管理暂行条例》",
                    "checking_body": org.name,
                    "target_classes": ["key"],
                    "method": "documentary",
                    "content": "重点排放单位温室气体排放报告和配额清缴情况",
                },
            )
            created += 1
    stdout.write(f"check items: {created} created")
    return created


@transaction.atomic
def seed(*, stdout, rng: random.Random) -> None:
    seed_sources(stdout=stdout, rng=rng)
    seed_check_items(stdout=stdout, year=timezone.localdate().year)
