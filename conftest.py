"""Suite-wide fixtures: fast password hashing, regions present, the database line, Chromium."""

from __future__ import annotations

import os
import sqlite3
from typing import Any

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's ORM must still be usable.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("SAIDAO_CHROMIUM", "/usr/bin/chromium")


def pytest_report_header(config: pytest.Config) -> str:
    """Name the database the run uses, e.g. `database: postgresql 15.18`."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"database: sqlite {sqlite3.sqlite_version}"
    import psycopg  # pytest-django blocks Django's connection here, so ask the server directly

    with psycopg.connect(
        host=db["HOST"],
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"],
        dbname=db["NAME"],
    ) as conn:
        version = conn.execute("SHOW server_version").fetchone()
    return f"database: postgresql {version[0] if version else 'unknown'}"


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    """The default PBKDF2 costs ~0.5 s a password here; tests don't need that strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _manual_tasks(settings: Any) -> Any:
    """Tasks wait in a queue until a test runs them with ``saidao.core.tasks.run_pending``."""
    from saidao.core import tasks

    settings.SAIDAO_TASK_RUNNER = "manual"
    settings.SAIDAO_AGGREGATOR = "manual"
    tasks.clear_pending()
    yield
    tasks.clear_pending()


@pytest.fixture(autouse=True)
def _no_sms(settings: Any) -> Any:
    """No SMS unless a test chooses a backend: a developer's environment stays out of the run,
    and the console backend's outbox starts empty."""
    from saidao.core import sms

    settings.SAIDAO_SMS_BACKEND = ""
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def regions(db: None) -> None:
    """China's regions, reloaded when a transactional test has flushed them."""
    from saidao.regions.models import Region
    from saidao.regions.services import regions_load

    if not Region.objects.filter(code="621100").exists():
        regions_load()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium (Playwright cannot download its own here), headless and offline."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }
