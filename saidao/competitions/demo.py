"""The demo labor competition, from 工人日报 2024-08-13: 胜利油田's 2024 high-quality development
program with its 13 categories, the single-well capacity competition in which 东辛采油厂's 34 new
wells at 8.6 t/day against a 5.6 t/day design come out second, and 胜利采油厂 管理六区's water-cut
competition whose second-quarter 最佳降含水标兵 is 吴昊 (water cut down 12 points, +4.5 t/day).

The figures are plain data here; ``competitions_demo_seed`` pushes them through the services
(report → submit → verify → lock → compute → publish → titles), so the demo is the real flow.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password

from saidao.accounts.models import Membership, PrivacyConsent, User
from saidao.core import clock
from saidao.orgs.models import Organization
from saidao.orgs.services import organization_create
from saidao.orgs.validators import credit_code_check_char
from saidao.regions.models import Region

from .models import (
    Category,
    Competition,
    HelpAssignment,
    Participant,
    Period,
    Program,
    Report,
    Snapshot,
)
from .services import (
    category_create,
    competition_check,
    competition_create,
    help_assign,
    help_note_add,
    indicator_create,
    participant_add,
    period_compute,
    period_create,
    program_create,
    program_role_grant,
    report_save,
    report_submit,
    report_verify,
    snapshot_publish,
    title_approve,
    title_nominate,
    title_publish,
)

PROGRAM_NAME = "2024年推动油田高质量发展劳动竞赛"
PROGRAM_YEAR = 2024

# The 13 大项 of the program table; the first four are the ones the paper names.
CATEGORIES: tuple[str, ...] = (
    "高质量勘探",
    "效益开发",
    "页岩油开发",
    "平安油田建设",
    "提质增效",
    "科技创新",
    "新能源发展",
    "数字化转型",
    "精细管理",
    "节能降耗",
    "人才培养",
    "工程技术服务",
    "基层建设",
)


@dataclass(frozen=True)
class Plant:
    """A production plant (采油厂) and its union, a participant of the unit competitions."""

    key: str
    union_name: str  # the organization in the tree
    code: str  # 参赛单位编码, the column of the import sheet
    reporter: tuple[str, str]  # (real name, phone) of the plant's reporter


# 东辛 and 胜利 are already in the foundation's demo tree; the others are added under
# 胜利油田工会 (plausible names of 胜利油田's plants).
PLANTS: tuple[Plant, ...] = (
    Plant("dongxin", "东辛采油厂工会", "DX", ("刘志刚", "13900000101")),
    Plant("xianhe", "现河采油厂工会", "XH", ("孙立新", "13900000102")),
    Plant("shengli", "胜利采油厂工会", "SL", ("马红梅", "13900000103")),
    Plant("gudong", "孤东采油厂工会", "GD", ("周海涛", "13900000104")),
    Plant("hekou", "河口采油厂工会", "HK", ("陈宝华", "13900000105")),
    Plant("binnan", "滨南采油厂工会", "BN", ("徐国庆", "13900000106")),
)
NEW_PLANTS = ("xianhe", "gudong", "hekou", "binnan")

# The program's assessor sits at the oilfield union, above every plant, so none of the plants'
# reports is "their own unit's".
ASSESSOR = ("张在朋", "13900000110", "工程技术管理中心井下作业管理室主办")
# 管理六区's technician reports each worker's wells in the water-cut competition.
AREA_REPORTER = ("韩雪", "13900000111")

PERIODS: tuple[str, ...] = ("2024-Q1", "2024-Q2", "2024-Q3")
STORY_PERIOD = "2024-Q2"


# The rest of the 项目表: one competition under each other 大项, rules only (no periods in the
# demo), so the table reads like the union's spreadsheet. (category, name, period kind,
# indicators as ``indicator_create`` takes them; weighted ones add up to 100.)
TABLE_ONLY: tuple[tuple[str, str, str, tuple[dict[str, Any], ...]], ...] = (
    (
        "高质量勘探",
        "高效勘探增储",
        "year",
        (
            {
                "code": "proved",
                "name": "新增探明储量",
                "unit": "万吨",
                "rule": "attainment",
                "weight": 60,
                "target": 5000,
                "cap": 120,
            },
            {
                "code": "success",
                "name": "探井成功率",
                "unit": "%",
                "rule": "attainment",
                "weight": 40,
                "target": 60,
                "cap": 120,
            },
        ),
    ),
    (
        "页岩油开发",
        "页岩油示范区效益建产",
        "quarter",
        (
            {
                "code": "output",
                "name": "页岩油产量",
                "unit": "万吨",
                "rule": "attainment",
                "weight": 60,
                "target": 10,
                "cap": 120,
            },
            {
                "code": "cycle",
                "name": "水平井钻井周期",
                "unit": "天",
                "direction": "lower",
                "rule": "attainment",
                "weight": 40,
                "target": 30,
                "cap": 120,
            },
        ),
    ),
    (
        "平安油田建设",
        "安全生产无事故",
        "month",
        (
            {
                "code": "hazard_fix",
                "name": "隐患整改率",
                "unit": "%",
                "rule": "attainment",
                "weight": 60,
                "target": 100,
                "cap": 100,
            },
            {
                "code": "training",
                "name": "安全培训覆盖率",
                "unit": "%",
                "rule": "attainment",
                "weight": 40,
                "target": 100,
                "cap": 100,
            },
            {
                "code": "accident",
                "name": "一般及以上安全事故",
                "unit": "起",
                "direction": "lower",
                "rule": "veto",
                "veto_threshold": 1,
            },
        ),
    ),
    (
        "提质增效",
        "降本增效",
        "quarter",
        (
            {
                "code": "opex",
                "name": "吨油操作成本",
                "unit": "元/吨",
                "direction": "lower",
                "rule": "attainment",
                "weight": 70,
                "target": 800,
                "cap": 120,
            },
            {
                "code": "full_cost",
                "name": "吨油完全成本",
                "unit": "元/吨",
                "direction": "lower",
                "rule": "attainment",
                "weight": 30,
                "target": 2200,
                "cap": 120,
            },
            {
                "code": "saving",
                "name": "节约资金",
                "unit": "万元",
                "rule": "bonus",
                "per_unit": "0.01",
                "cap": 5,
                "required": False,
            },
        ),
    ),
    (
        "科技创新",
        "科技攻关与成果转化",
        "year",
        (
            {
                "code": "applied",
                "name": "成果转化项目",
                "unit": "项",
                "rule": "rank",
                "weight": 50,
                "rank_first": 100,
                "rank_step": 10,
            },
            {
                "code": "patents",
                "name": "授权发明专利",
                "unit": "件",
                "rule": "rank",
                "weight": 50,
                "rank_first": 100,
                "rank_step": 10,
            },
        ),
    ),
    (
        "新能源发展",
        "光伏发电与 CCUS",
        "year",
        (
            {
                "code": "solar",
                "name": "光伏发电量",
                "unit": "万千瓦时",
                "rule": "attainment",
                "weight": 50,
                "target": 20000,
                "cap": 120,
            },
            {
                "code": "co2",
                "name": "二氧化碳注入量",
                "unit": "万吨",
                "rule": "attainment",
                "weight": 50,
                "target": 100,
                "cap": 120,
            },
        ),
    ),
    (
        "数字化转型",
        "智能油田建设",
        "year",
        (
            {
                "code": "coverage",
                "name": "生产数字化覆盖率",
                "unit": "%",
                "rule": "attainment",
                "weight": 60,
                "target": 100,
                "cap": 100,
            },
            {
                "code": "unmanned",
                "name": "无人值守站点",
                "unit": "座",
                "rule": "rank",
                "weight": 40,
                "rank_first": 100,
                "rank_step": 10,
            },
        ),
    ),
    (
        "精细管理",
        "基础管理达标",
        "quarter",
        (
            {
                "code": "audit",
                "name": "管理达标检查得分",
                "unit": "分",
                "rule": "bands",
                "weight": 100,
                "bands": [["95", "100"], ["90", "90"], ["80", "75"], ["0", "50"]],
            },
        ),
    ),
    (
        "节能降耗",
        "节能降耗",
        "quarter",
        (
            {
                "code": "energy",
                "name": "单位产量综合能耗",
                "unit": "千克标煤/吨",
                "direction": "lower",
                "rule": "attainment",
                "weight": 60,
                "target": 90,
                "cap": 120,
            },
            {
                "code": "power",
                "name": "节电量",
                "unit": "万千瓦时",
                "rule": "attainment",
                "weight": 40,
                "target": 500,
                "cap": 120,
            },
        ),
    ),
    (
        "人才培养",
        "技能人才培养",
        "year",
        (
            {
                "code": "skilled",
                "name": "高技能人才占比",
                "unit": "%",
                "rule": "attainment",
                "weight": 60,
                "target": 35,
                "cap": 120,
            },
            {
                "code": "awards",
                "name": "技能竞赛获奖",
                "unit": "项",
                "rule": "rank",
                "weight": 40,
                "rank_first": 100,
                "rank_step": 10,
            },
        ),
    ),
    (
        "工程技术服务",
        "井下作业提速提效",
        "quarter",
        (
            {
                "code": "timeliness",
                "name": "作业时效",
                "unit": "%",
                "rule": "attainment",
                "weight": 50,
                "target": 85,
                "cap": 120,
            },
            {
                "code": "first_pass",
                "name": "一次作业成功率",
                "unit": "%",
                "rule": "attainment",
                "weight": 50,
                "target": 98,
                "cap": 105,
            },
        ),
    ),
    (
        "基层建设",
        "基层班组建设",
        "year",
        (
            {
                "code": "teams",
                "name": "班组建设达标率",
                "unit": "%",
                "rule": "attainment",
                "weight": 100,
                "target": 100,
                "cap": 100,
            },
        ),
    ),
)


# ---- 大幅度提高单井产能 (a unit competition under 效益开发) -------------------------------------

CAPACITY_NAME = "大幅度提高单井产能"
CAPACITY_CATEGORY = "效益开发"


# Indicator settings, as ``indicator_create`` takes them. Weighted indicators add up to 100
# (the program's total weight); the others feed the formula or the veto.
CAPACITY_INDICATORS: tuple[dict[str, Any], ...] = (
    {
        "code": "wells",
        "name": "新井投产数",
        "unit": "口",
        "rule": "rank",
        "weight": 20,
        "rank_first": 100,
        "rank_step": 10,
    },
    {"code": "designed", "name": "单井设计日产", "unit": "吨/日", "rule": "none"},
    {
        "code": "actual",
        "name": "单井实际日产",
        "unit": "吨/日",
        "rule": "bands",
        "weight": 20,
        "bands": [["8", "100"], ["7", "85"], ["6", "70"], ["0", "50"]],
    },
    {
        # 大幅度提高: the target is 1.5 times the design; 120 points at most.
        "code": "attainment",
        "name": "单井产能符合率",
        "source": "formula",
        "formula": "actual / designed",
        "rule": "attainment",
        "weight": 60,
        "target": "1.5",
        "cap": 120,
    },
    {
        "code": "accident",
        "name": "一般及以上安全事故",
        "unit": "起",
        "direction": "lower",
        "rule": "veto",
        "veto_threshold": 1,
    },
)

# (new wells, designed t/day per well, actual t/day per well, accidents) per plant and quarter.
# Q2 is the paper's: 东辛 34 wells, 5.6 designed, 8.6 actual, second behind 现河.
CAPACITY_VALUES: dict[str, dict[str, tuple[int, Decimal, Decimal, int]]] = {
    "2024-Q1": {
        "dongxin": (21, Decimal("5.6"), Decimal("7.9"), 0),
        "xianhe": (18, Decimal("5.0"), Decimal("7.6"), 0),
        "shengli": (15, Decimal("5.2"), Decimal("7.4"), 0),
        "gudong": (20, Decimal("6.0"), Decimal("7.2"), 0),
        "hekou": (9, Decimal("4.8"), Decimal("4.9"), 0),
        "binnan": (14, Decimal("5.5"), Decimal("6.3"), 0),
    },
    "2024-Q2": {
        "dongxin": (34, Decimal("5.6"), Decimal("8.6"), 0),
        "xianhe": (28, Decimal("5.0"), Decimal("8.4"), 0),
        "shengli": (22, Decimal("5.2"), Decimal("7.3"), 0),
        "gudong": (30, Decimal("6.0"), Decimal("7.8"), 0),
        "hekou": (18, Decimal("4.8"), Decimal("6.1"), 0),
        "binnan": (16, Decimal("5.5"), Decimal("5.8"), 0),
    },
    "2024-Q3": {
        "dongxin": (31, Decimal("5.6"), Decimal("8.5"), 0),
        "xianhe": (26, Decimal("5.0"), Decimal("8.3"), 0),
        "shengli": (24, Decimal("5.2"), Decimal("7.2"), 0),
        "gudong": (27, Decimal("6.0"), Decimal("7.5"), 1),  # vetoed this quarter
        "hekou": (19, Decimal("4.8"), Decimal("6.2"), 0),
        "binnan": (22, Decimal("5.5"), Decimal("7.0"), 0),
    },
}

# The bottom unit of each published quarter gets a helper and an action plan (帮扶), then
# follow-up notes; 河口 (Q1) and 滨南 (Q2) moved up the next quarter.
HELPER_ORG_NAME = "胜利油田工程技术管理中心工会"
HELP_PLANS: dict[str, tuple[str, str]] = {
    "hekou": (
        "工程技术管理中心井下作业管理室“手把手”帮助评估新井方案，优化射孔层位和举升参数。",
        "二季度新井单井日产回升到 6.1 吨，已走出末位。",
    ),
    "binnan": (
        "派技术骨干驻厂一个月，逐井复核设计产能，低效井先措施后投产。",
        "三季度 22 口新井单井日产 7.0 吨，排名上升。",
    ),
    "gudong": (
        "安全环保专项帮扶：事故原因分析会、作业现场安全标准化检查，整改完成前暂停新井交叉作业。",
        "已完成第一轮现场检查，整改项 12 项。",
    ),
}
# 2024-Q4 is open: a few reports wait for the assessor, one is still a draft.
OPEN_PERIOD = "2024-Q4"
OPEN_SUBMITTED = ("dongxin", "xianhe")
OPEN_DRAFT = ("shengli",)
OPEN_VALUES: dict[str, tuple[int, Decimal, Decimal, int]] = {
    "dongxin": (12, Decimal("5.6"), Decimal("8.2"), 0),
    "xianhe": (10, Decimal("5.0"), Decimal("7.9"), 0),
    "shengli": (9, Decimal("5.2"), Decimal("7.0"), 0),
}


# ---- 最佳降含水 (an individual competition in 胜利采油厂 管理六区) ------------------------------

WATER_NAME = "最佳降含水"
WATER_CATEGORY = "效益开发"
AREA_UNION = "胜利采油厂管理六区分工会"
TITLE_NAME = "最佳降含水标兵"

WATER_INDICATORS: tuple[dict[str, Any], ...] = (
    {
        "code": "watercut_drop",
        "name": "含水下降",
        "unit": "百分点",
        "rule": "attainment",
        "weight": 60,
        "target": 10,
        "cap": 130,
    },
    {
        "code": "oil_gain",
        "name": "日增油",
        "unit": "吨/日",
        "rule": "attainment",
        "weight": 40,
        "target": 4,
        "cap": 130,
    },
)


@dataclass(frozen=True)
class Worker:
    key: str
    name: str
    phone: str
    position: str


WORKERS: tuple[Worker, ...] = (
    Worker("wuhao", "吴昊", "13900000121", "采油工"),
    Worker("lijun", "李军", "13900000122", "采油工"),
    Worker("wangli", "王丽", "13900000123", "技术员"),
    Worker("zhaoqiang", "赵强", "13900000124", "采油工"),
    Worker("sunpeng", "孙鹏", "13900000125", "集输工"),
)

# (water-cut fall in points, oil gained t/day) per worker and quarter; 吴昊's Q2 is the paper's.
WATER_VALUES: dict[str, dict[str, tuple[Decimal, Decimal]]] = {
    "2024-Q1": {
        "wuhao": (Decimal("5.5"), Decimal("2.1")),
        "lijun": (Decimal("7.8"), Decimal("3.0")),
        "wangli": (Decimal("6.1"), Decimal("2.4")),
        "zhaoqiang": (Decimal("3.2"), Decimal("1.1")),
        "sunpeng": (Decimal("4.0"), Decimal("1.6")),
    },
    "2024-Q2": {
        "wuhao": (Decimal("12"), Decimal("4.5")),
        "lijun": (Decimal("8.2"), Decimal("3.1")),
        "wangli": (Decimal("9.0"), Decimal("3.6")),
        "zhaoqiang": (Decimal("4.1"), Decimal("1.5")),
        "sunpeng": (Decimal("5.0"), Decimal("2.0")),
    },
    "2024-Q3": {
        "wuhao": (Decimal("9.6"), Decimal("3.8")),
        "lijun": (Decimal("10.4"), Decimal("4.2")),
        "wangli": (Decimal("8.8"), Decimal("3.3")),
        "zhaoqiang": (Decimal("6.0"), Decimal("2.2")),
        "sunpeng": (Decimal("5.2"), Decimal("2.1")),
    },
}
# The quarterly title goes to the first of the ranking: 李军 in Q1 and Q3, 吴昊 in Q2.
CITATIONS: dict[str, str] = {
    "wuhao": "利用堵水工艺治理两口高含水油井，含水下降 12 个百分点，日产油增加 4.5 吨。",
    "lijun": "精细注采调配，所管油井含水持续下降。",
}


# ---- seeding through the services -------------------------------------------------------------


@dataclass
class DemoCompetitions:
    program: Program
    capacity: Competition
    water: Competition


def _org(parent: Organization, name: str, serial: int) -> Organization:
    """A plant's union under the oilfield union, with a valid made-up credit code."""
    existing = Organization.objects.filter(parent=parent, name=name).first()
    if existing is not None:
        return existing
    body = f"81370502{serial:09d}"
    return organization_create(
        parent=parent,
        name=name,
        level=Organization.Level.GRASSROOTS,
        kind=Organization.Kind.ENTERPRISE,
        region=Region.objects.get(code="370502"),
        credit_code=body + credit_code_check_char(body),
        contact_name="工会办公室",
        contact_phone=f"0546-87{serial:05d}",
    )


def _person(*, name: str, phone: str, org: Organization, position: str, password: str) -> User:
    user = User.objects.filter(phone=phone).first()
    if user is None:
        now = clock.now()
        user = User.objects.create(
            phone=phone,
            password=password,
            real_name=name,
            employer=org.name.removesuffix("分工会").removesuffix("工会"),
            position=position,
            province=Region.objects.get(code="370000"),
            city=Region.objects.get(code="370500"),
            activated_at=now,
        )
        PrivacyConsent.objects.create(user=user, version="2026-11")
    if not Membership.objects.filter(user=user, left_at__isnull=True).exists():
        Membership.objects.create(
            user=user, organization=org, source=Membership.Source.DEMO, joined_at=clock.now()
        )
    return user


def _publish(*, officer: User, period: Period) -> Snapshot:
    snapshot = period_compute(actor=officer, period=period)
    return snapshot_publish(actor=officer, snapshot=snapshot)


def _report(
    *,
    reporter: User,
    assessor: User | None,
    participant: Participant,
    period: Period,
    values: dict[str, Any],
    units: dict[str, str],
) -> Report:
    report = report_save(
        actor=reporter, participant=participant, period=period, values=values, units=units
    )
    if assessor is None:
        return report
    report = report_submit(actor=reporter, report=report)
    return report_verify(actor=assessor, report=report)


def competitions_demo_seed(*, password_hash: str | None = None) -> DemoCompetitions:
    """The demo program, seeded through the services into a tree that has 胜利油田工会 and
    its officer (the foundation's demo); returns the program and its two competitions."""
    from saidao.demo.seed import DEMO_PASSWORD  # seed.py calls this module: import late

    password = password_hash or make_password(DEMO_PASSWORD)
    oilfield = Organization.objects.get(name="胜利油田工会")
    officer = User.objects.get(phone="13900000004")
    orgs: dict[str, Organization] = {}
    for i, plant in enumerate(PLANTS):
        orgs[plant.key] = _org(oilfield, plant.union_name, 9100 + i)
    helper_org = _org(oilfield, HELPER_ORG_NAME, 9190)
    area = Organization.objects.get(name=AREA_UNION)

    program = program_create(
        actor=officer,
        organization=oilfield,
        name=PROGRAM_NAME,
        year=PROGRAM_YEAR,
        description=(
            "工作的内容就是比赛的内容，工作的评比办法就是竞赛的评比办法，"
            "工作的考核结果就是竞赛的评比结果。"
        ),
    )
    categories = {
        name: category_create(actor=officer, program=program, name=name, position=i + 1)
        for i, name in enumerate(CATEGORIES)
    }
    assessor = _person(
        name=ASSESSOR[0],
        phone=ASSESSOR[1],
        org=helper_org,
        position=ASSESSOR[2],
        password=password,
    )
    program_role_grant(
        actor=officer, program=program, user=assessor, kind="assessor", organization=helper_org
    )
    reporters: dict[str, User] = {}
    for plant in PLANTS:
        reporters[plant.key] = _person(
            name=plant.reporter[0],
            phone=plant.reporter[1],
            org=orgs[plant.key],
            position="生产运行科统计员",
            password=password,
        )
        program_role_grant(
            actor=officer,
            program=program,
            user=reporters[plant.key],
            kind="reporter",
            organization=orgs[plant.key],
        )

    capacity = _capacity(
        officer=officer,
        assessor=assessor,
        program=program,
        category=categories[CAPACITY_CATEGORY],
        orgs=orgs,
        reporters=reporters,
        helper_org=helper_org,
    )
    for category, name, period_kind, indicators in TABLE_ONLY:
        comp = competition_create(
            actor=officer,
            category=categories[category],
            name=name,
            participant_kind="unit",
            period_kind=period_kind,
            award_top_n=3,
            help_bottom_n=1,
        )
        for spec in indicators:
            indicator_create(actor=officer, competition=comp, **spec)
        competition_check(competition=comp)
    area_reporter = _person(
        name=AREA_REPORTER[0],
        phone=AREA_REPORTER[1],
        org=area,
        position="技术员",
        password=password,
    )
    program_role_grant(
        actor=officer, program=program, user=area_reporter, kind="reporter", organization=area
    )
    workers = {
        w.key: _person(name=w.name, phone=w.phone, org=area, position=w.position, password=password)
        for w in WORKERS
    }
    water = _water(
        officer=officer,
        assessor=assessor,
        reporter=area_reporter,
        category=categories[WATER_CATEGORY],
        workers=workers,
    )
    return DemoCompetitions(program=program, capacity=capacity, water=water)


def _units(indicators: tuple[dict[str, Any], ...]) -> dict[str, str]:
    return {
        i["code"]: i.get("unit", "")
        for i in indicators
        if i.get("source", "reported") == "reported"
    }


def _capacity(
    *,
    officer: User,
    assessor: User,
    program: Program,
    category: Category,
    orgs: dict[str, Organization],
    reporters: dict[str, User],
    helper_org: Organization,
) -> Competition:
    comp = competition_create(
        actor=officer,
        category=category,
        name=CAPACITY_NAME,
        participant_kind="unit",
        period_kind="quarter",
        description="新井单井实际日产对比设计日产，比产能符合率、比投产速度。",
        award_top_n=3,
        bonus_pool=300000,
        bonus_rule="rank_shares",
        bonus_shares=[50, 30, 20],
        help_bottom_n=1,
    )
    for spec in CAPACITY_INDICATORS:
        indicator_create(actor=officer, competition=comp, **spec)
    competition_check(competition=comp)
    participants = {
        plant.key: participant_add(
            actor=officer,
            competition=comp,
            organization=orgs[plant.key],
            code=plant.code,
            name=plant.union_name.removesuffix("工会"),
        )
        for plant in PLANTS
    }
    units = _units(CAPACITY_INDICATORS)

    def values(row: tuple[int, Decimal, Decimal, int]) -> dict[str, Any]:
        wells, designed, actual, accidents = row
        return {"wells": wells, "designed": designed, "actual": actual, "accident": accidents}

    previous: list[HelpAssignment] = []
    for key in PERIODS:
        period = period_create(actor=officer, competition=comp, key=key)
        for plant_key, row in CAPACITY_VALUES[key].items():
            _report(
                reporter=reporters[plant_key],
                assessor=assessor,
                participant=participants[plant_key],
                period=period,
                values=values(row),
                units=units,
            )
        snapshot = _publish(officer=officer, period=period)
        for assignment in previous:  # last quarter's helper writes how it went
            plan = HELP_PLANS.get(_key_of(assignment.participant, participants))
            if plan:
                help_note_add(actor=officer, assignment=assignment, text=plan[1])
        previous = list(snapshot.help_list.select_related("participant"))
        for assignment in previous:
            plan = HELP_PLANS.get(_key_of(assignment.participant, participants))
            help_assign(
                actor=officer,
                assignment=assignment,
                helper_organization=helper_org,
                helper_user=assessor,
                action_plan=plan[0] if plan else "",
            )
    period = period_create(actor=officer, competition=comp, key=OPEN_PERIOD)
    for plant_key, row in OPEN_VALUES.items():
        report = _report(
            reporter=reporters[plant_key],
            assessor=None,
            participant=participants[plant_key],
            period=period,
            values=values(row),
            units=units,
        )
        if plant_key in OPEN_SUBMITTED:
            report_submit(actor=reporters[plant_key], report=report)
    return comp


def _key_of(participant: Participant, participants: dict[str, Participant]) -> str:
    return next(k for k, p in participants.items() if p.pk == participant.pk)


def _water(
    *,
    officer: User,
    assessor: User,
    reporter: User,
    category: Category,
    workers: dict[str, User],
) -> Competition:
    comp = competition_create(
        actor=officer,
        category=category,
        name=WATER_NAME,
        participant_kind="individual",
        period_kind="quarter",
        description="胜利采油厂管理六区：高含水油井治理，比含水下降、比日增油。",
        award_top_n=1,
        title_name=TITLE_NAME,
    )
    for spec in WATER_INDICATORS:
        indicator_create(actor=officer, competition=comp, **spec)
    competition_check(competition=comp)
    participants = {
        w.key: participant_add(actor=officer, competition=comp, user=workers[w.key])
        for w in WORKERS
    }
    units = _units(WATER_INDICATORS)
    for key in PERIODS:
        period = period_create(actor=officer, competition=comp, key=key)
        for worker_key, (drop, gain) in WATER_VALUES[key].items():
            _report(
                reporter=reporter,
                assessor=assessor,
                participant=participants[worker_key],
                period=period,
                values={"watercut_drop": drop, "oil_gain": gain},
                units=units,
            )
        snapshot = _publish(officer=officer, period=period)
        first = snapshot.rows.select_related("participant").order_by("position")[0]
        worker_key = _key_of(first.participant, participants)
        title = title_nominate(
            actor=officer,
            snapshot=snapshot,
            participant=first.participant,
            citation=CITATIONS.get(worker_key, ""),
        )
        title_approve(actor=officer, title=title)
        title_publish(actor=officer, title=title)
    period_create(actor=officer, competition=comp, key=OPEN_PERIOD)
    return comp
