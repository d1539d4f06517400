"""Find/replace edits on a lesson's code: the shape of mutants, seeded bugs and refactors.

An edit names the text it changes, which must occur exactly once in its file, so that a change
of the reference that moves that text fails loudly instead of silently defusing the edit. When
an edit names no file, its text must occur exactly once among the files it may touch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path


class EditDoesNotApply(ValueError):
    """An edit's `find` does not occur exactly once; the message says where it looked."""


@dataclass(frozen=True)
class Edit:
    find: str
    replace: str
    path: str | None = None  # relative to the lesson folder; None: wherever `find` occurs once

    def locate(self, files: Mapping[str, str]) -> str:
        """The one file (relative path) this edit changes, among `files` (relative path → text)."""
        if self.path is not None:
            count = files[self.path].count(self.find) if self.path in files else 0
            if count != 1:
                raise EditDoesNotApply(f"its text occurs {count} times in {self.path}, not once")
            return self.path
        hits = {path: text.count(self.find) for path, text in files.items() if self.find in text}
        if sum(hits.values()) != 1:
            where = ", ".join(f"{path} ({count} times)" for path, count in sorted(hits.items())) or "no file"
            raise EditDoesNotApply(f"its text must occur once among the files it may change; found in {where}")
        return next(iter(hits))

    def apply(self, files: Mapping[str, str]) -> tuple[str, str]:
        """(path, new text) of the file this edit changes."""
        path = self.locate(files)
        return path, files[path].replace(self.find, self.replace)


def read_texts(folder: Path, relative_paths: Iterable[str]) -> dict[str, str]:
    """path → text for each of `relative_paths` that exists under `folder`."""
    found = {}
    for relative in relative_paths:
        target = folder / relative
        if target.is_file():
            found[relative] = target.read_text(encoding="utf-8")
    return found


def apply_all(folder: Path, edits: Iterable[Edit], allowed: Iterable[str]) -> list[str]:
    """Apply `edits` one after another to the files under `folder`; return the paths changed.

    `allowed` lists the files (relative to `folder`) an edit without a `path` may change.
    """
    allowed = list(allowed)
    changed: list[str] = []
    for edit in edits:
        paths = [edit.path] if edit.path is not None else allowed
        path, text = edit.apply(read_texts(folder, paths))
        (folder / path).write_text(text, encoding="utf-8")
        changed.append(path)
    return changed
