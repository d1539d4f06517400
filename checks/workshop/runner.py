"""Run pytest in a process of its own, started in milliseconds from a warm fork server.

Importing the stack (SQLAlchemy, FastAPI, asyncpg, pytest) costs over a second per process. A
fork server imports it once; each run is a fork of it that runs `pytest.main(ARGS)` in a working
folder and environment of its own. The learner's `app` is never preloaded, so every run imports
the code it checks afresh. Where there is no fork (Windows), a plain `python -m pytest` runs instead.
Inside a run of the warm worker (`workshop check`), the worker itself forks the runs: it is warm already.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.context
import multiprocessing.spawn
import os
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from workshop import worker
from workshop.lessons import lesson_of_path
from workshop.preload import STACK

PRELOAD = [*STACK, "workshop.freeze"]  # freeze last: it freezes all of the stack


@dataclass(frozen=True)
class Done:
    returncode: int | None  # None: stopped after its timeout
    output: str


_CONTEXT: multiprocessing.context.ForkServerContext | None = None
_ROOT: str | None = None  # WORKSHOP_ROOT as the fork server saw it: the checkout its preloaded engine serves


def fork_server() -> multiprocessing.context.ForkServerContext | None:
    """multiprocessing's fork server with the stack preloaded; None where there is none (Windows)."""
    global _CONTEXT, _ROOT
    if _CONTEXT is None and "forkserver" in multiprocessing.get_all_start_methods():
        _CONTEXT = multiprocessing.get_context("forkserver")
        _CONTEXT.set_forkserver_preload(PRELOAD)
        _ROOT = os.environ.get("WORKSHOP_ROOT", "")
    return _CONTEXT


_STARTING = threading.Lock()


def _start_without_main(child: multiprocessing.process.BaseProcess) -> None:
    """Start `child` without re-running this program's `__main__` in it.

    multiprocessing runs the parent's main script again in every child it starts (to find
    functions defined there); ours live in this module, and a main script without an
    `if __name__ == "__main__"` guard (a maintainer's one-off script) would run twice.
    """
    original = multiprocessing.spawn.get_preparation_data

    def without_main(name: str) -> dict[str, object]:
        data: dict[str, object] = original(name)
        data.pop("init_main_from_path", None)
        data.pop("init_main_from_name", None)
        return data

    with _STARTING:
        multiprocessing.spawn.get_preparation_data = without_main
        try:
            child.start()
        finally:
            multiprocessing.spawn.get_preparation_data = original


# A run under coverage: SQLAlchemy's async layer switches greenlets under every await, and a tracer that
# does not follow them loses the lines after a route's first database call. Each test's lines are
# recorded under its node id (workshop.contexts), for lesson 07's choice of tests per seeded bug.
CONCURRENCY = ["greenlet", "thread"]
CONTEXTS = ["-p", "workshop.contexts"]


def in_child(
    args: list[str],
    env: dict[str, str],
    cwd: str,
    output: str,
    source: str | None,
    data: str | None,
) -> None:
    """In a fork of the fork server: what `python -m [coverage run -m] pytest ARGS` would do."""
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    sys.dont_write_bytecode = True
    # The fork server may have started inside a lesson's run: no lesson's `app` may stay on the path.
    sys.path[:] = [entry for entry in sys.path if not (entry and lesson_of_path(Path(entry)))]
    sink = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(sink, 1)
    os.dup2(sink, 2)
    import pytest

    measured = None
    if source is not None and data is not None:
        import coverage

        measured = coverage.Coverage(data_file=data, source=[source], config_file=False, concurrency=CONCURRENCY)
        measured.start()
    try:
        # The fork server imported pytest's plugins before pytest could rewrite their asserts; no matter
        # for them (the checks themselves are never preloaded), so keep the warning out of the output.
        contexts = CONTEXTS if measured is not None else []
        code = pytest.main([*args, *contexts, "-W", "ignore::pytest.PytestAssertRewriteWarning"])
    finally:
        if measured is not None:
            measured.stop()
            measured.save()
        sys.stdout.flush()
        sys.stderr.flush()
    sys.exit(int(code))


class Started:
    """A pytest run under way in a process of its own: a fork of the fork server, or a plain subprocess."""

    def __init__(
        self,
        args: list[str],
        *,
        cwd: Path,
        env: dict[str, str] | None = None,
        fork: bool = True,
        coverage_source: Path | None = None,
        coverage_data: Path | None = None,
    ) -> None:
        env = dict(os.environ if env is None else env)
        self._scratch = tempfile.TemporaryDirectory(prefix="workshop-run-")
        self._log = Path(self._scratch.name) / "output.txt"
        covered = coverage_source is not None and coverage_data is not None
        run: dict[str, object] = {
            "args": args,
            "env": env,
            "cwd": str(cwd),
            "output": str(self._log),
            "source": str(coverage_source) if covered else None,
            "data": str(coverage_data) if covered else None,
        }
        self._forked: worker.Forked | None = None
        self._child: multiprocessing.process.BaseProcess | None = None
        self._process: subprocess.Popen[bytes] | None = None
        warm = os.environ.get(worker.WORKER_ENV) if fork else None
        if warm and env.get("WORKSHOP_ROOT", "") == os.environ.get("WORKSHOP_ROOT", ""):
            with contextlib.suppress(OSError):  # a worker gone or stale: the fork server then
                self._forked = worker.Forked(Path(warm), run)
        context = fork_server() if fork and self._forked is None else None
        if context is not None and env.get("WORKSHOP_ROOT", "") != _ROOT:
            context = None  # the preloaded engine knows another checkout: start afresh
        if context is not None:
            self._child = context.Process(
                target=in_child,
                kwargs=run,
                # Not a daemon: a run may start runs of its own (lesson 07 grades a suite). It is
                # killed when over its time or when this process is interrupted (see `kill`).
                daemon=False,
            )
            _start_without_main(self._child)
        elif self._forked is None:
            under_coverage = (
                [
                    "coverage",
                    "run",
                    f"--source={coverage_source}",
                    f"--data-file={coverage_data}",
                    f"--concurrency={','.join(CONCURRENCY)}",
                    "-m",
                ]
                if covered
                else []
            )
            contexts = CONTEXTS if covered else []
            with self._log.open("wb") as sink:
                self._process = subprocess.Popen(
                    [sys.executable, "-m", *under_coverage, "pytest", *args, *contexts],
                    cwd=cwd,
                    env=env,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                )

    def join(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds; True when the run has ended."""
        if self._forked is not None:
            return self._forked.join(timeout)
        if self._child is not None:
            self._child.join(timeout)
            return not self._child.is_alive()
        assert self._process is not None
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def kill(self) -> None:
        if self._forked is not None:
            self._forked.kill()
        if self._child is not None and self._child.is_alive():
            self._child.kill()
            self._child.join()
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    def result(self, killed: bool = False) -> Done:
        """The exit code (None when killed) and the output; call once, after the run has ended."""
        if self._forked is not None:
            code = self._forked.exitcode
        elif self._child is not None:
            code = self._child.exitcode
        else:
            code = self._process.returncode if self._process else None
        output = self._log.read_text(errors="replace") if self._log.is_file() else ""
        self._scratch.cleanup()
        return Done(None if killed else code, output)


def run_pytest(args: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600) -> Done:
    """`pytest ARGS` in `cwd` with `env` (default: this process's), in a process of its own; waits."""
    started = Started(args, cwd=cwd, env=env)
    killed = False
    try:
        killed = not started.join(timeout)
    finally:
        started.kill()  # over its time, or this process was interrupted
    return started.result(killed)
