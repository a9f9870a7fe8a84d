"""The sandbox child: ``python -m saidao.video.child --memory-bytes N ...``.

It imports PyAV once, lowers its own resource limits, answers ``{"ready": true}`` and then
serves one JSON request per line on stdin with one JSON answer per line, until stdin closes.
Requests: ``{"id": 1, "op": "probe", "args": {...}, "cpu_s": 60}``. Answers:
``{"id": 1, "ok": true, "result": {...}}`` or ``{"id": 1, "ok": false, "code": "...",
"detail": {...}}``.

Limits (``resource.setrlimit``, hard limits included, so even code run by a decoder exploit
cannot lift them): address space (``RLIMIT_AS``), file size written (``RLIMIT_FSIZE``), open
files (``RLIMIT_NOFILE``), no core files, and CPU seconds (``RLIMIT_CPU``). CPU time accrues
over the child's life, so before each request the soft CPU limit is moved to "used so far +
this request's budget" (a soft limit may move freely below the hard one); the hard limit bounds
the whole life and the parent retires a child after ``max_requests``. Passing the soft limit
raises SIGXCPU, which kills the child; the parent reports a timeout. SIGXFSZ is ignored so an
oversized write fails with EFBIG and is answered as ``output_too_big``.

No Django here: the child must start fast and holds no secrets (the parent passes a minimal
environment).
"""

from __future__ import annotations

import argparse
import errno
import gc
import json
import os
import resource
import signal
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

import av.logging

from saidao.video import ops

TEST_OPS_ENV = "SAIDAO_VIDEO_TEST_OPS"


def _sleep(seconds: float) -> dict[str, Any]:
    time.sleep(seconds)
    return {"slept": seconds}


def _alloc(nbytes: int) -> dict[str, Any]:
    block = bytearray(nbytes)
    return {"allocated": len(block)}


def _spin(seconds: float) -> dict[str, Any]:
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        n += 1
    return {"spins": n}


def _crash() -> dict[str, Any]:
    os.kill(os.getpid(), signal.SIGSEGV)
    return {}


def _write(path: str, nbytes: int) -> dict[str, Any]:
    with open(path, "wb") as f:
        f.write(b"\0" * nbytes)
    return {"written": nbytes}


def _ping() -> dict[str, Any]:
    return {"pid": os.getpid()}


OPS: dict[str, Callable[..., dict[str, Any]]] = {
    "ping": _ping,
    "probe": ops.probe,
    "poster": ops.poster,
    "normalize": ops.normalize,
}
# Only with SAIDAO_VIDEO_TEST_OPS=1 (VideoSandbox(allow_test_ops=True)): ways to misbehave.
TEST_OPS: dict[str, Callable[..., dict[str, Any]]] = {
    "sleep": _sleep,
    "alloc": _alloc,
    "spin": _spin,
    "crash": _crash,
    "write": _write,
}


def _cpu_used() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def apply_limits(*, memory_bytes: int, cpu_life_s: int, fsize_bytes: int, nofile: int) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize_bytes, fsize_bytes))
    resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_life_s, cpu_life_s))


def _set_cpu_budget(cpu_s: int) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = int(_cpu_used()) + 1 + cpu_s
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def handle(
    request: dict[str, Any], table: dict[str, Callable[..., dict[str, Any]]]
) -> dict[str, Any]:
    answer: dict[str, Any] = {"id": request.get("id")}
    func = table.get(str(request.get("op")))
    if func is None:
        return {**answer, "ok": False, "code": "unknown_op", "detail": {"op": request.get("op")}}
    try:
        result = func(**request.get("args", {}))
    except ops.OpFailure as exc:
        return {**answer, "ok": False, "code": exc.code, "detail": exc.detail}
    except MemoryError:
        gc.collect()
        return {**answer, "ok": False, "code": "too_big_for_memory", "detail": {}}
    except OSError as exc:
        if exc.errno == errno.EFBIG:
            return {**answer, "ok": False, "code": "output_too_big", "detail": {}}
        traceback.print_exc()
        return {**answer, "ok": False, "code": "os_error", "detail": {"errno": exc.errno}}
    except Exception as exc:
        traceback.print_exc()
        return {**answer, "ok": False, "code": "internal", "detail": {"error": type(exc).__name__}}
    return {**answer, "ok": True, "result": result}


def _write_line(fd: int, obj: dict[str, Any]) -> None:
    data = (json.dumps(obj, ensure_ascii=False) + "\n").encode()
    while data:
        data = data[os.write(fd, data) :]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m saidao.video.child")
    parser.add_argument("--memory-bytes", type=int, required=True)
    parser.add_argument("--cpu-life-s", type=int, required=True)
    parser.add_argument("--fsize-bytes", type=int, required=True)
    parser.add_argument("--nofile", type=int, required=True)
    args = parser.parse_args(argv)

    # Answers go to a private copy of stdout; anything else printing to fd 1 (a C library,
    # a stray print) lands on stderr instead of corrupting the protocol.
    answer_fd = os.dup(1)
    os.dup2(2, 1)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when the child ends
    av.logging.set_level(None)

    table = dict(OPS)
    if os.environ.get(TEST_OPS_ENV) == "1":
        table.update(TEST_OPS)
    apply_limits(
        memory_bytes=args.memory_bytes,
        cpu_life_s=args.cpu_life_s,
        fsize_bytes=args.fsize_bytes,
        nofile=args.nofile,
    )
    _write_line(answer_fd, {"ready": True, "pid": os.getpid()})
    for line in sys.stdin.buffer:
        try:
            request = json.loads(line)
        except ValueError:
            _write_line(answer_fd, {"id": None, "ok": False, "code": "bad_request", "detail": {}})
            continue
        _set_cpu_budget(int(request.get("cpu_s", 60)))
        _write_line(answer_fd, handle(request, table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
