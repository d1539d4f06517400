"""Lesson 08's own rules, beside the engine's (`workshop.graders.docker`): mistakes its rules let through.

Each rule reads the parsed files (`docker.Dockerfile`, `docker.Compose`) and returns the first
`docker.Problem` it finds (a line and a sentence), or None, like the engine's rules; the checks
add the lesson prefix and the step. A rule returns None when an engine rule already reports what
is missing (no final stage, no CMD, no migrate service…): each mistake is taught by one check.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import yaml  # type: ignore[import-untyped, unused-ignore]

from workshop.graders import docker

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


def shell_pid1_problem(dockerfile: docker.Dockerfile) -> docker.Problem | None:
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
    return docker.Problem(
        line,
        f'the command is JSON, but it starts {argv[0]} -c "…": the shell is PID 1, it does not pass SIGTERM '
        "on, and `docker stop` kills the server after 10 s; make the server itself the first word of the list",
    )


def _build_stage(dockerfile: docker.Dockerfile) -> tuple[docker.Stage, list[docker.Instruction]] | None:
    """The stage that runs uv sync (the first stage while none does yet), and its uv syncs."""
    syncs = _syncs(dockerfile)
    if syncs:
        stage = syncs[-1][0]
        return stage, [run for found, run in syncs if found is stage]
    return (dockerfile.stages[0], []) if dockerfile.stages else None


def _truthy(value: str | None) -> bool:
    return (value or "").strip().strip("\"'").lower() in {"1", "true", "yes", "on"}


def bytecode_problem(dockerfile: docker.Dockerfile) -> docker.Problem | None:
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
    return docker.Problem(
        stage.line,
        f"{where} never sets UV_COMPILE_BYTECODE=1: uv installs .py files only, so every new container "
        "compiles them again as it starts, and starts slower; compile them once, in the build",
    )


def python_downloads_problem(dockerfile: docker.Dockerfile) -> docker.Problem | None:
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
    return docker.Problem(
        stage.line,
        f"{where} never sets UV_PYTHON_DOWNLOADS=0: when the image's Python does not suit the project, uv "
        "downloads one into the build stage, and the .venv copied to the final stage points at an interpreter "
        "that is not there; make uv use the image's Python or stop",
    )


def reloader_problem(dockerfile: docker.Dockerfile) -> docker.Problem | None:
    """The image runs the server as in production: no --reload, no `fastapi dev`."""
    final = dockerfile.final
    if final is None:
        return None  # multi_stage_problem says so
    started = [found for found in (final.last("ENTRYPOINT"), final.last("CMD")) if found is not None]
    if not started:
        return docker.Problem(final.line, "the final stage has no command yet: start uvicorn with CMD")
    words = [word for found in started for word in found.command.words()]
    reload = "--reload" if "--reload" in words else None
    dev = any(PurePosixPath(word).name == "fastapi" and words[i + 1 : i + 2] == ["dev"] for i, word in enumerate(words))
    if reload is None and not dev:
        return None
    said = f"uvicorn runs with {reload}" if reload else "the command is `fastapi dev`, which runs uvicorn with --reload"
    return docker.Problem(
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


def root_uid_problem(dockerfile: docker.Dockerfile) -> docker.Problem | None:
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
                return docker.Problem(
                    run.line,
                    f"{tool} gives {name} the uid 0: the kernel knows users by their uid, not their name, so "
                    f"USER {name} runs as root under another name; let useradd --system choose the uid",
                )
    return None


_INSTALLERS = {"apt-get", "apt", "apk", "yum", "dnf", "microdnf"}


def _installs(stage: docker.Stage, tool: str) -> docker.Instruction | None:
    for run in stage.find("RUN"):
        for command in _commands(run.command.words()):
            if PurePosixPath(command[0]).name in _INSTALLERS and {"install", "add"} & set(command) and tool in command:
                return run
    return None


def healthcheck_tool_problem(dockerfile: docker.Dockerfile) -> docker.Problem | None:
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
    stage: docker.Stage | None = final
    while stage is not None:
        installed = _installs(stage, PurePosixPath(tool).name)
        if installed is not None:
            return docker.Problem(
                check.line,
                f"the HEALTHCHECK runs {PurePosixPath(tool).name}, which line {installed.line} installs into the "
                "final image: a package (and its security updates) shipped in every copy of the image, only for a "
                "request the image's own Python makes as well; write the health check in Python and leave "
                f"{PurePosixPath(tool).name} out",
            )
        stage = stages.get(stage.base) if stage.base != stage.label else None
    return None


def _workdir_at(stage: docker.Stage, line: int) -> str:
    """The WORKDIR in force at `line` of `stage` (Docker's default is /)."""
    current = "/"
    for found in stage.find("WORKDIR"):
        if found.line < line:
            current = str(PurePosixPath(current) / found.text.strip().strip("\"'"))
    return current


def _copy_words(copy: docker.Instruction) -> list[str]:
    text = copy.text.strip()
    if text.startswith("["):
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, list):
            return [str(item) for item in value]
    return text.split()


def _syncs(dockerfile: docker.Dockerfile) -> list[tuple[docker.Stage, docker.Instruction]]:
    found = []
    for stage, run in dockerfile.instructions("RUN"):
        words = run.command.words()
        if any(PurePosixPath(word).name == "uv" and words[i + 1 : i + 2] == ["sync"] for i, word in enumerate(words)):
            found.append((stage, run))
    return found


def venv_copy_problem(dockerfile: docker.Dockerfile) -> docker.Problem | None:
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
                    return docker.Problem(
                        copy.line,
                        f"the .venv that uv built at {venv} lands at {landed}; its scripts and its python "
                        f"link name {venv}, so copy it to the same path",
                    )
                return None
    line = copies[0].line if copies else final.line
    return docker.Problem(
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


def _server_port(dockerfile: docker.Dockerfile) -> int:
    final = dockerfile.final
    command = final.last("ENTRYPOINT", "CMD") if final else None
    words = command.command.words() if command else []
    for index, word in enumerate(words):
        if word == "--port" and index + 1 < len(words) and words[index + 1].isdigit():
            return int(words[index + 1])
        if word.startswith("--port=") and word[7:].isdigit():
            return int(word[7:])
    return 8000


def healthcheck_can_fail_problem(dockerfile: docker.Dockerfile) -> docker.Problem | None:
    """The image's health check can report unhealthy: it asks the server's own port, and no failure is swallowed."""
    final = dockerfile.final
    check = final.last("HEALTHCHECK") if final else None
    if check is None or check.text.upper() == "NONE":
        return None  # healthcheck_problem says so
    script = check.command.text
    hidden = swallowed(script)
    if hidden:
        return docker.Problem(
            check.line,
            f"the HEALTHCHECK can never fail: `{hidden}` turns an unhealthy answer into exit 0, so a broken "
            "service reports healthy; let the exception end Python with exit 1",
        )
    script_of_c = _python_script(check.command.argv)
    caught = _swallowing_handler(script_of_c) if script_of_c is not None else None
    if caught:
        return docker.Problem(
            check.line,
            f"the HEALTHCHECK can never fail: `{caught}` catches the failed request and carries on, so Python "
            "exits 0 and a broken service reports healthy; let the exception end Python with exit 1",
        )
    if script_of_c is not None and not re.search(_ASKS, script_of_c):
        return docker.Problem(
            check.line,
            "the HEALTHCHECK's Python never asks anything: it names /health but sends no request, so it always "
            "exits 0; open the URL (urllib.request.urlopen)",
        )
    url = re.search(r"https?://(?P<host>\[[^\]]+\]|[^/:'\"\s]+)(?::(?P<port>\d+))?/health", script)
    port = _server_port(dockerfile)
    if url and int(url["port"] or 80) != port:
        return docker.Problem(
            check.line,
            f"the HEALTHCHECK asks port {url['port'] or '80 (no port in the URL)'}, but uvicorn listens on {port}: "
            "it would never report healthy; ask the port the server listens on",
        )
    return None


def baked_secret_problem(dockerfile: docker.Dockerfile, dockerignore: Path) -> tuple[str, docker.Problem] | None:
    """No password or key enters the image: none in ENV or ARG, no .env copied or left in the context."""
    for _stage, found in dockerfile.instructions("ENV", "ARG"):
        for name, value in found.env().items():
            password = _URL_PASSWORD.search(value)
            secret_name = SECRET_NAME.search(name) and not name.upper().endswith("_FILE")  # a path to a secret
            if secret_name or (password and not password["password"].startswith("$")):
                return "Dockerfile", docker.Problem(
                    found.line,
                    f"{found.keyword} {name} writes a secret into the Dockerfile, and so into git and into the "
                    "image (`docker history` shows every ENV and ARG); the container gets its secrets from .env "
                    "at run time (env_file in compose.yaml)",
                )
    for _stage, found in dockerfile.instructions("COPY", "ADD"):
        if any(PurePosixPath(word).name == ".env" for word in _copy_words(found)[:-1]):
            return "Dockerfile", docker.Problem(
                found.line, "copies .env, the file of passwords and keys, into the image: a secret in every layer"
            )
    patterns = docker.dockerignore_patterns(dockerignore.read_text(encoding="utf-8")) if dockerignore.is_file() else []
    if not docker.is_ignored(patterns, ".env"):
        return ".dockerignore", docker.Problem(
            0,
            "lets .env into the build context, so `COPY . /app` bakes its passwords and keys into a layer of the "
            "image (a secret in every copy of it); add .env",
        )
    return None


# What the image needs, and why (docker.MUST_KEEP names an example path of each).
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


def needed_files_problem(dockerignore: Path) -> docker.Problem | None:
    """.dockerignore keeps every file the image needs in the build context, and says which it leaves out."""
    if not dockerignore.is_file():
        return None  # dockerignore_problem says so
    patterns = docker.dockerignore_patterns(dockerignore.read_text(encoding="utf-8"))
    left_out = [_shown(path) for path in docker.MUST_KEEP if docker.is_ignored(patterns, path)]
    if not left_out:
        return None
    names = left_out[0] if len(left_out) == 1 else ", ".join(left_out[:-1]) + " and " + left_out[-1]
    reasons = sorted({_NEEDED.get(path, "the image needs it") for path in left_out})
    return docker.Problem(
        0,
        f"leaves out {names}, which the image needs ({'; '.join(reasons)}); narrow the pattern that matches "
        f"{'it' if len(left_out) == 1 else 'them'}",
    )


def not_shipped_problem(dockerignore: Path) -> docker.Problem | None:
    """What the running service does not need (its tests, the workshop's checks) stays out of the image."""
    if not dockerignore.is_file():
        return None  # dockerignore_problem says so
    patterns = docker.dockerignore_patterns(dockerignore.read_text(encoding="utf-8"))
    for example, pattern, what in _NOT_SHIPPED:
        if not docker.is_ignored(patterns, example):
            return docker.Problem(
                0,
                f"lets {pattern} into the build context, so `COPY . /app` ships {what} in the production image, "
                f"which runs the service, not its tests; add {pattern}",
            )
    return None


# --- compose.yaml --------------------------------------------------------------------------


def healthcheck_swallow_problem(compose: docker.Compose, service: docker.Service | None) -> docker.Problem | None:
    """A Compose healthcheck that reports healthy whatever its command found (`pg_isready || true`)."""
    if service is None or service.healthcheck is None:
        return None
    hidden = swallowed(service.healthcheck)
    if hidden is None:
        return None
    return docker.Problem(
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


def secret_default_problem(compose: docker.Compose) -> docker.Problem | None:
    """`${POSTGRES_PASSWORD:-postgres}` writes the password into compose.yaml after all, as a default."""
    for scalar in _scalars(compose.root):
        for found in _DEFAULTED.finditer(str(scalar.value)):
            if SECRET_NAME.search(found["name"]):
                return docker.Problem(
                    scalar.start_mark.line + 1,
                    f"{found.group(0)} gives {found['name']} a default written in the file, and so in git: a stack "
                    f"without .env starts with that known secret; write ${{{found['name']}:?set it in .env}} "
                    "so it stops instead",
                )
    return None


def old_postgres_problem(compose: docker.Compose) -> docker.Problem | None:
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
    return docker.Problem(
        compose.line("services", db.name, "image") or db.line,
        f"{db.image} keeps its data in /var/lib/postgresql/data, a volume its image declares: your volume at "
        "/var/lib/postgresql stays empty while the database lives in an anonymous volume of that one container, "
        "and `docker compose down` then up starts with an empty database; use postgres:18, which keeps its data "
        "under the folder you mounted",
    )


_ENGINE_SECRET = re.compile(r"PASSWORD|SECRET|TOKEN", re.IGNORECASE)  # what docker.secret_problem looks for


def written_secret_problem(compose: docker.Compose) -> docker.Problem | None:
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
            return docker.Problem(
                line,
                f"{what} written in the file ({where}), and so in git: the secrets come from .env (env_file: .env), "
                "referred to here as ${VARIABLE}",
            )
    return None


def _section(compose: docker.Compose, line: int) -> str | None:
    """The top-level key of compose.yaml whose block holds `line`."""
    if not isinstance(compose.root, yaml.MappingNode):
        return None
    for key, value in compose.root.value:
        if key.start_mark.line + 1 <= line <= value.end_mark.line + 1:
            return str(key.value)
    return None


def _env_file_values(compose: docker.Compose, service: docker.Service) -> dict[str, str]:
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


def database_host_problem(compose: docker.Compose, app: docker.Service | None) -> docker.Problem | None:
    """Inside the stack the app reaches PostgreSQL by its service name, on PostgreSQL's own port."""
    if app is None:
        return docker.Problem(compose.line("services"), "has no service that builds the app (build: .)")
    databases = compose.with_image("postgres")
    if not databases:
        return None  # postgres_volume_problem says so
    db = databases[0]
    line = compose.line("services", app.name, "environment") or compose.line("services", app.name)
    values = _env_file_values(compose, app)
    url = app.environment.get("LEDGER_DATABASE_URL") or values.get("LEDGER_DATABASE_URL")
    if not url:
        return docker.Problem(
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
        return docker.Problem(
            line,
            f"LEDGER_DATABASE_URL points at {host}: inside the app's container that is the container itself, "
            f"not PostgreSQL; in the stack the database's host name is its service name, {db.name}",
        )
    if host and host != "x" and host not in names:
        return docker.Problem(
            line,
            f"LEDGER_DATABASE_URL points at the host {host}, which is no service of this stack; "
            f"the database's host name is its service name, {db.name}",
        )
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and port != 5432:
        return docker.Problem(
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


def published_port_problem(compose: docker.Compose, app: docker.Service | None) -> docker.Problem | None:
    """The app is published on 127.0.0.1, and nothing is published on every interface of the host."""
    if app is None:
        return docker.Problem(compose.line("services"), "has no service that builds the app (build: .)")
    for service in compose.services.values():
        for entry in service.raw.get("ports") or []:
            found = _published(entry)
            if found is None or (found[0] or "").lower() in LOCAL_HOSTS:
                continue
            line = compose.line("services", service.name, "ports") or service.line
            if service.name != app.name:
                return docker.Problem(
                    line,
                    f"{service.name} publishes {entry} on every interface of the host, so anyone on your network "
                    f"reaches it; the app reaches {service.name} by its name inside the stack, so {service.name} "
                    "needs no published port at all: remove it",
                )
            return docker.Problem(
                line,
                f"{service.name} publishes {entry} on every interface of the host, so anyone on your network "
                "reaches it; write 127.0.0.1: in front to publish it on this machine only",
            )
    if not any((_published(entry) or ("", "", ""))[2] == "8000" for entry in app.raw.get("ports") or []):
        return docker.Problem(
            compose.line("services", app.name),
            f"{app.name} publishes no port: nothing outside the stack reaches uvicorn's port 8000; "
            "publish it on 127.0.0.1, on the port LEDGER_PORT names",
        )
    return None


def _migrations(
    compose: docker.Compose, app: docker.Service | None, dockerfile: docker.Dockerfile | None
) -> tuple[str, str, docker.Service | None] | None:
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


def _nothing_migrates(compose: docker.Compose) -> docker.Problem:
    return docker.Problem(
        compose.line("services"),
        "nothing runs `alembic upgrade head` yet: add a one-shot migrate service that the app waits for",
    )


def migration_restart_problem(
    compose: docker.Compose, app: docker.Service | None, dockerfile: docker.Dockerfile | None
) -> docker.Problem | None:
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
        return docker.Problem(
            compose.line("services", service.name, "restart") or service.line,
            f"{service.name} has {said}: a one-shot service with a restart policy runs the migrations again each "
            'time it exits (and in a loop when one fails); give it restart: "no"',
        )
    return None


def migration_failure_problem(
    compose: docker.Compose, app: docker.Service | None, dockerfile: docker.Dockerfile | None
) -> docker.Problem | None:
    """A failed migration ends its service with a failure, and its output reaches `docker compose logs`."""
    found = _migrations(compose, app, dockerfile)
    if found is None:
        return _nothing_migrates(compose)
    who, text, service = found
    line = compose.line("services", service.name if service else app.name if app else "") or compose.line("services")
    logs = f"docker compose logs {service.name if service else app.name if app else 'app'}"
    if service is not None and str((service.raw.get("logging") or {}).get("driver", "")).lower() == "none":
        return docker.Problem(
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
            return docker.Problem(
                line,
                f"{who} sends alembic's output to {target}: a failed migration must show why in `{logs}`; "
                "leave its output on stdout and stderr",
            )
        if operator == "&&":
            return None
        if operator in {";", "\n"} and re.search(r"(\bset\s+|\b(ba)?sh\s+)-[a-z]*e", before):
            return None
        snippet = ("alembic upgrade head" + tail[: match.end()]).strip()
        return docker.Problem(
            line,
            f"{who} runs `{snippet} …`: after `{operator.strip() or 'a new line'}` alembic's exit status is lost, "
            "so a failed migration looks like a success and the app starts on a schema it does not know; "
            "let the failure stop the deploy",
        )
    return None
