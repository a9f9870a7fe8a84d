from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from saidao.accounts.models import User
from saidao.certificates.models import Certificate
from saidao.certificates.services import certificate_issue
from saidao.conftest import Tree
from saidao.orgs.models import Organization


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def issue(
    *,
    holder: User | None,
    issuer: Organization,
    source: str = "test:1",
    holder_name: str = "吴小利",
    kind: str = Certificate.Kind.TITLE,
    title: str = "2024年第二季度 最佳降含水标兵",
    event_name: str = "2024年“比学赶帮超”劳动竞赛",
    details: list[tuple[str, str]] | None = None,
) -> Certificate:
    return certificate_issue(
        holder=holder,
        holder_name=holder_name,
        kind=kind,
        title=title,
        event_name=event_name,
        issuer=issuer,
        issued_on=dt.date(2024, 8, 13),
        details=details if details is not None else [("指标", "降含水 3.2 个百分点")],
        source=source,
    )


@pytest.fixture
def cert(tree: Tree) -> Certificate:
    """A title certificate of the courier union's member, issued by 安定区总工会."""
    return issue(holder=tree.anding_member.user, issuer=tree.anding)
