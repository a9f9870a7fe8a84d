"""Builders for labor-competition tests: real rows made through the services.

``capacity_world(tree)``: a unit competition like the oilfield's 大幅度提高单井产能 among five
production plants under 东营市总工会 (the program's organization), quarterly, with the rules
its demo uses: attainment of actual vs. designed single-well output (weight 70, cap 200), rank
points on new capacity = wells × actual output (weight 30: 100, −10 a place) and a safety veto.
``watercut_world(tree)``: an individual competition among members of 管理六区 (a unit below
a plant), with the title 最佳降含水标兵.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from openpyxl import Workbook

from saidao.accounts.models import User
from saidao.accounts.tests.factories import MembershipFactory, UserFactory
from saidao.competitions import services
from saidao.competitions.models import (
    Category,
    Competition,
    Indicator,
    Participant,
    Period,
    Program,
    ProgramRole,
    Report,
)
from saidao.conftest import Tree
from saidao.orgs.models import Organization
from saidao.orgs.tests.factories import make_org

# (name, code, wells, design t/d, actual t/d): 东辛 is second under the rules above.
PLANTS: list[tuple[str, str, int, str, str]] = [
    ("孤岛采油厂", "GD", 30, "6.2", "6.5"),
    ("东辛采油厂", "DX", 34, "5.6", "8.6"),
    ("河口采油厂", "HK", 28, "5.0", "7.0"),
    ("现河采油厂", "XH", 40, "6.0", "9.8"),
    ("桩西采油厂", "ZX", 20, "5.5", "8.8"),
]


@dataclass
class World:
    tree: Tree
    officer: User
    program: Program
    category: Category
    competition: Competition
    period: Period
    units: dict[str, Organization]
    participants: dict[str, Participant]
    reporters: dict[str, User]
    assessor: User
    assessor_unit: Organization
    extra: dict[str, Any] = field(default_factory=dict)


def make_program(tree: Tree, *, total_weight: int = 100) -> tuple[Program, Category]:
    program = services.program_create(
        actor=tree.other_officer,
        organization=tree.dongying,
        name="2024 高质量发展劳动竞赛",
        year=2024,
        total_weight=Decimal(total_weight),
    )
    category = services.category_create(actor=tree.other_officer, program=program, name="效益开发")
    return program, category


def capacity_rules(actor: User, competition: Competition) -> None:
    add = services.indicator_create
    add(actor=actor, competition=competition, code="wells", name="新井数", unit="口", rule="none")
    add(
        actor=actor,
        competition=competition,
        code="design",
        name="单井设计产量",
        unit="吨/日",
        rule="none",
    )
    add(
        actor=actor,
        competition=competition,
        code="actual",
        name="单井实际产量",
        unit="吨/日",
        rule="none",
    )
    add(
        actor=actor,
        competition=competition,
        code="ratio",
        name="单井产能完成率",
        source="formula",
        formula="actual / design",
        rule="attainment",
        weight=70,
        cap=200,
    )
    add(
        actor=actor,
        competition=competition,
        code="capacity",
        name="新建产能",
        unit="吨/日",
        source="formula",
        formula="wells * actual",
        rule="rank",
        weight=30,
        rank_first=100,
        rank_step=10,
    )
    add(
        actor=actor,
        competition=competition,
        code="accident",
        name="重大安全事故",
        unit="起",
        rule="veto",
        required=False,
    )


def capacity_world(tree: Tree, *, help_bottom_n: int = 1, award_top_n: int = 3) -> World:
    officer = tree.other_officer
    program, category = make_program(tree)
    comp = services.competition_create(
        actor=officer,
        category=category,
        name="大幅度提高单井产能",
        participant_kind=Competition.ParticipantKind.UNIT,
        period_kind=Competition.PeriodKind.QUARTER,
        award_top_n=award_top_n,
        bonus_pool=Decimal(100000),
        bonus_rule=Competition.BonusRule.RANK_SHARES,
        bonus_shares=[50, 30, 20],
        help_bottom_n=help_bottom_n,
    )
    capacity_rules(officer, comp)
    period = services.period_create(actor=officer, competition=comp, key="2024-Q2")
    units: dict[str, Organization] = {}
    participants: dict[str, Participant] = {}
    reporters: dict[str, User] = {}
    for name, code, *_rest in PLANTS:
        org = make_org(tree.dongying, name, region="370500")
        units[code] = org
        participants[code] = services.participant_add(
            actor=officer, competition=comp, organization=org, code=code
        )
        reporter = UserFactory.create(real_name=f"{name}填报员")
        MembershipFactory.create(user=reporter, organization=org)
        services.program_role_grant(
            actor=officer,
            program=program,
            user=reporter,
            kind=ProgramRole.Kind.REPORTER,
            organization=org,
        )
        reporters[code] = reporter
    center = make_org(tree.dongying, "工程技术管理中心", region="370500")
    assessor = UserFactory.create(real_name="考核员")
    services.program_role_grant(
        actor=officer,
        program=program,
        user=assessor,
        kind=ProgramRole.Kind.ASSESSOR,
        organization=center,
    )
    return World(
        tree=tree,
        officer=officer,
        program=program,
        category=category,
        competition=comp,
        period=period,
        units=units,
        participants=participants,
        reporters=reporters,
        assessor=assessor,
        assessor_unit=center,
    )


def plant_values(code: str) -> dict[str, str]:
    for _name, c, wells, design, actual in PLANTS:
        if c == code:
            return {"wells": str(wells), "design": design, "actual": actual}
    raise KeyError(code)


def report_verified(
    world: World,
    code: str,
    values: dict[str, Any] | None = None,
    *,
    period: Period | None = None,
) -> Report:
    """A report saved by the participant's reporter, submitted and verified by the assessor."""
    participant = world.participants[code]
    report = services.report_save(
        actor=world.reporters[code],
        participant=participant,
        period=period or world.period,
        values=values if values is not None else plant_values(code),
    )
    report = services.report_submit(actor=world.reporters[code], report=report)
    return services.report_verify(actor=world.assessor, report=report)


def all_verified(world: World, *, period: Period | None = None) -> None:
    for code in world.participants:
        report_verified(world, code, period=period)


def watercut_world(tree: Tree) -> World:
    """Individuals of 胜利采油厂 管理六区: water-cut fall (百分点, bands) and oil gained (吨/日,
    attainment against 3 t/d), 50/50; the title is 最佳降含水标兵."""
    officer = tree.other_officer
    program, category = make_program(tree)
    comp = services.competition_create(
        actor=officer,
        category=category,
        name="降含水增油竞赛",
        participant_kind=Competition.ParticipantKind.INDIVIDUAL,
        period_kind=Competition.PeriodKind.QUARTER,
        award_top_n=1,
        help_bottom_n=1,
        title_name="最佳降含水标兵",
        self_score_enabled=True,
    )
    services.indicator_create(
        actor=officer,
        competition=comp,
        code="cut_fall",
        name="含水下降",
        unit="百分点",
        rule="bands",
        weight=50,
        bands=[[10, 100], [5, 80], [2, 60]],
    )
    services.indicator_create(
        actor=officer,
        competition=comp,
        code="oil_gain",
        name="日增油",
        unit="吨/日",
        rule="attainment",
        target=3,
        cap=150,
        weight=50,
    )
    period = services.period_create(actor=officer, competition=comp, key="2024-Q2")
    plant = make_org(tree.dongying, "胜利采油厂", region="370500")
    area = make_org(plant, "管理六区", region="370500")
    workers = [("吴昊", "12", "4.5"), ("李强", "6", "2.0"), ("王磊", "3", "1.2")]
    participants: dict[str, Participant] = {}
    reporters: dict[str, User] = {}
    for name, *_values in workers:
        user = UserFactory.create(real_name=name)
        MembershipFactory.create(user=user, organization=area)
        participants[name] = services.participant_add(actor=officer, competition=comp, user=user)
        reporters[name] = user
    center = make_org(tree.dongying, "油田工会", region="370500")
    assessor = UserFactory.create(real_name="考核员")
    services.program_role_grant(
        actor=officer,
        program=program,
        user=assessor,
        kind=ProgramRole.Kind.ASSESSOR,
        organization=center,
    )
    world = World(
        tree=tree,
        officer=officer,
        program=program,
        category=category,
        competition=comp,
        period=period,
        units={"plant": plant, "area": area},
        participants=participants,
        reporters=reporters,
        assessor=assessor,
        assessor_unit=center,
    )
    world.extra["values"] = {n: {"cut_fall": f, "oil_gain": g} for n, f, g in workers}
    return world


def reports_xlsx(
    rows: Iterable[Sequence[Any]],
    *,
    header: Sequence[str] = ("参赛单位编码", "指标", "期间", "数值", "单位", "备注"),
) -> io.BytesIO:
    """A real .xlsx with the header and ``rows`` as given."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(list(header))
    for r in rows:
        ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    buf.name = "reports.xlsx"
    return buf


def indicator(world: World, code: str) -> Indicator:
    return world.competition.indicators.get(code=code)
