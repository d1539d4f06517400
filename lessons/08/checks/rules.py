"""Lesson 08's own rules, beside the engine's (`workshop.graders.docker`): mistakes its rules let through.

Each rule reads the parsed files (`docker.Dockerfile`, `docker.Compose`) and returns the first
`docker.Problem` it finds (a line and a sentence), or None, like the engine's rules; the checks
add the lesson prefix and the step. A rule returns None when an engine rule already reports what
is missing (no final stage, no CMD, no migrate service…): each mistake is taught by one check.
"""

from __future__ import annotations

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
    if script_of_c is not None and not re.search(r"urlopen|urllib|http\.client|httpx|requests|socket", script_of_c):
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
            inside = "" if service.name == app.name else f"; the app reaches {service.name} by its name in the stack"
            return docker.Problem(
                compose.line("services", service.name, "ports") or service.line,
                f"{service.name} publishes {entry} on every interface of the host, so anyone on your network "
                f"reaches it; write 127.0.0.1: in front to publish it on this machine only{inside}",
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
