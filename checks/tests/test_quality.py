"""Invariant 4: the reference at every stage is ruff-clean and mypy --strict clean (and so is the engine)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from workshop.authoring.verify import write_solution_tree
from workshop.lessons import REPO, Lesson, all_lessons

LESSONS = list(all_lessons())


def _tool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def _packages(folder: Path) -> list[str]:
    """The reference's code: the app, and from lesson 07 on the service's own test suite."""
    return [name for name in ("app", "tests") if (folder / name).is_dir()]


@pytest.fixture(scope="module")
def stages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("stages")
    for lesson in LESSONS:
        write_solution_tree(lesson, root)
    return root


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda found: found.number)
def test_the_reference_is_ruff_clean(lesson: Lesson, stages: Path) -> None:
    folder = stages / "lessons" / lesson.number
    done = _tool(
        "ruff", "check", "--no-cache", "--config", str(REPO / "pyproject.toml"), *_packages(folder), cwd=folder
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda found: found.number)
def test_the_reference_is_mypy_strict_clean(lesson: Lesson, stages: Path) -> None:
    folder = stages / "lessons" / lesson.number
    done = _tool(
        "mypy",
        "--strict",
        "--python-version",
        "3.11",
        "--cache-dir",
        str(REPO / ".workshop" / "mypy-cache"),
        *(arg for package in _packages(folder) for arg in ("-p", package)),
        cwd=folder,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_engine_and_checks_are_ruff_clean() -> None:
    done = _tool("ruff", "check", "--no-cache", ".", cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    formatted = _tool("ruff", "format", "--check", "--no-cache", ".", cwd=REPO)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


def test_the_engine_is_mypy_strict_clean() -> None:
    done = _tool(
        "mypy",
        "--strict",
        "--cache-dir",
        str(REPO / ".workshop" / "mypy-cache"),
        "checks/workshop",
        "checks/loadtest",
        cwd=REPO,
    )
    assert done.returncode == 0, done.stdout + done.stderr
