"""The organization pages: registering, the officer's approve/reject/invite actions, invite QR
codes — and the same isolation between cities as the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from saidao.accounts.tests.factories import UserFactory
from saidao.conftest import Tree
from saidao.core import clock
from saidao.orgs import services
from saidao.orgs.models import InviteCode, Organization, Role
from saidao.orgs.tests.factories import valid_credit_code
from saidao.orgs.tests.helpers import apply

S = Organization.Status


def _messages(response: Any) -> list[str]:
    """The flash messages stored by the request that produced ``response``."""
    return [str(m) for m in get_messages(response.wsgi_request)]


def _register_form(parent: Organization, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "parent": parent.pk,
        "name": "安定区某商贸公司工会",
        "level": Organization.Level.GRASSROOTS,
        "kind": Organization.Kind.ENTERPRISE,
        "region": "621102",
        "credit_code": valid_credit_code("621102"),
        "contact_name": "王经理",
        "contact_phone": "0932-8888888",
    }
    data.update(overrides)
    return data


@pytest.fixture
def officer_client(client: Client, tree: Tree) -> Client:
    """The test client logged in as 定西市总工会's officer."""
    client.force_login(tree.city_officer)
    return client


# --- registering -----------------------------------------------------------------------


def test_register_needs_a_login(client: Client, tree: Tree) -> None:
    """Anonymous visitors are sent to the log-in page."""
    r = client.get(reverse("orgs:register"))
    assert r.status_code == 302
    assert r["Location"].startswith(reverse("accounts:login"))


def test_register_form_renders(client: Client, tree: Tree) -> None:
    """A logged-in user sees the registration form with the parent search."""
    client.force_login(UserFactory.create())
    r = client.get(reverse("orgs:register"), {"q": "定西"})
    assert r.status_code == 200
    html = r.content.decode()
    assert "登记工会组织" in html
    assert "定西市总工会" in html  # the pre-searched parent choices
    assert "东营市总工会" not in html


def test_registering_creates_a_pending_application(client: Client, tree: Tree) -> None:
    """A valid form creates a pending organization under the chosen parent and sends the
    applicant to their page with a message naming the parent."""
    applicant = UserFactory.create()
    client.force_login(applicant)
    r = client.post(reverse("orgs:register"), _register_form(tree.anding))
    assert r.status_code == 302
    assert r["Location"] == reverse("accounts:me")
    org = Organization.objects.get(name="安定区某商贸公司工会")
    assert (org.status, org.parent_id, org.applied_by_id) == (
        S.PENDING,
        tree.anding.pk,
        applicant.pk,
    )
    assert any("安定区总工会" in m for m in _messages(r))


def test_registering_with_a_bad_credit_code_shows_the_error(client: Client, tree: Tree) -> None:
    """A wrong check character re-renders the form with the error on the credit code."""
    client.force_login(UserFactory.create())
    r = client.post(
        reverse("orgs:register"), _register_form(tree.anding, credit_code="91350100M000100Y44")
    )
    assert r.status_code == 200
    assert r.context["form"].errors["credit_code"] == [
        "统一社会信用代码校验位不正确，请核对后重新输入。"
    ]
    assert not Organization.objects.filter(status=S.PENDING).exists()


def test_registering_with_an_unknown_region_shows_the_error(client: Client, tree: Tree) -> None:
    """An unknown region code is reported on the region field, naming the code."""
    client.force_login(UserFactory.create())
    r = client.post(reverse("orgs:register"), _register_form(tree.anding, region="999999"))
    assert r.status_code == 200
    assert "999999" in r.context["form"].errors["region"][0]


def test_registering_under_a_pending_parent_shows_the_error(client: Client, tree: Tree) -> None:
    """A pending parent is refused with the ParentNotApproved message on the form."""
    parent = apply(UserFactory.create(), tree.anding, level=Organization.Level.TOWNSHIP)
    client.force_login(UserFactory.create())
    r = client.post(reverse("orgs:register"), _register_form(parent))
    assert r.status_code == 200
    assert "上级工会尚未通过审批" in r.content.decode()
    assert Organization.objects.filter(status=S.PENDING).count() == 1


def test_parent_options_search_approved_organizations(client: Client, tree: Tree) -> None:
    """The htmx search offers approved organizations whose name matches, with their region."""
    apply(UserFactory.create(), tree.dingxi, "定西市待批工会", level=Organization.Level.COUNTY)
    html = client.get(reverse("orgs:parent_options"), {"q": "定西"}).content.decode()
    assert f'<option value="{tree.dingxi.pk}">定西市总工会（定西市）</option>' in html
    assert "定西市待批工会" not in html
    assert "东营" not in html


# --- isolation: 定西's officer against 东营 ----------------------------------------------


def test_officer_page_of_another_city_is_404(officer_client: Client, tree: Tree) -> None:
    """/officer/orgs/<id>/ is 404 for 东营 and for 甘肃 (above), 200 for 安定区."""
    for org in (tree.dongying, tree.gansu):
        r = officer_client.get(reverse("officer:organization", args=[org.pk]))
        assert r.status_code == 404, org
    r = officer_client.get(reverse("officer:organization", args=[tree.anding.pk]))
    assert r.status_code == 200
    assert "安定区总工会" in r.content.decode()


def test_html_actions_on_another_city_change_nothing(officer_client: Client, tree: Tree) -> None:
    """Approving or rejecting 东营's application, creating a code for 东营 or revoking its code
    through the pages only brings back the dashboard with an error; nothing changes."""
    pending = apply(UserFactory.create(), tree.dongying, "东营某工会", region="370500")
    invite = services.invite_code_create(actor=tree.other_officer, organization=tree.dongying)
    posts = [
        (reverse("orgs:approve", args=[pending.pk]), {}),
        (reverse("orgs:reject", args=[pending.pk]), {"reason": "越权驳回"}),
        (reverse("orgs:invite_create", args=[tree.dongying.pk]), {}),
        (reverse("orgs:invite_revoke", args=[invite.code]), {}),
    ]
    for url, data in posts:
        r = officer_client.post(url, data)
        assert r.status_code == 302, url
        assert r["Location"] == reverse("officer:dashboard")
        assert _messages(r), url
    pending.refresh_from_db()
    invite.refresh_from_db()
    assert (pending.status, pending.rejection_reason, pending.decided_by_id) == (
        S.PENDING,
        "",
        None,
    )
    assert invite.revoked_at is None
    assert list(InviteCode.objects.values_list("pk", flat=True)) == [invite.pk]


def test_invite_qr_of_another_city_is_404(officer_client: Client, tree: Tree) -> None:
    """The QR code of 东营's invite is 404 for 定西's officer; 安定区's renders as SVG."""
    theirs = services.invite_code_create(actor=tree.other_officer, organization=tree.dongying)
    ours = services.invite_code_create(actor=tree.city_officer, organization=tree.anding)
    assert officer_client.get(reverse("orgs:invite_qr", args=[theirs.code])).status_code == 404
    assert officer_client.get(reverse("orgs:invite_qr", args=["NOSUCH99"])).status_code == 404
    r = officer_client.get(reverse("orgs:invite_qr", args=[ours.code]))
    assert r.status_code == 200
    assert r["Content-Type"] == "image/svg+xml"
    assert r.content.decode().lstrip().startswith("<svg")
    assert ours.code in r.content.decode()


# --- the officer's actions within 安定区 -------------------------------------------------


def test_officer_approves_an_application_under_anding(officer_client: Client, tree: Tree) -> None:
    """Approving from the dashboard approves the application, makes the applicant its officer
    and reports success."""
    applicant = UserFactory.create()
    pending = apply(applicant, tree.anding)
    r = officer_client.post(reverse("orgs:approve", args=[pending.pk]))
    assert r.status_code == 302
    assert r["Location"] == reverse("officer:dashboard")
    pending.refresh_from_db()
    assert pending.status == S.APPROVED
    assert Role.objects.filter(organization=pending, user=applicant, kind="officer").exists()
    assert _messages(r) == [f"已批准“{pending.name}”。"]


def test_officer_rejects_with_a_reason(officer_client: Client, tree: Tree) -> None:
    """Rejecting needs a reason: without one the application stays pending with an error;
    with one it is rejected and the reason is kept for the applicant."""
    pending = apply(UserFactory.create(), tree.anding)
    url = reverse("orgs:reject", args=[pending.pk])
    r = officer_client.post(url, {"reason": ""})
    pending.refresh_from_db()
    assert pending.status == S.PENDING
    assert _messages(r) == ["请填写驳回理由，申请人会看到它。"]
    r = officer_client.post(url, {"reason": "联系电话无法接通"})
    pending.refresh_from_db()
    assert (pending.status, pending.rejection_reason) == (S.REJECTED, "联系电话无法接通")
    assert _messages(r)[-1] == f"已驳回“{pending.name}”的申请。"


def test_officer_creates_an_invite_code_for_anding(officer_client: Client, tree: Tree) -> None:
    """Creating a code for 安定区 goes back to its officer page and names the new code."""
    r = officer_client.post(reverse("orgs:invite_create", args=[tree.anding.pk]))
    invite = InviteCode.objects.get(organization=tree.anding)
    assert r.status_code == 302
    assert r["Location"] == reverse("officer:organization", args=[tree.anding.pk])
    assert _messages(r) == [f"已生成邀请码 {invite.code}。"]


def test_officer_creates_an_expiring_invite_code(officer_client: Client, tree: Tree) -> None:
    """A future expiry from the datetime-local field is stored; a past one is refused."""
    future = (clock.now() + dt.timedelta(days=3)).astimezone(clock.SHANGHAI)
    url = reverse("orgs:invite_create", args=[tree.anding.pk])
    officer_client.post(url, {"expires_at": future.strftime("%Y-%m-%dT%H:%M")})
    invite = InviteCode.objects.get(organization=tree.anding)
    assert invite.expires_at is not None
    assert abs(invite.expires_at - future) < dt.timedelta(minutes=1)
    past = (clock.now() - dt.timedelta(days=1)).astimezone(clock.SHANGHAI)
    r = officer_client.post(url, {"expires_at": past.strftime("%Y-%m-%dT%H:%M")})
    assert r["Location"] == reverse("officer:dashboard")
    assert _messages(r)[-1] == "过期时间必须晚于现在。"
    assert InviteCode.objects.count() == 1


def test_officer_revokes_an_invite_code_of_anding(officer_client: Client, tree: Tree) -> None:
    """Revoking a code of 安定区 marks it revoked and returns to the organization's page."""
    invite = services.invite_code_create(actor=tree.city_officer, organization=tree.anding)
    r = officer_client.post(reverse("orgs:invite_revoke", args=[invite.code]))
    assert r["Location"] == reverse("officer:organization", args=[tree.anding.pk])
    invite.refresh_from_db()
    assert invite.revoked_at is not None


def test_actions_are_post_only_and_need_a_login(client: Client, tree: Tree) -> None:
    """GET on an action is 405; anonymous POSTs go to the log-in page and change nothing."""
    pending = apply(UserFactory.create(), tree.anding)
    client.force_login(tree.city_officer)
    assert client.get(reverse("orgs:approve", args=[pending.pk])).status_code == 405
    client.logout()
    r = client.post(reverse("orgs:approve", args=[pending.pk]))
    assert r.status_code == 302 and r["Location"].startswith(reverse("accounts:login"))
    pending.refresh_from_db()
    assert pending.status == S.PENDING
