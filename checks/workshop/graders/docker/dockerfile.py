"""Dockerfiles and .dockerignore files, parsed without a Docker engine.

Parsing normalises what Docker accepts in several spellings, so that a rule (graders/docker/rules.py)
is written once: exec-form (JSON) and shell-form commands, `--mount` options, line continuations,
`ENV` old and new syntax; .dockerignore patterns as Docker matches them (with `**` and `!`).
"""

from __future__ import annotations

import io
import json
import re
import shlex
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from dockerfile_parse import DockerfileParser  # type: ignore[import-untyped, unused-ignore]

UV_IMAGE = "ghcr.io/astral-sh/uv"
_FLAG = re.compile(r"--(?P<name>[a-z][a-z-]*)(?:=(?P<value>\"[^\"]*\"|'[^']*'|\S*))?\s*")


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
