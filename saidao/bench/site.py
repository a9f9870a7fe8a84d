"""A throwaway Saidao for one benchmark run.

``bench_site()`` makes a temporary directory, points ``SAIDAO_VAR_DIR`` there (a fresh SQLite
database and media), migrates it with ``saidao migrate``, creates one worker with an API token,
starts ``saidao serve`` (uvicorn, one worker) with ``SAIDAO_BENCH=1`` on a free port of
127.0.0.1 and waits for ``/healthz``. On the way out, however it is left, the server is stopped
(SIGTERM, then SIGKILL) and the directory deleted.

The children are ``python -m saidao.cli …``: the ``saidao`` console script run by this very
interpreter, so they need no PATH. Their environment drops whatever would send them elsewhere
(``DATABASE_URL``, ``REDIS_URL``, a bucket, ``MEDIA_ROOT``, ``SAIDAO_PUBLIC_URL``): a benchmark
touches nothing but its own directory and the loopback interface.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
WORKER_PHONE = "13900009999"
ANSWER_PREFIX = "bench-answer:"
MIGRATE_TIMEOUT_S = 300.0
SHELL_TIMEOUT_S = 60.0
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
START_ATTEMPTS = 3  # a free port can be taken between our probe and the server's bind

# Variables that would point the children at anything but their own temporary directory.
_SCRUBBED = (
    "DATABASE_URL",
    "REDIS_URL",
    "AWS_STORAGE_BUCKET_NAME",
    "AWS_S3_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "MEDIA_ROOT",
    "SAIDAO_PUBLIC_URL",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "SECURE_SSL_REDIRECT",  # the children serve plain http
    "HOST",
    "PORT",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "DJANGO_SETTINGS_MODULE",
)

# Creates the worker and prints its token; run by ``saidao shell -c`` in the temporary site.
_WORKER_CODE = f"""
from saidao.accounts.models import User
from saidao.accounts.services import api_token_issue
from saidao.core import clock
user = User.objects.create_user({WORKER_PHONE!r}, None, real_name="Bench", activated_at=clock.now())
print({ANSWER_PREFIX!r} + api_token_issue(user=user))
"""

Log = Callable[[str], None]


class BenchError(Exception):
    """The benchmark could not run, or what it measured is wrong (a hash that does not match)."""


@dataclass(frozen=True)
class BenchSite:
    """A running throwaway Saidao: where its files are, how to reach it, who may upload."""

    root: Path  # the temporary directory; deleted on exit
    var_dir: Path
    media_root: Path
    port: int
    token: str
    server_pid: int

    @property
    def database(self) -> Path:
        return self.var_dir / "saidao.sqlite3"

    def connection(self, *, timeout_s: float, blocksize: int) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(HOST, self.port, timeout=timeout_s, blocksize=blocksize)


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on (at the moment of asking)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def child_env(root: Path) -> dict[str, str]:
    """The environment of the site's processes: embedded mode in ``root``, bench URLs on."""
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    spool = root / "spool"  # Django's ASGI handler spools request bodies here
    spool.mkdir(exist_ok=True)
    env.update(
        SAIDAO_VAR_DIR=str(root / "var"),
        SAIDAO_BENCH="1",
        SAIDAO_TASK_RUNNER="thread",
        DEBUG="false",
        LOG_LEVEL="WARNING",
        SAIDAO_ACCESS_LOG="false",  # as behind a proxy that logs; warnings still reach the log
        TMPDIR=str(spool),
        PYTHONUNBUFFERED="1",
    )
    return env


def _saidao(*args: str) -> list[str]:
    return [sys.executable, "-m", "saidao.cli", *args]


def _run(argv: list[str], *, env: dict[str, str], cwd: Path, timeout_s: float, what: str) -> str:
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter and command
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise BenchError(f"{what} took more than {timeout_s:.0f} s") from None
    if done.returncode != 0:
        raise BenchError(f"{what} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def run_json_child(
    args: list[str], *, env: dict[str, str], cwd: Path, deadline: float, what: str
) -> dict[str, Any]:
    """Run ``saidao <args>`` (a benchmark's measuring phase) in a session of its own, its
    stderr passed through for progress, and return the one JSON object it prints. Past
    ``deadline`` (a ``time.monotonic()``), or if this process is interrupted, it is killed."""
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and command
        _saidao(*args),
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=None,
        start_new_session=True,
    )
    try:
        out, _err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        raise BenchError(f"{what}: gave up at the time limit") from None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        raise BenchError(f"{what} failed ({proc.returncode})")
    result: dict[str, Any] = json.loads(out)
    return result


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _healthy(port: int) -> bool:
    conn = http.client.HTTPConnection(HOST, port, timeout=1.0)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def _start_server(root: Path, env: dict[str, str], log: Log) -> tuple[subprocess.Popen[bytes], int]:
    """``saidao serve`` on a free port, healthy; retried when the port was taken meanwhile."""
    for attempt in range(1, START_ATTEMPTS + 1):
        port = free_port()
        server_log = root / f"server-{attempt}.log"
        with server_log.open("wb") as out:
            proc = subprocess.Popen(  # noqa: S603 - our own interpreter and command
                _saidao("serve", "--host", HOST, "--port", str(port), "--workers", "1"),
                env=env,
                cwd=root,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C in the terminal is ours to pass on, not its
            )
        log(f"server pid {proc.pid} starting on http://{HOST}:{port}")
        deadline = time.monotonic() + START_TIMEOUT_S
        try:
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    break
                if _healthy(port):
                    return proc, port
                time.sleep(0.1)
        except BaseException:
            stop_server(proc, log)
            raise
        exited = proc.poll() is not None
        stop_server(proc, log)
        if not exited:
            raise BenchError(
                f"server not healthy within {START_TIMEOUT_S:.0f} s:\n{_tail(server_log)}"
            )
        log(f"server exited early (attempt {attempt}):\n{_tail(server_log, 5)}")
    raise BenchError(f"server did not start in {START_ATTEMPTS} attempts")


def stop_server(proc: subprocess.Popen[bytes], log: Log) -> None:
    """SIGTERM, wait; SIGKILL if it is still there; reap it."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            log(f"server pid {proc.pid} ignored SIGTERM for {STOP_TIMEOUT_S:.0f} s: SIGKILL")
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait(timeout=STOP_TIMEOUT_S)
    code = proc.returncode
    how = signal.Signals(-code).name if code is not None and code < 0 else f"exit {code}"
    log(f"server pid {proc.pid} stopped ({how})")


@contextlib.contextmanager
def bench_site(log: Log) -> Iterator[BenchSite]:
    """A migrated temporary site with one worker and its server; all gone on exit."""
    root = Path(tempfile.mkdtemp(prefix="saidao-bench-"))
    proc: subprocess.Popen[bytes] | None = None
    try:
        log(f"temporary site in {root}")
        env = child_env(root)
        _run(
            _saidao("migrate", "--no-input"),
            env=env,
            cwd=root,
            timeout_s=MIGRATE_TIMEOUT_S,
            what="saidao migrate",
        )
        out = _run(
            _saidao("shell", "--no-imports", "-c", _WORKER_CODE),
            env=env,
            cwd=root,
            timeout_s=SHELL_TIMEOUT_S,
            what="creating the worker",
        )
        tokens = [
            ln[len(ANSWER_PREFIX) :] for ln in out.splitlines() if ln.startswith(ANSWER_PREFIX)
        ]
        if len(tokens) != 1:
            raise BenchError(f"no API token from the worker's creation:\n{out}")
        proc, port = _start_server(root, env, log)
        var_dir = Path(env["SAIDAO_VAR_DIR"])
        yield BenchSite(
            root=root,
            var_dir=var_dir,
            media_root=var_dir / "media",
            port=port,
            token=tokens[0],
            server_pid=proc.pid,
        )
    finally:
        try:
            if proc is not None:
                stop_server(proc, log)
        finally:
            shutil.rmtree(root, ignore_errors=True)
            log(f"removed {root}")
