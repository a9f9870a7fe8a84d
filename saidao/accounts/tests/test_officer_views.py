"""The officer's pages: dashboard, one organization, rosters, codes; all cut to the subtree."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from pytest_django import DjangoAssertNumQueries

from saidao.accounts import services
from saidao.accounts.models import (
    AccountNotice,
    Membership,
    MembershipInvitation,
    OneTimeCode,
    User,
)
from saidao.accounts.roster import roster_parse
from saidao.accounts.tests.factories import MembershipFactory, UserFactory, roster_xlsx
from saidao.conftest import Tree
from saidao.orgs.models import Organization, Role
from saidao.orgs.tests.factories import make_org

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _messages(resp: object) -> list[str]:
    return [str(m) for m in get_messages(resp.wsgi_request)]  # type: ignore[attr-defined]


# --- dashboard ----------------------------------------------------------------------------


def test_dashboard_lists_the_officers_roots_with_member_totals(client: Client, tree: Tree) -> None:
    """定西's officer sees 定西 with its subtree's member count, and pending applications."""
    MembershipFactory.create(organization=tree.tongwei)
    pending = make_org(tree.anding, "新申请工会", status=Organization.Status.PENDING)
    client.force_login(tree.city_officer)
    resp = client.get("/officer/")
    assert resp.status_code == 200
    [root] = resp.context["roots"]
    assert root == tree.dingxi
    assert root.member_total == 2
    assert resp.context["pending"] == [pending]
    assert "东营" not in resp.content.decode()


def test_dashboard_sends_plain_workers_back(client: Client, tree: Tree) -> None:
    """A worker without a role is told they are not an officer."""
    client.force_login(tree.anding_member.user)
    resp = client.get("/officer/")
    assert resp.status_code == 302
    assert resp["Location"] == "/accounts/me/"
    assert _messages(resp) == ["您还不是任何工会组织的干部。"]


def test_officer_pages_need_log_in(client: Client, tree: Tree) -> None:
    """Anonymous visitors are sent to log in."""
    for url in ("/officer/", f"/officer/orgs/{tree.dingxi.pk}/", "/officer/roster-template.xlsx"):
        resp = client.get(url)
        assert resp.status_code == 302
        assert resp["Location"].startswith("/accounts/login/")


# --- one organization ---------------------------------------------------------------------


def test_organization_page_shows_children_members_and_full_phones(
    client: Client, tree: Tree
) -> None:
    """定西's page lists 安定区 and 通渭县 with member totals, and its members in full."""
    tongwei = MembershipFactory.create(organization=tree.tongwei)
    client.force_login(tree.city_officer)
    resp = client.get(f"/officer/orgs/{tree.dingxi.pk}/")
    assert resp.status_code == 200
    totals = {c.name: c.member_total for c in resp.context["children"]}
    assert totals == {"安定区总工会": 1, "通渭县总工会": 1}
    html = resp.content.decode()
    assert tree.anding_member.user.phone in html
    assert tongwei.user.phone in html
    assert tree.dongying_member.user.phone not in html
    assert resp.context["ancestors"] == []  # 甘肃 and 全总 lie above the officer's root


def test_organization_page_breadcrumbs_stay_inside_the_subtree(client: Client, tree: Tree) -> None:
    """From the courier union the breadcrumbs go up to 定西, not beyond."""
    client.force_login(tree.city_officer)
    resp = client.get(f"/officer/orgs/{tree.courier.pk}/")
    assert [a.name for a in resp.context["ancestors"]] == ["定西市总工会", "安定区总工会"]


def test_organization_page_searches_members(client: Client, tree: Tree) -> None:
    """?q= narrows the members to matching names."""
    MembershipFactory.create(
        organization=tree.courier, user=UserFactory.create(real_name="张测试明")
    )
    client.force_login(tree.city_officer)
    resp = client.get(f"/officer/orgs/{tree.dingxi.pk}/", {"q": "测试明"})
    assert [m.user.real_name for m in resp.context["members"]] == ["张测试明"]


# --- rosters ------------------------------------------------------------------------------


def test_roster_page_imports_and_shows_codes_once(client: Client, tree: Tree) -> None:
    """A good upload creates the accounts and shows each activation code on the page."""
    client.force_login(tree.city_officer)
    assert client.get(f"/officer/orgs/{tree.courier.pk}/roster/").status_code == 200
    f = roster_xlsx([["张三", 13912340301, "顺丰", "快递员"], ["李四", "13912340302", "", ""]])
    resp = client.post(f"/officer/orgs/{tree.courier.pk}/roster/", {"file": f})
    assert resp.status_code == 200
    result = resp.context["result"]
    assert len(result.created) == 2
    html = resp.content.decode()
    for user, code in result.created:
        assert code in html
        assert Membership.objects.get(user=user).organization == tree.courier
        assert not user.is_activated


def test_roster_page_invites_existing_accounts_instead_of_adding_them(
    client: Client, tree: Tree
) -> None:
    """An existing account in the upload is counted as invited, not made a member; the
    page says that its owner joins after confirming."""
    loner = UserFactory.create()
    client.force_login(tree.city_officer)
    f = roster_xlsx([[loner.real_name, loner.phone, "", ""], ["张三", "13912340305", "", ""]])
    resp = client.post(f"/officer/orgs/{tree.courier.pk}/roster/", {"file": f})
    assert resp.status_code == 200
    result = resp.context["result"]
    assert (len(result.created), result.invited, result.unchanged) == (1, 1, 0)
    assert "已有账号 1 个（已向本人发出入会邀请，本人确认后入会）" in resp.content.decode()
    assert not Membership.objects.filter(user=loner).exists()
    assert MembershipInvitation.objects.get(user=loner).organization == tree.courier


def test_roster_page_lists_every_error_and_imports_nothing(client: Client, tree: Tree) -> None:
    """Each bad row is shown with its row number; no account or membership is created."""
    client.force_login(tree.city_officer)
    f = roster_xlsx(
        [
            ["张三", "13912340311", "", ""],
            ["李四", "12345", "", ""],
            ["", "13912340313", "", ""],
            ["王五", "13912340311", "", ""],
            ["赵六", tree.dongying_member.user.phone, "", ""],  # fine: would be invited
        ]
    )
    users, memberships = User.objects.count(), Membership.objects.count()
    resp = client.post(f"/officer/orgs/{tree.courier.pk}/roster/", {"file": f})
    assert resp.status_code == 200
    assert resp.context["result"] is None
    errors = resp.context["form"].non_field_errors()
    joined = "\n".join(errors)
    for row in (3, 4, 5):
        assert f"第 {row} 行" in joined
    assert "第 6 行" not in joined  # a member elsewhere is no error: they are invited
    assert "名册有错误，未导入任何数据。" in joined
    assert (User.objects.count(), Membership.objects.count()) == (users, memberships)


def test_roster_page_refuses_a_file_that_is_not_xlsx(client: Client, tree: Tree) -> None:
    """A CSV upload shows one clear message on the file field, with no row number."""
    client.force_login(tree.city_officer)
    f = io.BytesIO("姓名,手机号\n张三,13912340321\n".encode())
    f.name = "roster.csv"
    resp = client.post(f"/officer/orgs/{tree.courier.pk}/roster/", {"file": f})
    assert resp.context["form"].errors == {
        "file": ["无法读取文件，请上传 .xlsx 格式的名册（可先下载模板）。"]
    }
    assert "第 0 行" not in resp.content.decode()


def test_roster_export_page_reads_back(client: Client, tree: Tree) -> None:
    """The export is an .xlsx that the import's parser reads back."""
    extra = MembershipFactory.create(organization=tree.tongwei)
    client.force_login(tree.city_officer)
    resp = client.get(f"/officer/orgs/{tree.dingxi.pk}/roster.xlsx")
    assert resp.status_code == 200
    assert resp["Content-Type"] == XLSX
    parsed = roster_parse(io.BytesIO(resp.content))
    assert parsed.errors == []
    assert {r.phone for r in parsed.rows} == {tree.anding_member.user.phone, extra.user.phone}


def test_roster_template_download(client: Client, tree: Tree) -> None:
    """The template is a valid roster with one example row."""
    client.force_login(tree.city_officer)
    resp = client.get("/officer/roster-template.xlsx")
    assert resp["Content-Type"] == XLSX
    assert len(roster_parse(io.BytesIO(resp.content)).rows) == 1


# --- one-time codes -----------------------------------------------------------------------


def test_member_code_page_shows_the_code_once(client: Client, tree: Tree) -> None:
    """POSTing for a member issues a reset code, shown in a message, then back to the org."""
    member = tree.anding_member.user
    client.force_login(tree.city_officer)
    resp = client.post(f"/officer/members/{member.pk}/code/")
    assert resp.status_code == 302
    assert resp["Location"] == f"/officer/orgs/{tree.courier.pk}/"
    [message] = _messages(resp)
    assert "重置码" in message
    match = re.search(r"：(\d{8})（", message)
    assert match is not None
    assert AccountNotice.objects.get(user=member).kind == AccountNotice.Kind.CODE_ISSUED
    services.password_reset(phone=member.phone, code=match.group(1), password="Xin-Mima-2026")
    member.refresh_from_db()
    assert member.check_password("Xin-Mima-2026")


def test_member_code_page_refuses_a_member_with_a_role_elsewhere(
    client: Client, tree: Tree
) -> None:
    """A member of the subtree who is an officer in 东营 is not 定西's to open: the page says
    so (the owner recovers by SMS), issues no code and goes back to the organization."""
    member = tree.anding_member.user
    Role.objects.create(organization=tree.dongying, user=member, kind=Role.Kind.OFFICER)
    client.force_login(tree.city_officer)
    resp = client.post(f"/officer/members/{member.pk}/code/")
    assert resp.status_code == 302
    assert resp["Location"] == f"/officer/orgs/{tree.courier.pk}/"
    [message] = _messages(resp)
    assert "不能由您生成验证码" in message
    assert not OneTimeCode.objects.exists()
    assert not AccountNotice.objects.exists()


def test_member_code_page_needs_post(client: Client, tree: Tree) -> None:
    """A GET (a link, a prefetch) never issues a code."""
    client.force_login(tree.city_officer)
    resp = client.get(f"/officer/members/{tree.anding_member.user_id}/code/")
    assert resp.status_code == 405
    assert not OneTimeCode.objects.exists()


# --- isolation ----------------------------------------------------------------------------


def _pages(org_id: int, user_id: int) -> list[tuple[str, str]]:
    return [
        ("get", f"/officer/orgs/{org_id}/"),
        ("get", f"/officer/orgs/{org_id}/roster/"),
        ("post", f"/officer/orgs/{org_id}/roster/"),
        ("get", f"/officer/orgs/{org_id}/roster.xlsx"),
        ("post", f"/officer/members/{user_id}/code/"),
    ]


def test_officer_pages_refuse_another_city(client: Client, tree: Tree) -> None:
    """定西's officer gets 403/404 for 东营's organization and member; nothing is written."""
    client.force_login(tree.city_officer)
    before = (User.objects.count(), OneTimeCode.objects.count())
    for method, url in _pages(tree.dongying.pk, tree.dongying_member.user_id):
        data = {"file": roster_xlsx([["新人", "13912340331", "", ""]])} if method == "post" else {}
        resp = getattr(client, method)(url, data)
        assert resp.status_code in (403, 404), (url, resp.status_code)
        assert tree.dongying_member.user.phone not in resp.content.decode(errors="ignore")
    assert (User.objects.count(), OneTimeCode.objects.count()) == before


def test_officer_pages_work_inside_the_subtree(client: Client, tree: Tree) -> None:
    """The same pages work for 安定区's courier union and its member."""
    client.force_login(tree.city_officer)
    for method, url in _pages(tree.courier.pk, tree.anding_member.user_id):
        data = {"file": roster_xlsx([["新人", "13912340341", "", ""]])} if method == "post" else {}
        resp = getattr(client, method)(url, data)
        assert resp.status_code in (200, 302), (url, resp.status_code)
    assert User.objects.filter(phone="13912340341").exists()
    assert OneTimeCode.objects.filter(user=tree.anding_member.user).exists()


def test_officer_pages_refuse_plain_workers(client: Client, tree: Tree) -> None:
    """A member without a role gets 404 on every officer page of their own union."""
    client.force_login(tree.anding_member.user)
    for method, url in _pages(tree.courier.pk, tree.anding_member.user_id):
        resp = getattr(client, method)(url)
        assert resp.status_code in (403, 404), (url, resp.status_code)


# --- query counts -------------------------------------------------------------------------


@pytest.mark.parametrize("n", [3, 30])
def test_organization_page_query_count_does_not_grow(
    client: Client, tree: Tree, django_assert_num_queries: DjangoAssertNumQueries, n: int
) -> None:
    """Session, user, roles, organization, ancestors, children, counts, member count, page,
    invites: the same ten queries for 3 or 30 members."""
    MembershipFactory.create_batch(n, organization=tree.courier)
    client.force_login(tree.city_officer)
    with django_assert_num_queries(10):
        resp = client.get(f"/officer/orgs/{tree.dingxi.pk}/")
    assert resp.context["members"].paginator.count == n + 1
