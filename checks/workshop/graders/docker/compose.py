"""Compose files, parsed without a Docker engine.

Parsing normalises what Compose accepts in several spellings, so that a rule (graders/docker/rules.py)
is written once: `depends_on` as a list or a mapping, `env_file` as a string, a list or mappings,
short and long volume syntax, string or list commands and healthchecks, and YAML anchors with merge
keys (resolved by PyYAML; `Compose.line` finds where a key is written).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped, unused-ignore]

from workshop.graders.docker.dockerfile import Command, ParseError, _split

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
