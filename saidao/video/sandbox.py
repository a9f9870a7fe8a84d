"""Run video operations on untrusted files in a warm, resource-limited child process.

Why ``subprocess`` running ``python -m saidao.video.child`` rather than ``multiprocessing``: the
child is a fresh interpreter that never sees the web process's Django state, threads, open
sockets or environment (no ``fork`` of a threaded server, nothing inherited but the three pipes
we hand it), it sets its own limits with ``setrlimit`` before serving, and the pipe protocol is
ours (JSON lines), so a wall-clock deadline is a plain ``select`` and killing the child never
leaves a ``multiprocessing`` manager or queue in a broken state.

One child is kept started ahead of need ("pre-forked"): starting one costs ~150 ms (Python and
PyAV imports), a probe on a warm child a few milliseconds. After the child is killed for a
timeout, crashes, dies from outside, or has served ``max_requests``, a fresh one is started at
once so the next request finds it warm. Requests to one sandbox are serialised by a lock.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import math
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from saidao.core.errors import SaidaoError
from saidao.video.errors import (
    VideoCrashed,
    VideoOutputTooBig,
    VideoSandboxError,
    VideoTimeout,
    error_from_code,
)
from saidao.video.types import NormalizeResult, PosterResult, ProbeResult
from saidao.video.validate import DURATION_TOLERANCE_S, check_probe

StrPath = str | os.PathLike[str]

# Codes after which the child is replaced rather than reused.
_RECYCLE_CODES = frozenset({"too_big_for_memory", "internal", "os_error"})


@dataclass(frozen=True)
class SandboxLimits:
    """Limits of one child. Times are per request unless named otherwise."""

    memory_bytes: int = 1 << 30  # RLIMIT_AS
    cpu_s: int = 300  # RLIMIT_CPU budget per request (CPU time of all threads)
    output_bytes: int = 2 << 30  # RLIMIT_FSIZE: largest file the child may write
    open_files: int = 64  # RLIMIT_NOFILE
    probe_timeout_s: float = 20.0  # wall clock for probe and validate
    poster_timeout_s: float = 20.0
    normalize_timeout_s: float = 600.0
    start_timeout_s: float = 15.0  # wall clock for a new child to import PyAV and answer ready
    max_requests: int = 500  # then the child is retired and a fresh one started

    @property
    def cpu_life_s(self) -> int:
        """Hard RLIMIT_CPU for the child's whole life."""
        return self.cpu_s * (self.max_requests + 1) + 60


class _TimedOut(Exception):
    pass


class _ChildGone(Exception):
    pass


def _package_root() -> str:
    return str(Path(__file__).resolve().parent.parent.parent)


class VideoSandbox:
    """A warm child process that runs PyAV operations under resource limits.

    Thread-safe; one request at a time. ``allow_test_ops`` enables the test-only operations
    (``sleep``, ``alloc``, ``spin``, ``crash``, ``write``) through ``call``.
    """

    def __init__(
        self,
        limits: SandboxLimits | None = None,
        *,
        allow_test_ops: bool = False,
        prestart: bool = True,
    ) -> None:
        self.limits = limits or SandboxLimits()
        self.allow_test_ops = allow_test_ops
        self.owner_pid = os.getpid()
        self.children_started = 0
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._ready = False
        self._buffer = b""
        self._served = 0
        self._next_id = 0
        self._closed = False
        if prestart:
            with self._lock:
                self._spawn()

    # --- public operations -----------------------------------------------------------------

    def probe(self, path: StrPath, *, timeout_s: float | None = None) -> ProbeResult:
        """Streams, length, size, rotation, codecs of ``path``; raises ``VideoInvalid`` only
        when the file cannot be opened as a video at all (empty, not a video, corrupt)."""
        result = self.call(
            "probe", {"path": _abs(path)}, timeout_s=timeout_s or self.limits.probe_timeout_s
        )
        return ProbeResult.from_wire(result)

    def validate(
        self,
        path: StrPath,
        *,
        max_duration_s: float,
        tolerance_s: float = DURATION_TOLERANCE_S,
        timeout_s: float | None = None,
    ) -> ProbeResult:
        """Probe ``path`` and raise the ``VideoInvalid`` subclass for the first problem found."""
        result = self.probe(path, timeout_s=timeout_s)
        check_probe(result, max_duration_s=max_duration_s, tolerance_s=tolerance_s)
        return result

    def poster(
        self,
        path: StrPath,
        out_path: StrPath,
        at_s: float = 1.0,
        *,
        max_side: int = 720,
        timeout_s: float | None = None,
    ) -> PosterResult:
        """Write a JPEG of the frame shown at ``at_s`` (upright, long side at most ``max_side``)."""
        out = _abs(out_path)
        with _remove_on_error(out):
            result = self.call(
                "poster",
                {"path": _abs(path), "out_path": out, "at_s": at_s, "max_side": max_side},
                timeout_s=timeout_s or self.limits.poster_timeout_s,
            )
        return PosterResult.from_wire(result)

    def normalize(
        self, path: StrPath, out_path: StrPath, *, timeout_s: float | None = None
    ) -> NormalizeResult:
        """Write an MP4 with the moov atom first: stream copy of H.264/AAC, else a transcode."""
        out = _abs(out_path)
        with _remove_on_error(out):
            result = self.call(
                "normalize",
                {"path": _abs(path), "out_path": out},
                timeout_s=timeout_s or self.limits.normalize_timeout_s,
            )
        return NormalizeResult.from_wire(result)

    # --- the protocol ----------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """The current child's process id (None when none is running)."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    @property
    def closed(self) -> bool:
        return self._closed

    def call(self, op: str, args: dict[str, Any], *, timeout_s: float) -> dict[str, Any]:
        """Send one request to the child and wait at most ``timeout_s`` seconds for its answer."""
        with self._lock:
            if self._closed:
                raise VideoSandboxError(detail={"reason": "closed"})
            self._next_id += 1
            request = {
                "id": self._next_id,
                "op": op,
                "args": args,
                "cpu_s": min(
                    self.limits.cpu_s, max(1, math.ceil(timeout_s * (os.cpu_count() or 1)))
                ),
            }
            line = (json.dumps(request, ensure_ascii=False) + "\n").encode()
            proc = self._send(line)
            try:
                answer_line = self._read_line(proc, time.monotonic() + timeout_s)
            except _TimedOut:
                self._replace()
                raise VideoTimeout(detail={"limit": "wall", "timeout_s": timeout_s}) from None
            except _ChildGone:
                raise self._child_died(proc) from None
            try:
                answer = json.loads(answer_line)
            except ValueError:
                self._replace()
                raise VideoSandboxError(detail={"reason": "bad_answer"}) from None
            if answer.get("id") != request["id"]:
                self._replace()
                raise VideoSandboxError(detail={"reason": "bad_answer"})
            self._served += 1
            if answer.get("ok"):
                if self._served >= self.limits.max_requests:
                    self._replace()
                return dict(answer["result"])
            code = str(answer.get("code"))
            if code in _RECYCLE_CODES or self._served >= self.limits.max_requests:
                self._replace()
            raise error_from_code(code, answer.get("detail") or {})

    def close(self) -> None:
        """Stop the child; later calls raise ``VideoSandboxError``."""
        with self._lock:
            self._closed = True
            self._stop()

    def __enter__(self) -> VideoSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- child management (all under self._lock) -----------------------------------------

    def _spawn(self) -> None:
        limits = self.limits
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "PYTHONPATH": _package_root(),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            # glibc gives each thread its own 64 MiB malloc arena of address space; a few
            # decoder threads would then eat the RLIMIT_AS budget without using memory.
            "MALLOC_ARENA_MAX": "2",
        }
        if self.allow_test_ops:
            env["SAIDAO_VIDEO_TEST_OPS"] = "1"
        argv = [
            sys.executable,
            "-m",
            "saidao.video.child",
            f"--memory-bytes={limits.memory_bytes}",
            f"--cpu-life-s={limits.cpu_life_s}",
            f"--fsize-bytes={limits.output_bytes}",
            f"--nofile={limits.open_files}",
        ]
        try:
            self._proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=env,
                close_fds=True,
                start_new_session=True,
            )
        except OSError as exc:
            self._proc = None
            raise VideoSandboxError(detail={"reason": "start_failed", "errno": exc.errno}) from exc
        self.children_started += 1
        self._ready = False
        self._buffer = b""
        self._served = 0

    def _stop(self) -> None:
        proc = self._proc
        self._proc = None
        self._ready = False
        self._buffer = b""
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def _replace(self) -> None:
        self._stop()
        self._spawn()

    def _live_child(self) -> subprocess.Popen[bytes]:
        """The running, ready child; a dead one (killed from outside) is replaced silently."""
        if self._proc is None or self._proc.poll() is not None:
            self._replace()
        proc = self._proc
        assert proc is not None
        if not self._ready:
            try:
                line = self._read_line(proc, time.monotonic() + self.limits.start_timeout_s)
                ready = json.loads(line).get("ready") is True
            except (_TimedOut, _ChildGone, ValueError):
                ready = False
            if not ready:
                self._stop()
                raise VideoSandboxError(detail={"reason": "start_failed"})
            self._ready = True
        return proc

    def _send(self, line: bytes) -> subprocess.Popen[bytes]:
        for attempt in (1, 2):
            proc = self._live_child()
            assert proc.stdin is not None
            try:
                proc.stdin.write(line)
                proc.stdin.flush()
            except (BrokenPipeError, ConnectionResetError):
                # Died between the liveness check and the write: it never saw the request.
                if attempt == 2:
                    raise VideoSandboxError(detail={"reason": "child_unreachable"}) from None
                self._stop()
                continue
            return proc
        raise AssertionError("unreachable")

    def _read_line(self, proc: subprocess.Popen[bytes], deadline: float) -> bytes:
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _TimedOut
            readable, _, _ = select.select([fd], [], [], remaining)
            if not readable:
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                raise _ChildGone
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line

    def _child_died(self, proc: subprocess.Popen[bytes]) -> SaidaoError:
        """The error for a child that died mid-request; a fresh child is started."""
        try:
            returncode = proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            returncode = None
        self._replace()
        if returncode == -signal.SIGXCPU:
            return VideoTimeout(detail={"limit": "cpu"})
        if returncode == -signal.SIGXFSZ:
            return VideoOutputTooBig()
        if returncode is not None and returncode < 0:
            return VideoCrashed(detail={"signal": signal.Signals(-returncode).name})
        return VideoCrashed(detail={"exit_code": returncode})


def _abs(path: StrPath) -> str:
    return os.path.abspath(os.fspath(path))


@contextlib.contextmanager
def _remove_on_error(path: str) -> Iterator[None]:
    try:
        yield
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise


# --- the shared instance -------------------------------------------------------------------

_shared: VideoSandbox | None = None
_shared_lock = threading.Lock()


def get_sandbox() -> VideoSandbox:
    """The process-wide warm sandbox (started on first use; a forked process gets its own)."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared.closed or _shared.owner_pid != os.getpid():
            _shared = VideoSandbox()
        return _shared


@atexit.register
def _close_shared() -> None:
    if _shared is not None and _shared.owner_pid == os.getpid():
        _shared.close()


def probe(path: StrPath) -> ProbeResult:
    return get_sandbox().probe(path)


def validate(path: StrPath, *, max_duration_s: float) -> ProbeResult:
    return get_sandbox().validate(path, max_duration_s=max_duration_s)


def poster(path: StrPath, out_path: StrPath, at_s: float = 1.0) -> PosterResult:
    return get_sandbox().poster(path, out_path, at_s)


def normalize(path: StrPath, out_path: StrPath) -> NormalizeResult:
    return get_sandbox().normalize(path, out_path)
