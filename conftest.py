"""Suite-wide fixtures: fast password hashing, regions present, the database line, Chromium."""

from __future__ import annotations

import os
import sqlite3
import threading
from typing import Any

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's ORM must still be usable.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("SAIDAO_CHROMIUM", "/usr/bin/chromium")


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--reverse` (or SAIDAO_TEST_REVERSE=1) runs the collected tests last to first."""
    parser.addoption(
        "--reverse",
        action="store_true",
        default=False,
        help="run the collected tests in reverse order, to find tests that depend on earlier ones",
    )


def _reverse_wanted(config: pytest.Config) -> bool:
    env = os.environ.get("SAIDAO_TEST_REVERSE", "").strip().lower()
    return bool(config.getoption("--reverse")) or env in {"1", "true", "yes", "on"}


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> Any:
    """Reverse order only when asked: the default order stays as collected. Reversed before
    pytest-django's stable sort, so its grouping (plain, then database, then transactional
    tests, as Django guarantees) holds and each group runs last to first."""
    if _reverse_wanted(config):
        items.reverse()
    return (yield)


def pytest_report_header(config: pytest.Config) -> str | list[str]:
    """Name the database the run uses, e.g. `database: postgresql 15.18`."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    order = ["order: reversed"] if _reverse_wanted(config) else []
    if db["ENGINE"].endswith("sqlite3"):
        return [f"database: sqlite {sqlite3.sqlite_version}", *order]
    import psycopg  # pytest-django blocks Django's connection here, so ask the server directly

    with psycopg.connect(
        host=db["HOST"],
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"],
        dbname=db["NAME"],
    ) as conn:
        version = conn.execute("SHOW server_version").fetchone()
    return [f"database: postgresql {version[0] if version else 'unknown'}", *order]


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
    _embedded_task_worker_stopped()
    tasks.clear_pending()


def _embedded_task_worker_stopped() -> None:
    """A test that used the embedded ("thread") runner leaves its worker thread waiting on the
    shared queue, where it would take the jobs of every later test before their
    ``run_pending()``: end it (a thread ends quietly on SystemExit)."""
    from saidao.core import tasks

    worker = tasks._worker
    if worker is None or not worker.is_alive():
        return

    def stop() -> None:
        raise SystemExit

    tasks.REGISTRY.setdefault(
        "saidao.tests.stop_worker", tasks.TaskSpec("saidao.tests.stop_worker", stop, 0, 0.0)
    )
    hook = threading.excepthook

    def quiet_stop(args: Any) -> None:
        if not (args.thread is worker and args.exc_type is SystemExit):
            hook(args)

    threading.excepthook = quiet_stop  # pytest's hook would report the stop as a failure
    try:
        tasks.clear_pending()
        tasks._pending.put(tasks._Job("saidao.tests.stop_worker", {}))
        worker.join(timeout=60)
    finally:
        threading.excepthook = hook
    assert not worker.is_alive(), "the embedded task worker did not stop"


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
