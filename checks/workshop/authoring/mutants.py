"""Mutants: realistic wrong solutions that prove a lesson's checks.

Each lesson's `checks/mutants.py` holds `MUTANTS`, a list of `Mutant`s. A mutant is one mistake a
reviewer would reject, written as a find/replace on the lesson's reference solution, with the
checks that must catch it and a phrase their message must contain:

    Mutant(
        "lock-for-share",
        find=".with_for_update()",
        replace=".with_for_update(read=True)",
        killed_by=["test_get_for_update_blocks_a_second_writer"],
        says="FOR UPDATE",
        why="FOR SHARE lets two transfers read the same balance",
    )

`workshop verify` plants each mutant in a copy of the solution and runs the named checks: each
must fail with a `Lesson NN:` message containing `says` (so it teaches that mistake, not another),
and every check of the lesson must be named by at least one mutant that it kills.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from workshop.edits import Edit


@dataclass(frozen=True)
class Mutant:
    name: str  # short, unique in the lesson: "lock-for-share"
    find: str  # occurs exactly once (in `path`, or among the files the lesson's solution adds or changes)
    replace: str
    killed_by: Sequence[str]  # check names: `test_x` (any of its parametrisations) or `test_x[param]`
    says: str  # the failing checks' messages contain this (case-insensitive): they name the mistake
    why: str  # one line: why a reviewer would reject it
    path: str | None = None  # relative to the lesson folder
    also: Sequence[Edit] = field(default_factory=tuple)  # further edits of the same mistake (an import, say)

    @property
    def edits(self) -> list[Edit]:
        return [Edit(self.find, self.replace, self.path), *self.also]

    def problems(self) -> list[str]:
        """What is wrong with the mutant as written (before anything runs)."""
        found = []
        if not self.killed_by:
            found.append("names no check that must kill it")
        if not self.says.strip():
            found.append("has no `says`: the phrase that shows the message is about this mistake")
        if self.find == self.replace:
            found.append("changes nothing")
        return found


def load_mutants(lesson_dir: Path) -> list[Mutant]:
    """The MUTANTS of `lesson_dir/checks/mutants.py` ([] when the lesson has none)."""
    path = lesson_dir / "checks" / "mutants.py"
    if not path.is_file():
        return []
    spec = importlib.util.spec_from_file_location(f"workshop_mutants_{lesson_dir.name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    mutants = list(getattr(module, "MUTANTS", []))
    names = [mutant.name for mutant in mutants]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"{path}: mutant names must be unique; repeated: {', '.join(duplicates)}")
    return mutants
