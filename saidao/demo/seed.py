"""Demo data that looks like the real thing, from the stories of 工人日报 2024-08-13.

The tree: 中华全国总工会 → every mainland provincial union, each with its provincial postal
branch's union; 甘肃 → 定西市 → 安定区 and its six county unions → grassroots unions
including new-employment-form unions; 山东 → 东营市 → 胜利油田工会 → 东辛采油厂 and 胜利采油厂
(with 管理六区); 新疆 → 乌鲁木齐市 → the railway bureau's union. A few thousand Faker members
share one precomputed password hash; each lives in a city of their union's province.

Campaigns (``saidao.demo.yun``): the 2024 云讲述 activity, finished, and a live copy whose
collection and showcase are open today, with a few hundred entries from members all over China.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction
from faker import Faker

from saidao.accounts.models import Membership, PrivacyConsent, User
from saidao.accounts.roster import ROSTER_COLUMNS, roster_workbook
from saidao.accounts.services import roster_import
from saidao.competitions.demo import competitions_demo_seed
from saidao.core import clock
from saidao.orgs.models import InviteCode, Organization, Role
from saidao.orgs.services import organization_apply, organization_create, role_grant
from saidao.orgs.validators import CREDIT_CODE_ALPHABET, credit_code_check_char
from saidao.quizzes.demo import quiz_demo_seed
from saidao.regions.models import Region

from .yun import YUN_LIVE_SLUG, Author, campaigns_create, clips_store, entries_count, entries_seed

DEMO_PASSWORD = "Saidao-2026"
DEMO_INVITE_CODE = "DINGXI24"

L = Organization.Level
K = Organization.Kind


@dataclass(frozen=True)
class DemoLogin:
    role: str
    phone: str
    password: str


DEMO_LOGINS = (
    DemoLogin("worker", "13900000001", DEMO_PASSWORD),
    DemoLogin("city-officer", "13900000002", DEMO_PASSWORD),
    DemoLogin("national-officer", "13900000003", DEMO_PASSWORD),
    DemoLogin("oilfield-officer", "13900000004", DEMO_PASSWORD),
)


def credit_code(rng: random.Random, region: str, authority: str = "81") -> str:
    """A unified social credit code with a valid GB 32100-2015 check character."""
    body = authority + region + "".join(rng.choice(CREDIT_CODE_ALPHABET[:10]) for _ in range(9))
    return body + credit_code_check_char(body)


class Seeder:
    def __init__(self, *, members: int, seed: int = 20240813) -> None:
        self.rng = random.Random(seed)
        self.members = members
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(seed)
        self.grassroots: list[Organization] = []
        self.postal: list[Organization] = []  # one province-wide union in every province
        self.staff: list[tuple[User, Organization]] = []
        regions = list(Region.objects.all())
        self.regions = {r.code: r for r in regions}
        self.zones_of_province: dict[str, list[Region]] = {}
        for r in regions:
            if r.zone_city_id == r.code:
                self.zones_of_province.setdefault(r.province_id, []).append(r)

    def org(
        self,
        parent: Organization | None,
        name: str,
        level: str,
        kind: str,
        region: str,
        *,
        grassroots: bool = False,
    ) -> Organization:
        o = organization_create(
            parent=parent,
            name=name,
            level=level,
            kind=kind,
            region=Region.objects.get(code=region),
            credit_code=credit_code(self.rng, region),
            contact_name=self.fake.name(),
            contact_phone=f"0{self.rng.randint(10, 99)}-{self.rng.randint(1000000, 9999999)}",
        )
        if grassroots:
            self.grassroots.append(o)
        return o

    def tree(self) -> dict[str, Organization]:
        acftu = self.org(None, "中华全国总工会", L.NATIONAL, K.FEDERATION, "110000")
        named: dict[str, Organization] = {"national": acftu}
        for p in (
            Region.objects.filter(level=Region.Level.PROVINCE)
            .exclude(kind="sar")
            .exclude(code="710000")
        ):
            short = p.name
            named[p.code] = self.org(acftu, f"{short}总工会", L.PROVINCIAL, K.FEDERATION, p.code)
            self.postal.append(
                self.org(
                    named[p.code],
                    f"中国邮政集团有限公司{short}分公司工会",
                    L.GRASSROOTS,
                    K.ENTERPRISE,
                    p.code,
                )
            )
        gansu, shandong, xinjiang = named["620000"], named["370000"], named["650000"]

        dingxi = self.org(gansu, "定西市总工会", L.CITY, K.FEDERATION, "621100")
        named["dingxi"] = dingxi
        anding = self.org(dingxi, "安定区总工会", L.COUNTY, K.FEDERATION, "621102")
        named["anding"] = anding
        for code, county in [
            ("621121", "通渭县"),
            ("621122", "陇西县"),
            ("621123", "渭源县"),
            ("621124", "临洮县"),
            ("621125", "漳县"),
            ("621126", "岷县"),
        ]:
            c = self.org(dingxi, f"{county}总工会", L.COUNTY, K.FEDERATION, code)
            named[code] = c
            self.org(
                c,
                f"{county}快递物流行业工会联合会",
                L.GRASSROOTS,
                K.NEW_EMPLOYMENT,
                code,
                grassroots=True,
            )
            self.org(
                c,
                f"{county}马铃薯产业链工会联合会",
                L.GRASSROOTS,
                K.INDUSTRY,
                code,
                grassroots=True,
            )
        named["courier"] = self.org(
            anding,
            "安定区快递行业工会联合会",
            L.GRASSROOTS,
            K.FEDERATION,
            "621102",
            grassroots=True,
        )
        named["trucker"] = self.org(
            anding, "安定区货车司机工会", L.GRASSROOTS, K.NEW_EMPLOYMENT, "621102", grassroots=True
        )
        self.org(
            anding,
            "安定区网约车司机工会",
            L.GRASSROOTS,
            K.NEW_EMPLOYMENT,
            "621102",
            grassroots=True,
        )
        self.org(
            anding,
            "安定区外卖配送员工会",
            L.GRASSROOTS,
            K.NEW_EMPLOYMENT,
            "621102",
            grassroots=True,
        )
        street = self.org(anding, "安定区中华路街道总工会", L.TOWNSHIP, K.REGIONAL, "621102")
        self.org(
            street, "中华路街道社区联合工会", L.GRASSROOTS, K.REGIONAL, "621102", grassroots=True
        )

        dongying = self.org(shandong, "东营市总工会", L.CITY, K.FEDERATION, "370500")
        oilfield = self.org(dongying, "胜利油田工会", L.GRASSROOTS, K.ENTERPRISE, "370500")
        named["oilfield"] = oilfield
        self.org(oilfield, "东辛采油厂工会", L.GRASSROOTS, K.ENTERPRISE, "370502", grassroots=True)
        shengli = self.org(
            oilfield, "胜利采油厂工会", L.GRASSROOTS, K.ENTERPRISE, "370502", grassroots=True
        )
        self.org(
            shengli,
            "胜利采油厂管理六区分工会",
            L.GRASSROOTS,
            K.ENTERPRISE,
            "370502",
            grassroots=True,
        )

        urumqi = self.org(xinjiang, "乌鲁木齐市总工会", L.CITY, K.FEDERATION, "650100")
        railway = self.org(
            urumqi, "中国铁路乌鲁木齐局集团有限公司工会", L.GRASSROOTS, K.ENTERPRISE, "650100"
        )
        self.org(
            railway, "乌鲁木齐西车辆段工会", L.GRASSROOTS, K.ENTERPRISE, "650100", grassroots=True
        )
        self.org(railway, "库尔勒机务段工会", L.GRASSROOTS, K.ENTERPRISE, "652801", grassroots=True)
        return named

    def people(self, named: dict[str, Organization]) -> None:
        now = clock.now()
        password = make_password(DEMO_PASSWORD)  # hashed once, shared by every demo account
        gansu, dingxi_city = Region.objects.get(code="620000"), Region.objects.get(code="621100")
        logins = [
            ("韩永强", "货车司机", "定西市安定区个体运输户", named["trucker"]),
            ("李晓燕", "组织部部长", "定西市总工会", named["dingxi"]),
            ("王建华", "宣传教育部干事", "中华全国总工会", named["national"]),
            ("冀贞", "工会副主席", "胜利采油厂", named["oilfield"]),
        ]
        users = []
        for (name, position, employer, org), login in zip(logins, DEMO_LOGINS, strict=True):
            users.append(
                User(
                    phone=login.phone,
                    password=password,
                    real_name=name,
                    employer=employer,
                    position=position,
                    province=gansu if org.path.startswith(named["620000"].path) else None,
                    city=dingxi_city if org.path.startswith(named["dingxi"].path) else None,
                    activated_at=now,
                )
            )
        User.objects.bulk_create(users)
        users = list(
            User.objects.filter(phone__in=[d.phone for d in DEMO_LOGINS]).order_by("phone")
        )
        Membership.objects.bulk_create(
            [
                Membership(user=u, organization=org, source=Membership.Source.DEMO, joined_at=now)
                for u, (_n, _p, _e, org) in zip(users, logins, strict=True)
            ]
        )
        Role.objects.bulk_create(
            [
                Role(organization=named["dingxi"], user=users[1], kind=Role.Kind.OFFICER),
                Role(organization=named["national"], user=users[2], kind=Role.Kind.OFFICER),
                Role(organization=named["oilfield"], user=users[3], kind=Role.Kind.OFFICER),
            ]
        )
        PrivacyConsent.objects.bulk_create(
            [PrivacyConsent(user=u, version="2026-11") for u in users]
        )
        InviteCode.objects.create(
            organization=named["courier"], code=DEMO_INVITE_CODE, created_by=users[1]
        )

        staff = []
        for i in range(self.members):
            # Two in three go round the named grassroots unions (定西 keeps most members), one in
            # three round the provincial postal unions, so every province has members.
            if i % 3 == 2:
                org = self.postal[(i // 3) % len(self.postal)]
            else:
                org = self.grassroots[(i - i // 3) % len(self.grassroots)]
            city = self.rng.choice(self.zones(org))
            staff.append(
                (
                    User(
                        phone=f"137{i:08d}",
                        password=password,
                        real_name=self.fake.name(),
                        employer=org.name.replace("工会", "").replace("联合会", "") or org.name,
                        position=self.rng.choice(jobs_for(org)),
                        province=self.regions[city.province_id],
                        city=city,
                        activated_at=now,
                    ),
                    org,
                )
            )
        User.objects.bulk_create([u for u, _o in staff], batch_size=1000)
        ids = dict(User.objects.filter(phone__startswith="137").values_list("phone", "pk"))
        Membership.objects.bulk_create(
            [
                Membership(
                    user_id=ids[u.phone],
                    organization=org,
                    source=Membership.Source.DEMO,
                    joined_at=now,
                )
                for u, org in staff
            ],
            batch_size=1000,
        )
        for u, _o in staff:
            u.pk = ids[u.phone]
        self.staff = staff

    def zones(self, org: Organization) -> list[Region]:
        """The city zones a member of ``org`` may live and enter in: its own city's, or any city
        of its province for a province-wide union (the postal branches)."""
        region = self.regions[org.region_id]
        if region.zone_city_id is None:
            return self.zones_of_province[region.code]
        return [self.regions[region.zone_city_id]]

    def campaigns(self, named: dict[str, Organization], *, entries: int) -> None:
        """The finished 2024 云讲述 campaign and the live one with ``entries`` entries.

        Authors are taken from every union in turn, so that a small demo still has entries
        from every province; the demo log-ins (the worker above all) have no entry.
        """
        national_officer = User.objects.get(phone=DEMO_LOGINS[2].phone)
        _finished, live = campaigns_create(actor=national_officer, organizer=named["national"])
        if entries <= 0:
            return
        by_org: dict[int, list[User]] = {}
        orgs: dict[int, Organization] = {}
        for u, org in self.staff:
            by_org.setdefault(org.pk, []).append(u)
            orgs[org.pk] = org
        queues = list(by_org.items())
        authors: list[Author] = []
        while len(authors) < entries and queues:
            for org_id, users in queues:
                if users and len(authors) < entries:
                    u = users.pop(0)
                    assert u.city is not None
                    authors.append(Author(user=u, organization=orgs[org_id], city=u.city))
            queues = [(k, v) for k, v in queues if v]
        entries_seed(
            rng=self.rng,
            campaign=live,
            authors=authors,
            reviewer=national_officer,
            clips=clips_store(),
        )

    def pending_consents(self, named: dict[str, Organization]) -> None:
        """What waits for a worker's own consent: 安定区快递行业工会联合会's roster names 韩永强,
        who already has an account, so he is invited rather than moved; and 定西 asks 冀贞 of the
        oilfield, outside its subtree, to judge, which holds only once she accepts."""
        worker = User.objects.get(phone=DEMO_LOGINS[0].phone)
        city_officer = User.objects.get(phone=DEMO_LOGINS[1].phone)
        oilfield_officer = User.objects.get(phone=DEMO_LOGINS[3].phone)
        roster_import(
            officer=city_officer,
            organization=named["courier"],
            file=io.BytesIO(
                roster_workbook(
                    [[worker.real_name, worker.phone, worker.employer, worker.position]],
                    header=ROSTER_COLUMNS,
                )
            ),
        )
        role_grant(
            actor=city_officer,
            organization=named["dingxi"],
            user=oilfield_officer,
            kind=Role.Kind.JUDGE,
        )

    def pending_application(self, named: dict[str, Organization]) -> None:
        """One application waiting for 定西市's officer, so the dashboard has something to do."""
        applicant = User.objects.get(phone=DEMO_LOGINS[0].phone)
        organization_apply(
            applicant=applicant,
            parent=named["621125"],
            name="漳县城关镇商贸物流园区工会",
            level=L.GRASSROOTS,
            kind=K.REGIONAL,
            region=Region.objects.get(code="621125"),
            credit_code=credit_code(self.rng, "621125"),
            contact_name="韩永强",
            contact_phone="13900000001",
        )


JOBS: list[tuple[str, list[str]]] = [
    ("邮政", ["投递员", "揽投员", "邮件分拣员", "邮政营业员", "储蓄柜员", "邮车驾驶员"]),
    ("快递", ["快递员", "分拣员", "网点负责人"]),
    ("货车", ["货车司机"]),
    ("网约车", ["网约车司机"]),
    ("外卖", ["外卖配送员", "站点调度员"]),
    ("马铃薯", ["种植技术员", "淀粉加工操作工", "仓储管理员"]),
    ("社区", ["营业员", "网格员", "物业维修工"]),
    ("采油", ["采油工", "井下作业工", "集输工", "技术员"]),
    ("车辆段", ["车辆钳工", "检车员", "电工"]),
    ("机务段", ["机车乘务员", "机车钳工"]),
]


def jobs_for(org: Organization) -> list[str]:
    """Positions a member of ``org`` plausibly holds, from the union's name."""
    for word, jobs in JOBS:
        if word in org.name:
            return jobs
    return ["技术员", "营业员", "操作工"]


def demo_is_seeded() -> bool:
    return Organization.objects.exists()


@transaction.atomic
def demo_seed(*, members: int = 3000, entries: int | None = None) -> list[DemoLogin]:
    """Seed the demo data into an empty database; returns the demo log-ins.

    ``entries`` (at most ``members``) is the number of entries in the live campaign; by default
    a tenth of the members, and at least half of them (up to 60) in a small demo.
    """
    seeder = Seeder(members=members)
    named = seeder.tree()
    seeder.people(named)
    seeder.pending_application(named)
    seeder.pending_consents(named)
    count = entries_count(members) if entries is None else min(entries, members)
    seeder.campaigns(named, entries=count)
    quiz_demo_seed(campaign_slug=YUN_LIVE_SLUG, workers=[u for u, _o in seeder.staff])
    competitions_demo_seed()
    return list(DEMO_LOGINS)
