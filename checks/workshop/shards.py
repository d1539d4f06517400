"""Two processes for one run of a lesson's checks: on two cores a run takes about half as long.

Most of a check's time is spent waiting (on PostgreSQL, on a rate service, on a lock another
request holds) or hashing a password; a second process on a second core halves it. Once pytest has
collected the lesson, this plugin forks the run: the fork runs its share of the checks silently and
writes each report to a file, and the run the learner sees runs the rest and replays the fork's
reports as they come, through pytest's own hooks (as pytest-xdist does). Progress, failures, the
scorecard, `--lf`, `--junitxml` and the exit status cover every check; the fork's lines may arrive
in a different order. Each process has its own database and Redis database, as two runs would.

The fork happens after collection and before any check, fixture or event loop has started, so it
copies nothing but imported modules and the collected checks. Checks that share a costly session
fixture say so with `@pytest.mark.together("name")` (lesson 07's `graded`): they stay in one process,
so it is computed once. The split balances the checks' times in the last whole run of the lesson.

WORKSHOP_SHARDS=1 runs everything in one process; a run where a second process would change what
the learner asked for (-x, --pdb, -s, a debugger or a coverage tracer) does too, and so does
Windows (no fork).
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import signal
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from workshop import results
from workshop.results import CheckResult, Kind, Outcome

SHARDS_ENV = "WORKSHOP_SHARDS"
MIN_CHECKS = 8  # fewer checks than this: a second process would cost more than it saves
FORK_COST = 0.1  # seconds the fork spends on its own database before its first check
DEFAULT_COST = 0.05  # seconds, for a check the last run did not time
SLACK = 60.0  # seconds the run waits for the fork beyond the sum of its checks' timeouts

_SHARE = pytest.StashKey[list["Share"]]()  # the forks of this run (set in the run, never in a fork)


def wanted(config: pytest.Config) -> int:
    """How many processes this run may use: WORKSHOP_SHARDS, else 2 where there are two cores."""
    text = os.environ.get(SHARDS_ENV, "").strip()
    count = int(text) if text.isdigit() else min(2, os.cpu_count() or 1)
    option = config.option
    if (
        count < 2
        or not hasattr(os, "fork")
        or option.maxfail
        or option.usepdb
        or getattr(option, "stepwise", False)
        or option.capture == "no"
        or option.collectonly
        or sys.gettrace() is not None  # a debugger or a coverage tracer follows this process only
        or threading.active_count() > 1  # a fork copies one thread: nothing may run beside it
    ):
        return 1
    return count


def split(items: list[pytest.Item], shards: int, costs: dict[str, float]) -> list[list[pytest.Item]]:
    """The items in `shards` lists of about equal cost, each in the run's order.

    Items marked `together(name)` with the same name land in the same list; the first list (the run
    the learner sees) starts with nothing, the others with their start-up cost.
    """
    groups: dict[str, list[pytest.Item]] = {}
    for index, item in enumerate(items):
        marker = item.get_closest_marker("together")
        key = f"together:{marker.args[0]}" if marker and marker.args else f"item:{index}"
        groups.setdefault(key, []).append(item)

    def cost(group: list[pytest.Item]) -> float:
        return sum(costs.get(item.nodeid, DEFAULT_COST) for item in group)

    loads = [0.0] + [FORK_COST] * (shards - 1)
    chosen: list[list[pytest.Item]] = [[] for _ in range(shards)]
    for group in sorted(groups.values(), key=cost, reverse=True):  # largest first, to the lightest
        lightest = loads.index(min(loads))
        chosen[lightest].extend(group)
        loads[lightest] += cost(group)
    order = {id(item): index for index, item in enumerate(items)}
    return [sorted(share, key=lambda item: order[id(item)]) for share in chosen]


def last_costs(lesson: str) -> dict[str, float]:
    """Each check's seconds in the lesson's last whole run (empty when there is none)."""
    report = results.latest().get(lesson)
    return {check.nodeid: check.seconds for check in report.checks} if report else {}


class Share:
    """A fork running some of this run's checks, and what it has reported so far."""

    def __init__(self, pid: int, path: Path, items: list[pytest.Item]) -> None:
        self.pid, self.path, self.items = pid, path, items
        self.offset = 0
        self.checks: dict[str, CheckResult] = {}  # node id → its result, once its teardown has reported
        self.stopped: str = ""  # why the fork stopped early, if it did
        self.exited = False

    def drain(self, config: pytest.Config) -> None:
        """Replay every complete line the fork has written since the last call."""
        with contextlib.suppress(FileNotFoundError), self.path.open("rb") as stream:
            stream.seek(self.offset)
            data = stream.read()
        if not data:
            return
        complete = data.rfind(b"\n") + 1
        self.offset += complete
        for line in data[:complete].splitlines():
            self._replay(config, json.loads(line))

    def _replay(self, config: pytest.Config, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "report":
            report = config.hook.pytest_report_from_serializable(config=config, data=message["report"])
            if report.when == "setup":
                config.hook.pytest_runtest_logstart(nodeid=report.nodeid, location=report.location)
            config.hook.pytest_runtest_logreport(report=report)
            if report.when == "teardown":
                config.hook.pytest_runtest_logfinish(nodeid=report.nodeid, location=report.location)
        elif kind == "check":
            check = CheckResult.from_dict(message["check"])
            self.checks[check.nodeid] = check
        elif kind == "warning":
            _replay_warning(config, message)
        elif kind == "stopped":
            self.stopped = message["why"]

    def wait(self, config: pytest.Config, deadline: float) -> None:
        """Replay the fork's reports until it exits (killed at `deadline`)."""
        while not self.exited:
            self.drain(config)
            try:
                pid, _ = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere (SIGCHLD ignored): it has ended
                pid = self.pid
            if pid == self.pid:
                self.exited = True
            elif time.monotonic() > deadline:
                self.kill()
                self.stopped = self.stopped or "it ran past the time its checks were given"
            else:
                time.sleep(0.01)
        self.drain(config)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def kill(self) -> None:
        if not self.exited:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
            self.exited = True


def _replay_warning(config: pytest.Config, message: dict[str, Any]) -> None:
    category: type[Warning] = UserWarning
    module = sys.modules.get(message["module"])
    found = getattr(module, message["category"], None) if module else None
    if isinstance(found, type) and issubclass(found, Warning):
        category = found
    warning = warnings.WarningMessage(category(message["text"]), category, message["filename"], message["lineno"])
    config.hook.pytest_warning_recorded.call_historic(
        kwargs={"warning_message": warning, "when": message["when"], "nodeid": message["nodeid"], "location": None}
    )


class _Writer:
    """In the fork: the plugin that writes each report to the file the run reads."""

    def __init__(self, config: pytest.Config, path: Path) -> None:
        self.config = config
        self.stream = path.open("a", encoding="utf-8")

    def send(self, message: dict[str, Any]) -> None:
        self.stream.write(json.dumps(message, default=str) + "\n")
        self.stream.flush()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = self.config.hook.pytest_report_to_serializable(config=self.config, report=report)
        self.send({"type": "report", "report": data})
        if report.when == "teardown":  # the check's result is final: the plugin built it from its reports
            from workshop.plugin import report_of

            checks = report_of(self.config).checks
            if checks and checks[-1].nodeid == report.nodeid:
                self.send({"type": "check", "check": checks[-1].to_dict()})

    def pytest_warning_recorded(self, warning_message: warnings.WarningMessage, when: str, nodeid: str) -> None:
        category = warning_message.category
        self.send(
            {
                "type": "warning",
                "text": str(warning_message.message),
                "module": category.__module__,
                "category": category.__qualname__,
                "filename": warning_message.filename,
                "lineno": warning_message.lineno,
                "when": when,
                "nodeid": nodeid,
            }
        )


def _silence(config: pytest.Config) -> None:
    """In the fork: nothing reaches the learner's terminal but through the run's replay."""
    config.pluginmanager.unregister(name="terminalreporter")
    sink = os.open(os.devnull, os.O_WRONLY)
    targets = [1, 2]
    capture = getattr(config.pluginmanager.get_plugin("capturemanager"), "_global_capturing", None)
    for stream in (getattr(capture, "out", None), getattr(capture, "err", None)):
        saved = getattr(stream, "targetfd_save", None)  # where capturing puts the terminal back
        if isinstance(saved, int):
            targets.append(saved)
    for target in targets:
        os.dup2(sink, target)
    os.close(sink)


def _run_share(session: pytest.Session, items: list[pytest.Item], path: Path, parent: int) -> None:
    """In the fork: run `items` as pytest's loop would, then report and exit (never returns)."""
    code = 0
    writer: _Writer | None = None
    try:
        _silence(session.config)
        writer = _Writer(session.config, path)
        session.config.pluginmanager.register(writer, "workshop-shard-writer")
        session.items[:] = items  # a fixture that looks at the run's checks sees this process's
        for index, item in enumerate(items):
            if os.getppid() != parent:  # the run was killed: stop, not run on unseen
                raise SystemExit(1)
            nextitem = items[index + 1] if index + 1 < len(items) else None
            item.config.hook.pytest_runtest_protocol(item=item, nextitem=nextitem)
    except BaseException as error:  # whatever stopped it, the run must hear why
        code = 1
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.send({"type": "stopped", "why": f"{type(error).__name__}: {error}".strip().rstrip(":")})
    finally:
        os._exit(code)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> Generator[None, object, object]:
    config = session.config
    items = list(session.items)
    # What is loaded by now lives until the run ends: out of the collector's sight, its collections
    # during the checks and at exit stay cheap, and a fork shares its pages (see workshop.freeze).
    gc.freeze()
    shards = wanted(config)
    if shards < 2 or len(items) < MIN_CHECKS or session.testsfailed:
        return (yield)
    from workshop import grading

    shares = split(items, shards, last_costs(grading.lesson()))
    if any(not share for share in shares):
        return (yield)
    forks: list[Share] = []
    parent = os.getpid()
    for share in shares[1:]:
        handle, name = tempfile.mkstemp(prefix="workshop-shard-", suffix=".jsonl")
        os.close(handle)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _run_share(session, share, Path(name), parent)
        forks.append(Share(pid, Path(name), share))
    config.stash[_SHARE] = forks
    session.items[:] = shares[0]
    try:
        outcome = yield
    finally:
        session.items[:] = items
        from workshop.plugin import merge_checks, timeout_of

        deadline = time.monotonic() + SLACK + sum(timeout_of(item) for fork in forks for item in fork.items)
        try:
            for fork in forks:
                fork.wait(config, deadline)
        finally:
            for fork in forks:
                fork.kill()
        for fork in forks:
            _finish_share(config, fork)
        merge_checks(config, [check for fork in forks for check in fork.checks.values()], items)
        _in_run_order(config, items)
    return outcome


def _in_run_order(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Failures, errors and the rest listed in the order the checks run, as in one process."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    order = {item.nodeid: index for index, item in enumerate(items)}
    for reports in getattr(reporter, "stats", {}).values():
        reports.sort(key=lambda report: order.get(getattr(report, "nodeid", ""), len(order)))


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, object, object]:
    """After each of the run's own checks, show what the forks have finished meanwhile."""
    outcome = yield
    for fork in item.config.stash.get(_SHARE, []):
        fork.drain(item.config)
    return outcome


def _finish_share(config: pytest.Config, fork: Share) -> None:
    """A check the fork never finished fails, saying why (the fork crashed, hung or was stopped)."""
    from workshop.plugin import new_check

    why = fork.stopped or "it ended without a word: killed, or its process exited"
    for item in fork.items:
        if item.nodeid in fork.checks:
            continue
        message = f"this check did not finish: the second process that ran it stopped ({why})"
        report = pytest.TestReport(
            nodeid=item.nodeid,
            location=item.location,
            keywords=dict.fromkeys(item.keywords, 1),
            outcome="failed",
            longrepr=message,
            when="call",
        )
        config.hook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
        config.hook.pytest_runtest_logreport(report=report)
        config.hook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
        check = new_check(item)
        check.outcome, check.kind, check.message = Outcome.FAILED, Kind.BUG, message
        fork.checks[item.nodeid] = check
