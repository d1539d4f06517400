"""Training agendas, timed from each lesson's minutes in its lesson.toml.

One source each: a lesson's minutes live in its lesson.toml, the day plans (which lessons on which
day, the hours, the breaks) in docs/agendas.toml. The docs site's instructor guide renders the
tables below at build time (`docs/hooks/workshop_docs.py`), and the workshop's suite
(`checks/tests/test_docs.py`) reads the rendered tables back and proves that they use the
lessons' figures, that every total is the sum of its rows, and that every day ends within its hours.

Change a lesson's minutes, and the agendas follow; make a day too long, and the docs build fails.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from workshop.lessons import REPO, Metadata, MetadataError, read_metadata

DASH = "\N{EN DASH}"  # between two times of a range
PLANS = REPO / "docs" / "agendas.toml"


class AgendaError(ValueError):
    """A lesson without metadata, a malformed plan, or a day that does not fit its hours."""


def metadata(lessons_dir: Path, number: str) -> Metadata:
    """A lesson's lesson.toml: its title and minutes."""
    try:
        return read_metadata(lessons_dir / number / "lesson.toml")
    except MetadataError as error:
        raise AgendaError(str(error)) from None


@dataclass(frozen=True)
class Break:
    label: str
    minutes: int
    not_before: str  # HH:MM: taken at the first lesson boundary from this time on


@dataclass(frozen=True)
class Day:
    title: str
    start: str  # HH:MM
    end: str  # HH:MM: the stated end of the day; the schedule must finish by then
    opening: tuple[str, int]
    lessons: tuple[str, ...]
    closing: tuple[str, int]
    breaks: tuple[Break, ...] = (
        Break("Coffee break", 15, "10:30"),
        Break("Lunch", 60, "12:00"),
        Break("Coffee break", 15, "14:30"),
    )


@dataclass(frozen=True)
class Session:
    name: str
    days: tuple[Day, ...]


def sessions(path: Path = PLANS) -> dict[str, Session]:
    """The day plans of docs/agendas.toml, by name."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return {
            plan["name"]: Session(
                plan["name"],
                tuple(
                    Day(
                        title=day["title"],
                        start=day["start"],
                        end=day["end"],
                        opening=(day["opening"][0], int(day["opening"][1])),
                        lessons=tuple(day["lessons"]),
                        closing=(day["closing"][0], int(day["closing"][1])),
                    )
                    for day in plan["days"]
                ),
            )
            for plan in data["sessions"]
        }
    except (OSError, tomllib.TOMLDecodeError, KeyError, IndexError, TypeError, ValueError) as error:
        raise AgendaError(f"{path}: {error!r}") from None


@dataclass(frozen=True)
class Row:
    start: str
    end: str
    what: str
    kind: str  # "lesson", "break" or "session"
    minutes: int
    lesson: str | None = None
    teaching: int | None = None
    exercises: int | None = None


def to_minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def to_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def schedule(day: Day, lessons_dir: Path) -> list[Row]:
    """The timed rows of a day: opening, lessons with breaks at lesson boundaries, closing."""
    rows: list[Row] = []
    clock = to_minutes(day.start)
    pending = list(day.breaks)

    def add(what: str, kind: str, minutes: int, lesson: Metadata | None = None, number: str | None = None) -> None:
        nonlocal clock
        teaching, exercises = (lesson.teaching, lesson.exercises) if lesson else (None, None)
        rows.append(Row(to_clock(clock), to_clock(clock + minutes), what, kind, minutes, number, teaching, exercises))
        clock += minutes

    add(day.opening[0], "session", day.opening[1])
    for index, number in enumerate(day.lessons):
        # A break is taken between two lessons, never inside one and never just before the closing.
        while index > 0 and pending and clock >= to_minutes(pending[0].not_before):
            taken = pending.pop(0)
            add(taken.label, "break", taken.minutes)
        found = metadata(lessons_dir, number)
        add(f"Lesson {number} — {found.title}", "lesson", found.minutes, found, number)
    add(day.closing[0], "session", day.closing[1])
    return rows


def problems(day: Day, rows: list[Row]) -> list[str]:
    """Why a day's schedule does not fit its stated hours (empty when it does)."""
    found: list[str] = []
    if rows and to_minutes(rows[-1].end) > to_minutes(day.end):
        found.append(f"{day.title} ends at {rows[-1].end}, after its stated end {day.end}")
    if not any(row.kind == "break" and row.minutes >= 30 for row in rows):
        found.append(f"{day.title} has no lunch break: move a lesson to another day")
    return found


def render(session: Session, lessons_dir: Path) -> str:
    """Markdown: one table per day, with a totals row and the day's hours."""
    parts: list[str] = []
    for day in session.days:
        rows = schedule(day, lessons_dir)
        lessons = [row for row in rows if row.kind == "lesson"]
        breaks = sum(row.minutes for row in rows if row.kind == "break")
        sessions = sum(row.minutes for row in rows if row.kind == "session")
        teaching = sum(row.teaching or 0 for row in lessons)
        exercises = sum(row.exercises or 0 for row in lessons)
        total = sum(row.minutes for row in rows)
        hours = to_minutes(day.end) - to_minutes(day.start)
        spare = to_minutes(day.end) - to_minutes(rows[-1].end)
        parts.append(f"**{day.title}: {day.start}{DASH}{day.end}** ({hours} minutes)\n")
        parts.append("| time | item | teaching | exercises | minutes |")
        parts.append("|---|---|--:|--:|--:|")
        for row in rows:
            what = f"*{row.what}*" if row.kind == "break" else row.what
            parts.append(
                f"| {row.start}{DASH}{row.end} | {what} | {'' if row.teaching is None else row.teaching} "
                f"| {'' if row.exercises is None else row.exercises} | {row.minutes} |"
            )
        parts.append(
            f"| **{rows[0].start}{DASH}{rows[-1].end}** | **Total**: {len(lessons)} lessons, "
            f"{sessions} min opening and closing, {breaks} min breaks | **{teaching}** | **{exercises}** "
            f"| **{total}** |"
        )
        parts.append("")
        parts.append(f"Ends at {rows[-1].end}: {spare} minutes to spare before {day.end}.\n")
    return "\n".join(parts)
