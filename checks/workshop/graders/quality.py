"""The stack's own bar on the learner's code: ruff and `mypy --strict`, as the reference meets them.

Each lesson from 01 on has one check that calls `findings()` on what the learner wrote (their
`app/`, or in lesson 07 their `tests/`). Both tools run with the workshop's configuration
(pyproject.toml: ruff's rules and line length, mypy's strict mode); mypy keeps a warm cache per
checkout and lesson under .workshop/, so a second run takes about a second.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from workshop.lessons import REPO, STATE


def _run(args: list[str], folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=folder, capture_output=True, text=True, timeout=600)


def ruff(folder: Path, packages: list[str]) -> list[str]:
    """ruff's findings, one line each: `app/x.py:3:8: F401 [*] `os` imported but unused`."""
    config = ["--config", str(REPO / "pyproject.toml"), "--output-format", "concise"]
    done = _run(["ruff", "check", "--no-cache", *config, *packages], folder)
    return [line for line in done.stdout.splitlines() if re.match(r"^[^\s:]+\.py:\d+:\d+: ", line)]


def mypy_errors(folder: Path, packages: list[str], lesson: str) -> list[str]:
    """mypy --strict's errors, one line each: `app/x.py:12: error: Function is missing a return type annotation`.

    In this process (mypy's API), from the lesson folder: no second Python to start, and the warm
    worker has mypy imported already.
    """
    import mypy.api

    cache = STATE / "mypy-cache" / f"lesson-{lesson}"
    args = ["--strict", "--python-version", "3.11", "--no-error-summary", "--cache-dir", str(cache)]
    previous = Path.cwd()
    os.chdir(folder)
    try:
        stdout, _, _ = mypy.api.run([*args, *(arg for package in packages for arg in ("-p", package))])
    finally:
        os.chdir(previous)
    return [line for line in stdout.splitlines() if ": error: " in line]


def findings(folder: Path, packages: list[str], lesson: str) -> list[str]:
    """ruff's findings, then mypy's, for `packages` (folders of `folder`, such as "app")."""
    return ruff(folder, packages) + mypy_errors(folder, packages, lesson)


def require_clean(packages: list[str], *, step: int) -> None:
    """The body of each lesson's quality check: fail with a `Lesson NN:` message naming the first findings."""
    from workshop import grading

    folder, lesson = grading.folder(), grading.lesson()
    grading.require_finished(packages, "ruff and mypy grade your code", step)
    found = findings(folder, packages, lesson)
    if found:
        shown = "; ".join(f"lessons/{lesson}/{line}" for line in found[:3])
        more = f" (and {len(found) - 3} more)" if len(found) > 3 else ""
        where = " ".join(f"lessons/{lesson}/{package}" for package in packages)
        # From lesson 08 on, lessons/NN is a uv project of its own, without mypy: name the workshop's.
        project = " --project ../.." if (folder / "pyproject.toml").is_file() else ""
        raise grading.LessonError(
            f"Lesson {lesson}: your code does not meet the bar the reference meets (ruff, mypy --strict): "
            f"{shown}{more}. Run `uv run ruff check {where}` and `cd lessons/{lesson} && uv run{project} mypy "
            f"--strict {' '.join('-p ' + package for package in packages)}` to see them all (step {step})"
        )
