"""The invariants of DESIGN.md, proved for every lesson, each lesson in a process of its own."""

from __future__ import annotations

import re

import pytest

from workshop.authoring import build
from workshop.authoring.steps import out_of_order
from workshop.authoring.verify import Run, prove, run_checks, solution_tree
from workshop.lessons import Lesson, all_lessons

LESSONS = list(all_lessons())
SOLUTION_RUNS = 3  # verdicts do not flicker: every solution passes this many times in a row
_STARTERS: dict[str, Run] = {}
_SOLUTIONS: dict[str, list[Run]] = {}  # the runs of each solution, shared with the proof by mutants


def _run_lesson(lesson: Lesson) -> None:
    """The starter's run and the solution's runs of one lesson, one after another.

    Each run uses both cores already (workshop.shards: two processes, each with its own database, as a
    learner's run does). Two runs at once made four processes whose concurrency checks together asked
    PostgreSQL for more than its 100 connections ("sorry, too many clients already", seen in CI).
    """
    with solution_tree(lesson) as folder:
        _STARTERS[lesson.number] = run_checks(lesson.path)
        _SOLUTIONS[lesson.number] = [run_checks(folder) for _ in range(SOLUTION_RUNS)]


def starter_run(lesson: Lesson) -> Run:
    if lesson.number not in _STARTERS:
        _run_lesson(lesson)
    return _STARTERS[lesson.number]


def solution_runs(lesson: Lesson) -> list[Run]:
    if lesson.number not in _SOLUTIONS:
        _run_lesson(lesson)
    return _SOLUTIONS[lesson.number]


def test_there_are_lessons() -> None:
    assert [found.number for found in LESSONS][:2] == ["00", "01"]


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda found: found.number)
def test_every_check_fails_on_the_starter_for_a_lesson_reason(lesson: Lesson) -> None:
    run = starter_run(lesson)
    assert run.problems_as_starter() == [], run.output
    assert run.returncode == 1, run.output
    assert f"Lesson {lesson.number}: 0/{len(run.checks) - run.skipped} checks pass" in run.output
    assert "Traceback" not in run.output, "a learner should see lesson messages, not the engine's traceback"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda found: found.number)
def test_every_check_passes_on_the_solution_every_time(lesson: Lesson) -> None:
    runs = solution_runs(lesson)
    for run in runs:
        # None skipped but an engine-gated check where no Docker engine runs, saying so.
        assert run.problems_as_solution() == [], run.output
        assert run.returncode == 0, run.output
        graded = len(run.checks) - run.skipped  # a skipped check is not counted on the scorecard
        assert f"Lesson {lesson.number}: {graded}/{graded} checks pass" in run.output
    assert all(run.verdicts() == runs[0].verdicts() for run in runs), "verdicts differ between identical runs"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda found: found.number)
def test_every_mutant_is_killed_and_every_check_is_proven(lesson: Lesson) -> None:
    proof = prove(lesson, starter=False, solutions=solution_runs(lesson)[:1])
    assert proof.problems == [], "\n".join(proof.problems)
    assert proof.mutants and proof.unproven == []


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda found: found.number)
def test_every_check_has_a_step_of_its_readme(lesson: Lesson) -> None:
    run = solution_runs(lesson)[0]
    readme = (lesson.path / "README.md").read_text(encoding="utf-8")
    steps = {int(number) for number in re.findall(r"^## Step (\d+) ", readme, flags=re.MULTILINE)}
    wrong = {check.name: check.step for check in run.checks if check.step not in steps}
    assert wrong == {}, f"checks without a step marker naming a step of lessons/{lesson.number}/README.md"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda found: found.number)
def test_the_readme_steps_can_be_done_in_order(lesson: Lesson) -> None:
    """A learner runs the checks after each step: with steps 1 to N written and the later ones still the
    starter's stubs, every check of steps 1 to N passes (workshop.authoring.steps)."""
    problems = out_of_order(lesson)
    assert problems == [], "\n".join(problems)


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
    assert lesson.metadata.steps, f"lessons/{lesson.number}/lesson.toml needs its steps"
