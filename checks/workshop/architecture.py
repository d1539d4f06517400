"""The layer rules, checked by walking each module's imports (no import of learner code needed).

routers             never import app.crud or app.models — they talk to services
schemas             never import app.models — DTOs stay independent of tables
models              import no other layer of the app
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

# layer folder → (forbidden layers, why)
RULES: dict[str, tuple[tuple[str, ...], str]] = {
    "routers": (("crud", "models"), "routers depend on services, never on repositories or tables"),
    "schemas": (("models",), "schemas (DTOs) must not depend on database models"),
    "models": (
        ("routers", "dependencies", "schemas", "services", "crud", "core"),
        "models import no other layer of the app",
    ),
}


@dataclass(frozen=True)
class Violation:
    path: Path
    line: int
    imported: str
    reason: str

    def message(self, lesson: str, base: Path) -> str:
        where = self.path.relative_to(base).as_posix()
        return f"Lesson {lesson}: {where}:{self.line} imports {self.imported}: {self.reason}."


def _imports(tree: ast.AST, module: str) -> list[tuple[int, str]]:
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
            found.append((node.lineno, target))
            found.extend((node.lineno, f"{target}.{alias.name}") for alias in node.names)
    return found


def violations(app_dir: Path) -> list[Violation]:
    """Every import in `app_dir` (the `app` package) that breaks a layer rule."""
    found: list[Violation] = []
    for layer, (forbidden, reason) in RULES.items():
        folder = app_dir / layer
        for path in sorted(folder.rglob("*.py")) if folder.is_dir() else []:
            relative = path.relative_to(app_dir.parent).with_suffix("")
            module = ".".join(relative.parts)
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            except SyntaxError:
                continue  # the import helper reports broken files with their line
            seen: set[int] = set()
            for line, imported in _imports(tree, module):
                for other in forbidden:
                    if line not in seen and (imported == f"app.{other}" or imported.startswith(f"app.{other}.")):
                        found.append(Violation(path, line, imported, reason))
                        seen.add(line)
    return found
