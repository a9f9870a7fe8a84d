from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from saidao.accounts.models import Membership, User
from saidao.accounts.services import auth_login
from saidao.demo.seed import DEMO_INVITE_CODE, DEMO_LOGINS, DEMO_PASSWORD, demo_seed
from saidao.orgs.models import Organization, Role
from saidao.orgs.selectors import organization_ancestors, organization_subtree
from saidao.orgs.validators import validate_credit_code


@pytest.fixture
def seeded(regions: None) -> None:
    demo_seed(members=60)


def _names(org: Organization) -> list[str]:
    return [o.name for o in organization_ancestors(organization=org)] + [org.name]


@pytest.mark.usefixtures("seeded")
def test_demo_tree_follows_the_newspaper() -> None:
    """The demo holds the chains the issue names, each organization under the right parent."""
    courier = Organization.objects.get(name="安定区快递行业工会联合会")
    assert _names(courier) == [
        "中华全国总工会",
        "甘肃省总工会",
        "定西市总工会",
        "安定区总工会",
        "安定区快递行业工会联合会",
    ]
    sixth = Organization.objects.get(name="胜利采油厂管理六区分工会")
    assert _names(sixth)[:5] == [
        "中华全国总工会",
        "山东省总工会",
        "东营市总工会",
        "胜利油田工会",
        "胜利采油厂工会",
    ]
    assert Organization.objects.filter(name="东辛采油厂工会", parent__name="胜利油田工会").exists()
    railway = Organization.objects.get(name="中国铁路乌鲁木齐局集团有限公司工会")
    assert _names(railway)[1:3] == ["新疆维吾尔自治区总工会", "乌鲁木齐市总工会"]
    dingxi = Organization.objects.get(name="定西市总工会")
    counties = {o.name for o in dingxi.children.all()}
    assert {"安定区总工会", "通渭县总工会", "陇西县总工会", "渭源县总工会"} <= counties
    assert {"临洮县总工会", "漳县总工会", "岷县总工会"} <= counties


@pytest.mark.usefixtures("seeded")
def test_every_mainland_province_has_its_union() -> None:
    """31 provincial unions sit directly under the national federation."""
    provincial = Organization.objects.filter(level=Organization.Level.PROVINCIAL)
    assert provincial.count() == 31
    assert all(o.parent is not None and o.parent.parent_id is None for o in provincial)


@pytest.mark.usefixtures("seeded")
def test_demo_credit_codes_are_valid() -> None:
    """Every demo organization has a credit code that passes the GB 32100-2015 check."""
    for code in Organization.objects.values_list("credit_code", flat=True):
        validate_credit_code(code)


@pytest.mark.usefixtures("seeded")
def test_demo_logins_work_and_officers_are_scoped() -> None:
    """The printed log-ins work; the city officer administers 定西市, the national one the root."""
    for login in DEMO_LOGINS:
        assert auth_login(phone=login.phone, password=login.password).is_activated
    city = User.objects.get(phone=DEMO_LOGINS[1].phone)
    national = User.objects.get(phone=DEMO_LOGINS[2].phone)
    assert Role.objects.get(user=city).organization.name == "定西市总工会"
    assert Role.objects.get(user=national).organization.parent_id is None


@pytest.mark.usefixtures("seeded")
def test_members_are_spread_over_grassroots_unions() -> None:
    """Generated members each have one current membership in a grassroots union."""
    members = Membership.objects.filter(user__phone__startswith="137", left_at__isnull=True)
    assert members.count() == 60
    assert set(members.values_list("organization__level", flat=True)) == {"grassroots"}


@pytest.mark.usefixtures("seeded")
def test_demo_has_a_pending_application_for_the_city_officer(client: Client) -> None:
    """The 定西市 officer's dashboard shows the demo's pending application."""
    client.force_login(User.objects.get(phone=DEMO_LOGINS[1].phone))
    html = client.get("/officer/").content.decode()
    assert "漳县城关镇商贸物流园区工会" in html


@pytest.mark.usefixtures("seeded")
def test_demo_invite_code_joins_the_courier_federation(client: Client) -> None:
    """The demo invite code moves the demo worker into 安定区快递行业工会联合会."""
    worker = User.objects.get(phone=DEMO_LOGINS[0].phone)
    client.force_login(worker)
    client.post("/accounts/join/", {"code": DEMO_INVITE_CODE})
    current = Membership.objects.get(user=worker, left_at__isnull=True)
    assert current.organization.name == "安定区快递行业工会联合会"


def test_demo_command_prints_logins_and_seeds_once(regions: None) -> None:
    """`saidao demo --no-serve` seeds an empty database once and prints one log-in per line."""
    out = StringIO()
    call_command("demo", "--no-serve", "--members", "20", stdout=out)
    lines = [line for line in out.getvalue().splitlines() if line.startswith("demo-login: ")]
    assert lines == [f"demo-login: {d.role} {d.phone} {DEMO_PASSWORD}" for d in DEMO_LOGINS]
    roles = {line.split()[1] for line in lines}
    assert {"worker", "city-officer", "national-officer"} <= roles
    count = Organization.objects.count()
    again = StringIO()
    call_command("demo", "--no-serve", stdout=again)
    assert "not seeding" in again.getvalue()
    assert Organization.objects.count() == count
    subtree = organization_subtree(organization=Organization.objects.get(parent__isnull=True))
    assert subtree.count() == count
