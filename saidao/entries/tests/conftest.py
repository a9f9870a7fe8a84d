from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from saidao.accounts.models import User
from saidao.campaigns.models import Campaign
from saidao.campaigns.tests.factories import live_phases, make_campaign
from saidao.conftest import Tree
from saidao.core import clock
from saidao.entries.models import Entry
from saidao.entries.services import entry_submit
from saidao.regions.models import Region
from saidao.uploads.models import Upload


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def live(tree: Tree) -> Campaign:
    """A national campaign whose collection and showcase are open today."""
    return make_campaign(
        actor=tree.national_officer,
        organizer=tree.national,
        slug="live",
        phases=live_phases(),
        max_video_seconds=120,
    )


def submit(campaign: Campaign, worker: User, **kwargs: Any) -> Entry:
    """Submit with valid answers; an upload still in progress unless one is given."""
    values: dict[str, Any] = {
        "real_name": worker.real_name,
        "mobile": worker.phone,
        "employer": "定西某快递网点",
        "position": "快递员",
        "province": Region.objects.get(code="620000"),
        "city": Region.objects.get(code="621100"),
        "theme": campaign.themes.first(),
        "title": "我的快递路",
        "description": "",
        "consent_publish": True,
    }
    if "upload" not in kwargs:
        values["upload"] = pending_upload(worker)
    return entry_submit(campaign=campaign, worker=worker, **(values | kwargs))


def pending_upload(worker: User, size: int = 1000) -> Upload:
    """An upload the worker has started and not finished."""
    return Upload.objects.create(
        owner=worker,
        purpose="entry",
        filename="clip.mp4",
        content_type="video/mp4",
        declared_size=size,
        max_size=500 * 1024 * 1024,
        storage_key=f"uploads/pending-{uuid.uuid4()}.part",
        expires_at=clock.now() + dt.timedelta(days=1),
    )


def stored_upload(worker: User, source: Path, settings: Any) -> Upload:
    """``source`` stored as the worker's completed upload, as the tus server leaves it."""
    key = f"uploads/test-{uuid.uuid4()}{source.suffix}"
    target = Path(settings.MEDIA_ROOT) / key
    target.parent.mkdir(parents=True, exist_ok=True)
    data = source.read_bytes()
    target.write_bytes(data)
    return Upload.objects.create(
        owner=worker,
        purpose="entry",
        filename=source.name,
        content_type="video/mp4",
        declared_size=len(data),
        offset=len(data),
        max_size=500 * 1024 * 1024,
        storage_key=key,
        status=Upload.Status.COMPLETE,
        sha256=hashlib.sha256(data).hexdigest(),
        expires_at=clock.now() + dt.timedelta(days=1),
        completed_at=clock.now(),
    )


@pytest.fixture
def clip(tmp_path: Path) -> Callable[..., Path]:
    from saidao.video.synth import make_clip

    def make(name: str = "clip.mp4", **kwargs: Any) -> Path:
        return make_clip(tmp_path / name, **({"seconds": 3.0} | kwargs))

    return make
