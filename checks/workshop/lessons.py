"""Where things live, and what a lesson is: the one place that knows the repository layout.

A lesson is a folder `lessons/NN`. Its metadata (title, summary, minutes, steps, prerequisites)
lives in `lessons/NN/lesson.toml` and nowhere else. Its files are of two kinds, told apart by
`is_generated`: the service's code, generated from `solutions/` (never edit it by hand), and the
lesson material written by hand (README, lesson.toml, checks, notebooks, images, …).
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

# WORKSHOP_ROOT lets the workshop's own suite drive the CLI on a throwaway copy of the repository.
REPO = Path(os.environ.get("WORKSHOP_ROOT") or Path(__file__).resolve().parents[2]).resolve()
LESSONS = REPO / "lessons"
SOLUTIONS = REPO / "solutions"
STATE = REPO / ".workshop"  # git-ignored: results, saved learner files, caches
SAVED = STATE / "saved"

_NUMBER = re.compile(r"^\d{2}$")
# `.venv`: lessons 07 on hold the service's own pyproject.toml, so a `uv sync` there makes one.
IGNORED_PARTS = ("__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".ipynb_checkpoints", ".venv")
# A learner's own `.env` holds their local settings: never generated, never compared, never reset.
IGNORED_NAMES = (".env",)


class LessonNotFound(ValueError):
    """A lesson number that does not name a lesson folder."""


class MetadataError(ValueError):
    """A lesson.toml that is missing or malformed; the message names the file."""


@dataclass(frozen=True)
class Step:
    number: int
    title: str


@dataclass(frozen=True)
class Metadata:
    """The contents of a lesson.toml."""

    title: str
    summary: str  # what the learner writes, in a few words: the tables of lessons show it
    teaching: int  # minutes
    exercises: int  # minutes
    steps: tuple[Step, ...]
    prerequisites: tuple[str, ...]

    @property
    def minutes(self) -> int:
        return self.teaching + self.exercises


def read_metadata(path: Path) -> Metadata:
    """Read and check one lesson.toml."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise MetadataError(f"{path}: {error}") from None
    try:
        steps = tuple(Step(int(step["number"]), str(step["title"])) for step in data["steps"])
        metadata = Metadata(
            title=str(data["title"]),
            summary=str(data["summary"]),
            teaching=int(data["minutes"]["teaching"]),
            exercises=int(data["minutes"]["exercises"]),
            steps=steps,
            prerequisites=tuple(str(number) for number in data.get("prerequisites", [])),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise MetadataError(f"{path}: missing or wrong {error}; see lessons/00/lesson.toml") from None
    if [step.number for step in steps] != list(range(1, len(steps) + 1)):
        raise MetadataError(f"{path}: steps must be numbered 1, 2, 3, … in order")
    return metadata


@dataclass(frozen=True)
class Lesson:
    number: str
    path: Path

    @cached_property
    def metadata(self) -> Metadata:
        return read_metadata(self.path / "lesson.toml")

    @property
    def title(self) -> str:
        return self.metadata.title

    @property
    def solution(self) -> Path:
        return SOLUTIONS / self.number

    # What the lesson has, read from its files (never from its number).

    @property
    def has_migrations(self) -> bool:
        return (self.path / "alembic.ini").is_file()

    @property
    def uses_database(self) -> bool:
        return (self.path / "app" / "core" / "database.py").is_file()

    @property
    def uses_redis(self) -> bool:
        """Lesson 10 on: the app caches in Redis (its checks ask for the `redis_url` fixture)."""
        return (self.path / "app" / "core" / "cache.py").is_file()

    @property
    def has_docker(self) -> bool:
        return (self.path / "Dockerfile").is_file()

    def readme_section(self, heading: str) -> str:
        """The text under `## heading` in the lesson's README, up to the next `## ` heading ("" if none)."""
        readme = self.path / "README.md"
        text = readme.read_text(encoding="utf-8") if readme.is_file() else ""
        match = re.search(rf"^## {re.escape(heading)}\s*$(.*?)(?=^## |\Z)", text, flags=re.MULTILINE | re.DOTALL)
        return match.group(1) if match else ""


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


@cache
def generated_roots() -> frozenset[str]:
    """The first part of every path the generator writes into a lesson: app, migrations, tests, Dockerfile, …"""
    if not SOLUTIONS.is_dir():
        return frozenset()
    return frozenset(
        path.relative_to(number).parts[0]
        for number in SOLUTIONS.iterdir()
        if number.is_dir()
        for path in number.rglob("*")
        if path.is_file() and not is_ignored(path.relative_to(number))
    )


def is_generated(relative: Path) -> bool:
    """Relative to a lesson folder: a file of the service, written by `workshop build` from solutions/.

    The one definition used by the build, reset, verify, the seeded-bug grader and the docs: a
    path is generated when it lies under a name the generator writes (app/, migrations/, tests/,
    alembic.ini, Dockerfile, …); everything else in a lesson folder (README.md, lesson.toml,
    checks/, notebooks, images) is written by hand.
    """
    return bool(relative.parts) and relative.parts[0] in generated_roots() and not is_ignored(relative)


def is_hand_written(relative: Path) -> bool:
    """Relative to a lesson folder: lesson material, written by hand (the complement of `is_generated`)."""
    return bool(relative.parts) and not is_ignored(relative) and not is_generated(relative)
