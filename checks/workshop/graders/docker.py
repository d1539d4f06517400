"""Dockerfiles and Compose files, read without a Docker engine, and the rules lesson 08 teaches.

Parsing normalises what Docker and Compose accept in several spellings, so a rule is written
once: exec-form (JSON) and shell-form commands, `--mount` options, line continuations, `ENV`
old and new syntax; in Compose, `depends_on` as a list or a mapping, `env_file` as a string, a
list or mappings, short and long volume syntax, string or list commands and healthchecks, and
YAML anchors with merge keys (resolved by PyYAML).

Each rule returns the first `Problem` it finds (a line and a sentence), or None. Lesson 08's
checks add the lesson prefix and the step; the workshop's own suite applies the same rules to
the repository's `docker-compose.yml`.
"""

from __future__ import annotations

import io
import json
import re
import shlex
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped, unused-ignore]
from dockerfile_parse import DockerfileParser  # type: ignore[import-untyped, unused-ignore]

# --- Dockerfiles ---------------------------------------------------------------------------

UV_IMAGE = "ghcr.io/astral-sh/uv"
_FLAG = re.compile(r"--(?P<name>[a-z][a-z-]*)(?:=(?P<value>\"[^\"]*\"|'[^']*'|\S*))?\s*")
_PINNED_UV = re.compile(rf"^{re.escape(UV_IMAGE)}(?::\d+\.\d+\.\d+[\w.-]*)?(?:@sha256:[0-9a-f]{{64}})?$")
_UV_TAG = re.compile(rf"^{re.escape(UV_IMAGE)}:\d+\.\d+\.\d+")


class ParseError(ValueError):
    """A file that cannot be read as a Dockerfile or a Compose file; the message says where."""


@dataclass(frozen=True)
class Command:
    """A command as Docker runs it: `argv` from the JSON exec form, or the words of the shell form."""

    argv: tuple[str, ...]
    shell: str | None  # the shell-form text; None for the exec form

    @property
    def exec_form(self) -> bool:
        return self.shell is None

    @property
    def text(self) -> str:
        return self.shell if self.shell is not None else " ".join(self.argv)

    def words(self) -> list[str]:
        """Every word, splitting `sh -c "…"` scripts too: what a rule searches."""
        found: list[str] = []
        for word in self.argv:
            found.extend(_split(word) if " " in word else [word])
        return found


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text, comments=False)
    except ValueError:  # an unbalanced quote: fall back to whitespace
        return text.split()


def parse_command(text: str) -> Command:
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            value = json.loads(stripped)
        except ValueError:
            value = None
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return Command(tuple(value), None)
    return Command(tuple(_split(stripped)), stripped)


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: RUN, COPY, CMD, …
    line: int  # 1-based line of the keyword
    text: str  # the value after the flags, continuations joined
    flags: tuple[tuple[str, str], ...] = ()  # ("mount", "type=cache,target=/root/.cache/uv"), …

    def flag(self, name: str) -> list[str]:
        return [value for key, value in self.flags if key == name]

    def mounts(self) -> list[dict[str, str]]:
        """`--mount=type=cache,target=/x` → {"type": "cache", "target": "/x"}; `dst`/`destination` read as target."""
        found = []
        for value in self.flag("mount"):
            options: dict[str, str] = {}
            for part in value.split(","):
                key, _, item = part.partition("=")
                key = {"dst": "target", "destination": "target", "src": "source"}.get(key.strip(), key.strip())
                options[key] = item.strip()
            options.setdefault("type", "bind")
            found.append(options)
        return found

    @property
    def command(self) -> Command:
        """RUN, CMD, ENTRYPOINT: the command; HEALTHCHECK: the command after `CMD`."""
        text = self.text
        if self.keyword == "HEALTHCHECK":
            text = re.sub(r"^CMD\s+", "", text, flags=re.IGNORECASE)
        return parse_command(text)

    def env(self) -> dict[str, str]:
        """ENV and ARG: `A=1 B="two"`, or the old `ENV A 1`."""
        words = _split(self.text)
        if self.keyword == "ENV" and words and "=" not in words[0]:
            return {words[0]: " ".join(words[1:])}
        pairs = dict(word.partition("=")[::2] for word in words)
        return {key: value for key, value in pairs.items() if key}


@dataclass(frozen=True)
class Stage:
    index: int
    base: str
    name: str | None
    line: int
    instructions: tuple[Instruction, ...]

    @property
    def label(self) -> str:
        return self.name or str(self.index)

    def find(self, *keywords: str) -> list[Instruction]:
        return [found for found in self.instructions if found.keyword in keywords]

    def last(self, *keywords: str) -> Instruction | None:
        found = self.find(*keywords)
        return found[-1] if found else None

    def env(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for found in self.find("ENV", "ARG"):
            values.update(found.env())
        return values


@dataclass(frozen=True)
class Dockerfile:
    path: Path
    stages: tuple[Stage, ...]

    @property
    def final(self) -> Stage | None:
        return self.stages[-1] if self.stages else None

    def instructions(self, *keywords: str) -> Iterator[tuple[Stage, Instruction]]:
        for stage in self.stages:
            for found in stage.find(*keywords):
                yield stage, found


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, instruction text): dockerfile-parse joins `\\` continuations and drops comments."""
    parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8")))
    for item in parser.structure:
        if item["instruction"] != "COMMENT":
            yield int(item["startline"]) + 1, f"{item['instruction']} {item['value']}"


def parse_dockerfile_text(text: str, path: Path = Path("Dockerfile")) -> Dockerfile:
    stages: list[Stage] = []
    current: list[Instruction] = []
    header: tuple[str, str | None, int] | None = None
    for line, content in _logical_lines(text):
        keyword, _, rest = content.partition(" ")
        keyword, rest = keyword.upper(), rest.strip()
        flags: list[tuple[str, str]] = []
        while keyword in {"RUN", "COPY", "ADD", "FROM", "HEALTHCHECK"}:
            match = _FLAG.match(rest)
            if not match:
                break
            flags.append((match["name"], (match["value"] or "").strip("\"'")))
            rest = rest[match.end() :]
        instruction = Instruction(keyword, line, rest.strip(), tuple(flags))
        if keyword == "FROM":
            if header is not None:
                stages.append(Stage(len(stages), header[0], header[1], header[2], tuple(current)))
            words = rest.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            header, current = (words[0] if words else "", name, line), []
        elif header is None:
            if keyword not in {"ARG"}:
                raise ParseError(f"{path.name}:{line}: {keyword} before the first FROM")
        else:
            current.append(instruction)
    if header is not None:
        stages.append(Stage(len(stages), header[0], header[1], header[2], tuple(current)))
    return Dockerfile(path, tuple(stages))


def parse_dockerfile(path: Path) -> Dockerfile:
    return parse_dockerfile_text(path.read_text(encoding="utf-8"), path)


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


# --- .dockerignore -------------------------------------------------------------------------


def _dockerignore_regex(pattern: str) -> re.Pattern[str]:
    """One .dockerignore pattern (Go's filepath.Match plus `**`), matching a path or a parent of it."""
    pattern = pattern.strip().lstrip("/").rstrip("/")
    out, index = "", 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index):
            out, index = out + "(?:.*/)?", index + 3
            continue
        if pattern.startswith("**", index):
            out, index = out + ".*", index + 2
            continue
        out += {"*": "[^/]*", "?": "[^/]"}.get(char, re.escape(char))
        index += 1
    return re.compile(rf"^{out}(?:/.*)?$")


def dockerignore_patterns(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def is_ignored(patterns: Iterable[str], path: str) -> bool:
    """Whether Docker leaves `path` (relative to the build context) out of the context."""
    ignored = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if _dockerignore_regex(pattern.removeprefix("!")).match(path):
            ignored = not negated
    return ignored


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


# --- Compose -------------------------------------------------------------------------------

APP_NAMES = ("app", "ledger", "api", "web")


@dataclass(frozen=True)
class Volume:
    type: str  # volume, bind, tmpfs
    source: str | None
    target: str


@dataclass
class Service:
    name: str
    raw: dict[str, Any]
    line: int

    @property
    def image(self) -> str:
        return str(self.raw.get("image") or "")

    @property
    def builds(self) -> bool:
        return self.raw.get("build") is not None

    @property
    def profiles(self) -> list[str]:
        return [str(p) for p in self.raw.get("profiles") or []]

    @property
    def depends_on(self) -> dict[str, dict[str, Any]]:
        """Always a mapping: the list form means `condition: service_started`."""
        value = self.raw.get("depends_on") or {}
        if isinstance(value, list):
            return {str(name): {"condition": "service_started", "short": True} for name in value}
        if isinstance(value, dict):
            return {
                str(name): {"condition": "service_started", **(spec if isinstance(spec, dict) else {})}
                for name, spec in value.items()
            }
        return {}

    @property
    def env_files(self) -> list[tuple[str, bool]]:
        """(path, required) for each env_file, whichever of its three spellings is used."""
        value = self.raw.get("env_file")
        items = value if isinstance(value, list) else [value] if value is not None else []
        found = []
        for item in items:
            if isinstance(item, dict):
                found.append((str(item.get("path", "")), bool(item.get("required", True))))
            else:
                found.append((str(item), True))
        return found

    @property
    def environment(self) -> dict[str, str | None]:
        value = self.raw.get("environment") or {}
        if isinstance(value, list):
            pairs = [str(item).partition("=") for item in value]
            return {key: (item if sep else None) for key, sep, item in pairs}
        if isinstance(value, dict):
            return {str(k): (None if v is None else str(v)) for k, v in value.items()}
        return {}

    @property
    def volumes(self) -> list[Volume]:
        found = []
        for item in self.raw.get("volumes") or []:
            if isinstance(item, dict):
                found.append(Volume(str(item.get("type", "volume")), item.get("source"), str(item.get("target", ""))))
                continue
            parts = str(item).split(":")
            if len(parts) == 1:
                found.append(Volume("volume", None, parts[0]))
                continue
            source, target = parts[0], parts[1]
            kind = "bind" if source.startswith((".", "/", "~", "$")) else "volume"
            found.append(Volume(kind, source, target))
        return found

    def _command(self, key: str) -> Command | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if isinstance(value, list):
            return Command(tuple(str(v) for v in value), None)
        return Command(tuple(_split(str(value))), str(value))

    @property
    def command(self) -> Command | None:
        return self._command("command")

    @property
    def entrypoint(self) -> Command | None:
        return self._command("entrypoint")

    @property
    def healthcheck(self) -> str | None:
        """The health check command as one string (CMD / CMD-SHELL dropped); None when there is none."""
        check = self.raw.get("healthcheck")
        if not isinstance(check, dict) or check.get("disable") or check.get("test") is None:
            return None
        test = check["test"]
        if isinstance(test, list):
            words = [str(word) for word in test]
            if words and words[0] == "NONE":
                return None
            return " ".join(words[1:] if words and words[0] in {"CMD", "CMD-SHELL"} else words)
        return str(test)

    @property
    def migrates_only(self) -> bool:
        """Runs Alembic and no server: a one-shot migrations service."""
        runs = self.runs()
        return "alembic" in runs and not any(server in runs for server in ("uvicorn", "fastapi", "gunicorn"))

    def runs(self) -> str:
        """Everything this service's container runs, as one string: entrypoint and command."""
        parts = [cmd.text for cmd in (self.entrypoint, self.command) if cmd is not None]
        return " ".join(parts)


@dataclass
class Compose:
    path: Path
    data: dict[str, Any]
    root: yaml.Node | None = field(repr=False, default=None)

    def line(self, *keys: str) -> int:
        """The 1-based line of the deepest of `keys` that exists (0 when none)."""
        node, found = self.root, 0
        for key in keys:
            if not isinstance(node, yaml.MappingNode):
                break
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                    found, node = key_node.start_mark.line + 1, value_node
                    break
            else:
                break
        return found

    @property
    def services(self) -> dict[str, Service]:
        raw = self.data.get("services") or {}
        if not isinstance(raw, dict):
            return {}
        return {
            str(name): Service(str(name), spec if isinstance(spec, dict) else {}, self.line("services", str(name)))
            for name, spec in raw.items()
        }

    @property
    def volumes(self) -> dict[str, Any]:
        value = self.data.get("volumes") or {}
        return value if isinstance(value, dict) else {}

    def with_image(self, *names: str) -> list[Service]:
        """Services whose image is one of `names` (any registry prefix, tag or digest)."""
        found = []
        for service in self.services.values():
            repository = re.split(r"[:@]", service.image.rsplit("/", 1)[-1])[0]
            if repository in names:
                found.append(service)
        return found

    def app(self, profile: str | None = None) -> Service | None:
        """The service that runs the Ledger app: built here, not the migrations; one named app wins."""
        candidates = [
            service
            for service in self.services.values()
            if service.builds and not service.migrates_only and (profile is None or profile in service.profiles)
        ]
        named = [service for service in candidates if service.name in APP_NAMES]
        found = named or candidates
        return found[0] if found else None


def load_compose_text(text: str, path: Path = Path("compose.yaml")) -> Compose:
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path.name}:{mark.line + 1}" if mark is not None else path.name
        raise ParseError(f"{where}: not valid YAML: {getattr(error, 'problem', None) or error}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ParseError(f"{path.name}: a Compose file is a mapping with a `services:` key")
    return Compose(path, data, root)


def load_compose(path: Path) -> Compose:
    return load_compose_text(path.read_text(encoding="utf-8"), path)


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
