"""Where things live, and what a lesson is: the one place that knows the repository layout."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

# WORKSHOP_ROOT lets the workshop's own suite drive the CLI on a throwaway copy of the repository.
REPO = Path(os.environ.get("WORKSHOP_ROOT") or Path(__file__).resolve().parents[2]).resolve()
LESSONS = REPO / "lessons"
SOLUTIONS = REPO / "solutions"
STATE = REPO / ".workshop"  # git-ignored: progress, saved learner files
SAVED = STATE / "saved"

_NUMBER = re.compile(r"^\d{2}$")
# Files in lessons/NN written by hand; everything else there is generated from solutions/.
HAND_WRITTEN_DIRS = ("checks",)
HAND_WRITTEN_SUFFIXES = (".md", ".ipynb")
# `.venv`: lessons/08 holds the service's own pyproject.toml, so a `uv sync` there makes one.
IGNORED_PARTS = ("__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".ipynb_checkpoints", ".venv")
# A learner's own `.env` holds their local settings: never generated, never compared, never reset.
IGNORED_NAMES = (".env",)


def readme_title(readme: Path) -> str | None:
    """The title of a lesson from its README's `# Lesson NN — Title` line; None without one."""
    if readme.is_file():
        for line in readme.read_text(encoding="utf-8").splitlines():
            if line.startswith("# "):
                return re.sub(r"^Lesson \d{2}\s*[—:-]\s*", "", line[2:]).strip()
    return None


class LessonNotFound(ValueError):
    """A lesson number that does not name a lesson folder."""


@dataclass(frozen=True)
class Lesson:
    number: str
    path: Path

    @property
    def title(self) -> str:
        return readme_title(self.path / "README.md") or "(no README yet)"

    @property
    def solution(self) -> Path:
        return SOLUTIONS / self.number


@cache
def all_lessons() -> tuple[Lesson, ...]:
    if not LESSONS.is_dir():
        return ()
    return tuple(Lesson(p.name, p) for p in sorted(LESSONS.iterdir()) if p.is_dir() and _NUMBER.match(p.name))


def lesson(number: str | int) -> Lesson:
    """The lesson for '5', '05' or 5; a clear error for anything else."""
    text = str(number).strip()
    if text.isdigit() and len(text) <= 2:
        text = text.zfill(2)
    for found in all_lessons():
        if found.number == text:
            return found
    known = ", ".join(found.number for found in all_lessons()) or "none"
    raise LessonNotFound(f"There is no lesson {number!r}. Lessons: {known}.")


def lesson_of_path(path: Path) -> str | None:
    """The lesson number of a path inside some `lessons/NN` folder (any checkout), else None."""
    parts = path.resolve().parts
    for index in range(len(parts) - 1):
        if parts[index] == "lessons" and _NUMBER.match(parts[index + 1]):
            return parts[index + 1]
    return None


def is_ignored(relative: Path) -> bool:
    return (
        any(part in IGNORED_PARTS for part in relative.parts)
        or relative.name in IGNORED_NAMES
        or relative.suffix == ".pyc"
    )


def is_hand_written(relative: Path) -> bool:
    """Relative to the lesson folder: README, checks and notebooks are written by hand."""
    return relative.parts[0] in HAND_WRITTEN_DIRS or relative.suffix in HAND_WRITTEN_SUFFIXES
