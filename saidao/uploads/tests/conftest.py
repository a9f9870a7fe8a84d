"""Upload fixtures: a temporary MEDIA_ROOT, a registered purpose that records its completions,
workers with bearer tokens, and a real S3 (moto's server) for scaled mode."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from moto.server import ThreadedMotoServer

from saidao.accounts.models import User
from saidao.accounts.services import api_token_issue
from saidao.accounts.tests.factories import UserFactory
from saidao.uploads.models import Upload
from saidao.uploads.purposes import upload_purpose_register, upload_purpose_unregister
from saidao.uploads.s3 import MB, s3_client

PURPOSE = "test"
CAP = 8 * MB


@dataclass
class Recorder:
    """The test purpose's on_complete handler: remembers each upload it was called with."""

    calls: list[uuid.UUID] = field(default_factory=list)

    def __call__(self, upload: Upload) -> None:
        assert upload.status == Upload.Status.COMPLETE
        self.calls.append(upload.pk)


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root
    settings.AWS_STORAGE_BUCKET_NAME = ""
    return root


@pytest.fixture
def completed() -> Iterator[Recorder]:
    """Register the purpose "test" (cap 8 MB) whose handler records completions."""
    recorder = Recorder()
    upload_purpose_register(PURPOSE, max_size=CAP, on_complete=recorder)
    yield recorder
    upload_purpose_unregister(PURPOSE)


@dataclass
class Worker:
    user: User
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def _worker() -> Worker:
    user = UserFactory.create()
    return Worker(user=user, token=api_token_issue(user=user))


@pytest.fixture
def worker(db: None) -> Worker:
    return _worker()


@pytest.fixture
def other_worker(db: None) -> Worker:
    return _worker()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real S3-compatible server (moto) on a free port, for the whole session."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(settings: Any, media: Path, moto_endpoint: str) -> str:
    """Scaled mode's media settings pointing at a fresh bucket on the moto server."""
    name = f"saidao-{uuid.uuid4().hex[:12]}"
    settings.AWS_STORAGE_BUCKET_NAME = name
    settings.AWS_S3_ENDPOINT_URL = moto_endpoint
    settings.AWS_ACCESS_KEY_ID = "testing"
    settings.AWS_SECRET_ACCESS_KEY = "testing"
    s3_client().create_bucket(Bucket=name)
    return name
