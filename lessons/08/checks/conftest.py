"""Shared by lesson 08's checks: your Dockerfile, .dockerignore and compose.yaml, read without Docker.

The files are parsed, never run (except by the one check that needs a Docker engine): each
check applies a rule of `workshop.graders.docker` (and, where that rule lets a mistake through, one of this
lesson's own `rules`) and turns what it finds into a lesson message.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from workshop import grading
from workshop.graders import docker

from . import rules

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


@pytest.fixture
def dockerfile() -> docker.Dockerfile:
    """Your Dockerfile, parsed: its stages and their instructions."""
    path = folder() / "Dockerfile"
    if not path.is_file():
        raise _missing("Dockerfile")
    try:
        return docker.parse_dockerfile(path)
    except docker.ParseError as error:
        raise grading.LessonError(f"Lesson 08: {error} (step 1)") from None


@pytest.fixture
def compose() -> docker.Compose:
    """Your compose.yaml, parsed: anchors and merge keys resolved, every spelling normalised."""
    path = folder() / "compose.yaml"
    if not path.is_file():
        raise _missing("compose.yaml")
    try:
        return docker.load_compose(path)
    except docker.ParseError as error:
        raise grading.LessonError(f"Lesson 08: {error} (step 5)") from None


@pytest.fixture
def app_service(compose: docker.Compose) -> docker.Service | None:
    """The service that runs the app: the one named `app`, else the first one that builds (build: .)."""
    return compose.app()


def file_problems(dockerfile: docker.Dockerfile, compose: docker.Compose) -> list[str]:
    """Every rule's finding, for the check that builds the image once the files are right."""
    app = compose.app()
    found = [
        ("Dockerfile", rule(dockerfile))
        for rule in (
            docker.uv_image_problem,
            docker.uv_sync_problem,
            docker.cache_mount_problem,
            docker.layering_problem,
            docker.multi_stage_problem,
            docker.non_root_problem,
            docker.exec_form_problem,
            docker.listen_problem,
            docker.healthcheck_problem,
        )
    ]
    found += [
        ("Dockerfile", rule(dockerfile))
        for rule in (
            rules.bytecode_problem,
            rules.python_downloads_problem,
            rules.venv_copy_problem,
            rules.root_uid_problem,
            rules.shell_pid1_problem,
            rules.reloader_problem,
            rules.healthcheck_tool_problem,
            rules.healthcheck_can_fail_problem,
        )
    ]
    ignore = folder() / ".dockerignore"
    found += [
        (".dockerignore", problem)
        for problem in (
            rules.needed_files_problem(ignore),
            docker.dockerignore_problem(ignore),
            rules.not_shipped_problem(ignore),
        )
    ]
    baked = rules.baked_secret_problem(dockerfile, ignore)
    if baked is not None:
        found.append(baked)
    found += [
        ("compose.yaml", problem)
        for problem in (
            rules.old_postgres_problem(compose),
            docker.postgres_volume_problem(compose),
            docker.postgres_healthcheck_problem(compose),
            docker.redis_problem(compose),
            docker.env_file_problem(compose, app),
            rules.written_secret_problem(compose),
            docker.database_password_problem(compose),
            docker.start_order_problem(compose, app),
            docker.migration_problem(compose, app, dockerfile),
            rules.healthcheck_swallow_problem(compose, next(iter(compose.with_image("postgres")), None)),
            rules.healthcheck_swallow_problem(compose, next(iter(compose.with_image("redis", "valkey")), None)),
            rules.secret_default_problem(compose),
            rules.database_host_problem(compose, app),
            rules.published_port_problem(compose, app),
            rules.migration_restart_problem(compose, app, dockerfile),
            rules.migration_failure_problem(compose, app, dockerfile),
        )
    ]
    return [f"{problem.where(name)}: {problem.text}" for name, problem in found if problem is not None]
