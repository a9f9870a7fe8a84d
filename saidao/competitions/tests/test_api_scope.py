"""Objects outside the caller's view answer 404 through the API, like a missing one.

The rule: a caller who may not even see an object (a title of a program outside their part
of the tree, an organization outside their subtree) gets 404 ``not_found``, so an id does not
confirm that anything exists; a caller who sees the object and may only not act on it (a
participant looking at a published title, an assessor) gets 403 with the reason.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from saidao.accounts.tests.factories import login_headers
from saidao.competitions import services
from saidao.competitions.models import Title
from saidao.competitions.tests.factories import watercut_world
from saidao.conftest import Tree

pytestmark = pytest.mark.django_db
API = "/api/v1"


def _nominated_title(tree: Tree) -> tuple[Any, Title]:
    w = watercut_world(tree)
    for name, vals in w.extra["values"].items():
        r = services.report_save(
            actor=w.reporters[name], participant=w.participants[name], period=w.period, values=vals
        )
        services.report_verify(
            actor=w.assessor, report=services.report_submit(actor=w.reporters[name], report=r)
        )
    snapshot = services.period_compute(actor=w.officer, period=w.period)
    services.snapshot_publish(actor=w.officer, snapshot=snapshot)
    title = services.title_nominate(
        actor=w.officer, snapshot=snapshot, participant=w.participants["吴昊"]
    )
    return w, title


@pytest.mark.parametrize("action", ["approve", "reject", "publish"])
def test_a_title_out_of_sight_is_not_found(client: Client, tree: Tree, action: str) -> None:
    """定西's officer, who cannot see 东营's program, acting on one of its titles gets the
    same 404 as for a title that does not exist; the participant, who sees the published
    ranking, is refused with 403; nothing changes."""
    w, title = _nominated_title(tree)
    outsider = login_headers(client, tree.city_officer)
    url = f"{API}/competition-titles/{title.pk}/{action}"
    hidden = client.post(url, content_type="application/json", headers=outsider)
    missing = client.post(
        f"{API}/competition-titles/{title.pk + 1000}/{action}",
        content_type="application/json",
        headers=outsider,
    )
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["code"] == missing.json()["code"] == "not_found"
    participant = login_headers(client, w.reporters["吴昊"])
    seen = client.post(url, content_type="application/json", headers=participant)
    assert seen.status_code == 403 and seen.json()["code"] == "outside_scope"
    title.refresh_from_db()
    assert title.state == Title.State.NOMINATED


def test_a_program_for_an_organization_out_of_sight_is_not_found(
    client: Client, tree: Tree
) -> None:
    """Creating a program for an organization outside the officer's subtree answers 404, as
    creating a campaign does, not 403 confirming that the organization exists."""
    h = login_headers(client, tree.city_officer)
    resp = client.post(
        f"{API}/competition-programs",
        {"organization_id": tree.dongying.pk, "name": "P"},
        content_type="application/json",
        headers=h,
    )
    assert resp.status_code == 404 and resp.json()["code"] == "not_found"
