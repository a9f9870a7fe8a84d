"""Background tasks: one registry, two runners.

A task is a plain function decorated with ``@task``. ``enqueue`` queues it after the current
transaction commits, never running it inside the request:

- scaled (``settings.SAIDAO_TASK_RUNNER == "celery"``): sent to Celery workers through Redis;
- embedded (``"thread"``): run by an in-process worker thread started on first use;
- tests (``"manual"``): kept in a queue until ``run_pending()`` runs them in the caller's thread,
  so a test sees exactly what ran.

A task that raises is retried with backoff up to its ``retries``; then it is logged as failed.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.db import close_old_connections, transaction

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class TaskSpec:
    name: str
    func: Callable[..., Any]
    retries: int
    backoff_s: float


REGISTRY: dict[str, TaskSpec] = {}


def task(
    *, name: str, retries: int = 3, backoff_s: float = 2.0
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Register ``func`` under ``name`` for both runners; the function itself stays callable."""

    def register(func: Callable[P, R]) -> Callable[P, R]:
        REGISTRY[name] = TaskSpec(name, func, retries, backoff_s)
        if settings.SAIDAO_TASK_RUNNER == "celery":
            from saidao.config.celery import app

            app.task(name=name, bind=True, max_retries=retries)(_celery_body(name))
        return func

    return register


def _celery_body(name: str) -> Callable[..., Any]:
    def body(self: Any, **kwargs: Any) -> Any:
        spec = REGISTRY[name]
        try:
            return spec.func(**kwargs)
        except Exception as exc:
            raise self.retry(exc=exc, countdown=spec.backoff_s * (2**self.request.retries)) from exc

    return body


@dataclass
class _Job:
    name: str
    kwargs: dict[str, Any]
    attempt: int = 0
    not_before: float = 0.0


_pending: queue.Queue[_Job] = queue.Queue()
_worker: threading.Thread | None = None
_worker_lock = threading.Lock()


def enqueue(name: str, **kwargs: Any) -> None:
    """Run task ``name`` with ``kwargs`` (JSON-safe values) once the transaction commits."""
    if name not in REGISTRY:
        raise KeyError(f"unknown task {name!r}")
    transaction.on_commit(lambda: _dispatch(_Job(name, kwargs)))


def _dispatch(job: _Job) -> None:
    runner = settings.SAIDAO_TASK_RUNNER
    if runner == "celery":
        from saidao.config.celery import app

        app.send_task(job.name, kwargs=job.kwargs)
        return
    _pending.put(job)
    if runner == "thread":
        _ensure_worker()


def _run(job: _Job) -> bool:
    """Run one job; on failure requeue it with backoff. Returns whether it succeeded."""
    spec = REGISTRY[job.name]
    try:
        spec.func(**job.kwargs)
        return True
    except Exception:
        if job.attempt < spec.retries:
            log.warning("task %s failed (attempt %d), retrying", job.name, job.attempt + 1)
            delay = spec.backoff_s * (2**job.attempt)
            _pending.put(_Job(job.name, job.kwargs, job.attempt + 1, time.monotonic() + delay))
        else:
            log.exception("task %s failed after %d attempts", job.name, job.attempt + 1)
        return False


def _worker_loop() -> None:
    while True:
        job = _pending.get()
        wait = job.not_before - time.monotonic()
        if wait > 0:
            time.sleep(min(wait, 1.0))
            if job.not_before > time.monotonic():
                _pending.put(job)
                continue
        close_old_connections()
        try:
            _run(job)
        finally:
            close_old_connections()
            _pending.task_done()


def _ensure_worker() -> None:
    global _worker
    with _worker_lock:
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_worker_loop, name="saidao-tasks", daemon=True)
            _worker.start()


def run_pending(*, include_delayed: bool = True) -> int:
    """Run queued jobs in this thread until the queue is empty (the ``manual`` runner).

    Retries are run too, without waiting for their backoff when ``include_delayed``.
    Returns how many jobs ran.
    """
    ran = 0
    while True:
        try:
            job = _pending.get_nowait()
        except queue.Empty:
            return ran
        if not include_delayed and job.not_before > time.monotonic():
            _pending.put(job)
            _pending.task_done()
            return ran
        _run(job)
        ran += 1
        _pending.task_done()


def clear_pending() -> None:
    while True:
        try:
            _pending.get_nowait()
            _pending.task_done()
        except queue.Empty:
            return
