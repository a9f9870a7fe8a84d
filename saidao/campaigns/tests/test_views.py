from __future__ import annotations

from django.test import Client

from saidao.campaigns.models import Phase
from saidao.campaigns.tests.factories import make_campaign
from saidao.conftest import Tree
from saidao.core.models import AuditEntry


def test_home_lists_published_campaigns_only(client: Client, tree: Tree) -> None:
    """The home page links to published campaigns and not to drafts."""
    make_campaign(actor=tree.national_officer, organizer=tree.national)
    make_campaign(
        actor=tree.city_officer,
        organizer=tree.dingxi,
        slug="draft",
        title="草稿活动",
        publish=False,
    )
    html = client.get("/").content.decode()
    assert "全国职工岗位“云讲述”活动" in html
    assert "/campaigns/yunjiangshu-2024/" in html
    assert "草稿活动" not in html
    assert "暂时还没有活动" not in html


def test_campaign_page_shows_timeline_and_themes(client: Client, tree: Tree) -> None:
    """The campaign page shows its four phases and five themes; the 2024 one has ended."""
    make_campaign(actor=tree.national_officer, organizer=tree.national)
    resp = client.get("/campaigns/yunjiangshu-2024/")
    html = resp.content.decode()
    assert resp.status_code == 200
    for title in ["宣传动员", "集中讲述", "展示宣传", "知识竞赛"]:
        assert title in html
    assert "新质生产力" in html
    assert "未在征集" in html


def test_draft_or_unknown_campaign_is_404(client: Client, tree: Tree) -> None:
    """Drafts are not public, and unknown addresses are 404."""
    make_campaign(actor=tree.city_officer, organizer=tree.dingxi, slug="draft", publish=False)
    assert client.get("/campaigns/draft/").status_code == 404
    assert client.get("/campaigns/nope/").status_code == 404


def test_officer_overrides_phase_from_the_page(client: Client, tree: Tree) -> None:
    """The organizer's officer forces collection open with a reason; it is audited."""
    c = make_campaign(actor=tree.national_officer, organizer=tree.national)
    phase = c.phases.get(kind="collection")
    client.force_login(tree.national_officer)
    assert client.get(f"/campaigns/officer/{c.pk}/").status_code == 200
    resp = client.post(
        f"/campaigns/officer/phases/{phase.pk}/override/", {"override": "open", "reason": "补报"}
    )
    assert resp.status_code == 302
    phase.refresh_from_db()
    assert phase.override == Phase.Override.OPEN
    assert AuditEntry.objects.filter(action="phase.override").count() == 1
    assert "作品征集中" in client.get("/campaigns/yunjiangshu-2024/").content.decode()


def test_officer_of_another_subtree_cannot_override(client: Client, tree: Tree) -> None:
    """A 东营 officer gets 404 for a 定西 campaign and changes nothing."""
    c = make_campaign(actor=tree.city_officer, organizer=tree.dingxi, slug="dingxi")
    phase = c.phases.get(kind="collection")
    client.force_login(tree.other_officer)
    assert client.get(f"/campaigns/officer/{c.pk}/").status_code == 404
    resp = client.post(
        f"/campaigns/officer/phases/{phase.pk}/override/", {"override": "open", "reason": "x"}
    )
    assert resp.status_code == 404
    phase.refresh_from_db()
    assert phase.override == ""


def test_officer_campaign_list_is_scoped(client: Client, tree: Tree) -> None:
    """定西's officer lists 定西's campaign and not the national one; 东营's lists neither."""
    make_campaign(actor=tree.city_officer, organizer=tree.dingxi, slug="dx", title="定西讲述")
    make_campaign(actor=tree.national_officer, organizer=tree.national)
    client.force_login(tree.city_officer)
    html = client.get("/campaigns/officer/").content.decode()
    assert "定西讲述" in html and "全国职工岗位" not in html
    client.force_login(tree.other_officer)
    html = client.get("/campaigns/officer/").content.decode()
    assert "定西讲述" not in html


def test_campaign_page_leads_to_the_contest_only_while_the_quiz_is_open(
    client: Client, tree: Tree
) -> None:
    """参加知识竞赛 shows while a quiz phase is open, and not in a campaign whose quiz is over."""
    import datetime as dt

    from saidao.campaigns.services import PhaseSpec
    from saidao.core import clock

    now = clock.now()
    day = dt.timedelta(days=1)
    make_campaign(
        actor=tree.national_officer,
        organizer=tree.national,
        slug="quiz-now",
        phases=[PhaseSpec("quiz", "知识竞赛", now - day, now + day, quiz_open=True)],
    )
    make_campaign(actor=tree.national_officer, organizer=tree.national)
    html = client.get("/campaigns/quiz-now/").content.decode()
    assert 'href="/quizzes/campaign/quiz-now/"' in html
    assert 'data-testid="quiz"' not in client.get("/campaigns/yunjiangshu-2024/").content.decode()
