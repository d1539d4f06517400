"""Fixtures of the workshop's own suite: throwaway copies of the repository and a CLI runner."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from workshop import worker
from workshop.lessons import REPO

if TYPE_CHECKING:
    from loadtest.classroom import ClassServer

COPIED = ["lessons", "solutions", "pyproject.toml", "README.md", ".gitignore", ".gitattributes"]


def _ignore(folder: str, names: list[str]) -> set[str]:
    return {name for name in names if name in {"__pycache__", ".pytest_cache", ".workshop"}}


@pytest.fixture
def repo_copy(tmp_path: Path) -> Iterator[Path]:
    """A copy of the workshop (lessons, solutions, config) committed to a fresh git repository.

    A warm worker that a `workshop check` there started is stopped when the test ends.
    """
    root = copy_repository(tmp_path / "workshop")
    yield root
    worker.stop(root / ".workshop" / "worker.sock")


def copy_repository(root: Path) -> Path:
    """A learner's clone at `root`: the workshop's lessons, solutions and config in a fresh git repository."""
    root.mkdir(parents=True)
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=_ignore)
        elif source.is_file():
            shutil.copy2(source, root / name)
    git = ["git", "-c", "user.name=Suite", "-c", "user.email=suite@example.invalid"]
    subprocess.run([*git, "init", "--quiet", "-b", "main"], cwd=root, check=True)
    subprocess.run([*git, "add", "--all"], cwd=root, check=True)
    subprocess.run([*git, "commit", "--quiet", "-m", "learner's clone"], cwd=root, check=True)
    return root


@pytest.fixture
def workshop(repo_copy: Path) -> object:
    """Run `workshop ARGS…` against the copy, as a learner would in their clone."""

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", "from workshop.cli import main; main()", *args],
            cwd=repo_copy,
            env={**os.environ, "WORKSHOP_ROOT": str(repo_copy), "COLUMNS": "200", **(env or {})},
            capture_output=True,
            text=True,
            timeout=300,
        )

    return run


@pytest.fixture(scope="session")
def class_server() -> Iterator[ClassServer]:
    """`workshop class serve` on loopback and a database of its own, for the classroom's tests (one per run)."""
    from loadtest.classroom import class_server as serving

    with serving(title="Tuesday's class") as server:
        yield server


@pytest.fixture
def clone(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Makes learners' clones: `clone("ada")` is a copy under tmp_path/ada; their workers stop at the end."""
    made: list[Path] = []

    def make(name: str) -> Path:
        made.append(copy_repository(tmp_path / name))
        return made[-1]

    yield make
    for root in made:
        worker.stop(root / ".workshop" / "worker.sock")
