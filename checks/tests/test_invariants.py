"""The invariants of DESIGN.md, proved for every lesson, each lesson in a process of its own."""

from __future__ import annotations

import pytest

from workshop import build
from workshop.lessons import Lesson, all_lessons
from workshop.verify import run_checks, solution_tree

LESSONS = list(all_lessons())


def test_there_are_lessons() -> None:
    assert [found.number for found in LESSONS][:2] == ["00", "01"]


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda found: found.number)
def test_every_check_fails_on_the_starter_for_a_lesson_reason(lesson: Lesson) -> None:
    run = run_checks(lesson.path)
    assert run.problems_as_starter() == [], run.output
    assert run.returncode == 1, run.output
    assert f"Lesson {lesson.number}: 0/{len(run.checks)} checks pass" in run.output
    assert "Traceback" not in run.output, "a learner should see lesson messages, not the engine's traceback"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda found: found.number)
def test_every_check_passes_on_the_solution(lesson: Lesson) -> None:
    with solution_tree(lesson) as folder:
        run = run_checks(folder)
    # None skipped but lesson 08's engine check where no Docker engine runs (verify.ENGINE_CHECK), saying so.
    assert run.problems_as_solution() == [], run.output
    assert run.returncode == 0, run.output
    graded = len(run.checks) - run.skipped  # a skipped check is not counted on the scorecard
    assert f"Lesson {lesson.number}: {graded}/{graded} checks pass" in run.output


def test_generated_files_match_their_sources() -> None:
    drifts = build.all_drift()
    assert drifts == [], "run `uv run workshop build`:\n" + "".join(d.diff() for d in drifts)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda found: found.number)
def test_every_lesson_has_its_text_and_checks(lesson: Lesson) -> None:
    readme = (lesson.path / "README.md").read_text(encoding="utf-8")
    assert readme.startswith(f"# Lesson {lesson.number} — ")
    for section in ("Objectives", "Minutes", "## Hints", "## Key points"):
        assert section in readme, f"lessons/{lesson.number}/README.md has no {section!r}"
    assert list((lesson.path / "checks").glob("test_*.py")), "a lesson needs checks"
