"""Lesson 08 check, step 8: with a Docker engine, the image builds and the stack turns healthy.

The only check of the workshop that may be skipped (it is marked `engine_gated`): where `docker
info` fails (no engine, or none running) it says so and skips, on the starter as on the solution.
Where an engine runs, it first requires every file check to pass: building an unfinished
Dockerfile would only repeat their messages, slower.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import urllib.request
from pathlib import Path

import pytest

from workshop import docker_engine
from workshop.graders import docker

from .conftest import folder

pytestmark = [pytest.mark.step(8), pytest.mark.engine_gated]

SKIP_REASON = "no Docker engine here (docker info failed): the build check runs where one is"
LEFT_OUT = shutil.ignore_patterns(".venv", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", "checks")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _last_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = [line.strip() for line in (done.stdout + "\n" + done.stderr).splitlines() if line.strip()]
    return lines[-1] if lines else f"exit status {done.returncode}"


@pytest.mark.workshop_timeout(900)
def test_with_a_docker_engine_the_stack_builds_and_turns_healthy(files: docker.Files, tmp_path: Path) -> None:
    """Hint: run it yourself in lessons/08: `docker compose up --build --wait`, then `docker compose logs app`."""
    engine = docker_engine.engine()
    if not engine.running:
        pytest.skip(SKIP_REASON)
    problems = docker.all_problems(files)
    assert not problems, (
        f"Lesson 08: the stack is built only once the files are right; first: {problems[0]} (steps 1 to 7)"
    )
    assert engine.compose, (
        "Lesson 08: Docker runs here, but `docker compose` does not: install the Compose plugin "
        "(https://docs.docker.com/compose/install/) (step 8)"
    )
    # A copy, so the check never touches your folder; your .env if you made one, else the example.
    stack = tmp_path / "ledger"
    shutil.copytree(folder(), stack, ignore=LEFT_OUT)
    if not (stack / ".env").is_file():
        shutil.copy2(stack / ".env.example", stack / ".env")
    app = files.app
    assert app is not None  # all_problems() found none, so the app service exists
    port = _free_port()
    compose_cmd = ["docker", "compose", "--project-name", f"ledger-check-{os.getpid()}"]
    env = {**os.environ, "LEDGER_PORT": str(port)}

    def run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*compose_cmd, *args], cwd=stack, env=env, capture_output=True, text=True, timeout=timeout
        )

    try:
        up = run("up", "--build", "--wait", "--wait-timeout", "180")
        assert up.returncode == 0, (
            f"Lesson 08: `docker compose up --build --wait` failed: {_last_line(up)} — run it in lessons/08 "
            "for the whole story, and `docker compose logs` (step 8)"
        )
        # Where the app's port 8000 is published (LEDGER_PORT, if compose.yaml reads it).
        published = run("port", app.name, "8000", timeout=60).stdout.strip().rsplit(":", 1)[-1]
        assert published.isdigit(), (
            f"Lesson 08: the stack is up, but {app.name}'s port 8000 is not published; "
            'add ports: ["127.0.0.1:${LEDGER_PORT:-8000}:8000"] (step 7)'
        )
        url = f"http://127.0.0.1:{published}/health"
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                body = json.loads(response.read())
        except (OSError, ValueError) as error:
            raise AssertionError(f"Lesson 08: the stack is up, but {url} answers {error} (step 8)") from None
        assert body.get("database") == "ok", f"Lesson 08: {url} answered {body} (step 8)"
        uid = run("exec", "-T", app.name, "id", "-u", timeout=60)
        assert uid.returncode == 0 and uid.stdout.strip() not in {"", "0"}, (
            f"Lesson 08: the app container runs as uid {uid.stdout.strip() or '?'}; it should not be root (step 3)"
        )
    finally:
        run("down", "--volumes", "--remove-orphans", "--rmi", "local", timeout=300)
