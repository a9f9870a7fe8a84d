from __future__ import annotations

from typing import Any

import pytest

from saidao.accounts.tests.factories import MembershipFactory
from saidao.campaigns.models import Campaign
from saidao.campaigns.tests.factories import make_campaign
from saidao.conftest import Tree
from saidao.core.errors import OutsideScope
from saidao.core.models import AuditEntry
from saidao.leaderboards import selectors
from saidao.leaderboards.models import MemberSnapshot
from saidao.leaderboards.runner import run_once
from saidao.leaderboards.services import member_snapshot_take
from saidao.leaderboards.tests.recount import member_takes_part


@pytest.fixture
def campaign(tree: Tree) -> Campaign:
    return make_campaign(actor=tree.national_officer, organizer=tree.national)


def _take_part(c: Campaign, org: Any, n: int, prefix: str) -> None:
    for i in range(n):
        member_takes_part(c, org, f"{prefix}{i}", city=org.region.zone_city_id or "621100")


def test_count_and_rate_rank_differently(campaign: Campaign, tree: Tree, settings: Any) -> None:
    """安定区 has more participants, 通渭县 a higher rate: the two rankings disagree, as
    a 30-member courier union and a big union should be compared."""
    settings.SAIDAO_RATE_MIN_MEMBERS = 1
    for _i in range(6):
        MembershipFactory.create(organization=tree.anding)  # members who do not take part
    _take_part(campaign, tree.courier, 3, "a")
    _take_part(campaign, tree.tongwei, 2, "t")
    run_once()
    by_count = selectors.top(campaign=campaign, level="county")
    by_rate = selectors.top(campaign=campaign, by="rate", level="county")
    assert [r.name for r in by_count] == ["安定区总工会", "通渭县总工会"]
    assert [r.name for r in by_rate] == ["通渭县总工会", "安定区总工会"]
    assert by_rate[0].rate == 1.0 and by_rate[0].members == 2
    assert selectors.rank_of(campaign=campaign, organization=tree.tongwei) == (2, 2)
    assert (
        selectors.children_by_rate(campaign=campaign, parent=tree.dingxi)[0].name == "安定区总工会"
    )


def test_ties_share_a_rank_and_list_by_time_reached(campaign: Campaign, tree: Tree) -> None:
    """Equal counts share rank 1 (competition ranking); the one that got there first is listed
    first; the next rank is 3."""
    _take_part(campaign, tree.tongwei, 1, "t")
    run_once()
    _take_part(campaign, tree.courier, 1, "a")
    run_once()
    rows = selectors.top(campaign=campaign, level="county")
    assert [(r.rank, r.name) for r in rows] == [(1, "通渭县总工会"), (1, "安定区总工会")]


def test_small_organizations_are_not_rate_ranked(
    campaign: Campaign, tree: Tree, settings: Any
) -> None:
    """Below the minimum member count an organization has a rate but no rate rank."""
    settings.SAIDAO_RATE_MIN_MEMBERS = 10
    _take_part(campaign, tree.tongwei, 2, "t")
    run_once()
    assert selectors.top(campaign=campaign, by="rate", level="county") == []
    assert selectors.top(campaign=campaign, level="county")[0].rate == 1.0


def test_snapshot_is_taken_once_and_refreshed_by_an_officer(campaign: Campaign, tree: Tree) -> None:
    """The first aggregation freezes member counts; later members change nothing until the
    organizer's officer refreshes (audited); another officer cannot."""
    _take_part(campaign, tree.courier, 1, "a")
    run_once()
    before = MemberSnapshot.objects.get(campaign=campaign, organization=tree.national).subtree
    MembershipFactory.create(organization=tree.courier)
    _take_part(campaign, tree.courier, 1, "b")
    run_once()
    assert (
        MemberSnapshot.objects.get(campaign=campaign, organization=tree.national).subtree == before
    )
    with pytest.raises(OutsideScope):
        member_snapshot_take(campaign=campaign, actor=tree.city_officer)
    member_snapshot_take(campaign=campaign, actor=tree.national_officer)
    after = MemberSnapshot.objects.get(campaign=campaign, organization=tree.national).subtree
    assert after == before + 2
    assert AuditEntry.objects.filter(action="member_snapshot.refresh").count() == 1
