"""Shared by lesson 08's checks: your Dockerfile, .dockerignore and compose.yaml, read without Docker.

The files are parsed, never run (except by the one check that needs a Docker engine): each
check applies its rules from the table `workshop.graders.docker.RULES` (`apply_rules`) and turns
the first problem they find into a lesson message.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from workshop import grading
from workshop.graders import docker

FILES = {"Dockerfile": 1, ".dockerignore": 4, "compose.yaml": 5}  # file → the step that starts it


def folder() -> Path:
    return grading.folder()


def teach(problem: docker.Problem | None, name: str, step: int) -> None:
    """Fail with `Lesson 08: <file>:<line>: <what is wrong> (step N)` when a rule found a problem."""
    if problem is not None:
        raise grading.LessonError(f"Lesson 08: {problem.where(name)}: {problem.text} (step {step})")


def _missing(name: str) -> grading.LessonError:
    return grading.LessonError(
        f"Lesson 08: lessons/08/{name} is missing; create it next to app/ (step {FILES[name]}), "
        "or get the starter back with `uv run workshop reset 08`"
    )


def load_dockerfile() -> docker.Dockerfile:
    """Your Dockerfile, parsed: its stages and their instructions."""
    path = folder() / "Dockerfile"
    if not path.is_file():
        raise _missing("Dockerfile")
    try:
        return docker.parse_dockerfile(path)
    except docker.ParseError as error:
        raise grading.LessonError(f"Lesson 08: {error} (step 1)") from None


def load_compose() -> docker.Compose:
    """Your compose.yaml, parsed: anchors and merge keys resolved, every spelling normalised."""
    path = folder() / "compose.yaml"
    if not path.is_file():
        raise _missing("compose.yaml")
    try:
        return docker.load_compose(path)
    except docker.ParseError as error:
        raise grading.LessonError(f"Lesson 08: {error} (step 5)") from None


@pytest.fixture
def files() -> docker.Files:
    """Your Dockerfile, compose.yaml and .dockerignore, each parsed when a rule first reads it."""
    return docker.Files(folder(), load_dockerfile, load_compose)


def apply_rules(request: pytest.FixtureRequest, files: docker.Files) -> None:
    """The check's rules (by its name, from RULES): `Lesson 08: <file>:<line>: <what is wrong> (step N)`."""
    marker = request.node.get_closest_marker("step")
    step = marker.args[0] if marker else "?"
    found = docker.first_problem(request.node.originalname, files)
    if found is not None:
        name, problem = found
        raise grading.LessonError(f"Lesson 08: {problem.where(name)}: {problem.text} (step {step})")
