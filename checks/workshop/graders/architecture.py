"""The layer rules of the standard (seed 001) and "async all the way", read from the learner's files.

Nothing here imports learner code: each rule walks a module's syntax tree, so a broken rule is
reported with its file and line even when the app does not start.

    routers        depend on services: never on app.crud or app.models
    services       reach data only through app.crud: no SQLAlchemy queries, no session calls
    models         import no other layer of the app
    schemas        import no models (DTOs stay independent of tables)
    below routers  (core, models, schemas, crud, services) nothing imports FastAPI or Starlette,
                   so nothing there raises an HTTP error
    async def      calls nothing that blocks the event loop (time.sleep, requests, sync file I/O …)
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

HTTP = ("fastapi", "starlette")
BELOW_ROUTERS = "nothing below the routers and dependencies imports FastAPI or raises HTTP errors"


@dataclass(frozen=True)
class Rule:
    layer: str  # a folder of app/
    forbidden: tuple[str, ...]  # module prefixes it may not import
    why: str
    allowed: tuple[str, ...] = ()  # exceptions to `forbidden` (a prefix allowed although a shorter one is not)


RULES: tuple[Rule, ...] = (
    Rule("routers", ("app.crud", "app.models"), "routers depend on services, never on repositories or tables"),
    Rule("models", ("app.",), "models import no other layer of the app", allowed=("app.models",)),
    Rule("schemas", ("app.models", "app.crud"), "schemas (DTOs) must not depend on database models"),
    Rule(
        "services",
        ("sqlalchemy",),
        "services reach the database only through the repositories in app/crud",
        # The session's type (to hand it to repositories) and the database's errors are not queries.
        allowed=("sqlalchemy.ext.asyncio", "sqlalchemy.exc"),
    ),
    Rule("services", ("app.routers", "app.dependencies"), "services know nothing of the HTTP layer above them"),
    Rule("crud", ("app.services", "app.routers", "app.dependencies"), "repositories know nothing of the layers above"),
    Rule("core", ("app.routers", "app.dependencies", "app.services", "app.crud"), "core is below every other layer"),
    *(Rule(layer, HTTP, BELOW_ROUTERS) for layer in ("core", "models", "schemas", "crud", "services")),
)

# What a service must leave to a repository: the session's query and write methods.
SESSION_CALLS = frozenset(
    {"execute", "scalars", "scalar", "stream", "stream_scalars", "get", "add", "add_all", "delete", "merge", "flush"}
)


@dataclass(frozen=True)
class Violation:
    path: Path
    line: int
    found: str  # what was imported or called
    reason: str
    verb: str = "imports"

    def message(self, lesson: str, base: Path) -> str:
        where = self.path.relative_to(base).as_posix()
        return f"Lesson {lesson}: {where}:{self.line} {self.verb} {self.found}: {self.reason}."


def _modules(app_dir: Path, layer: str) -> Iterator[tuple[Path, str, ast.Module]]:
    folder = app_dir / layer
    for path in sorted(folder.rglob("*.py")) if folder.is_dir() else []:
        module = ".".join(path.relative_to(app_dir.parent).with_suffix("").parts)
        try:
            yield path, module, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except (SyntaxError, UnicodeDecodeError):
            continue  # the import helper reports broken files with their line


def _imports(tree: ast.AST, module: str) -> list[tuple[int, str]]:
    """(line, dotted name) of every import, `from x import y` as both x and x.y."""
    package = module.rsplit(".", 1)[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            # The names first: a rule reports the most precise one (sqlalchemy.select, not sqlalchemy).
            found.extend((node.lineno, f"{target}.{alias.name}") for alias in node.names)
            found.append((node.lineno, target))
    return found


def _matches(name: str, prefix: str) -> bool:
    return name == prefix.rstrip(".") or name.startswith(prefix if prefix.endswith(".") else prefix + ".")


def _session_calls(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Calls like `self.session.execute(…)` or `session.add(…)`: the session used directly."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SESSION_CALLS:
            owner = ast.unparse(node.func.value)
            if "session" in owner.lower():
                yield node.lineno, f"{owner}.{node.func.attr}()"


def violations(app_dir: Path, layers: Iterable[str] | None = None) -> list[Violation]:
    """Every import (and, in services, every session call) in `app_dir` that breaks a layer rule."""
    wanted = set(layers) if layers is not None else {rule.layer for rule in RULES}
    found: list[Violation] = []
    for layer in sorted(wanted):
        rules = [rule for rule in RULES if rule.layer == layer]
        for path, module, tree in _modules(app_dir, layer):
            seen: set[int] = set()
            for line, imported in _imports(tree, module):
                for rule in rules:
                    if line in seen or any(_matches(imported, allowed) for allowed in rule.allowed):
                        continue
                    if any(_matches(imported, prefix) for prefix in rule.forbidden):
                        found.append(Violation(path, line, imported, rule.why))
                        seen.add(line)
            if layer == "services":
                for line, call in _session_calls(tree):
                    found.append(
                        Violation(path, line, call, "services reach the database only through repositories", "calls")
                    )
    return sorted(found, key=lambda violation: (str(violation.path), violation.line))


# --- async all the way -----------------------------------------------------------------------

# Fully qualified callables that block the thread, and what to use in async code instead.
BLOCKING: dict[str, str] = {
    "time.sleep": "await asyncio.sleep(…)",
    "requests": "httpx.AsyncClient",
    "urllib.request.urlopen": "httpx.AsyncClient",
    "httpx.get": "httpx.AsyncClient",
    "httpx.post": "httpx.AsyncClient",
    "httpx.put": "httpx.AsyncClient",
    "httpx.delete": "httpx.AsyncClient",
    "httpx.request": "httpx.AsyncClient",
    "httpx.Client": "httpx.AsyncClient",
    "subprocess": "await asyncio.create_subprocess_exec(…)",
    "os.system": "await asyncio.create_subprocess_exec(…)",
    "os.popen": "await asyncio.create_subprocess_exec(…)",
    "psycopg2.connect": "the async engine (postgresql+asyncpg)",
    "psycopg.connect": "the async engine (postgresql+asyncpg)",
    "sqlite3.connect": "the async engine (postgresql+asyncpg)",
    "sqlalchemy.create_engine": "sqlalchemy.ext.asyncio.create_async_engine",
    "builtins.open": "anyio.Path(…) (await path.read_text()) or await asyncio.to_thread(…)",
    "builtins.input": "nothing: a server has no keyboard",
}
# Methods that do synchronous file I/O whatever object they are called on (pathlib.Path).
BLOCKING_METHODS: dict[str, str] = {
    name: "anyio.Path: `await anyio.Path(p).read_text()`"
    for name in ("read_text", "write_text", "read_bytes", "write_bytes")
}


def _aliases(tree: ast.Module) -> dict[str, str]:
    """Local name → the module or object it stands for, from the module's imports."""
    names = {"open": "builtins.open", "input": "builtins.input"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _dotted(node: ast.expr, aliases: dict[str, str]) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in aliases:
        return None
    return ".".join([aliases[node.id], *reversed(parts)])


def _calls_in(function: ast.AsyncFunctionDef) -> Iterator[tuple[ast.Call, bool]]:
    """(call, awaited?) for the calls in an async function's own body (not in functions or classes inside it)."""
    pending: list[tuple[ast.AST, bool]] = [(node, False) for node in function.body]
    while pending:
        node, awaited = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            continue
        if isinstance(node, ast.Call):
            yield node, awaited
        pending.extend((child, isinstance(node, ast.Await)) for child in ast.iter_child_nodes(node))


def blocking_calls(app_dir: Path) -> list[Violation]:
    """Every call inside an `async def` of the app that blocks the event loop."""
    found: list[Violation] = []
    for path in sorted(app_dir.rglob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except (SyntaxError, UnicodeDecodeError):
            continue
        aliases = _aliases(tree)
        for function in [node for node in ast.walk(tree) if isinstance(node, ast.AsyncFunctionDef)]:
            for call, awaited in _calls_in(function):
                name = _dotted(call.func, aliases)
                instead = None
                if name is not None:
                    instead = next((use for key, use in BLOCKING.items() if _matches(name, key)), None)
                method = call.func.attr if isinstance(call.func, ast.Attribute) else ""
                if instead is None and method in BLOCKING_METHODS and not awaited:  # `await anyio.Path(p).read_text()`
                    name, instead = f"….{method}", BLOCKING_METHODS[method]
                if instead is not None and name is not None:
                    reason = (
                        f"it blocks the event loop inside `async def {function.name}`: while it waits, this "
                        f"process serves no other request. Use {instead}"
                    )
                    found.append(Violation(path, call.lineno, f"{name.removeprefix('builtins.')}()", reason, "calls"))
    return sorted(found, key=lambda violation: (str(violation.path), violation.line))
