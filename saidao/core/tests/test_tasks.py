from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction

from saidao.core import tasks

calls: list[dict[str, Any]] = []
failures: dict[str, int] = {}


@tasks.task(name="test.record", retries=0)
def record(**kwargs: Any) -> None:
    calls.append(kwargs)


@tasks.task(name="test.flaky", retries=2, backoff_s=0.0)
def flaky(*, key: str, fail_times: int) -> None:
    failures[key] = failures.get(key, 0) + 1
    if failures[key] <= fail_times:
        raise RuntimeError("transient")
    calls.append({"key": key})


@pytest.fixture(autouse=True)
def _reset() -> None:
    calls.clear()
    failures.clear()


@pytest.mark.django_db(transaction=True)
def test_enqueue_waits_for_commit() -> None:
    """A task enqueued inside a transaction is queued only when it commits, and not on rollback."""
    with transaction.atomic():
        tasks.enqueue("test.record", n=1)
        assert tasks.run_pending() == 0
    with pytest.raises(RuntimeError), transaction.atomic():
        tasks.enqueue("test.record", n=2)
        raise RuntimeError("rolled back")
    assert tasks.run_pending() == 1
    assert calls == [{"n": 1}]


@pytest.mark.django_db
def test_failing_task_is_retried_then_succeeds(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    """A task that fails twice and then succeeds runs three times and records once."""
    with django_capture_on_commit_callbacks(execute=True):
        tasks.enqueue("test.flaky", key="a", fail_times=2)
    assert tasks.run_pending() == 3
    assert calls == [{"key": "a"}]


@pytest.mark.django_db
def test_task_gives_up_after_its_retries(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    """A task that keeps failing stops after 1 + retries attempts."""
    with django_capture_on_commit_callbacks(execute=True):
        tasks.enqueue("test.flaky", key="b", fail_times=10)
    assert tasks.run_pending() == 3
    assert failures["b"] == 3
    assert calls == []


def test_unknown_task_is_refused() -> None:
    """Enqueueing a name nobody registered fails at once, not later in a worker."""
    with pytest.raises(KeyError):
        tasks.enqueue("test.nope")


@pytest.mark.django_db(transaction=True)
def test_thread_runner_runs_outside_the_caller(settings: Any) -> None:
    """The embedded runner executes the task on its worker thread after commit."""
    import threading

    seen: list[str] = []
    done = threading.Event()

    @tasks.task(name="test.thread", retries=0)
    def where() -> None:
        seen.append(threading.current_thread().name)
        done.set()

    settings.SAIDAO_TASK_RUNNER = "thread"
    with transaction.atomic():
        tasks.enqueue("test.thread")
    assert done.wait(timeout=10)
    assert seen == ["saidao-tasks"]
