"""Run a lesson's checks in a process of their own, on the starter or on the reference solution.

Shared by `workshop verify`, `workshop check`, `workshop hint` and the workshop's own suite.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workshop.build import stage
from workshop.lessons import REPO, Lesson, is_hand_written, is_ignored

LESSON_KINDS = ("todo", "teaching")
# The one skip allowed anywhere: lesson 08's check that builds and runs the stack, where no Docker
# engine runs, saying so (lessons/08/checks/test_stack_runs.py).
ENGINE_CHECK = "test_with_a_docker_engine"
ENGINE_SKIP = "Skipped: no Docker engine here"


@dataclass
class Run:
    """What one pytest run of a lesson reported."""

    lesson: str
    returncode: int
    output: str
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    collection_errors: list[str] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(1 for check in self.checks.values() if check["outcome"] == "passed")

    @property
    def skipped(self) -> int:
        return sum(1 for check in self.checks.values() if check["outcome"] == "skipped")

    def problems_as_starter(self) -> list[str]:
        """Why this run does not show a proper starter: every check failing for a lesson reason."""
        problems = [f"collection error in {nodeid}" for nodeid in self.collection_errors]
        if not self.checks:
            problems.append("no checks ran")
        for nodeid, check in self.checks.items():
            if check["outcome"] != "failed":
                problems.append(f"{nodeid} {check['outcome']} on the starter")
            elif check["kind"] not in LESSON_KINDS:
                problems.append(f"{nodeid} failed as {check['kind']}: {check['message']}")
        return problems

    def problems_as_solution(self) -> list[str]:
        """Why this run does not show a proper solution: every check passing, none skipped but the engine check."""
        problems = [f"collection error in {nodeid}" for nodeid in self.collection_errors]
        if not self.checks:
            problems.append("no checks ran")
        for nodeid, check in self.checks.items():
            skipped_ok = (
                check["outcome"] == "skipped" and ENGINE_CHECK in nodeid and check["message"].startswith(ENGINE_SKIP)
            )
            if check["outcome"] != "passed" and not skipped_ok:
                problems.append(f"{nodeid} {check['outcome']}: {check['message']}")
        return problems


def run_checks(folder: Path, *pytest_args: str, timeout: float = 600) -> Run:
    """Run `pytest <folder>` in a new process with the workshop plugin; read its JSON report."""
    with tempfile.TemporaryDirectory(prefix="workshop-report-") as scratch:
        report = Path(scratch) / "report.json"
        command = [
            sys.executable,
            "-m",
            "pytest",
            str(folder),
            "-c",
            str(REPO / "pyproject.toml"),
            "--rootdir",
            str(folder.parents[1]),
            "-p",
            "no:cacheprovider",
            "--workshop-report",
            str(report),
            *pytest_args,
        ]
        done = subprocess.run(command, cwd=folder.parents[1], capture_output=True, text=True, timeout=timeout)
        data = json.loads(report.read_text(encoding="utf-8")) if report.is_file() else {}
    return Run(
        lesson=folder.name,
        returncode=done.returncode,
        output=done.stdout + done.stderr,
        checks=data.get("checks", {}),
        collection_errors=data.get("collection_errors", []),
    )


def write_solution_tree(lesson: Lesson, root: Path) -> Path:
    """root/lessons/NN: the lesson's hand-written files with the finished stage laid over them."""
    folder = root / "lessons" / lesson.number
    for source in sorted(lesson.path.rglob("*")):
        relative = source.relative_to(lesson.path)
        if source.is_file() and not is_ignored(relative) and is_hand_written(relative):
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, folder / relative)
    for relative, text in stage(lesson.number).items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text, encoding="utf-8")
    return folder


@contextmanager
def solution_tree(lesson: Lesson) -> Iterator[Path]:
    """A throwaway copy of the lesson as its solution branch has it."""
    with tempfile.TemporaryDirectory(prefix=f"workshop-solution-{lesson.number}-") as scratch:
        yield write_solution_tree(lesson, Path(scratch))
