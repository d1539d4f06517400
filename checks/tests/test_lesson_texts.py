"""The lesson texts match the checks: every `uv run pytest lessons/NN …` a README promises a count for
selects that many checks, a narrowed run says "selected", and every "(step N)" names a step."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from workshop import runner
from workshop.lessons import REPO, Lesson, all_lessons

LESSONS = list(all_lessons())
COMMAND = re.compile(r"`uv run pytest (lessons/\d\d[^`]*)`")
COUNT = re.compile(r"`(?:Lesson \d\d: )?(\d+)/(\d+) (selected )?checks pass")


def promises(lesson: Lesson) -> list[tuple[str, int, bool]]:
    """(the pytest arguments, the number of checks promised, says "selected"?) for each check line."""
    found = []
    for paragraph in (lesson.path / "README.md").read_text(encoding="utf-8").split("\n\n"):
        command, count = COMMAND.search(paragraph), COUNT.search(paragraph)
        if command and count and "lessons/" in command.group(1):
            found.append((command.group(1), int(count.group(2)), bool(count.group(3))))
    return found


def collected(arguments: str) -> tuple[int, int]:
    """(selected, in the lesson) for `pytest ARGUMENTS --collect-only`, run from the repository root."""
    done = runner.run_pytest([*shlex.split(arguments), "--collect-only", "-q", "-p", "no:cacheprovider"], cwd=REPO)
    selected = re.search(r"(\d+)(?:/(\d+))? tests? collected", done.output)
    assert selected, done.output[-2000:]
    total = int(selected.group(2) or selected.group(1))
    return int(selected.group(1)), total


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda found: found.number)
def test_every_count_a_readme_promises_is_what_the_checks_select(lesson: Lesson) -> None:
    wrong = []
    for arguments, promised, says_selected in promises(lesson):
        selected, total = collected(arguments)
        narrowed = selected < total
        if selected != promised:
            wrong.append(f"`uv run pytest {arguments}` selects {selected} checks, the README says {promised}")
        elif narrowed != says_selected:
            wrong.append(
                f"`uv run pytest {arguments}`: say `{promised}/{promised} selected checks pass`"
                if narrowed
                else f"`uv run pytest {arguments}` runs the whole lesson: no 'selected'"
            )
    assert wrong == [], f"lessons/{lesson.number}/README.md:\n" + "\n".join(wrong)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda found: found.number)
def test_every_step_a_check_or_a_stub_names_exists(lesson: Lesson) -> None:
    readme = (lesson.path / "README.md").read_text(encoding="utf-8")
    steps = {int(number) for number in re.findall(r"^## Step (\d+) ", readme, flags=re.MULTILINE)}
    sources = sorted((lesson.path / "checks").glob("*.py")) + sorted((REPO / "solutions" / lesson.number).rglob("*"))
    wrong = []
    for path in sources:
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in re.finditer(r"\(steps? (\d+)(?:(?:,| and|-|\u2013| to) ?(\d+))*", text):
            for number in (int(group) for group in match.groups() if group):
                if number not in steps:
                    line = text.count("\n", 0, match.start()) + 1
                    wrong.append(f"{Path(path).relative_to(REPO)}:{line}: step {number}")
    assert wrong == [], f"steps that lessons/{lesson.number}/README.md does not have:\n" + "\n".join(wrong)


def test_every_check_the_docs_name_exists() -> None:
    names = set()
    for path in (REPO / "lessons").glob("*/checks/test_*.py"):
        names |= set(re.findall(r"^(?:async )?def (test_\w+)\(", path.read_text(encoding="utf-8"), flags=re.MULTILINE))
    missing = {
        f"{page.relative_to(REPO)}: {name}"
        for page in sorted((REPO / "docs").glob("*.md"))
        for name in re.findall(r"`(test_\w+)`", page.read_text(encoding="utf-8"))
        if name not in names
    }
    assert missing == set(), "checks named in the docs that no lesson has:\n" + "\n".join(sorted(missing))


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda found: found.number)
def test_the_readme_says_what_lesson_toml_says(lesson: Lesson) -> None:
    """The title, the minutes and the step headings live in lesson.toml; the README repeats them, checked here."""
    readme = (lesson.path / "README.md").read_text(encoding="utf-8")
    meta = lesson.metadata
    first = readme.splitlines()[0]
    assert first == f"# Lesson {lesson.number} — {meta.title}", f"lessons/{lesson.number}/README.md: {first!r}"
    minutes = re.search(r"\*\*Minutes:\*\*\s*teaching\s+(\d+)\s*/\s*exercises\s+(\d+)", readme)
    assert minutes and (int(minutes[1]), int(minutes[2])) == (meta.teaching, meta.exercises), (
        f"lessons/{lesson.number}/README.md: minutes {minutes and minutes.group(0)}; lesson.toml says "
        f"teaching {meta.teaching} / exercises {meta.exercises}"
    )
    headings = [(int(number), title.strip()) for number, title in re.findall(r"^## Step (\d+) — (.+)$", readme, re.M)]
    assert headings == [(step.number, step.title) for step in meta.steps], (
        f"lessons/{lesson.number}/README.md step headings differ from lesson.toml"
    )


WHOLE_RUN = re.compile(r"Lesson (\d\d): \d+/(\d+) checks pass")
NARROWED_RUN = re.compile(r"\((\d+) in lesson (\d\d)\)")


def test_every_count_the_workshops_own_pages_give_is_the_lessons() -> None:
    """README.md, CONTRIBUTING.md and docs/ quote scorecards too: their totals are the lessons' real ones."""
    totals: dict[str, int] = {}
    wrong = []
    for page in [REPO / "README.md", REPO / "CONTRIBUTING.md", *sorted((REPO / "docs").glob("*.md"))]:
        text = page.read_text(encoding="utf-8")
        claims = [(found.group(1), int(found.group(2))) for found in WHOLE_RUN.finditer(text)]
        claims += [(found.group(2), int(found.group(1))) for found in NARROWED_RUN.finditer(text)]
        for number, said in claims:
            if number not in totals:
                totals[number] = collected(f"lessons/{number}")[1]
            if said != totals[number]:
                wrong.append(f"{page.relative_to(REPO)}: lesson {number} has {totals[number]} checks, not {said}")
    assert wrong == [], "\n".join(wrong)
