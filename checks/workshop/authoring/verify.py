"""Run a lesson's checks in a process of their own, on the starter, the reference solution or a mutant.

Shared by `workshop verify`, `workshop check`, `workshop hint` and the workshop's own suite. The
proof of a lesson (`prove`) is: every check fails on the starter for a lesson reason, every check
passes on the solution (each of `repeat` times), and every mutant of `checks/mutants.py` is killed
by the checks it names with a `Lesson NN:` message about that mistake, and every check kills one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from workshop import runner
from workshop.authoring.build import stage
from workshop.authoring.mutants import Mutant, load_mutants
from workshop.edits import EditDoesNotApply, apply_all
from workshop.lessons import REPO, SOLUTIONS, Lesson, is_hand_written, is_ignored
from workshop.results import LESSON_KINDS, CheckResult, Kind, Outcome, RunReport

# The one kind of skip allowed: a check marked `engine_gated` (lesson 08's build of the stack) where
# no Docker engine runs, saying so.
ENGINE_SKIP = "Skipped: no Docker engine here"


@dataclass
class Run:
    """One pytest run of a lesson in a process of its own: its report, exit code and output."""

    report: RunReport
    returncode: int | None  # None: stopped after its timeout
    output: str

    @property
    def checks(self) -> list[CheckResult]:
        return self.report.checks

    @property
    def passed(self) -> int:
        return self.report.passed

    @property
    def skipped(self) -> int:
        return len(self.report.skipped)

    def verdicts(self) -> dict[str, tuple[str, str | None]]:
        """check name → (outcome, kind): what must not change between repeated runs."""
        return {check.name: (str(check.outcome), str(check.kind) if check.kind else None) for check in self.checks}

    def problems_as_starter(self) -> list[str]:
        """Why this run does not show a proper starter: every check failing for a lesson reason."""
        problems = [f"collection error in {nodeid}" for nodeid in self.report.collection_errors]
        if not self.checks:
            problems.append(f"no checks ran (exit code {self.returncode})")
        for check in self.checks:
            if is_engine_skip(check):
                continue  # where no Docker engine runs, the engine-gated check skips, saying so
            if check.outcome != Outcome.FAILED:
                problems.append(f"{check.nodeid} {check.outcome} on the starter")
            elif check.kind not in LESSON_KINDS:
                problems.append(f"{check.nodeid} failed as {check.kind}: {check.message}")
        return problems

    def problems_as_solution(self) -> list[str]:
        """Why this run does not show a proper solution: every check passing, none skipped but the engine check."""
        problems = [f"collection error in {nodeid}" for nodeid in self.report.collection_errors]
        if not self.checks:
            problems.append(f"no checks ran (exit code {self.returncode})")
        for check in self.checks:
            if check.outcome != Outcome.PASSED and not is_engine_skip(check):
                problems.append(f"{check.nodeid} {check.outcome}: {check.message}")
        return problems


def is_engine_skip(check: CheckResult) -> bool:
    return check.outcome == Outcome.SKIPPED and check.engine_gated and check.message.startswith(ENGINE_SKIP)


def run_checks(folder: Path, *pytest_args: str, timeout: float = 600, env: dict[str, str] | None = None) -> Run:
    """Run `pytest <folder>` in a process of its own with the workshop plugin; read its report."""
    with tempfile.TemporaryDirectory(prefix="workshop-report-") as scratch:
        path = Path(scratch) / "report.json"
        args = [
            str(folder),
            "-c",
            str(REPO / "pyproject.toml"),
            "--rootdir",
            str(folder.parents[1]),
            "-p",
            "no:cacheprovider",
            "--workshop-report",
            str(path),
            *pytest_args,
        ]
        done = runner.run_pytest(args, cwd=folder.parents[1], env=env, timeout=timeout)
        report = RunReport.from_json(path.read_text(encoding="utf-8")) if path.is_file() else RunReport(folder.name)
    return Run(report, done.returncode, done.output)


def write_solution_tree(lesson: Lesson, root: Path) -> Path:
    """root/lessons/NN: the lesson's hand-written files with the finished stage laid over them."""
    return write_tree(lesson, root, stage(lesson.number))


def write_tree(lesson: Lesson, root: Path, code: dict[Path, str]) -> Path:
    """root/lessons/NN: the lesson's hand-written files (README, checks, …) with `code` laid over them."""
    folder = root / "lessons" / lesson.number
    for source in sorted(lesson.path.rglob("*")):
        relative = source.relative_to(lesson.path)
        if source.is_file() and is_hand_written(relative):
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, folder / relative)
    for relative, text in code.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text, encoding="utf-8")
    return folder


@contextmanager
def solution_tree(lesson: Lesson) -> Iterator[Path]:
    """A throwaway copy of the lesson as its solution branch has it."""
    with tempfile.TemporaryDirectory(prefix=f"workshop-solution-{lesson.number}-") as scratch:
        yield write_solution_tree(lesson, Path(scratch))


def solution_files(lesson: Lesson) -> list[str]:
    """The files lesson NN adds or changes (relative to the lesson folder): what a mutant may change."""
    root = SOLUTIONS / lesson.number
    return sorted(
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and not is_ignored(path.relative_to(root))
    )


# --- mutants ---------------------------------------------------------------------------------


def _matches(check_name: str, wanted: str) -> bool:
    return check_name == wanted or ("[" not in wanted and check_name.split("[")[0] == wanted)


@dataclass
class MutantVerdict:
    """What the checks did with one mutant, over one or more runs."""

    mutant: Mutant
    problems: list[str] = field(default_factory=list)
    killers: set[str] = field(default_factory=set)  # checks it names that failed with a message about it
    runs: list[Run] = field(default_factory=list)

    @property
    def killed(self) -> bool:
        return not self.problems


def judge_mutant(mutant: Mutant, run: Run, lesson: str) -> tuple[list[str], set[str]]:
    """(problems, killers) of one run of the checks on one mutant."""
    problems = [f"collection error in {nodeid}" for nodeid in run.report.collection_errors]
    if run.returncode is None:
        problems.append("the run did not finish in time")
    killers: set[str] = set()
    says = mutant.says.lower()
    for wanted in mutant.killed_by:
        named = [check for check in run.checks if _matches(check.name, wanted)]
        if not named:
            problems.append(f"{wanted}: no such check ran")
            continue
        good = [
            check
            for check in named
            if check.outcome == Outcome.FAILED
            and check.kind == Kind.TEACHING
            and f"Lesson {lesson}:" in check.message
            and says in check.message.lower()
        ]
        killers |= {check.name for check in good}
        if not good:
            seen = "; ".join(
                f"{check.name} {check.outcome}"
                + (f" as {check.kind}: {check.message[:300]}" if check.outcome == Outcome.FAILED else "")
                for check in named
            )
            problems.append(f"{wanted} did not kill it with a message saying {mutant.says!r}: {seen}")
    return problems, killers


def verify_mutant(lesson: Lesson, mutant: Mutant, repeat: int = 1, timeout: float = 300) -> MutantVerdict:
    """Plant `mutant` in a copy of the solution; run the checks it names `repeat` times."""
    verdict = MutantVerdict(mutant, problems=[f"mutant: {problem}" for problem in mutant.problems()])
    if verdict.problems:
        return verdict
    with tempfile.TemporaryDirectory(prefix=f"workshop-mutant-{lesson.number}-") as scratch:
        folder = write_solution_tree(lesson, Path(scratch))
        try:
            apply_all(folder, mutant.edits, allowed=solution_files(lesson))
        except (EditDoesNotApply, KeyError) as error:
            verdict.problems.append(f"cannot be planted: {error}")
            return verdict
        selection = ",".join(mutant.killed_by)
        for _ in range(repeat):
            run = run_checks(folder, "--workshop-checks", selection, timeout=timeout)
            problems, killers = judge_mutant(mutant, run, lesson.number)
            verdict.runs.append(run)
            if verdict.runs[1:] and run.verdicts() != verdict.runs[0].verdicts():
                problems.append("flaky: the verdicts differ between identical runs")
            verdict.problems += [problem for problem in problems if problem not in verdict.problems]
            verdict.killers = killers if len(verdict.runs) == 1 else verdict.killers & killers
    return verdict


@dataclass
class Proof:
    """Everything `workshop verify` proves about one lesson."""

    lesson: Lesson
    starter: Run | None = None
    solutions: list[Run] = field(default_factory=list)
    mutants: list[MutantVerdict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def checks(self) -> list[str]:
        """Every check of the lesson that the solution runs and grades (the engine-gated skip is not graded)."""
        if not self.solutions:
            return []
        return [check.name for check in self.solutions[0].checks if not is_engine_skip(check)]

    @property
    def proven(self) -> set[str]:
        return {name for verdict in self.mutants if verdict.killed for name in verdict.killers}

    @property
    def unproven(self) -> list[str]:
        return [name for name in self.checks if name not in self.proven]

    @property
    def flakes(self) -> int:
        runs = self.solutions
        solution_flakes = sum(1 for run in runs[1:] if run.verdicts() != runs[0].verdicts())
        return solution_flakes + sum(1 for verdict in self.mutants for p in verdict.problems if p.startswith("flaky"))


def prove(
    lesson: Lesson,
    *,
    repeat: int = 1,
    starter: bool = True,
    mutants: bool = True,
    only: list[str] | None = None,
    mutant_repeat: int | None = None,
    solutions: list[Run] | None = None,
    workers: int | None = None,
) -> Proof:
    """Prove one lesson: starter, solution `repeat` times, then each mutant `mutant_repeat` times (in parallel).

    `only` names the mutants to run (the rest are neither run nor counted: the proof is partial).
    `solutions`: runs of the solution made already (the workshop's own suite shares them); none are made then.
    """
    proof = Proof(lesson)
    if starter:
        proof.starter = run_checks(lesson.path)
        proof.problems += [f"starter: {problem}" for problem in proof.starter.problems_as_starter()]
    if solutions is not None:
        proof.solutions = list(solutions)
    else:
        with solution_tree(lesson) as folder:
            proof.solutions = [run_checks(folder) for _ in range(repeat)]
    for attempt, run in enumerate(proof.solutions, 1):
        proof.problems += [f"solution (run {attempt}): {problem}" for problem in run.problems_as_solution()]
    if proof.solutions[1:] and any(run.verdicts() != proof.solutions[0].verdicts() for run in proof.solutions[1:]):
        proof.problems.append(f"solution: the verdicts differ between {len(proof.solutions)} identical runs (flaky)")
    if not mutants:
        return proof
    found = load_mutants(lesson.path)
    if not found:
        proof.problems.append(f"no mutants: write lessons/{lesson.number}/checks/mutants.py")
        return proof
    if only:
        unknown = sorted(set(only) - {mutant.name for mutant in found})
        proof.problems += [f"no mutant is named {name!r}" for name in unknown]
        found = [mutant for mutant in found if mutant.name in only]
    runner.fork_server()  # started once, before the threads share it
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2) as pool:
        times = mutant_repeat or repeat
        proof.mutants = list(pool.map(lambda mutant: verify_mutant(lesson, mutant, times), found))
    for verdict in proof.mutants:
        proof.problems += [f"mutant {verdict.mutant.name}: {problem}" for problem in verdict.problems]
    if not only:
        proof.problems += [
            f"check {name} is proven by no mutant: no mutant it kills names it" for name in proof.unproven
        ]
    return proof
