"""``saidao bench quiz``: quiz submissions and the start-attempt surge (issue 5).

The command calls three functions of this module: ``add_arguments(parser)`` adds its options
(prefixed, so they do not clash with the other benchmarks'), ``run(options, log)`` returns the
report as a dict (the ``--json`` object) and ``format_table(report)`` renders it for a person.

One run, one throwaway site (``bench_site``: temporary SQLite database, ``saidao serve`` on a
free port of 127.0.0.1, stopped and deleted on the way out, however the run ends):

1. Setup, in a ``saidao shell`` child on the site's database: a small organization tree, a
   200-question bank, a campaign whose quiz phase is open with a 20-question contest, and
   ``--quiz-workers`` members plus one per client, with API tokens written straight into the
   token table (no password hashing).
2. Submissions: ``--quiz-clients`` concurrent keep-alive clients, each in its own attempt, send
   graded answer saves (``PUT /api/v1/quiz/attempts/{id}/answers/{n}``, the real endpoint with
   bearer authentication, sequence numbers and grading) for ``--quiz-seconds``; then the same
   clients call the server's bare hello-world endpoint (``/api/v1/quiz/bench-hello``, mounted
   only in a benchmark's server) for as long. Both are counted in successful responses per
   second; the better of ``--quiz-rounds`` rounds is kept.
3. The surge: every worker starts an attempt at once (``POST /api/v1/quiz/contests/{id}/
   attempts``), each on its own connection, at most ``--quiz-connections`` open together.
   ``surge_seconds`` runs from the first request to the last paper received; a worker's start
   latency from its connection attempt to its full paper. Every paper is checked (status 201,
   20 questions, no answers in it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from saidao.bench.site import HOST, BenchError, BenchSite, bench_site, child_env

TARGET_RATIO_MIN = 0.40
TARGET_SURGE_S_MAX = 30.0
PAPER_QUESTIONS = 20
BANK_QUESTIONS = 200
REQUEST_TIMEOUT_S = 60.0
SETUP_TIMEOUT_S = 600.0
REPORT_KEYS = (
    "submissions_per_s",
    "hello_per_s",
    "clients",
    "surge_workers",
    "surge_seconds",
    "start_p99_ms",
)


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {raw!r}")
    return value


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0: {raw!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("saidao bench quiz")
    group.add_argument(
        "--quiz-clients",
        type=_positive_int,
        default=16,
        help="concurrent clients for submissions and hello-world (default %(default)d)",
    )
    group.add_argument(
        "--quiz-seconds",
        type=_positive_float,
        default=5.0,
        help="seconds of submissions, then as many of hello-world, per round (default %(default)g)",
    )
    group.add_argument(
        "--quiz-rounds",
        type=_positive_int,
        default=2,
        help="rounds of submissions and hello-world; the best of each kept (default %(default)d)",
    )
    group.add_argument(
        "--quiz-workers",
        type=_positive_int,
        default=10_000,
        help="workers starting an attempt together in the surge (default %(default)d)",
    )
    group.add_argument(
        "--quiz-max-seconds",
        type=_positive_float,
        default=900.0,
        help="give up after this long (default %(default)g)",
    )
    group.add_argument(
        "--quiz-connections",
        type=_positive_int,
        default=512,
        help="most connections open together in the surge (default %(default)d)",
    )


# --- setup (runs in a child process on the site's database) --------------------------------

_SETUP_CODE = """
from saidao.bench.quiz import setup_site
setup_site(workers={workers}, clients={clients}, out={out!r})
"""


def setup_site(*, workers: int, clients: int, out: str) -> None:
    """Create the bank, campaign, contest, members and tokens; write what the clients need to
    ``out`` as JSON."""
    import datetime as dt
    import hashlib
    import secrets

    from django.conf import settings

    from saidao.accounts.models import ApiToken, Membership, User
    from saidao.bench.leaderboard import build_tree, make_workers
    from saidao.campaigns.services import PhaseSpec, campaign_create
    from saidao.core import clock
    from saidao.orgs.models import Organization, Role
    from saidao.quizzes import services
    from saidao.quizzes.models import Difficulty, QuestionKind

    tree = build_tree(31, depth=4)
    root = Organization.objects.get(pk=tree.by_depth[0][0])
    (officer_id,) = make_workers(1, offset=90_000_000)
    officer = User.objects.get(pk=officer_id)
    Role.objects.create(organization=root, user=officer, kind=Role.Kind.OFFICER)
    kinds = [QuestionKind.SINGLE] * 6 + [QuestionKind.MULTIPLE] * 2 + [QuestionKind.TRUE_FALSE] * 2
    levels = [Difficulty.EASY, Difficulty.MEDIUM, Difficulty.HARD]
    for n in range(BANK_QUESTIONS):
        kind = kinds[n % len(kinds)]
        services.question_create(
            actor=officer,
            organization=root,
            kind=kind,
            stem=f"基准测试第 {n + 1} 题：职工依法享有哪些权利？",
            options=[] if kind == QuestionKind.TRUE_FALSE else [f"选项{n}-{i}" for i in range(4)],
            answer={"single": "A", "multiple": "AC", "true_false": "对"}[kind],
            category=f"分类{n % 4}",
            difficulty=levels[n % 3],
            explanation=f"第 {n + 1} 题解析。",
        )
    now = clock.now()
    campaign = campaign_create(
        actor=officer,
        organizer=root,
        slug="bench-quiz",
        title="知识竞赛基准",
        phases=[
            PhaseSpec(
                "quiz",
                "知识竞赛",
                now - dt.timedelta(days=1),
                now + dt.timedelta(days=7),
                quiz_open=True,
            )
        ],
        publish=True,
    )
    contest = services.contest_create(
        actor=officer,
        campaign=campaign,
        title="基准知识竞赛",
        rules=[services.RuleSpec(count=PAPER_QUESTIONS, points=5)],
        time_limit_s=3600,
        tries_per_day=1000,
    )
    ids = make_workers(workers + clients, offset=10_000_000)  # clear of the site's own worker
    leaves = tree.leaves
    Membership.objects.bulk_create(
        [
            Membership(user_id=uid, organization_id=leaves[i % len(leaves)], source="demo")
            for i, uid in enumerate(ids)
        ],
        batch_size=2000,
    )
    keys = [secrets.token_urlsafe(32) for _ in ids]
    expires = now + dt.timedelta(days=settings.SAIDAO_API_TOKEN_DAYS)
    ApiToken.objects.bulk_create(
        [
            ApiToken(
                user_id=uid, key_hash=hashlib.sha256(k.encode()).hexdigest(), expires_at=expires
            )
            for uid, k in zip(ids, keys, strict=True)
        ],
        batch_size=2000,
    )
    Path(out).write_text(
        json.dumps({"contest": contest.pk, "clients": keys[:clients], "workers": keys[clients:]})
    )


def _setup(site: BenchSite, *, workers: int, clients: int, log: Callable[[str], None]) -> Any:
    out = site.root / "quiz-setup.json"
    code = _SETUP_CODE.format(workers=workers, clients=clients, out=str(out))
    log(f"setup: {BANK_QUESTIONS} questions, {workers + clients} members")
    started = time.monotonic()
    done = subprocess.run(  # noqa: S603 - our own interpreter and command
        [sys.executable, "-m", "saidao.cli", "shell", "--no-imports", "-c", code],
        env=child_env(site.root),
        cwd=site.root,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=SETUP_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"quiz setup failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    log(f"setup done in {time.monotonic() - started:.1f} s")
    return json.loads(out.read_text())


# --- submissions and hello-world ------------------------------------------------------------


def _request(
    conn: http.client.HTTPConnection, method: str, path: str, token: str, body: Any = None
) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    resp = conn.getresponse()
    return resp.status, resp.read()


def _timed_clients(
    site: BenchSite,
    tokens: list[str],
    seconds: float,
    prepare: Callable[[http.client.HTTPConnection, str], Any],
    step: Callable[[http.client.HTTPConnection, str, Any, int], bool],
) -> float:
    """Run one thread per token: ``prepare`` once, then ``step`` until time is up; successful
    steps per second over all clients."""
    ok = [0] * len(tokens)
    failures: list[str] = []
    barrier = threading.Barrier(len(tokens) + 1)
    stop = threading.Event()

    def client(slot: int) -> None:
        conn = http.client.HTTPConnection(HOST, site.port, timeout=REQUEST_TIMEOUT_S)
        try:
            state = prepare(conn, tokens[slot])
            barrier.wait()
            n = 0
            while not stop.is_set():
                n += 1
                if step(conn, tokens[slot], state, n):
                    ok[slot] += 1
                else:
                    failures.append(f"client {slot} step {n}")
        except Exception as exc:  # reported below; the barrier must not hang
            failures.append(f"client {slot}: {exc!r}")
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.abort()
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(len(tokens))]
    for t in threads:
        t.start()
    try:
        barrier.wait(timeout=REQUEST_TIMEOUT_S)
    except threading.BrokenBarrierError:
        stop.set()
        raise BenchError(f"clients failed to get ready: {failures[:3]}") from None
    started = time.monotonic()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(timeout=REQUEST_TIMEOUT_S)
    elapsed = time.monotonic() - started
    if failures:
        raise BenchError(f"{len(failures)} failed requests, e.g. {failures[:3]}")
    return sum(ok) / elapsed


def _measure_submissions(site: BenchSite, contest: int, tokens: list[str], seconds: float) -> float:
    def prepare(conn: http.client.HTTPConnection, token: str) -> dict[str, Any]:
        status, body = _request(conn, "POST", f"/api/v1/quiz/contests/{contest}/attempts", token)
        if status != 201:
            raise BenchError(f"start failed: {status} {body[:200]!r}")
        paper = json.loads(body)
        _status, body = _request(conn, "GET", f"/api/v1/quiz/attempts/{paper['attempt_id']}", token)
        return {
            "attempt": paper["attempt_id"],
            "seq": json.loads(body)["seq"],
            "n": len(paper["questions"]),
        }

    def step(conn: http.client.HTTPConnection, token: str, state: dict[str, Any], n: int) -> bool:
        state["seq"] += 1
        position = n % state["n"] + 1
        status, _body = _request(
            conn,
            "PUT",
            f"/api/v1/quiz/attempts/{state['attempt']}/answers/{position}",
            token,
            {"choice": "AB"[n % 2], "seq": state["seq"]},
        )
        return status == 200

    return _timed_clients(site, tokens, seconds, prepare, step)


def _measure_hello(site: BenchSite, tokens: list[str], seconds: float) -> float:
    def step(conn: http.client.HTTPConnection, token: str, state: Any, n: int) -> bool:
        conn.request("GET", "/api/v1/quiz/bench-hello")
        resp = conn.getresponse()
        resp.read()
        return resp.status == 200

    return _timed_clients(site, tokens, seconds, lambda conn, token: None, step)


# --- the surge ------------------------------------------------------------------------------


async def _start_one(
    port: int, path: str, token: str, limit: asyncio.Semaphore, latencies: list[float]
) -> str | None:
    """One worker's start on its own connection; None when its paper is right."""
    async with limit:
        begun = time.monotonic()
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            writer.write(
                (
                    f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
                    f"Authorization: Bearer {token}\r\nContent-Length: 0\r\n"
                    "Connection: close\r\n\r\n"
                ).encode()
            )
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _sep, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            body = await reader.readexactly(length) if length else await reader.read()
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
        latencies.append(time.monotonic() - begun)
    if status != 201:
        return f"status {status}: {body[:200]!r}"
    paper = json.loads(body)
    if len(paper["questions"]) != PAPER_QUESTIONS or b'"answer' in body or b"correct" in body:
        return "a wrong paper"
    return None


async def _surge(
    port: int, contest: int, tokens: list[str], connections: int
) -> tuple[float, list[float]]:
    limit = asyncio.Semaphore(connections)
    latencies: list[float] = []
    path = f"/api/v1/quiz/contests/{contest}/attempts"
    started = time.monotonic()
    results = await asyncio.gather(
        *(
            asyncio.wait_for(_start_one(port, path, t, limit, latencies), timeout=600)
            for t in tokens
        ),
        return_exceptions=True,
    )
    elapsed = time.monotonic() - started
    problems = [r for r in results if r is not None]
    if problems:
        raise BenchError(f"{len(problems)} of {len(tokens)} starts failed, e.g. {problems[:3]}")
    return elapsed, latencies


def _cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time of a process so far (Linux's /proc), None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p * len(ordered)) - 1))]


def run(options: dict[str, Any], log: Callable[[str], None]) -> dict[str, Any]:
    clients: int = options["quiz_clients"]
    seconds: float = options["quiz_seconds"]
    workers: int = options["quiz_workers"]
    deadline = time.monotonic() + options["quiz_max_seconds"]
    with bench_site(log) as site:
        data = _setup(site, workers=workers, clients=clients, log=log)
        contest = data["contest"]
        submissions = hello = 0.0
        for round_ in range(1, options["quiz_rounds"] + 1):
            s = _measure_submissions(site, contest, data["clients"], seconds)
            h = _measure_hello(site, data["clients"], seconds)
            log(f"round {round_}: submissions {s:.0f}/s, hello-world {h:.0f}/s")
            submissions, hello = max(submissions, s), max(hello, h)
        log(f"surge: {workers} workers start ({options['quiz_connections']} connections at most)")
        left = deadline - time.monotonic()
        if left <= 0:
            raise BenchError(f"gave up after {options['quiz_max_seconds']:g} s")
        server_cpu, client_cpu = _cpu_seconds(site.server_pid), time.process_time()
        try:
            surge_s, latencies = asyncio.run(
                asyncio.wait_for(
                    _surge(site.port, contest, data["workers"], options["quiz_connections"]),
                    timeout=left,
                )
            )
        except TimeoutError:
            raise BenchError(f"gave up after {options['quiz_max_seconds']:g} s") from None
        log(f"surge: all papers in {surge_s:.1f} s")
        # CPU per start, which the machine's load does not change much (unlike the wall time):
        # the server's (one process, all its threads) and this client's.
        server_after = _cpu_seconds(site.server_pid)
        client_ms = (time.process_time() - client_cpu) * 1000 / workers
        if server_cpu is not None and server_after is not None:
            server_ms = (server_after - server_cpu) * 1000 / workers
            log(f"surge: CPU a start: server {server_ms:.2f} ms, client {client_ms:.2f} ms")
    return {
        "submissions_per_s": round(submissions, 1),
        "hello_per_s": round(hello, 1),
        "clients": clients,
        "surge_workers": workers,
        "surge_seconds": round(surge_s, 2),
        "start_p99_ms": round(_percentile(latencies, 0.99) * 1000, 1),
    }


def format_table(report: dict[str, Any]) -> str:
    ratio = report["submissions_per_s"] / report["hello_per_s"] if report["hello_per_s"] else 0.0
    lines = [f"{key:20} {report[key]}" for key in REPORT_KEYS]
    lines.append(
        f"{'ratio':20} {ratio:.0%} (target >= {TARGET_RATIO_MIN:.0%}: "
        f"{'met' if ratio >= TARGET_RATIO_MIN else 'NOT met'})"
    )
    met = report["surge_seconds"] <= TARGET_SURGE_S_MAX
    lines.append(f"{'surge target':20} <= {TARGET_SURGE_S_MAX:g} s: {'met' if met else 'NOT met'}")
    return "\n".join(lines)
