"""The class server under load: a room of learners whose runs end at the same moment, on loopback.

    uv run python -m loadtest.classroom                          # 200 learners, 5 bursts, all at once
    uv run python -m loadtest.classroom --spread 1               # each burst's posts within one second
    uv run python -m loadtest.classroom --learners 50 --bursts 2

Starts `workshop class serve` (a process of its own, on a database of its own), joins the
learners, then sends bursts: in each, every learner posts one result at the same moment, each on
a new connection, as the learners' senders do. A post is timed from opening its connection to the
end of the answer. Afterwards the database is read: every post must be recorded exactly once and
each learner's standing must be their last post ("nothing lost"). It prints the figures and exits
non-zero when something was lost or the p99 of a post is over `--max-p99-ms` (100).

The load generator speaks HTTP/1.1 on raw asyncio streams: a full HTTP client would spend more
time per request than the server does, and measure itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvloop

from loadtest.stack import free_port, fresh_database
from workshop import database
from workshop.classroom import protocol
from workshop.lessons import REPO

CODE = re.compile(r"class join (\S+) ([A-Z0-9]{4}-[A-Z0-9]{4})")
LINK = re.compile(r"(http://\S+/instructor)\?token=(wci_[A-Za-z0-9_-]+)")


@dataclass
class ClassServer:
    """A running `workshop class serve`, and what its banner said."""

    url: str
    code: str
    instructor_token: str
    dsn: str  # its database, for audits
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def instructor_link(self) -> str:
        return f"{self.url}{protocol.INSTRUCTOR}?token={self.instructor_token}"

    def output(self) -> str:
        """Everything the server printed so far: its banner (stdout) and its log (stderr)."""
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextmanager
def class_server(
    title: str = "Load test", timeout: float = 60, env: dict[str, str] | None = None
) -> Iterator[ClassServer]:
    """`workshop class serve` on 127.0.0.1, a free port and a fresh database; stopped and dropped afterwards."""
    from workshop.classroom.server.serve import remembered_path

    with (
        fresh_database("classroom") as (target, name),
        tempfile.TemporaryDirectory(prefix="workshop-class-") as scratch,
    ):
        url, port = target.database_url(name), free_port()
        log = Path(scratch) / "server.log"
        command = [sys.executable, "-c", "from workshop.cli import main; main()", "class", "serve"]
        options = ["--host", "127.0.0.1", "--port", str(port), "--database-url", url, "--new", "--title", title]
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [*command, *options],
                cwd=REPO,
                env={**os.environ, "COLUMNS": "400", **(env or {})},
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        try:
            server = _wait_until_up(process, log, target.dsn(name), timeout)
            yield server
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            remembered_path(url).unlink(missing_ok=True)


def _wait_until_up(process: subprocess.Popen[bytes], log: Path, dsn: str, timeout: float) -> ClassServer:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"`class serve` exited with {process.returncode}:\n{log.read_text()}")
        text = log.read_text(encoding="utf-8", errors="replace")
        code, link = CODE.search(text), LINK.search(text)
        if code and link:
            try:
                with urllib.request.urlopen(f"{code[1]}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return ClassServer(code[1], code[2], link[2], dsn, process, log)
            except OSError:
                pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"`class serve` did not answer within {timeout:g} s:\n{log.read_text()}")


# --- a small HTTP/1.1 client on asyncio streams ------------------------------------------------------


async def send(url: str, method: str, path: str, payload: object, token: str = "") -> tuple[int, dict[str, Any], float]:
    """One request on a new connection (closed after the answer): (status, JSON body, seconds)."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    body = json.dumps(payload).encode()
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n"
        + (f"Authorization: Bearer {token}\r\n" if token else "")
        + "\r\n"
    )
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(head.encode() + body)
        await writer.drain()
        answer = await reader.read()  # to the end: the server closes after the answer
    finally:
        writer.close()
    elapsed = time.perf_counter() - started
    status_line, _, rest = answer.partition(b"\r\n")
    _, _, content = rest.partition(b"\r\n\r\n")
    try:
        parsed = json.loads(content) if content else {}
    except ValueError:
        parsed = {}
    return int(status_line.split()[1]), parsed if isinstance(parsed, dict) else {}, elapsed


# --- reports like a learner's ----------------------------------------------------------------------


def report(lesson: str, passed: int, checks: int = 14) -> dict[str, Any]:
    """A whole-lesson report of `checks` checks (a lesson's usual size), the first `passed` passing."""
    items = []
    for index in range(checks):
        ok = index < passed
        items.append(
            {
                "nodeid": f"lessons/{lesson}/checks/test_load.py::test_behaviour_number_{index:02d}_holds",
                "name": f"test_behaviour_number_{index:02d}_holds",
                "step": 1 + index // 4,
                "outcome": "passed" if ok else "failed",
                "kind": None if ok else "teaching",
                "message": ""
                if ok
                else f"lessons/{lesson}/app/main.py:12: Lesson {lesson}: expected the behaviour to hold, "
                "but it did not: read the step again and look at the function it names (step 1)",
                "hint": "what does the README's step say the function returns when the input is empty?",
                "engine_gated": False,
                "seconds": 0.004,
            }
        )
    return {
        "schema": 2,
        "lesson": lesson,
        "checks": items,
        "total": checks,
        "selected": checks,
        "passed": passed,
        "failed": checks - passed,
        "skipped": 0,
        "exitstatus": 0 if passed == checks else 1,
        "collection_errors": [],
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "workshop": "loadtest",
    }


# --- the test ------------------------------------------------------------------------------------------


@dataclass
class Learner:
    name: str
    token: str
    last_run: str = ""


@dataclass
class LoadResult:
    learners: int
    bursts: int
    spread: float = 0.0  # seconds over which a burst's posts start (0: the same moment)
    latencies: list[float] = field(default_factory=list)  # seconds, one per post
    burst_seconds: list[float] = field(default_factory=list)  # wall time of each burst
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    recorded: int = 0  # results in the database afterwards
    wrong_standings: int = 0  # learners whose standing is not their last post

    @property
    def sent(self) -> int:
        return self.learners * self.bursts

    @property
    def lost(self) -> int:
        return self.sent - self.recorded

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0

    def problems(self, max_p99_ms: float) -> list[str]:
        problems = list(self.errors[:5])
        if self.statuses.get(201, 0) != self.sent:
            problems.append(f"answers: {dict(self.statuses)} (expected {self.sent} answers 201)")
        if self.lost:
            problems.append(f"{self.lost} of {self.sent} posts were not recorded")
        if self.wrong_standings:
            problems.append(f"{self.wrong_standings} learners' standing is not their last post")
        if self.percentile(0.99) * 1000 > max_p99_ms:
            problems.append(f"p99 of a post is {self.percentile(0.99) * 1000:.1f} ms, over {max_p99_ms:g} ms")
        return problems

    def summary(self) -> dict[str, Any]:
        def ms(value: float) -> float:
            return round(value * 1000, 1)

        return {
            "learners": self.learners,
            "bursts": self.bursts,
            "spread_s": self.spread,
            "posts": self.sent,
            "recorded": self.recorded,
            "lost": self.lost,
            "p50_ms": ms(statistics.median(self.latencies)) if self.latencies else 0,
            "p90_ms": ms(self.percentile(0.90)),
            "p99_ms": ms(self.percentile(0.99)),
            "max_ms": ms(max(self.latencies, default=0)),
            "burst_ms": [ms(seconds) for seconds in self.burst_seconds],
            "posts_per_second": round(self.sent / sum(self.burst_seconds), 1) if self.burst_seconds else 0,
        }


async def _join(server: ClassServer, count: int, prefix: str) -> list[Learner]:
    learners: list[Learner] = []
    for start in range(0, count, 25):  # joining is not what is measured: 25 at a time
        answers = await asyncio.gather(
            *(
                send(server.url, "POST", protocol.JOIN, {"code": server.code, "name": f"{prefix} {index:03d}"})
                for index in range(start, min(count, start + 25))
            )
        )
        for status, body, _ in answers:
            if status != 201:
                raise RuntimeError(f"join answered {status}: {body}")
            learners.append(Learner(body["name"], body["token"]))
    return learners


async def _burst(
    server: ClassServer, learners: list[Learner], number: int, result: LoadResult, spread: float = 0.0
) -> None:
    go = asyncio.Event()
    offsets = random.Random(number)

    async def post(index: int, learner: Learner) -> None:
        learner.last_run = str(uuid.uuid4())
        body = {"run_id": learner.last_run, "result": report("00", passed=min(14, number + index % 7))}
        delay = offsets.uniform(0, spread)
        await go.wait()
        if delay:
            await asyncio.sleep(delay)
        try:
            status, _, seconds = await send(server.url, "POST", protocol.RESULTS, body, learner.token)
        except OSError as error:
            result.errors.append(f"{learner.name}: {error}")
            return
        result.statuses[status] += 1
        result.latencies.append(seconds)

    tasks = [asyncio.create_task(post(index, learner)) for index, learner in enumerate(learners)]
    await asyncio.sleep(0.05)  # every post ready and waiting
    started = time.perf_counter()
    go.set()
    await asyncio.gather(*tasks)
    result.burst_seconds.append(time.perf_counter() - started)


async def _audit(server: ClassServer, learners: list[Learner], result: LoadResult) -> None:
    names = {learner.name for learner in learners}
    rows = await database.execute(
        server.dsn,
        "SELECT l.name, count(*) FROM classroom_results r JOIN classroom_learners l ON l.id = r.learner_id "
        "GROUP BY l.name",
        "SELECT l.name, r.run_id::text FROM classroom_standings s JOIN classroom_learners l ON l.id = s.learner_id "
        "JOIN classroom_results r ON r.id = s.result_id",
    )
    result.recorded = sum(int(str(count)) for name, count in rows[0] if name in names)
    last = {str(name): str(run) for name, run in rows[1]}
    result.wrong_standings = sum(1 for learner in learners if last.get(learner.name) != learner.last_run)


async def load(
    server: ClassServer,
    learners: int,
    bursts: int,
    pause: float = 0.5,
    prefix: str = "Learner",
    spread: float = 0.0,
) -> LoadResult:
    """Join `learners` (named `prefix 000`, …), then `bursts` times post a result from each, all at the same
    moment (or each at a random moment within `spread` seconds); then audit the database."""
    result = LoadResult(learners, bursts, spread)
    room = await _join(server, learners, prefix)
    for number in range(bursts):
        await _burst(server, room, number, result, spread)
        await asyncio.sleep(pause)  # the room works on its next step
    await _audit(server, room, result)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--bursts", type=int, default=5)
    parser.add_argument(
        "--spread", type=float, default=0.0, help="seconds over which each burst's posts start (default 0: at once)"
    )
    parser.add_argument("--max-p99-ms", type=float, default=100.0)
    options = parser.parse_args()
    with class_server() as server:
        # uvloop, as uvicorn uses: the load generator must cost less than what it measures.
        result = uvloop.run(load(server, options.learners, options.bursts, spread=options.spread))
    summary = result.summary()
    print(json.dumps(summary))
    when = f"within {options.spread:g} s" if options.spread else "at the same moment"
    print(
        f"{summary['posts']} posts from {options.learners} learners in {options.bursts} bursts ({when}): "
        f"{summary['recorded']} recorded, {summary['lost']} lost; a post took p50 {summary['p50_ms']} ms, "
        f"p90 {summary['p90_ms']} ms, p99 {summary['p99_ms']} ms, max {summary['max_ms']} ms "
        f"({summary['posts_per_second']} posts/s within a burst; load average {os.getloadavg()[0]:.1f})"
    )
    problems = result.problems(options.max_p99_ms)
    for problem in problems:
        print(f"✗ {problem}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
