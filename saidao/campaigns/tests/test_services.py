from __future__ import annotations

import pytest

from saidao.campaigns.models import Campaign
from saidao.campaigns.presets import YUN_THEMES, sh
from saidao.campaigns.services import PhaseSpec, campaign_create, phase_override
from saidao.campaigns.tests.factories import make_campaign
from saidao.conftest import Tree
from saidao.core.errors import InvalidInput, OutsideScope


def test_campaign_create_keeps_themes_and_phases_in_order(tree: Tree) -> None:
    """The five 2024 themes and four phases are stored in order with the defaults of 云讲述."""
    c = make_campaign(actor=tree.national_officer, organizer=tree.national)
    assert [t.title for t in c.themes.all()] == YUN_THEMES
    assert [p.kind for p in c.phases.all()] == ["mobilization", "collection", "showcase", "quiz"]
    assert (c.entries_per_worker, c.max_video_seconds, c.max_file_mb) == (1, 120, 500)
    assert c.entry_form["real_name"] == "required"
    assert c.entry_form["description"] == "optional"


def test_campaign_create_outside_scope_is_refused(tree: Tree) -> None:
    """A 定西 officer cannot create a campaign for 东营."""
    with pytest.raises(OutsideScope):
        make_campaign(actor=tree.city_officer, organizer=tree.dongying)
    assert not Campaign.objects.exists()


def test_campaign_create_rejects_bad_phase_and_saves_nothing(tree: Tree) -> None:
    """A phase that ends before it starts is refused and no campaign is half-saved."""
    bad = [PhaseSpec("collection", "征集", sh(2024, 10, 1), sh(2024, 9, 1), entries_open=True)]
    with pytest.raises(InvalidInput) as e:
        campaign_create(
            actor=tree.national_officer, organizer=tree.national, slug="bad", title="t", phases=bad
        )
    assert "结束时间必须晚于开始时间" in e.value.detail["fields"]["phases"][0]
    assert not Campaign.objects.exists()


def test_campaign_create_rejects_unknown_entry_form_field(tree: Tree) -> None:
    """An entry form naming a field we do not have is refused with the field's name."""
    with pytest.raises(InvalidInput) as e:
        make_campaign(
            actor=tree.national_officer,
            organizer=tree.national,
            entry_form={"shoe_size": "required"},
        )
    assert "shoe_size" in str(e.value.message)


def test_duplicate_slug_is_refused(tree: Tree) -> None:
    """Two campaigns cannot share a web address."""
    make_campaign(actor=tree.national_officer, organizer=tree.national)
    with pytest.raises(InvalidInput) as e:
        make_campaign(actor=tree.national_officer, organizer=tree.national)
    assert "slug" in e.value.detail["fields"]


def test_override_needs_a_reason_and_the_organizer_scope(tree: Tree) -> None:
    """Forcing a phase needs a reason, and an officer below the organizer cannot do it."""
    c = make_campaign(actor=tree.national_officer, organizer=tree.national)
    phase = c.phases.get(kind="collection")
    with pytest.raises(InvalidInput):
        phase_override(actor=tree.national_officer, phase=phase, override="open", reason=" ")
    with pytest.raises(OutsideScope):
        phase_override(actor=tree.city_officer, phase=phase, override="open", reason="x")
    phase.refresh_from_db()
    assert phase.override == ""
