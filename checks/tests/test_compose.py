"""The Docker reader (workshop.docker) and the repository's docker-compose.yml, read without an engine.

The top-level docker-compose.yml gives learners PostgreSQL (and Redis) in containers, and runs
the finished service under the `service` profile. It is held to the rules lesson 08 teaches,
and its credentials must match the WORKSHOP_DATABASE_URL that the README documents.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from urllib.parse import urlsplit

import pytest

from workshop.graders import docker
from workshop.lessons import REPO, SOLUTIONS

COMPOSE = REPO / "docker-compose.yml"


@pytest.fixture(scope="module")
def workshop_compose() -> docker.Compose:
    return docker.load_compose(COMPOSE)


# --- the repository's docker-compose.yml ----------------------------------------------------


def test_the_database_is_postgres_18_on_a_named_volume_with_a_healthcheck(workshop_compose: docker.Compose) -> None:
    assert docker.postgres_volume_problem(workshop_compose) is None
    assert docker.postgres_healthcheck_problem(workshop_compose) is None


def test_redis_has_a_healthcheck(workshop_compose: docker.Compose) -> None:
    assert docker.redis_problem(workshop_compose) is None


def test_the_databases_ports_are_published_on_localhost_only(workshop_compose: docker.Compose) -> None:
    for service in (*workshop_compose.with_image("postgres"), *workshop_compose.with_image("redis")):
        ports = [str(port) for port in service.raw.get("ports") or []]
        assert ports, f"{service.name} publishes no port: the checks on the host cannot reach it"
        assert all(port.startswith("127.0.0.1:") for port in ports), f"{service.name} listens beyond this machine"


def test_the_service_profile_runs_the_finished_service_after_its_migrations(workshop_compose: docker.Compose) -> None:
    app = workshop_compose.app(profile="service")
    assert app is not None, "no service under the `service` profile builds the app"
    assert app.raw["build"] == "lessons/08"
    assert docker.start_order_problem(workshop_compose, app) is None
    assert docker.migration_problem(workshop_compose, app) is None
    # `docker compose up db` must not build anything: only the profile's services build.
    assert all("service" in s.profiles for s in workshop_compose.services.values() if s.builds)


def _documented_urls() -> list[str]:
    text = "\n".join(
        path.read_text(encoding="utf-8")
        for path in (REPO / "README.md", REPO / ".env.example", COMPOSE, REPO / "checks/workshop/cli.py")
    )
    return re.findall(r"WORKSHOP_DATABASE_URL=(postgresql[+\w]*://[^\s\"'`)]+)", text)


def test_the_documented_workshop_database_url_reaches_the_compose_database(workshop_compose: docker.Compose) -> None:
    (db,) = workshop_compose.with_image("postgres")
    env = db.environment
    published = str((db.raw.get("ports") or [""])[0]).split(":")
    urls = _documented_urls()
    assert urls, "the README documents no WORKSHOP_DATABASE_URL"
    for url in urls:
        parts = urlsplit(url)
        assert (parts.username, parts.password) == (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"]), url
        assert parts.hostname == "localhost" and str(parts.port) == published[1], url
        # The checks create a database per run from the one the URL names: the maintenance database.
        assert parts.path == "/postgres", url


# --- the service's own project (lesson 07 on), which lesson 08's image installs ---------------

# The lessons whose solution holds the service's pyproject.toml and uv.lock (07 made it; 09 adds to it).
SERVICE_PROJECTS = sorted(path.parent.name for path in SOLUTIONS.glob("*/pyproject.toml"))


@pytest.mark.skipif(shutil.which("uv") is None, reason="uv is not on PATH")
@pytest.mark.parametrize("number", SERVICE_PROJECTS)
def test_the_service_lock_matches_its_pyproject(number: str) -> None:
    folder = SOLUTIONS / number
    assert (folder / "uv.lock").is_file(), f"solutions/{number} has a pyproject.toml and no uv.lock"
    done = subprocess.run(
        ["uv", "lock", "--check", "--directory", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"run `uv lock` in a copy of solutions/{number}:\n" + done.stderr


# --- the reader: one rule, many spellings ---------------------------------------------------

DOCKERFILE = """\
# syntax=docker/dockerfile:1
FROM python:3.13-slim AS build
COPY --from=ghcr.io/astral-sh/uv:0.9.5 /uv /bin/
ENV UV_LINK_MODE=copy \\
    UV_COMPILE_BYTECODE=1
WORKDIR /app
RUN --mount=type=cache,target=/root/.cache/uv \\
    # a comment inside a continued instruction
    --mount=type=bind,source=uv.lock,target=uv.lock \\
    uv sync --locked --no-dev --no-install-project
COPY . /app

FROM python:3.13-slim
RUN useradd --system app
COPY --from=build --chown=app:app /app /app
USER app
HEALTHCHECK CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"]
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]
"""


def _df(text: str) -> docker.Dockerfile:
    return docker.parse_dockerfile_text(text)


def test_a_good_dockerfile_passes_every_rule() -> None:
    parsed = _df(DOCKERFILE)
    assert [stage.label for stage in parsed.stages] == ["build", "1"]
    run = parsed.stages[0].find("RUN")[0]
    assert run.line == 7
    assert [m["type"] for m in run.mounts()] == ["cache", "bind"]
    for rule in (
        docker.multi_stage_problem,
        docker.uv_image_problem,
        docker.uv_sync_problem,
        docker.cache_mount_problem,
        docker.layering_problem,
        docker.non_root_problem,
        docker.exec_form_problem,
        docker.listen_problem,
        docker.healthcheck_problem,
    ):
        assert rule(parsed) is None, rule.__name__


def test_exec_form_run_is_read_like_the_shell_form() -> None:
    exec_form = DOCKERFILE.replace(
        "    uv sync --locked --no-dev --no-install-project",
        '    ["uv", "sync", "--locked", "--no-install-project"]',
    )
    problem = docker.uv_sync_problem(_df(exec_form))
    assert problem is not None and problem.line == 7 and "--no-dev" in problem.text


@pytest.mark.parametrize(
    ("find", "replace", "rule", "expected"),
    [
        ("uv:0.9.5", "uv:latest", docker.uv_image_problem, "not pinned"),
        ("--locked", "--frozen", docker.uv_sync_problem, "--frozen"),
        ("--mount=type=cache,target=/root/.cache/uv", "--mount=type=tmpfs,target=/tmp", docker.cache_mount_problem, ""),
        ("UV_LINK_MODE=copy", "UV_LINK_MODE=hardlink", docker.cache_mount_problem, "UV_LINK_MODE"),
        ("USER app", "USER root", docker.non_root_problem, "root"),
        ("useradd --system app", "true", docker.non_root_problem, "never creates"),
        (
            'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]',
            "CMD uvicorn app.main:app",
            docker.exec_form_problem,
            "",
        ),
        ('"--host", "0.0.0.0"', '"--port", "8000"', docker.listen_problem, "0.0.0.0"),
        ('["python", "-c"', '["curl", "-f"', docker.healthcheck_problem, "curl"),
        ("FROM python:3.13-slim\n", "FROM python:3.12-slim\n", docker.multi_stage_problem, "same image"),
    ],
)
def test_each_rule_names_the_mistake(find: str, replace: str, rule: object, expected: str) -> None:
    assert find in DOCKERFILE
    problem = rule(_df(DOCKERFILE.replace(find, replace)))  # type: ignore[operator]
    assert problem is not None and expected in problem.text


def test_copying_the_code_before_installing_the_dependencies_is_refused() -> None:
    text = DOCKERFILE.replace("WORKDIR /app\n", "WORKDIR /app\nCOPY . /app\n")
    problem = docker.layering_problem(_df(text))
    assert problem is not None and problem.line == 7


def test_dockerignore_patterns_follow_docker() -> None:
    patterns = ["**/__pycache__", ".venv", "*.md", "!README.md", ".env"]
    assert docker.is_ignored(patterns, "app/api/__pycache__/x.pyc")
    assert docker.is_ignored(patterns, ".venv/bin/python")
    assert docker.is_ignored(patterns, "NOTES.md") and not docker.is_ignored(patterns, "README.md")
    assert not docker.is_ignored(patterns, ".env.example")
    assert not docker.is_ignored(["__pycache__"], "app/__pycache__/x.pyc")  # a bare name is anchored at the root


COMPOSE_LONG = """\
x-app: &app
  build: .
  env_file:
    - path: .env
      required: true
services:
  db:
    image: docker.io/library/postgres:18.1
    env_file: [.env]
    volumes:
      - type: volume
        source: data
        target: /var/lib/postgresql
    healthcheck:
      test: pg_isready -U ledger
  cache:
    image: redis:8-alpine
    healthcheck: {test: ["CMD-SHELL", "redis-cli ping | grep PONG"]}
  app:
    <<: *app
    command: sh -c "alembic upgrade head && exec uvicorn app.main:app --host 0.0.0.0"
    depends_on:
      db: {condition: service_healthy}
      cache: {condition: service_healthy}
volumes:
  data: {}
"""


def test_long_syntax_anchors_and_a_migrating_command_pass() -> None:
    compose = docker.load_compose_text(COMPOSE_LONG)
    app = compose.app()
    assert app is not None and app.name == "app"
    assert app.env_files == [(".env", True)]
    assert docker.postgres_volume_problem(compose) is None
    assert docker.postgres_healthcheck_problem(compose) is None
    assert docker.redis_problem(compose) is None
    assert docker.env_file_problem(compose, app) is None
    assert docker.database_password_problem(compose) is None
    assert docker.start_order_problem(compose, app) is None
    assert docker.migration_problem(compose, app) is None


def test_a_depends_on_list_only_waits_for_a_start() -> None:
    text = COMPOSE_LONG.replace(
        "    depends_on:\n      db: {condition: service_healthy}\n      cache: {condition: service_healthy}\n",
        "    depends_on: [db, cache]\n",
    )
    compose = docker.load_compose_text(text)
    problem = docker.start_order_problem(compose, compose.app())
    assert problem is not None and "list" in problem.text and problem.line == 22


def test_the_old_postgres_data_path_and_a_bind_mount_are_refused() -> None:
    old = docker.load_compose_text(
        COMPOSE_LONG.replace("target: /var/lib/postgresql", "target: /var/lib/postgresql/data")
    )
    problem = docker.postgres_volume_problem(old)
    assert problem is not None and "/var/lib/postgresql/18/docker" in problem.text
    short = COMPOSE_LONG.replace(
        "      - type: volume\n        source: data\n        target: /var/lib/postgresql\n",
        "      - ./pgdata:/var/lib/postgresql\n",
    )
    problem = docker.postgres_volume_problem(docker.load_compose_text(short))
    assert problem is not None and "named volume" in problem.text


def test_a_password_written_in_the_file_is_refused() -> None:
    text = COMPOSE_LONG.replace("    env_file: [.env]\n", "    environment:\n      POSTGRES_PASSWORD: hunter2\n")
    problem = docker.database_password_problem(docker.load_compose_text(text))
    assert problem is not None and "POSTGRES_PASSWORD" in problem.text
    interpolated = text.replace("hunter2", "${POSTGRES_PASSWORD:?}")
    assert docker.database_password_problem(docker.load_compose_text(interpolated)) is None


def test_a_yaml_error_names_its_line() -> None:
    with pytest.raises(docker.ParseError, match=r"^compose.yaml:\d+: not valid YAML"):
        docker.load_compose_text("services:\n  db:\n    image: [postgres\n")
