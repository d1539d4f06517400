"""The rules lesson 08 teaches, applied to a Dockerfile, a .dockerignore and a Compose file.

Each rule reads the parsed files and returns the first `Problem` it finds (a line and a sentence),
or None. `RULES` is the one table of them: which check of lesson 08 applies each rule, to which
file, for which README step. Lesson 08's checks look their rules up by name (`first_problem`), the
engine-gated build check asks for all of them (`all_problems`), and the workshop's own suite
applies them to the repository's docker-compose.yml.

A rule returns None when another rule already reports what is missing (no final stage, no CMD,
no migrate service…): each mistake is taught by one check.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import yaml  # type: ignore[import-untyped, unused-ignore]

from workshop.graders.docker.compose import Compose, Service
from workshop.graders.docker.dockerfile import (
    UV_IMAGE,
    Dockerfile,
    Instruction,
    Stage,
    dockerignore_patterns,
    is_ignored,
)

_PINNED_UV = re.compile(rf"^{re.escape(UV_IMAGE)}(?::\d+\.\d+\.\d+[\w.-]*)?(?:@sha256:[0-9a-f]{{64}})?$")
_UV_TAG = re.compile(rf"^{re.escape(UV_IMAGE)}:\d+\.\d+\.\d+")


@dataclass(frozen=True)
class Problem:
    line: int  # 0 when it concerns the whole file
    text: str

    def where(self, name: str) -> str:
        return f"{name}:{self.line}" if self.line else name


def _uv_syncs(dockerfile: Dockerfile) -> list[tuple[Stage, Instruction]]:
    return [
        (stage, run)
        for stage, run in dockerfile.instructions("RUN")
        if re.search(r"(^|[\s/;&|])uv\s+sync\b", " ".join(run.command.words()) + " " + run.command.text)
    ]


def _stage_names(dockerfile: Dockerfile) -> set[str]:
    return {stage.label for stage in dockerfile.stages}


def multi_stage_problem(dockerfile: Dockerfile) -> Problem | None:
    """A build stage installs; the final stage copies the result from it."""
    final = dockerfile.final
    if final is None:
        return Problem(0, "has no FROM instruction")
    if len(dockerfile.stages) < 2:
        return Problem(final.line, "has a single stage; build in one (FROM … AS build) and run in another")
    earlier = {stage.label for stage in dockerfile.stages[:-1]}
    copies = [copy for copy in final.find("COPY") if set(copy.flag("from")) & earlier]
    if not copies:
        first = dockerfile.stages[0].label
        return Problem(
            final.line, f"the final stage copies nothing from the build stage; add COPY --from={first} /app /app"
        )
    source = next(stage for stage in dockerfile.stages if stage.label in copies[0].flag("from"))
    if source.base != final.base and source.base.startswith("python:") and final.base.startswith("python:"):
        return Problem(
            final.line,
            f"the build stage is {source.base} and the final stage {final.base}: the copied .venv points at the "
            "build stage's Python, so use the same image in both",
        )
    return None


def uv_image_problem(dockerfile: Dockerfile) -> Problem | None:
    """uv comes from the pinned ghcr.io/astral-sh/uv image: a version (and digest) you chose."""
    sources: list[tuple[int, str]] = []
    for _stage, found in dockerfile.instructions("COPY", "RUN"):
        sources += [(found.line, image) for image in found.flag("from") if image.startswith(UV_IMAGE)]
        sources += [(found.line, m.get("from", "")) for m in found.mounts() if m.get("from", "").startswith(UV_IMAGE)]
    sources += [(stage.line, stage.base) for stage in dockerfile.stages if stage.base.startswith(UV_IMAGE)]
    if not sources:
        return Problem(0, f"never takes uv from {UV_IMAGE}; add COPY --from={UV_IMAGE}:<version> /uv /uvx /bin/")
    for line, image in sources:
        if not (_PINNED_UV.match(image) and (_UV_TAG.match(image) or "@sha256:" in image)):
            return Problem(
                line,
                f"{image} is not pinned: a build next month would get another uv; name an exact version, "
                f"{UV_IMAGE}:X.Y.Z with the X.Y.Z that `uv --version` prints (optionally with @sha256:…)",
            )
    return None


def uv_sync_problem(dockerfile: Dockerfile) -> Problem | None:
    """Every `uv sync` installs exactly the lock (--locked), without the dev dependencies."""
    syncs = _uv_syncs(dockerfile)
    if not syncs:
        return Problem(0, "never runs uv sync; install the locked dependencies with uv sync --locked --no-dev")
    for stage, run in syncs:
        words = run.command.words()
        env = stage.env()
        if "--locked" not in words and env.get("UV_LOCKED") not in {"1", "true"}:
            why = " (--frozen installs a stale lock without a word)" if "--frozen" in words else ""
            return Problem(run.line, f"uv sync without --locked: the build must fail when uv.lock is stale{why}")
        if "--no-dev" not in words and env.get("UV_NO_DEV") not in {"1", "true"}:
            return Problem(run.line, "uv sync installs the dev dependencies (pytest, …) into the image; add --no-dev")
    return None


def cache_mount_problem(dockerfile: Dockerfile) -> Problem | None:
    """Every `uv sync` gets uv's cache from a BuildKit cache mount, copied not linked."""
    syncs = _uv_syncs(dockerfile)
    if not syncs:
        return Problem(0, "never runs uv sync, so there is nothing to cache yet")
    for stage, run in syncs:
        cache_dir = stage.env().get("UV_CACHE_DIR", "/root/.cache/uv").rstrip("/")
        targets = [m.get("target", "").rstrip("/") for m in run.mounts() if m.get("type") == "cache"]
        if cache_dir not in targets:
            return Problem(
                run.line,
                f"uv sync has no cache mount for uv's cache; add --mount=type=cache,target={cache_dir}",
            )
        if stage.env().get("UV_LINK_MODE") != "copy":
            return Problem(
                run.line,
                "uv's cache is a mount, so uv cannot hard-link from it; set ENV UV_LINK_MODE=copy in this stage",
            )
    return None


def layering_problem(dockerfile: Dockerfile) -> Problem | None:
    """The dependencies get a layer of their own (--no-install-project) before the code is copied."""
    syncs = _uv_syncs(dockerfile)
    if not syncs:
        return Problem(0, "never runs uv sync; install the dependencies before copying the code")
    stage, first = syncs[0]
    if "--no-install-project" not in first.command.words():
        return Problem(
            first.line,
            "the first uv sync should install only the dependencies (--no-install-project), "
            "with pyproject.toml and uv.lock bind-mounted, so a code change does not reinstall them",
        )
    for copy in stage.find("COPY", "ADD"):
        if copy.line < first.line and not copy.flag("from"):
            sources = copy.text.split()[:-1]
            if any(source.rstrip("/") in {".", "app", "./app"} for source in sources):
                return Problem(
                    copy.line,
                    "the code is copied before the dependencies are installed, so every code change "
                    "reinstalls them; copy the code after the first uv sync",
                )
    return None


def _creates_user(stage: Stage, user: str) -> bool:
    for run in stage.find("RUN"):
        words = run.command.words()
        for command in ("useradd", "adduser"):
            if command in words and user in words[words.index(command) + 1 :]:
                return True
    return False


def non_root_problem(dockerfile: Dockerfile) -> Problem | None:
    """The final stage runs as a user created for it, never as root."""
    final = dockerfile.final
    if final is None:
        return Problem(0, "has no FROM instruction")
    user = final.last("USER")
    if user is None:
        return Problem(final.line, "the final stage runs as root; add a user (useradd) and switch to it with USER")
    name = user.text.split(":")[0].strip()
    if name in {"root", "0"}:
        return Problem(user.line, "the final stage switches to root; end it with USER and a non-root user")
    if not name.isdigit() and not _creates_user(final, name):
        return Problem(user.line, f"USER {name}, but the final stage never creates {name}; add RUN useradd … {name}")
    command = final.last("CMD", "ENTRYPOINT")
    if command is not None and command.line < user.line:
        return Problem(user.line, "USER comes after CMD; switch user before the command it should run")
    return None


def _start_command(dockerfile: Dockerfile) -> Instruction | None:
    final = dockerfile.final
    return final.last("ENTRYPOINT", "CMD") if final else None


def exec_form_problem(dockerfile: Dockerfile) -> Problem | None:
    """The container's command is in exec form (JSON), so the server is PID 1 and gets SIGTERM."""
    final = dockerfile.final
    if final is None:
        return Problem(0, "has no FROM instruction")
    found = final.find("CMD", "ENTRYPOINT")
    if not found:
        return Problem(final.line, 'the final stage has no CMD; add CMD ["uvicorn", "app.main:app", …]')
    for command in found:
        if not command.command.exec_form:
            return Problem(
                command.line,
                f"{command.keyword} is in shell form, so /bin/sh is PID 1 and `docker stop` never reaches the "
                f'server (it is killed after 10 s); write it as JSON: {command.keyword} ["uvicorn", …]',
            )
    return None


def listen_problem(dockerfile: Dockerfile) -> Problem | None:
    """The server listens on all interfaces inside the container, or no port mapping reaches it."""
    command = _start_command(dockerfile)
    if command is None:
        return Problem(0, 'has no CMD; add CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]')
    words = command.command.words()
    if not any(word in {"uvicorn", "fastapi", "gunicorn"} or word.endswith("/uvicorn") for word in words):
        return Problem(command.line, f"{command.keyword} does not start uvicorn; serve app.main:app with uvicorn")
    if "uvicorn" in " ".join(words) and "fastapi" not in words:
        host = next((words[i + 1] for i, word in enumerate(words[:-1]) if word == "--host"), None)
        host = host or next((word.split("=", 1)[1] for word in words if word.startswith("--host=")), None)
        if host not in {"0.0.0.0", "::"}:
            return Problem(
                command.line,
                "uvicorn listens on 127.0.0.1 by default: inside a container that is unreachable from outside; "
                "add --host 0.0.0.0",
            )
    return None


def healthcheck_problem(dockerfile: Dockerfile) -> Problem | None:
    """A HEALTHCHECK in Python (slim images have no curl) asks the app's /health."""
    final = dockerfile.final
    if final is None:
        return Problem(0, "has no FROM instruction")
    check = final.last("HEALTHCHECK")
    if check is None:
        return Problem(final.line, "the final stage has no HEALTHCHECK; ask /health with Python's urllib")
    if check.text.upper() == "NONE":
        return Problem(check.line, "HEALTHCHECK NONE switches the health check off; ask /health instead")
    words = check.command.words()
    if any(tool in words for tool in ("curl", "wget")):
        return Problem(check.line, "the slim Python image has no curl or wget; write the health check in Python")
    if not words or not re.search(r"(^|/)python3?(\.\d+)?$", words[0]):
        return Problem(check.line, 'the HEALTHCHECK should run Python: CMD ["python", "-c", "…urllib…/health…"]')
    script = check.command.text
    if "/health" not in script and not any(word.endswith(".py") for word in words[1:]):
        return Problem(check.line, "the HEALTHCHECK does not ask /health, the route that checks the database")
    return None


# Paths that must stay out of every build context: an example path, what it is, a pattern that leaves it out.
MUST_IGNORE = (
    (".venv/bin/python", "your machine's .venv (the image builds its own)", ".venv"),
    (".env", "the .env file, with its passwords (an image is shared, and its layers keep every file)", ".env"),
    ("app/__pycache__/main.cpython-313.pyc", "bytecode caches in every folder", "**/__pycache__"),
)


# Paths the image needs: a pattern that leaves them out breaks the build or the app.
MUST_KEEP = ("pyproject.toml", "uv.lock", "app/main.py", "alembic.ini", "migrations/env.py")


def dockerignore_problem(path: Path) -> Problem | None:
    if not path.is_file():
        return Problem(0, "is missing; create it next to the Dockerfile")
    patterns = dockerignore_patterns(path.read_text(encoding="utf-8"))
    for example, what, pattern in MUST_IGNORE:
        if not is_ignored(patterns, example):
            return Problem(0, f"lets {what} into the build context: {example} is not ignored; add {pattern}")
    for needed in MUST_KEEP:
        if is_ignored(patterns, needed):
            return Problem(0, f"leaves out {needed}, which the image needs; narrow the pattern that matches it")
    return None


def _tag(image: str) -> str:
    return image.split("@")[0].rsplit("/", 1)[-1].partition(":")[2]


def _database(compose: Compose) -> Service | Problem:
    found = compose.with_image("postgres")
    if not found:
        return Problem(compose.line("services"), "has no PostgreSQL service; add one with image: postgres:18")
    return found[0]


def postgres_volume_problem(compose: Compose) -> Problem | None:
    """PostgreSQL 18 keeps its data on a named volume mounted at /var/lib/postgresql."""
    db = _database(compose)
    if isinstance(db, Problem):
        return db
    line = compose.line("services", db.name)
    if not re.match(r"^18(\b|[.-])", _tag(db.image)):
        return Problem(compose.line("services", db.name, "image"), f"{db.image} is not PostgreSQL 18; use postgres:18")
    data = [volume for volume in db.volumes if volume.target.rstrip("/").startswith("/var/lib/postgresql")]
    if not data:
        return Problem(line, f"{db.name} keeps its data in the container: mount a named volume at /var/lib/postgresql")
    volume = data[0]
    where = compose.line("services", db.name, "volumes")
    if volume.target.rstrip("/") != "/var/lib/postgresql":
        return Problem(
            where,
            f"the volume is mounted at {volume.target}; postgres:18 keeps its data in /var/lib/postgresql/18/docker, "
            "so mount it at /var/lib/postgresql",
        )
    if volume.type != "volume" or not volume.source:
        return Problem(where, "the data volume is not a named volume; write pgdata:/var/lib/postgresql")
    if volume.source not in compose.volumes:
        return Problem(where, f"the named volume {volume.source} is not declared under the top-level volumes:")
    return None


def postgres_healthcheck_problem(compose: Compose) -> Problem | None:
    """PostgreSQL reports healthy only when it accepts connections: pg_isready."""
    db = _database(compose)
    if isinstance(db, Problem):
        return db
    check = db.healthcheck
    if check is None or "pg_isready" not in check:
        return Problem(compose.line("services", db.name), f"{db.name} has no healthcheck that runs pg_isready; add one")
    return None


def database_password_problem(compose: Compose) -> Problem | None:
    """PostgreSQL gets POSTGRES_PASSWORD from .env (the image refuses to start without one), never from the file."""
    db = _database(compose)
    if isinstance(db, Problem):
        return db
    line = compose.line("services", db.name)
    value = db.environment.get("POSTGRES_PASSWORD")
    from_env_file = any(Path(path).name == ".env" for path, _ in db.env_files)
    if value is None and not from_env_file:
        return Problem(
            line,
            f"{db.name} gets no POSTGRES_PASSWORD, and the postgres image refuses to start without one; "
            "add env_file: .env (the password lives in .env)",
        )
    return secret_problem(compose)


def redis_problem(compose: Compose) -> Problem | None:
    """Redis, with a `redis-cli ping` healthcheck."""
    found = compose.with_image("redis", "valkey")
    if not found:
        return Problem(compose.line("services"), "has no Redis service; add one with image: redis:8")
    redis = found[0]
    check = redis.healthcheck or ""
    if not re.search(r"(redis|valkey)-cli\b.*\bping\b", check):
        return Problem(
            compose.line("services", redis.name), f"{redis.name} has no healthcheck that runs redis-cli ping"
        )
    return None


def start_order_problem(compose: Compose, app: Service | None) -> Problem | None:
    """The app waits for PostgreSQL and Redis to be healthy, not merely started."""
    if app is None:
        return Problem(compose.line("services"), "has no service that builds the app (build: .)")
    needed = [service.name for service in compose.with_image("postgres", "redis", "valkey")]
    depends = app.depends_on
    line = compose.line("services", app.name, "depends_on") or compose.line("services", app.name)
    for name in needed:
        if name not in depends:
            return Problem(line, f"{app.name} does not depend on {name}; add it under depends_on")
        if depends[name].get("short"):
            return Problem(
                line,
                f"depends_on is a list, which only waits for {name}'s container to start; "
                f"write it as a mapping with condition: service_healthy",
            )
        if depends[name].get("condition") != "service_healthy":
            return Problem(line, f"{app.name} waits for {name} with {depends[name]['condition']}; use service_healthy")
    return None


def migration_problem(compose: Compose, app: Service | None, dockerfile: Dockerfile | None = None) -> Problem | None:
    """`alembic upgrade head` runs, on a healthy database, and finishes before the app starts."""
    if app is None:
        return Problem(compose.line("services"), "has no service that builds the app (build: .)")
    if "alembic upgrade head" in app.runs():
        return None  # the app's own command migrates first (e.g. sh -c "alembic upgrade head && exec uvicorn …")
    start = _start_command(dockerfile) if dockerfile is not None else None
    if start is not None and app.command is None and "alembic upgrade head" in start.command.text:
        return None
    migrators = [s for s in compose.services.values() if "alembic upgrade head" in s.runs() and s is not app]
    line = compose.line("services", app.name)
    if not migrators:
        return Problem(line, "nothing runs `alembic upgrade head`: add a migrate service that the app waits for")
    migrate = migrators[0]
    databases = [service.name for service in compose.with_image("postgres")]
    for name in databases:
        if migrate.depends_on.get(name, {}).get("condition") != "service_healthy":
            return Problem(
                compose.line("services", migrate.name),
                f"{migrate.name} may run before {name} accepts connections; "
                "depend on it with condition: service_healthy",
            )
    condition = app.depends_on.get(migrate.name, {}).get("condition")
    if condition != "service_completed_successfully":
        return Problem(
            compose.line("services", app.name, "depends_on") or line,
            f"{app.name} does not wait for {migrate.name} to finish; depend on it with "
            "condition: service_completed_successfully",
        )
    return None


def env_file_problem(compose: Compose, app: Service | None) -> Problem | None:
    """The app (and its migrations) read their configuration from .env."""
    if app is None:
        return Problem(compose.line("services"), "has no service that builds the app (build: .)")
    users = [app] + [s for s in compose.services.values() if s.migrates_only and s is not app]
    for service in users:
        if not any(Path(path).name == ".env" for path, _ in service.env_files):
            return Problem(
                compose.line("services", service.name), f"{service.name} does not read .env; add env_file: .env"
            )
    return None


_SECRET = re.compile(r"(PASSWORD|SECRET|TOKEN)", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"://[^:/@\s]+:(?P<password>[^@\s]+)@")


def secret_problem(compose: Compose) -> Problem | None:
    """No password or secret key is written in the Compose file: they come from .env."""
    for service in compose.services.values():
        for name, value in service.environment.items():
            if value is None or value.startswith("${"):
                continue
            password = _URL_PASSWORD.search(value)
            if _SECRET.search(name) or (password and not password["password"].startswith("${")):
                return Problem(
                    compose.line("services", service.name, "environment"),
                    f"{service.name} has {name} written in the file, and so in git; put it in .env "
                    "(env_file: .env), or refer to it as ${VARIABLE}",
                )
    return None


# --- more rules of the lesson ----------------------------------------------------------------

SHELLS = {"sh", "bash", "dash", "ash", "zsh"}
SERVERS = ("uvicorn", "fastapi", "gunicorn")
# A variable that holds a secret, by its name (Docker's own build check SecretsUsedInArgOrEnv reads names too).
SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|(^|_)KEY(_|$)", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"://[^:/@\s]+:(?P<password>[^@\s]+)@")
# `${NAME-default}` or `${NAME:-default}`: Compose's interpolation with a default written in the file.
_DEFAULTED = re.compile(r"(?<!\$)\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?-)(?P<default>[^}]*)\}")
_INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)?[^}]*\}")
# What makes a failing command look like a success: `|| true`, `|| exit 0`, `|| :`, `; exit 0` at the end.
# (A bare `exit` keeps the failed command's status: not swallowed.)
_SWALLOWED = re.compile(r"\|\|\s*(true|:|exit\s+0|echo\b[^;&|]*)\s*(\)|$|;|&&)|;\s*(true|exit\s+0)\s*$")
_PY_SWALLOWED = re.compile(r"except\b[^:]*:\s*(pass|\.\.\.|None|(sys\.)?exit\(\s*0?\s*\))")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def _shell_script(argv: tuple[str, ...] | list[str]) -> str | None:
    """The script of `sh -c "…"` (or bash -lc …); None when argv does not start a shell with -c."""
    if not argv or PurePosixPath(argv[0]).name not in SHELLS:
        return None
    for index, word in enumerate(argv[1:], start=1):
        if word.startswith("-") and "c" in word and not word.startswith("--"):
            return argv[index + 1] if index + 1 < len(argv) else ""
    return None


def swallowed(script: str) -> str | None:
    """The part of a shell command (or a python -c script) that turns a failure into exit status 0."""
    for pattern in (_SWALLOWED, _PY_SWALLOWED):
        found = pattern.search(script.strip())
        if found:
            return found.group(0).strip()
    return None


# --- Dockerfile ----------------------------------------------------------------------------


def shell_pid1_problem(dockerfile: Dockerfile) -> Problem | None:
    """An exec-form command that starts a shell (`["sh", "-c", "uvicorn …"]`) still makes the shell PID 1."""
    final = dockerfile.final
    if final is None:
        return None
    entrypoint, command = final.last("ENTRYPOINT"), final.last("CMD")
    started = [found for found in (entrypoint, command) if found is not None]
    if not started or not all(found.command.exec_form for found in started):
        return None  # no command, or shell form: exec_form_problem says so
    argv = [word for found in started for word in found.command.argv]
    script = _shell_script(argv)
    if script is None:
        return None
    if re.search(r"\bexec\s+(\S*/)?(" + "|".join(SERVERS) + r")\b", script):
        return None  # the script's last word hands PID 1 to the server
    line = started[0].line
    return Problem(
        line,
        f'the command is JSON, but it starts {argv[0]} -c "…": the shell is PID 1, it does not pass SIGTERM '
        "on, and `docker stop` kills the server after 10 s; make the server itself the first word of the list",
    )


def _build_stage(dockerfile: Dockerfile) -> tuple[Stage, list[Instruction]] | None:
    """The stage that runs uv sync (the first stage while none does yet), and its uv syncs."""
    syncs = _syncs(dockerfile)
    if syncs:
        stage = syncs[-1][0]
        return stage, [run for found, run in syncs if found is stage]
    return (dockerfile.stages[0], []) if dockerfile.stages else None


def _truthy(value: str | None) -> bool:
    return (value or "").strip().strip("\"'").lower() in {"1", "true", "yes", "on"}


def bytecode_problem(dockerfile: Dockerfile) -> Problem | None:
    """uv compiles the .pyc files in the build stage (UV_COMPILE_BYTECODE=1), not each container at its start."""
    found = _build_stage(dockerfile)
    if found is None:
        return None  # no FROM: multi_stage_problem says so
    stage, syncs = found
    if _truthy(stage.env().get("UV_COMPILE_BYTECODE")):
        return None
    if syncs and "--compile-bytecode" in syncs[-1].command.words():
        return None
    if syncs and "UV_COMPILE_BYTECODE=1" in syncs[-1].command.words():
        return None
    where = f"the {stage.label} stage" if stage.name else "the stage that runs uv sync"
    return Problem(
        stage.line,
        f"{where} never sets UV_COMPILE_BYTECODE=1: uv installs .py files only, so every new container "
        "compiles them again as it starts, and starts slower; compile them once, in the build",
    )


def python_downloads_problem(dockerfile: Dockerfile) -> Problem | None:
    """uv uses the image's own Python (UV_PYTHON_DOWNLOADS=0), never one it downloads into the build stage."""
    found = _build_stage(dockerfile)
    if found is None:
        return None
    stage, syncs = found
    env = stage.env()
    if env.get("UV_PYTHON_DOWNLOADS", "").strip("\"'").lower() in {"0", "false", "no", "never", "manual"}:
        return None
    if env.get("UV_PYTHON_PREFERENCE", "").strip("\"'") == "only-system" or env.get("UV_PYTHON", "").startswith("/"):
        return None
    words = syncs[-1].command.words() if syncs else []
    if "--no-python-downloads" in words or "UV_PYTHON_DOWNLOADS=0" in words:
        return None
    where = f"the {stage.label} stage" if stage.name else "the stage that runs uv sync"
    return Problem(
        stage.line,
        f"{where} never sets UV_PYTHON_DOWNLOADS=0: when the image's Python does not suit the project, uv "
        "downloads one into the build stage, and the .venv copied to the final stage points at an interpreter "
        "that is not there; make uv use the image's Python or stop",
    )


def reloader_problem(dockerfile: Dockerfile) -> Problem | None:
    """The image runs the server as in production: no --reload, no `fastapi dev`."""
    final = dockerfile.final
    if final is None:
        return None  # multi_stage_problem says so
    started = [found for found in (final.last("ENTRYPOINT"), final.last("CMD")) if found is not None]
    if not started:
        return Problem(final.line, "the final stage has no command yet: start uvicorn with CMD")
    words = [word for found in started for word in found.command.words()]
    reload = "--reload" if "--reload" in words else None
    dev = any(PurePosixPath(word).name == "fastapi" and words[i + 1 : i + 2] == ["dev"] for i, word in enumerate(words))
    if reload is None and not dev:
        return None
    said = f"uvicorn runs with {reload}" if reload else "the command is `fastapi dev`, which runs uvicorn with --reload"
    return Problem(
        started[-1].line,
        f"{said}: the development reloader becomes PID 1, watches every file and runs the server in a child "
        "process it restarts on each change; the code in an image never changes, so run the server without "
        "the reloader",
    )


_SEPARATORS = {"&&", "||", ";", "|", "&"}


def _commands(words: list[str]) -> list[list[str]]:
    """The simple commands of a shell line: `a x && b y; c` → [[a, x], [b, y], [c]]."""
    found: list[list[str]] = [[]]
    for word in words:
        if word in _SEPARATORS:
            found.append([])
            continue
        if word.rstrip(";"):
            found[-1].append(word.rstrip(";"))
        if word.endswith(";"):
            found.append([])
    return [command for command in found if command]


def _uid_zero(args: list[str]) -> bool:
    for index, word in enumerate(args):
        if word in {"-u", "--uid"} and args[index + 1 : index + 2] == ["0"]:
            return True
        if word in {"-u0", "--uid=0"}:
            return True
    return False


def root_uid_problem(dockerfile: Dockerfile) -> Problem | None:
    """The user the final stage switches to is not root under another name (uid 0)."""
    final = dockerfile.final
    user = final.last("USER") if final else None
    if final is None or user is None:
        return None  # non_root_problem says so
    name = user.text.split(":")[0].strip()
    for run in final.find("RUN"):
        for command in _commands(run.command.words()):
            tool = PurePosixPath(command[0]).name
            if tool in {"useradd", "adduser", "usermod"} and name in command[1:] and _uid_zero(command[1:]):
                return Problem(
                    run.line,
                    f"{tool} gives {name} the uid 0: the kernel knows users by their uid, not their name, so "
                    f"USER {name} runs as root under another name; let useradd --system choose the uid",
                )
    return None


_INSTALLERS = {"apt-get", "apt", "apk", "yum", "dnf", "microdnf"}


def _installs(stage: Stage, tool: str) -> Instruction | None:
    for run in stage.find("RUN"):
        for command in _commands(run.command.words()):
            if PurePosixPath(command[0]).name in _INSTALLERS and {"install", "add"} & set(command) and tool in command:
                return run
    return None


def healthcheck_tool_problem(dockerfile: Dockerfile) -> Problem | None:
    """A health check that needs curl or wget installed into the final stage, when the image's Python can ask."""
    final = dockerfile.final
    check = final.last("HEALTHCHECK") if final else None
    if final is None or check is None or check.text.upper() == "NONE":
        return None  # healthcheck_problem says so
    words = check.command.words()
    tool = next((word for word in words if PurePosixPath(word).name in {"curl", "wget"}), None)
    if tool is None:
        return None
    stages = {stage.label: stage for stage in dockerfile.stages}
    stage: Stage | None = final
    while stage is not None:
        installed = _installs(stage, PurePosixPath(tool).name)
        if installed is not None:
            return Problem(
                check.line,
                f"the HEALTHCHECK runs {PurePosixPath(tool).name}, which line {installed.line} installs into the "
                "final image: a package (and its security updates) shipped in every copy of the image, only for a "
                "request the image's own Python makes as well; write the health check in Python and leave "
                f"{PurePosixPath(tool).name} out",
            )
        stage = stages.get(stage.base) if stage.base != stage.label else None
    return None


def _workdir_at(stage: Stage, line: int) -> str:
    """The WORKDIR in force at `line` of `stage` (Docker's default is /)."""
    current = "/"
    for found in stage.find("WORKDIR"):
        if found.line < line:
            current = str(PurePosixPath(current) / found.text.strip().strip("\"'"))
    return current


def _copy_words(copy: Instruction) -> list[str]:
    text = copy.text.strip()
    if text.startswith("["):
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, list):
            return [str(item) for item in value]
    return text.split()


def _syncs(dockerfile: Dockerfile) -> list[tuple[Stage, Instruction]]:
    found = []
    for stage, run in dockerfile.instructions("RUN"):
        words = run.command.words()
        if any(PurePosixPath(word).name == "uv" and words[i + 1 : i + 2] == ["sync"] for i, word in enumerate(words)):
            found.append((stage, run))
    return found


def venv_copy_problem(dockerfile: Dockerfile) -> Problem | None:
    """The final stage takes the .venv that uv built, to the same path (its scripts name that path)."""
    final, syncs = dockerfile.final, _syncs(dockerfile)
    if final is None or len(dockerfile.stages) < 2 or not syncs:
        return None  # multi_stage_problem and uv_sync_problem say what is missing
    build, run = syncs[-1]
    if build is final:
        return None
    venv = build.env().get("UV_PROJECT_ENVIRONMENT") or str(PurePosixPath(_workdir_at(build, run.line)) / ".venv")
    labels = {build.label, str(build.index)}
    copies = [copy for copy in final.find("COPY") if set(copy.flag("from")) & labels]
    for copy in copies:
        words = _copy_words(copy)
        if len(words) < 2:
            continue
        destination = str(PurePosixPath(_workdir_at(final, copy.line)) / words[-1])
        for source in words[:-1]:
            source = "/" + source.strip("/") if source.strip("/") else "/"
            if venv == source or venv.startswith(source.rstrip("/") + "/"):
                landed = str(PurePosixPath(destination) / venv[len(source.rstrip("/")) :].lstrip("/"))
                if landed.rstrip("/") != venv:
                    return Problem(
                        copy.line,
                        f"the .venv that uv built at {venv} lands at {landed}; its scripts and its python "
                        f"link name {venv}, so copy it to the same path",
                    )
                return None
    line = copies[0].line if copies else final.line
    return Problem(
        line,
        f"the final stage never gets {venv} from the {build.label} stage: without that .venv there is no uvicorn, "
        "no FastAPI, no driver; copy /app with its .venv from the build stage",
    )


def _python_script(argv: tuple[str, ...]) -> str | None:
    """The script of `python -c "…"`, from the exec form or the words of the shell form."""
    for index, word in enumerate(argv[:-1]):
        if word == "-c" and re.search(r"(^|/)python3?(\.\d+)?$", argv[0]):
            return argv[index + 1]
    return None


_ASKS = r"urlopen|urllib|http\.client|httpx|requests|socket"


def _exit_status_zero(node: ast.expr | None) -> bool:
    """Whether exit(<node>) / SystemExit(<node>) ends Python with status 0 (no argument, 0, None, False)."""
    return node is None or (isinstance(node, ast.Constant) and node.value in (0, None, False))


def _fails(nodes: list[ast.stmt]) -> bool:
    """Whether these statements can end Python with a non-zero status: a raise, or exit(1) and its cousins."""
    for node in (inner for statement in nodes for inner in ast.walk(statement)):
        if isinstance(node, ast.Raise):
            error = node.exc
            if error is None:
                return True  # a bare `raise` re-raises the failure
            name = error.func if isinstance(error, ast.Call) else error
            if not (isinstance(name, ast.Name | ast.Attribute) and ast.unparse(name).endswith("SystemExit")):
                return True
            if isinstance(error, ast.Call) and not _exit_status_zero(error.args[0] if error.args else None):
                return True
        elif (
            isinstance(node, ast.Call)
            and re.fullmatch(r"(sys\.|os\.)?(_?exit|quit)", ast.unparse(node.func))
            and not _exit_status_zero(node.args[0] if node.args else None)
        ):
            return True
    return False


def _source(statements: list[ast.stmt]) -> str:
    return ast.unparse(ast.Module(body=statements, type_ignores=[]))


def _swallowing_handler(script: str) -> str | None:
    """The `except …` of a python -c script that catches the failed request and lets Python exit 0."""
    try:
        tree = ast.parse(script)
    except SyntaxError:
        return None  # not for this rule to judge
    for node in ast.walk(tree):
        if isinstance(node, ast.Try | ast.TryStar) and re.search(_ASKS, _source(node.body)):
            for handler in node.handlers:
                if _fails(handler.body):
                    continue
                # A failure may still be reported after the try (`ok = False` … `sys.exit(0 if ok else 1)`).
                rest = [statement for statement in tree.body if handler not in ast.walk(statement)]
                if _fails(rest):
                    continue
                caught = f"except {ast.unparse(handler.type)}" if handler.type is not None else "except"
                return f"{caught}: {ast.unparse(handler.body[0]).splitlines()[0]}"
        if isinstance(node, ast.With) and re.search(_ASKS, _source(node.body)):
            for item in node.items:
                if re.search(r"(^|\.)suppress$", ast.unparse(getattr(item.context_expr, "func", item.context_expr))):
                    return f"with {ast.unparse(item.context_expr)}"
    return None


def _server_port(dockerfile: Dockerfile) -> int:
    final = dockerfile.final
    command = final.last("ENTRYPOINT", "CMD") if final else None
    words = command.command.words() if command else []
    for index, word in enumerate(words):
        if word == "--port" and index + 1 < len(words) and words[index + 1].isdigit():
            return int(words[index + 1])
        if word.startswith("--port=") and word[7:].isdigit():
            return int(word[7:])
    return 8000


def healthcheck_can_fail_problem(dockerfile: Dockerfile) -> Problem | None:
    """The image's health check can report unhealthy: it asks the server's own port, and no failure is swallowed."""
    final = dockerfile.final
    check = final.last("HEALTHCHECK") if final else None
    if check is None or check.text.upper() == "NONE":
        return None  # healthcheck_problem says so
    script = check.command.text
    hidden = swallowed(script)
    if hidden:
        return Problem(
            check.line,
            f"the HEALTHCHECK can never fail: `{hidden}` turns an unhealthy answer into exit 0, so a broken "
            "service reports healthy; let the exception end Python with exit 1",
        )
    script_of_c = _python_script(check.command.argv)
    caught = _swallowing_handler(script_of_c) if script_of_c is not None else None
    if caught:
        return Problem(
            check.line,
            f"the HEALTHCHECK can never fail: `{caught}` catches the failed request and carries on, so Python "
            "exits 0 and a broken service reports healthy; let the exception end Python with exit 1",
        )
    if script_of_c is not None and not re.search(_ASKS, script_of_c):
        return Problem(
            check.line,
            "the HEALTHCHECK's Python never asks anything: it names /health but sends no request, so it always "
            "exits 0; open the URL (urllib.request.urlopen)",
        )
    url = re.search(r"https?://(?P<host>\[[^\]]+\]|[^/:'\"\s]+)(?::(?P<port>\d+))?/health", script)
    port = _server_port(dockerfile)
    if url and int(url["port"] or 80) != port:
        return Problem(
            check.line,
            f"the HEALTHCHECK asks port {url['port'] or '80 (no port in the URL)'}, but uvicorn listens on {port}: "
            "it would never report healthy; ask the port the server listens on",
        )
    return None


def baked_secret_problem(dockerfile: Dockerfile, dockerignore: Path) -> tuple[str, Problem] | None:
    """No password or key enters the image: none in ENV or ARG, no .env copied or left in the context."""
    for _stage, found in dockerfile.instructions("ENV", "ARG"):
        for name, value in found.env().items():
            password = _URL_PASSWORD.search(value)
            secret_name = SECRET_NAME.search(name) and not name.upper().endswith("_FILE")  # a path to a secret
            if secret_name or (password and not password["password"].startswith("$")):
                return "Dockerfile", Problem(
                    found.line,
                    f"{found.keyword} {name} writes a secret into the Dockerfile, and so into git and into the "
                    "image (`docker history` shows every ENV and ARG); the container gets its secrets from .env "
                    "at run time (env_file in compose.yaml)",
                )
    for _stage, found in dockerfile.instructions("COPY", "ADD"):
        if any(PurePosixPath(word).name == ".env" for word in _copy_words(found)[:-1]):
            return "Dockerfile", Problem(
                found.line, "copies .env, the file of passwords and keys, into the image: a secret in every layer"
            )
    patterns = dockerignore_patterns(dockerignore.read_text(encoding="utf-8")) if dockerignore.is_file() else []
    if not is_ignored(patterns, ".env"):
        return ".dockerignore", Problem(
            0,
            "lets .env into the build context, so `COPY . /app` bakes its passwords and keys into a layer of the "
            "image (a secret in every copy of it); add .env",
        )
    return None


# What the image needs, and why (MUST_KEEP names an example path of each).
_NEEDED = {
    "pyproject.toml": "uv sync installs from it",
    "uv.lock": "uv sync installs from it",
    "app/": "the service's code",
    "alembic.ini": "the migrate service runs alembic upgrade head with this image",
    "migrations/": "the migrate service runs alembic upgrade head with this image",
}
# What the running service never needs: an example path, a pattern that leaves it out.
_NOT_SHIPPED = (
    ("tests/test_smoke.py", "tests/", "the service's test suite"),
    ("checks/conftest.py", "checks/", "the workshop's checks"),
)


def _shown(path: str) -> str:
    return path.split("/")[0] + "/" if "/" in path else path


def needed_files_problem(dockerignore: Path) -> Problem | None:
    """.dockerignore keeps every file the image needs in the build context, and says which it leaves out."""
    if not dockerignore.is_file():
        return None  # dockerignore_problem says so
    patterns = dockerignore_patterns(dockerignore.read_text(encoding="utf-8"))
    left_out = [_shown(path) for path in MUST_KEEP if is_ignored(patterns, path)]
    if not left_out:
        return None
    names = left_out[0] if len(left_out) == 1 else ", ".join(left_out[:-1]) + " and " + left_out[-1]
    reasons = sorted({_NEEDED.get(path, "the image needs it") for path in left_out})
    return Problem(
        0,
        f"leaves out {names}, which the image needs ({'; '.join(reasons)}); narrow the pattern that matches "
        f"{'it' if len(left_out) == 1 else 'them'}",
    )


def not_shipped_problem(dockerignore: Path) -> Problem | None:
    """What the running service does not need (its tests, the workshop's checks) stays out of the image."""
    if not dockerignore.is_file():
        return None  # dockerignore_problem says so
    patterns = dockerignore_patterns(dockerignore.read_text(encoding="utf-8"))
    for example, pattern, what in _NOT_SHIPPED:
        if not is_ignored(patterns, example):
            return Problem(
                0,
                f"lets {pattern} into the build context, so `COPY . /app` ships {what} in the production image, "
                f"which runs the service, not its tests; add {pattern}",
            )
    return None


# --- compose.yaml --------------------------------------------------------------------------


def healthcheck_swallow_problem(compose: Compose, service: Service | None) -> Problem | None:
    """A Compose healthcheck that reports healthy whatever its command found (`pg_isready || true`)."""
    if service is None or service.healthcheck is None:
        return None
    hidden = swallowed(service.healthcheck)
    if hidden is None:
        return None
    return Problem(
        compose.line("services", service.name, "healthcheck") or service.line,
        f"{service.name}'s healthcheck can never fail: `{hidden}` turns a refused connection into exit 0, "
        f"so {service.name} reports healthy before it serves; let the command's own exit status through",
    )


def _scalars(node: yaml.Node | None) -> list[yaml.ScalarNode]:
    """Every scalar of the YAML tree, once each (anchors are shared nodes)."""
    found, seen, pending = [], set(), [node]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, yaml.ScalarNode):
            found.append(current)
        elif isinstance(current, yaml.SequenceNode):
            pending.extend(current.value)
        elif isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                pending.extend((key, value))
    return sorted(found, key=lambda scalar: scalar.start_mark.line)


def secret_default_problem(compose: Compose) -> Problem | None:
    """`${POSTGRES_PASSWORD:-postgres}` writes the password into compose.yaml after all, as a default."""
    for scalar in _scalars(compose.root):
        for found in _DEFAULTED.finditer(str(scalar.value)):
            if SECRET_NAME.search(found["name"]):
                return Problem(
                    scalar.start_mark.line + 1,
                    f"{found.group(0)} gives {found['name']} a default written in the file, and so in git: a stack "
                    f"without .env starts with that known secret; write ${{{found['name']}:?set it in .env}} "
                    "so it stops instead",
                )
    return None


def old_postgres_problem(compose: Compose) -> Problem | None:
    """A PostgreSQL before 18 with the volume at /var/lib/postgresql: its data lands in an anonymous volume."""
    databases = compose.with_image("postgres")
    if not databases:
        return None  # postgres_volume_problem says so
    db = databases[0]
    tag = db.image.split("@")[0].rsplit("/", 1)[-1].partition(":")[2]
    major = re.match(r"\d+", tag)
    if major is None or int(major.group(0)) >= 18:
        return None
    if not any(volume.target.rstrip("/") == "/var/lib/postgresql" for volume in db.volumes):
        return None  # postgres_volume_problem names the version
    return Problem(
        compose.line("services", db.name, "image") or db.line,
        f"{db.image} keeps its data in /var/lib/postgresql/data, a volume its image declares: your volume at "
        "/var/lib/postgresql stays empty while the database lives in an anonymous volume of that one container, "
        "and `docker compose down` then up starts with an empty database; use postgres:18, which keeps its data "
        "under the folder you mounted",
    )


_ENGINE_SECRET = re.compile(r"PASSWORD|SECRET|TOKEN", re.IGNORECASE)  # what secret_problem looks for


def written_secret_problem(compose: Compose) -> Problem | None:
    """No password or key written in compose.yaml, found on the line that writes it (an anchor's, too)."""
    for service in compose.services.values():
        for name, value in service.environment.items():
            if value is None or value.startswith("${"):
                continue
            password = _URL_PASSWORD.search(value)
            in_url = password is not None and not password["password"].startswith("$")
            if not (_ENGINE_SECRET.search(name) or in_url):
                continue
            written = next((node for node in _scalars(compose.root) if node.value in (value, f"{name}={value}")), None)
            line = written.start_mark.line + 1 if written is not None else service.line
            section = _section(compose, line)
            shared = [other.name for other in compose.services.values() if other.environment.get(name) == value]
            where = (
                f"in {section}, which {' and '.join(shared)} merge"
                if section not in (None, "services")
                else f"in {service.name}'s environment"
            )
            what = f"{name} has its password" if in_url else f"{name} is"
            return Problem(
                line,
                f"{what} written in the file ({where}), and so in git: the secrets come from .env (env_file: .env), "
                "referred to here as ${VARIABLE}",
            )
    return None


def _section(compose: Compose, line: int) -> str | None:
    """The top-level key of compose.yaml whose block holds `line`."""
    if not isinstance(compose.root, yaml.MappingNode):
        return None
    for key, value in compose.root.value:
        if key.start_mark.line + 1 <= line <= value.end_mark.line + 1:
            return str(key.value)
    return None


def _env_file_values(compose: Compose, service: Service) -> dict[str, str]:
    """The variables of the .env files a service reads (the example when .env is not there yet)."""
    values: dict[str, str] = {}
    base = compose.path.parent
    for path, _required in service.env_files:
        candidates = [base / path, base / f"{path}.example"]
        found = next((candidate for candidate in candidates if candidate.is_file()), None)
        if found is None:
            continue
        for line in found.read_text(encoding="utf-8").splitlines():
            key, sep, value = line.strip().partition("=")
            if sep and not key.startswith("#"):
                values[key.strip().removeprefix("export ").strip()] = value.strip().strip("\"'")
    return values


def database_host_problem(compose: Compose, app: Service | None) -> Problem | None:
    """Inside the stack the app reaches PostgreSQL by its service name, on PostgreSQL's own port."""
    if app is None:
        return Problem(compose.line("services"), "has no service that builds the app (build: .)")
    databases = compose.with_image("postgres")
    if not databases:
        return None  # postgres_volume_problem says so
    db = databases[0]
    line = compose.line("services", app.name, "environment") or compose.line("services", app.name)
    values = _env_file_values(compose, app)
    url = app.environment.get("LEDGER_DATABASE_URL") or values.get("LEDGER_DATABASE_URL")
    if not url:
        return Problem(
            line,
            f"{app.name} is never told where the database is: LEDGER_DATABASE_URL is set neither under its "
            "environment: nor in the .env it reads, so the settings' default (localhost) is used, and localhost "
            "in a container is the container itself",
        )

    # Compose fills ${VARIABLES} from .env; one that cannot be known here (or would break the URL) is any host.
    def known(found: re.Match[str]) -> str:
        value = values.get(found["name"] or "", "X")
        return "X" if not value or re.search(r"[@/:?#\[\]]", value) else value

    parts = urlsplit(_INTERPOLATION.sub(known, url))
    host = (parts.hostname or "").lower()
    names = {db.name, str(db.raw.get("hostname") or ""), str(db.raw.get("container_name") or "")}
    for network in (db.raw.get("networks") or {}).values() if isinstance(db.raw.get("networks"), dict) else []:
        names |= set((network or {}).get("aliases") or [])
    if host in LOCAL_HOSTS:
        return Problem(
            line,
            f"LEDGER_DATABASE_URL points at {host}: inside the app's container that is the container itself, "
            f"not PostgreSQL; in the stack the database's host name is its service name, {db.name}",
        )
    if host and host != "x" and host not in names:
        return Problem(
            line,
            f"LEDGER_DATABASE_URL points at the host {host}, which is no service of this stack; "
            f"the database's host name is its service name, {db.name}",
        )
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and port != 5432:
        return Problem(
            line,
            f"LEDGER_DATABASE_URL uses port {port}: between containers PostgreSQL listens on its own port, 5432 "
            "(a port published on the host does not apply inside the stack)",
        )
    return None


def _published(entry: object) -> tuple[str | None, str | None, str] | None:
    """(host ip, host port, container port) of one `ports:` entry; None when it cannot be read."""
    if isinstance(entry, dict):
        ip = entry.get("host_ip")
        published = entry.get("published")
        return (str(ip) if ip else None, str(published) if published else None, str(entry.get("target", "")))
    text = _INTERPOLATION.sub("0", str(entry)).split("/")[0]
    ip = None
    if text.startswith("["):
        ip, _, text = text[1:].partition("]")
        ip, text = f"[{ip}]", text.lstrip(":")
    parts = text.split(":")
    if len(parts) == 3:
        ip, host, container = parts
        return ip or None, host or None, container
    if len(parts) == 2:
        return ip, parts[0] or None, parts[1]
    return ip, None, parts[0]


def published_port_problem(compose: Compose, app: Service | None) -> Problem | None:
    """The app is published on 127.0.0.1, and nothing is published on every interface of the host."""
    if app is None:
        return Problem(compose.line("services"), "has no service that builds the app (build: .)")
    for service in compose.services.values():
        for entry in service.raw.get("ports") or []:
            found = _published(entry)
            if found is None or (found[0] or "").lower() in LOCAL_HOSTS:
                continue
            line = compose.line("services", service.name, "ports") or service.line
            if service.name != app.name:
                return Problem(
                    line,
                    f"{service.name} publishes {entry} on every interface of the host, so anyone on your network "
                    f"reaches it; the app reaches {service.name} by its name inside the stack, so {service.name} "
                    "needs no published port at all: remove it",
                )
            return Problem(
                line,
                f"{service.name} publishes {entry} on every interface of the host, so anyone on your network "
                "reaches it; write 127.0.0.1: in front to publish it on this machine only",
            )
    if not any((_published(entry) or ("", "", ""))[2] == "8000" for entry in app.raw.get("ports") or []):
        return Problem(
            compose.line("services", app.name),
            f"{app.name} publishes no port: nothing outside the stack reaches uvicorn's port 8000; "
            "publish it on 127.0.0.1, on the port LEDGER_PORT names",
        )
    return None


def _migrations(
    compose: Compose, app: Service | None, dockerfile: Dockerfile | None
) -> tuple[str, str, Service | None] | None:
    """(who, the command text, the one-shot service or None) of what runs `alembic upgrade head`."""
    if app is not None and "alembic upgrade head" in app.runs():
        return app.name, app.runs(), None
    final = dockerfile.final if dockerfile else None
    start = final.last("ENTRYPOINT", "CMD") if final else None
    if app is not None and app.command is None and start is not None and "alembic upgrade head" in start.command.text:
        return "the Dockerfile's command", start.command.text, None
    for service in compose.services.values():
        if (app is None or service.name != app.name) and "alembic upgrade head" in service.runs():
            return service.name, service.runs(), service
    return None


def _nothing_migrates(compose: Compose) -> Problem:
    return Problem(
        compose.line("services"),
        "nothing runs `alembic upgrade head` yet: add a one-shot migrate service that the app waits for",
    )


def migration_restart_problem(compose: Compose, app: Service | None, dockerfile: Dockerfile | None) -> Problem | None:
    """The one-shot migrate service runs once: no restart policy brings it back."""
    found = _migrations(compose, app, dockerfile)
    if found is None:
        return _nothing_migrates(compose)
    _who, _text, service = found
    if service is None:
        return None  # the app migrates as it starts: it restarts as the app does
    restart = service.raw.get("restart")
    policy = ((service.raw.get("deploy") or {}).get("restart_policy") or {}).get("condition")
    if restart not in (None, False, "no") or policy not in (None, "none"):
        said = f"restart: {restart}" if restart not in (None, False, "no") else f"restart_policy {policy}"
        return Problem(
            compose.line("services", service.name, "restart") or service.line,
            f"{service.name} has {said}: a one-shot service with a restart policy runs the migrations again each "
            'time it exits (and in a loop when one fails); give it restart: "no"',
        )
    return None


def migration_failure_problem(compose: Compose, app: Service | None, dockerfile: Dockerfile | None) -> Problem | None:
    """A failed migration ends its service with a failure, and its output reaches `docker compose logs`."""
    found = _migrations(compose, app, dockerfile)
    if found is None:
        return _nothing_migrates(compose)
    who, text, service = found
    line = compose.line("services", service.name if service else app.name if app else "") or compose.line("services")
    logs = f"docker compose logs {service.name if service else app.name if app else 'app'}"
    if service is not None and str((service.raw.get("logging") or {}).get("driver", "")).lower() == "none":
        return Problem(
            compose.line("services", service.name, "logging") or line,
            f"{who} has logging driver none: a failed migration would leave nothing in `{logs}`; drop it",
        )
    tail = text[text.index("alembic upgrade head") + len("alembic upgrade head") :]
    before = text[: text.index("alembic upgrade head")]
    for match in re.finditer(r"\|\||&&|&>|\d?>>?&?|;|\n|\||&", tail):
        operator, rest = match.group(0), tail[match.end() :].lstrip()
        if ">" in operator:
            if operator.endswith("&") and rest[:1].isdigit():
                continue  # 2>&1: both streams still reach the log
            target = rest.split()[0] if rest.split() else "a file"
            return Problem(
                line,
                f"{who} sends alembic's output to {target}: a failed migration must show why in `{logs}`; "
                "leave its output on stdout and stderr",
            )
        if operator == "&&":
            return None
        if operator in {";", "\n"} and re.search(r"(\bset\s+|\b(ba)?sh\s+)-[a-z]*e", before):
            return None
        snippet = ("alembic upgrade head" + tail[: match.end()]).strip()
        return Problem(
            line,
            f"{who} runs `{snippet} …`: after `{operator.strip() or 'a new line'}` alembic's exit status is lost, "
            "so a failed migration looks like a success and the app starts on a schema it does not know; "
            "let the failure stop the deploy",
        )
    return None


# --- the table ---------------------------------------------------------------------------------


@dataclass
class Files:
    """A lesson 08 folder's Dockerfile, compose.yaml and .dockerignore, each parsed when a rule first reads it.

    The loaders turn a missing or broken file into the caller's own error (lesson 08's checks raise
    a lesson message), so a check about .dockerignore never fails for a missing compose.yaml.
    """

    folder: Path
    load_dockerfile: Callable[[], Dockerfile]
    load_compose: Callable[[], Compose]

    @cached_property
    def dockerfile(self) -> Dockerfile:
        return self.load_dockerfile()

    @cached_property
    def compose(self) -> Compose:
        return self.load_compose()

    @property
    def dockerignore(self) -> Path:
        return self.folder / ".dockerignore"

    @property
    def app(self) -> Service | None:
        return self.compose.app()

    def image(self, *names: str) -> Service | None:
        return next(iter(self.compose.with_image(*names)), None)


Found = Problem | tuple[str, Problem] | None  # a rule may name another file than its own (a secret in .env …)


@dataclass(frozen=True)
class Rule:
    check: str  # the check of lesson 08 that applies it (its step marker gives the README step)
    file: str  # the file it reads: "Dockerfile", ".dockerignore" or "compose.yaml"
    find: Callable[[Files], Found]


RULES: tuple[Rule, ...] = (
    # Dockerfile, steps 1 to 4
    Rule("test_uv_comes_from_a_pinned_image", "Dockerfile", lambda f: uv_image_problem(f.dockerfile)),
    Rule("test_uv_compiles_the_bytecode_at_build_time", "Dockerfile", lambda f: bytecode_problem(f.dockerfile)),
    Rule("test_uv_never_downloads_an_interpreter", "Dockerfile", lambda f: python_downloads_problem(f.dockerfile)),
    Rule(
        "test_uv_sync_installs_the_lock_without_dev_dependencies", "Dockerfile", lambda f: uv_sync_problem(f.dockerfile)
    ),
    Rule("test_uv_sync_keeps_its_cache_in_a_cache_mount", "Dockerfile", lambda f: cache_mount_problem(f.dockerfile)),
    Rule("test_the_dependencies_get_a_layer_before_the_code", "Dockerfile", lambda f: layering_problem(f.dockerfile)),
    Rule(
        "test_the_final_stage_copies_the_build_from_the_first",
        "Dockerfile",
        lambda f: multi_stage_problem(f.dockerfile),
    ),
    Rule(
        "test_the_final_stage_copies_the_build_from_the_first", "Dockerfile", lambda f: venv_copy_problem(f.dockerfile)
    ),
    Rule("test_the_final_stage_runs_as_a_non_root_user", "Dockerfile", lambda f: non_root_problem(f.dockerfile)),
    Rule("test_the_final_stage_runs_as_a_non_root_user", "Dockerfile", lambda f: root_uid_problem(f.dockerfile)),
    Rule("test_the_command_is_in_exec_form", "Dockerfile", lambda f: exec_form_problem(f.dockerfile)),
    Rule("test_the_command_is_in_exec_form", "Dockerfile", lambda f: shell_pid1_problem(f.dockerfile)),
    Rule(
        "test_the_server_listens_on_every_interface_of_the_container",
        "Dockerfile",
        lambda f: listen_problem(f.dockerfile),
    ),
    Rule(
        "test_the_server_runs_without_the_development_reloader", "Dockerfile", lambda f: reloader_problem(f.dockerfile)
    ),
    Rule(
        "test_the_image_has_a_healthcheck_written_in_python",
        "Dockerfile",
        lambda f: healthcheck_tool_problem(f.dockerfile),
    ),
    Rule(
        "test_the_image_has_a_healthcheck_written_in_python", "Dockerfile", lambda f: healthcheck_problem(f.dockerfile)
    ),
    Rule(
        "test_the_image_has_a_healthcheck_written_in_python",
        "Dockerfile",
        lambda f: healthcheck_can_fail_problem(f.dockerfile),
    ),
    Rule(
        "test_dockerignore_keeps_the_venv_and_the_secrets_out",
        ".dockerignore",
        lambda f: needed_files_problem(f.dockerignore),
    ),
    Rule(
        "test_dockerignore_keeps_the_venv_and_the_secrets_out",
        ".dockerignore",
        lambda f: dockerignore_problem(f.dockerignore),
    ),
    Rule(
        "test_dockerignore_keeps_the_venv_and_the_secrets_out",
        ".dockerignore",
        lambda f: not_shipped_problem(f.dockerignore),
    ),
    Rule(
        "test_no_secret_is_baked_into_the_image",
        "Dockerfile",
        lambda f: baked_secret_problem(f.dockerfile, f.dockerignore),
    ),
    # compose.yaml, steps 5 to 7
    Rule(
        "test_postgres_18_keeps_its_data_on_a_named_volume", "compose.yaml", lambda f: old_postgres_problem(f.compose)
    ),
    Rule(
        "test_postgres_18_keeps_its_data_on_a_named_volume",
        "compose.yaml",
        lambda f: postgres_volume_problem(f.compose),
    ),
    Rule(
        "test_postgres_has_a_pg_isready_healthcheck", "compose.yaml", lambda f: postgres_healthcheck_problem(f.compose)
    ),
    Rule(
        "test_postgres_has_a_pg_isready_healthcheck",
        "compose.yaml",
        lambda f: healthcheck_swallow_problem(f.compose, f.image("postgres")),
    ),
    Rule("test_redis_has_a_redis_cli_ping_healthcheck", "compose.yaml", lambda f: redis_problem(f.compose)),
    Rule(
        "test_redis_has_a_redis_cli_ping_healthcheck",
        "compose.yaml",
        lambda f: healthcheck_swallow_problem(f.compose, f.image("redis", "valkey")),
    ),
    Rule("test_the_app_and_its_migrations_read_dot_env", "compose.yaml", lambda f: env_file_problem(f.compose, f.app)),
    Rule("test_the_database_password_comes_from_dot_env", "compose.yaml", lambda f: written_secret_problem(f.compose)),
    Rule(
        "test_the_database_password_comes_from_dot_env", "compose.yaml", lambda f: database_password_problem(f.compose)
    ),
    Rule("test_the_database_password_comes_from_dot_env", "compose.yaml", lambda f: secret_default_problem(f.compose)),
    Rule(
        "test_the_app_reaches_the_database_by_its_service_name",
        "compose.yaml",
        lambda f: database_host_problem(f.compose, f.app),
    ),
    Rule(
        "test_the_app_waits_for_a_healthy_database_and_redis",
        "compose.yaml",
        lambda f: start_order_problem(f.compose, f.app),
    ),
    Rule(
        "test_the_migrations_finish_before_the_app_starts",
        "compose.yaml",
        lambda f: migration_problem(f.compose, f.app, f.dockerfile),
    ),
    Rule(
        "test_only_this_machine_reaches_the_published_ports",
        "compose.yaml",
        lambda f: published_port_problem(f.compose, f.app),
    ),
    Rule(
        "test_the_migrations_run_once",
        "compose.yaml",
        lambda f: migration_restart_problem(f.compose, f.app, f.dockerfile),
    ),
    Rule(
        "test_a_failed_migration_stops_the_deploy_and_shows_in_the_logs",
        "compose.yaml",
        lambda f: migration_failure_problem(f.compose, f.app, f.dockerfile),
    ),
)


def first_problem(check: str, files: Files) -> tuple[str, Problem] | None:
    """(file, problem) of the first rule of `check` that finds one, in the table's order; None when all pass."""
    rules = [rule for rule in RULES if rule.check == check]
    if not rules:
        raise KeyError(f"no rule of the Docker grader belongs to the check {check}")
    for rule in rules:
        found = rule.find(files)
        if isinstance(found, tuple):
            return found
        if found is not None:
            return rule.file, found
    return None


def all_problems(files: Files) -> list[str]:
    """`file:line: text` of every rule's problem: what the engine-gated build waits for."""
    found = []
    for check in dict.fromkeys(rule.check for rule in RULES):
        problem = first_problem(check, files)
        if problem is not None:
            found.append(f"{problem[1].where(problem[0])}: {problem[1].text}")
    return found
