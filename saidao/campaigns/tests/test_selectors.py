from __future__ import annotations

import pytest

from saidao.campaigns.errors import OutsideCampaignScope, PhaseClosed
from saidao.campaigns.presets import sh
from saidao.campaigns.selectors import campaign_require_member, campaign_switches, phase_require
from saidao.campaigns.services import phase_override
from saidao.campaigns.tests.factories import make_campaign
from saidao.conftest import Tree
from saidao.core.models import AuditEntry


def test_switches_follow_the_2024_calendar(tree: Tree) -> None:
    """Entries open in September, likes in November, both in October's overlap, quiz in January."""
    c = make_campaign(actor=tree.national_officer, organizer=tree.national)
    aug = campaign_switches(campaign=c, at=sh(2024, 8, 20))
    assert (aug.entries_open, aug.likes_open, aug.quiz_open) == (False, False, False)
    oct_ = campaign_switches(campaign=c, at=sh(2024, 10, 15))
    assert (oct_.entries_open, oct_.likes_open) == (True, True)
    assert [p.kind for p in oct_.open_phases] == ["collection", "showcase"]
    nov = campaign_switches(campaign=c, at=sh(2024, 11, 15))
    assert (nov.entries_open, nov.likes_open) == (False, True)
    jan = campaign_switches(campaign=c, at=sh(2025, 1, 10))
    assert jan.quiz_open and not jan.likes_open


def test_phase_boundaries_are_start_inclusive_end_exclusive(tree: Tree) -> None:
    """Collection is open at 2024-09-01 00:00 Beijing time and closed at 2024-11-01 00:00."""
    c = make_campaign(actor=tree.national_officer, organizer=tree.national)
    assert campaign_switches(campaign=c, at=sh(2024, 9, 1)).entries_open
    assert not campaign_switches(campaign=c, at=sh(2024, 11, 1)).entries_open


def test_closed_phase_says_when_it_opens(tree: Tree) -> None:
    """Before collection, the refusal names the opening time in Beijing time."""
    c = make_campaign(actor=tree.national_officer, organizer=tree.national)
    with pytest.raises(PhaseClosed) as e:
        phase_require(campaign=c, switch="entries_open", at=sh(2024, 8, 20))
    assert "2024-09-01 00:00" in str(e.value.message)
    assert e.value.detail["opens_at"].startswith("2024-08-31T16:00")


def test_closed_phase_says_it_has_closed(tree: Tree) -> None:
    """After collection, the refusal says when it ended."""
    c = make_campaign(actor=tree.national_officer, organizer=tree.national)
    with pytest.raises(PhaseClosed) as e:
        phase_require(campaign=c, switch="entries_open", at=sh(2024, 12, 5))
    assert "已于 2024-11-01 00:00" in str(e.value.message)


def test_override_opens_a_closed_phase_and_is_audited(tree: Tree) -> None:
    """An officer forces collection open after its end; the switch follows and the audit log
    keeps who, what and why; clearing the override returns to the clock."""
    c = make_campaign(actor=tree.national_officer, organizer=tree.national)
    collection = c.phases.get(kind="collection")
    phase_override(
        actor=tree.national_officer, phase=collection, override="open", reason="延期一周"
    )
    assert campaign_switches(campaign=c, at=sh(2024, 11, 3)).entries_open
    entry = AuditEntry.objects.get(action="phase.override")
    assert entry.actor == tree.national_officer
    assert entry.data == {"from": "", "to": "open", "reason": "延期一周"}
    phase_override(actor=tree.national_officer, phase=collection, override="", reason="")
    assert not campaign_switches(campaign=c, at=sh(2024, 11, 3)).entries_open


def test_worker_outside_the_organizer_subtree_is_refused(tree: Tree) -> None:
    """A 甘肃 campaign admits 安定区's members and refuses 东营's, naming the organizer."""
    c = make_campaign(actor=tree.city_officer, organizer=tree.dingxi, slug="dingxi")
    campaign_require_member(campaign=c, organization=tree.courier)
    with pytest.raises(OutsideCampaignScope) as e:
        campaign_require_member(campaign=c, organization=tree.dongying)
    assert "定西市总工会" in str(e.value.message)
    with pytest.raises(OutsideCampaignScope):
        campaign_require_member(campaign=c, organization=None)
