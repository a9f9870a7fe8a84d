"""The sandbox child: warm, limited, killed on time, and always replaced by a working one."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from saidao.video.errors import (
    VideoCrashed,
    VideoOutputTooBig,
    VideoSandboxError,
    VideoTimeout,
    VideoTooBigForMemory,
)
from saidao.video.sandbox import SandboxLimits, VideoSandbox, get_sandbox


def _limits_of(pid: int) -> dict[str, str]:
    rows = Path(f"/proc/{pid}/limits").read_text().splitlines()[1:]
    return {row[:26].strip(): row[26:47].strip() for row in rows}


def _wait_until_dead(pid: int) -> None:
    """Block until the process is gone or a zombie (the sandbox reaps it)."""
    stat = Path(f"/proc/{pid}/stat")
    deadline = time.monotonic() + 30  # generous: a loaded machine is slow to reap
    while time.monotonic() < deadline:
        try:
            if stat.read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return
        except FileNotFoundError:
            return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} still alive")


def test_warm_probes_are_answered_by_the_same_child(
    sandbox: VideoSandbox, landscape_mp4: Path
) -> None:
    """Once the child is warm, probe after probe of a local clip is answered by that same
    child with the same result. How fast (a median under 50 ms) is measured by `saidao bench
    upload` (`probe_ms`), not asserted here: a loaded machine is slower."""
    first = sandbox.probe(landscape_mp4)
    pid = sandbox.pid
    for _ in range(5):
        assert sandbox.probe(landscape_mp4) == first
    assert sandbox.pid == pid


def test_child_runs_with_the_resource_limits() -> None:
    """The child's address space is capped at 1 GiB by default, and its output file size, open
    files, core size and CPU time are capped too (soft and hard)."""
    box = VideoSandbox(SandboxLimits(output_bytes=10 << 20, open_files=48))
    try:
        box.call("ping", {}, timeout_s=10)
        assert box.pid is not None
        limits = _limits_of(box.pid)
    finally:
        box.close()
    assert limits["Max address space"] == str(1 << 30)
    assert limits["Max file size"] == str(10 << 20)
    assert limits["Max open files"] == "48"
    assert limits["Max core file size"] == "0"
    assert limits["Max cpu time"] != "unlimited"


def test_child_gets_a_minimal_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Secrets in the web process's environment are not handed to the child."""
    monkeypatch.setenv("SAIDAO_TEST_SECRET", "hunter2")
    box = VideoSandbox()
    try:
        box.call("ping", {}, timeout_s=10)
        assert box.pid is not None
        environ = Path(f"/proc/{box.pid}/environ").read_bytes().split(b"\0")
    finally:
        box.close()
    assert b"SAIDAO_TEST_SECRET=hunter2" not in environ
    assert b"MALLOC_ARENA_MAX=2" in environ


def test_memory_hog_fails_typed_and_the_sandbox_keeps_working(
    rogue: VideoSandbox, landscape_mp4: Path
) -> None:
    """Allocating 2 GiB in a child limited to 1 GiB raises VideoTooBigForMemory; the child is
    replaced and the next probe succeeds."""
    with pytest.raises(VideoTooBigForMemory) as caught:
        rogue.call("alloc", {"nbytes": 2 << 30}, timeout_s=10)
    assert caught.value.code == "too_big_for_memory"
    assert rogue.probe(landscape_mp4).duration_s == 3.0


def test_slow_request_is_killed_at_the_deadline_and_a_fresh_child_answers(
    rogue: VideoSandbox, landscape_mp4: Path
) -> None:
    """A request that sleeps 30 s with a 0.5 s timeout raises VideoTimeout long before the
    30 s (the bound is loose: a loaded machine is slow to kill and reap); the child was killed,
    a new one (another pid) serves the next request."""
    rogue.call("ping", {}, timeout_s=10)
    old_pid = rogue.pid
    start = time.monotonic()
    with pytest.raises(VideoTimeout) as caught:
        rogue.call("sleep", {"seconds": 30}, timeout_s=0.5)
    assert time.monotonic() - start < 20
    assert caught.value.detail == {"limit": "wall", "timeout_s": 0.5}
    assert old_pid is not None
    with pytest.raises(ProcessLookupError):
        os.kill(old_pid, 0)
    assert rogue.probe(landscape_mp4).has_video
    assert rogue.pid not in (None, old_pid)


def test_cpu_limit_stops_a_spinning_child(rogue: VideoSandbox) -> None:
    """With a 1 s CPU budget, a request burning CPU for 20 s is stopped by RLIMIT_CPU (SIGXCPU)
    before the wall-clock timeout, as a VideoTimeout with limit "cpu" (the wall-clock one
    would say "wall"; how soon depends on the machine's load, so it is not timed)."""
    with pytest.raises(VideoTimeout) as caught:
        rogue.call("spin", {"seconds": 20}, timeout_s=30)
    assert caught.value.detail == {"limit": "cpu"}
    assert rogue.call("ping", {}, timeout_s=10)["pid"] == rogue.pid


def test_output_size_limit_refuses_oversized_writes(rogue: VideoSandbox, tmp_path: Path) -> None:
    """Writing past RLIMIT_FSIZE (64 KiB here) raises VideoOutputTooBig; smaller writes work."""
    with pytest.raises(VideoOutputTooBig):
        rogue.call("write", {"path": str(tmp_path / "big"), "nbytes": 200_000}, timeout_s=10)
    assert rogue.call("write", {"path": str(tmp_path / "ok"), "nbytes": 1000}, timeout_s=10) == {
        "written": 1000
    }


def test_child_killed_from_outside_is_restarted(sandbox: VideoSandbox, landscape_mp4: Path) -> None:
    """After os.kill(SIGKILL) of an idle child, the next probe succeeds on a new child."""
    sandbox.probe(landscape_mp4)
    pid = sandbox.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    _wait_until_dead(pid)
    assert sandbox.probe(landscape_mp4).duration_s == 3.0
    assert sandbox.pid not in (None, pid)


def test_child_crash_mid_request_is_a_typed_error(rogue: VideoSandbox) -> None:
    """A child dying of SIGSEGV mid-request raises VideoCrashed naming the signal; the next
    request is served by a fresh child."""
    with pytest.raises(VideoCrashed) as caught:
        rogue.call("crash", {}, timeout_s=10)
    assert caught.value.detail == {"signal": "SIGSEGV"}
    assert "pid" in rogue.call("ping", {}, timeout_s=10)


def test_test_operations_are_refused_without_the_flag(sandbox: VideoSandbox) -> None:
    """The production sandbox does not know sleep/alloc: asking is our bug, not the worker's."""
    with pytest.raises(VideoSandboxError) as caught:
        sandbox.call("sleep", {"seconds": 5}, timeout_s=10)
    assert caught.value.detail == {"reason": "unknown_op", "op": "sleep"}
    assert caught.value.status == 500


def test_missing_file_is_our_error_not_the_workers(sandbox: VideoSandbox, tmp_path: Path) -> None:
    """Probing a path that does not exist raises VideoSandboxError (500), not VideoInvalid."""
    with pytest.raises(VideoSandboxError) as caught:
        sandbox.probe(tmp_path / "gone.mp4")
    assert caught.value.detail == {"reason": "missing_file"}


def test_child_is_retired_after_max_requests(landscape_mp4: Path) -> None:
    """With max_requests=2 the child serving the second request is replaced before the third."""
    box = VideoSandbox(SandboxLimits(max_requests=2))
    try:
        first = box.call("ping", {}, timeout_s=10)["pid"]
        assert box.call("ping", {}, timeout_s=10)["pid"] == first
        third = box.call("ping", {}, timeout_s=10)["pid"]
    finally:
        box.close()
    assert third != first
    assert box.children_started == 2


def test_closed_sandbox_refuses_requests_and_stops_its_child() -> None:
    """close() kills the child; a later call raises VideoSandboxError(reason="closed")."""
    box = VideoSandbox()
    pid = box.call("ping", {}, timeout_s=10)["pid"]
    box.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(VideoSandboxError) as caught:
        box.call("ping", {}, timeout_s=10)
    assert caught.value.detail == {"reason": "closed"}


def test_shared_sandbox_is_one_warm_instance_safe_across_threads(landscape_mp4: Path) -> None:
    """get_sandbox() gives every thread the same sandbox; eight concurrent probes all succeed
    on one child, one at a time."""
    boxes: list[VideoSandbox] = []
    durations: list[float | None] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            box = get_sandbox()
            boxes.append(box)
            durations.append(box.probe(landscape_mp4).duration_s)
        except BaseException as exc:  # reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert durations == [3.0] * 8
    assert len({id(box) for box in boxes}) == 1
    assert boxes[0].children_started == 1
