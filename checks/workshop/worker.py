"""A warm worker: `workshop check` and `workshop watch` run the checks in a fork of a process that has
already imported the stack and started the database, so a save is graded in about a second.

The worker is a small server on a Unix socket in `.workshop/`, started by the first `check` of a
checkout and left running (it exits after an hour without work, or when the engine's files change).
A client sends its request (the pytest arguments, working folder and environment) and its terminal
(stdin, stdout, stderr, passed over the socket); the worker forks, and the fork runs `pytest.main`
writing straight to that terminal, colours and all, so the output and the verdicts are exactly
those of `uv run pytest lessons/NN`. Where there is no fork or no Unix socket (Windows), the client
runs pytest in a fresh process instead.

A run the worker forked may ask it for more runs (lesson 07 runs the learner's suite once per seeded
bug): `runner` finds the worker's socket in WORKER_ENV and gets its runs forked from the worker, warm,
instead of starting a fork server of its own.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from workshop.lessons import REPO, STATE
from workshop.preload import STACK

SOCKET = STATE / "worker.sock"
WORKER_ENV = "WORKSHOP_WORKER_SOCKET"  # set in each run the worker forks: where to ask for more
LOG = STATE / "worker.log"
IDLE_SECONDS = 3600
# Loaded once, before the worker forks (workshop.preload); each lesson's ruff-and-mypy check runs mypy in
# the run's own process.
PRELOAD = (*STACK, "mypy.api", "mypy.build")


def available() -> bool:
    return hasattr(os, "fork") and hasattr(socket, "AF_UNIX") and hasattr(socket, "send_fds")


def fingerprint() -> str:
    """Changes when the engine, the configuration or the environment changes: a worker serves only its own."""
    digest = hashlib.sha256(sys.executable.encode())
    files = [REPO / "pyproject.toml", REPO / "uv.lock", *sorted((Path(__file__).parent).rglob("*.py"))]
    for path in files:
        with contextlib.suppress(OSError):
            stat = path.stat()
            digest.update(f"{path}:{stat.st_mtime_ns}:{stat.st_size}".encode())
    return digest.hexdigest()[:16]


# --- the server --------------------------------------------------------------------------------


def _serve_one(connection: socket.socket, request: dict[str, object], fds: list[int], path: Path) -> None:
    """In the fork: become the client's pytest run, then tell it the exit status."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the run's own subprocesses are waited for as usual
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if request.get("kind") == "runner":  # a run `runner` asked for: its output goes to a file
        code = 1
        try:
            from workshop import runner

            runner.in_child(**request["run"])  # type: ignore[arg-type]
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else 1
        finally:
            with contextlib.suppress(OSError):
                connection.sendall(f"exit {code}\n".encode())
            os._exit(0)
    for target, fd in zip((0, 1, 2), fds, strict=False):
        os.dup2(fd, target)
        os.close(fd)
    env = request["env"]
    os.environ.clear()
    os.environ.update({str(key): str(value) for key, value in env.items()} if isinstance(env, dict) else {})
    os.environ[WORKER_ENV] = str(path)
    os.chdir(str(request["cwd"]))
    import pytest

    code = 1
    try:
        args = request["args"]
        words = [str(arg) for arg in args] if isinstance(args, list) else []
        # The worker imported pytest's plugins before pytest could rewrite their asserts: no matter for
        # them (the checks are never preloaded), so keep pytest's warning about it out of the output.
        code = int(pytest.main([*words, "-W", "ignore::pytest.PytestAssertRewriteWarning"]))
    except KeyboardInterrupt:
        code = 2
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        with contextlib.suppress(OSError):
            connection.sendall(f"exit {code}\n".encode())
        _make_spares()
        os._exit(0)


def _make_spares() -> None:
    """After the answer, while the learner reads it: clone the templates this run cloned from, so that the
    next run finds its databases ready (`database.make_spares`). Silent: the terminal is the learner's now."""
    from workshop import database

    if not database.CLONED:
        return
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)
    os.dup2(quiet, 2)
    # This process made about half of the run's clones: the other half were the second shard's.
    wanted = {template: 2 * count for template, count in database.CLONED.items()}
    with contextlib.suppress(Exception):
        target = database.server()
        if target.embedded:  # not on a server of WORKSHOP_DATABASE_URL: it may be a room's, shared by all
            database.run(database.make_spares(target, wanted))


def serve(path: Path = SOCKET) -> None:
    """Preload the stack, start the database, then fork a pytest run per request until idle."""
    import importlib

    for module in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    from workshop import database

    with contextlib.suppress(database.DatabaseUnavailable):
        database.server()  # started now, not on the first save
    gc.freeze()  # the forks never walk what is loaded now (see workshop.freeze)
    mine = fingerprint()
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(16)
    listener.settimeout(IDLE_SECONDS)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # finished runs are reaped by the kernel
    sys.stdout.flush()
    try:
        while True:
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                return  # an hour without work
            try:
                connection.settimeout(10)
                message, fds, _, _ = socket.recv_fds(connection, 1 << 20, 3)
                connection.settimeout(None)
                request = json.loads(message.decode()) if message else None
            except (OSError, ValueError):
                request = None
            if not isinstance(request, dict):  # a probe (`_start` waits for the socket), or garbage
                connection.close()
                continue
            if request.get("fingerprint") != mine:
                connection.sendall(b"stale\n")  # the engine changed: a new worker serves the next run
                connection.close()
                return
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                listener.close()
                _serve_one(connection, request, list(fds), path)
            connection.sendall(f"pid {pid}\n".encode())
            for fd in fds:
                os.close(fd)
            connection.close()
    finally:
        listener.close()
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


# --- the client --------------------------------------------------------------------------------


def _start(path: Path) -> None:
    """Start a worker in the background, its output in .workshop/worker.log; wait until it listens."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with LOG.open("ab") as log:
        subprocess.Popen(
            [sys.executable, "-m", "workshop.worker", str(path)],
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,  # not killed with the terminal's Ctrl-C
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if path.exists():
            with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                probe.connect(str(path))
                return
        time.sleep(0.05)
    raise OSError(f"the warm worker did not start; see {LOG}")


def _ask(path: Path, request: dict[str, object]) -> int | None:
    """Send one request; the run's exit status, or None when this worker is stale or absent."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        try:
            connection.connect(str(path))
        except OSError:
            return None
        fds = [sys.stdin.fileno(), sys.stdout.fileno(), sys.stderr.fileno()]
        socket.send_fds(connection, [json.dumps(request).encode()], fds)
        reader = connection.makefile("r")
        pid = None
        try:
            for line in reader:
                word, _, value = line.strip().partition(" ")
                if word == "stale":
                    return None
                if word == "pid":
                    pid = int(value)
                elif word == "exit":
                    return int(value)
        except KeyboardInterrupt:
            if pid is not None:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGINT)  # the run stops, and prints pytest's own summary
                for line in reader:
                    if line.startswith("exit "):
                        return 130
            return 130
    return 1  # the run died without a word (killed): treat as failed


def run(args: list[str], cwd: Path = REPO) -> int:
    """`pytest ARGS` in `cwd`, in a fork of the warm worker (started if need be); its exit status.

    WORKSHOP_NO_WORKER=1 runs pytest in a fresh process instead, as `uv run pytest` does.
    """
    if not available() or os.environ.get("WORKSHOP_NO_WORKER"):
        return subprocess.call([sys.executable, "-m", "pytest", *args], cwd=cwd)
    sys.stdout.flush()
    sys.stderr.flush()
    request: dict[str, object] = {"args": args, "cwd": str(cwd), "env": dict(os.environ), "fingerprint": fingerprint()}
    code = _ask(SOCKET, request)
    if code is None:
        _start(SOCKET)
        code = _ask(SOCKET, request)
    if code is None:  # still no worker: run the plain way
        return subprocess.call([sys.executable, "-m", "pytest", *args], cwd=cwd)
    return code


class Forked:
    """A run that the worker forked at this process's request (see `runner.Started`)."""

    def __init__(self, path: Path, run: dict[str, object]) -> None:
        """Ask the worker at `path` for the run; OSError when it is gone or stale."""
        self._connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._connection.connect(str(path))
            request = {"kind": "runner", "run": run, "fingerprint": fingerprint()}
            socket.send_fds(self._connection, [json.dumps(request).encode()], [])
            self._reader = self._connection.makefile("r")
            word, _, value = self._reader.readline().strip().partition(" ")
            if word != "pid":
                raise OSError(f"the warm worker answered {word or 'nothing'!r}")
        except BaseException:
            self._connection.close()
            raise
        self.pid = int(value)
        self.exitcode: int | None = None

    def join(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds; True when the run has ended."""
        if self.exitcode is None:
            self._connection.settimeout(timeout)
            try:
                line = self._reader.readline()
            except TimeoutError:
                return False
            word, _, value = line.strip().partition(" ")
            self.exitcode = int(value) if word == "exit" else -signal.SIGKILL  # no word: it was killed
            self._connection.close()
        return True

    def kill(self) -> None:
        if self.exitcode is None:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
            self.join(10)


def stop(path: Path = SOCKET) -> bool:
    """Stop the worker (the next `check` starts a new one); False when none ran."""
    request: dict[str, object] = {"args": [], "cwd": str(REPO), "env": {}, "fingerprint": "stop"}
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        try:
            connection.connect(str(path))
        except OSError:
            return False
        socket.send_fds(connection, [json.dumps(request).encode()], [])
        connection.recv(64)
    return True


if __name__ == "__main__":
    serve(Path(sys.argv[1]) if len(sys.argv) > 1 else SOCKET)
