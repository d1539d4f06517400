"""Benchmark: the warm wall time of a lesson's checks on its solution, against an empty pytest run.

    uv run python checks/bench.py                 # lesson 01, 7 rounds, plain `uv run pytest lessons/01`
    uv run python checks/bench.py 05 --rounds 11
    uv run python checks/bench.py 05 --via check  # save → scorecard through `uv run workshop check 05`
    uv run python checks/bench.py all --via check # every lesson, one table

Every command goes through `uv run`, as a learner types it. Rounds of the lesson and of an empty run
are interleaved so that a busy machine slows both alike; the first round of each warms caches and is
discarded. `--via check` then times, READING seconds apart, from the moment a file of the lesson is
saved to the end of the scorecard, on a throwaway copy of the repository whose lesson is its
reference solution (its own warm worker, stopped at the end).
Lesson 07 grades the learner's own suite: the bench grows the reference's to at least 50 tests
(copies of its test modules), the size the grading is meant to handle in seconds.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from workshop.authoring.verify import write_solution_tree
from workshop.lessons import REPO, Lesson, all_lessons, lesson

TEST = re.compile(r"^\s*(?:async )?def test_", re.MULTILINE)
SUITE_SIZE = 50  # tests in a learner's suite that lesson 07 grades in the bench
READING = 2.0  # seconds between one scorecard and the next save: a learner reads it first
COPIED = ("pyproject.toml", "uv.lock", "README.md", ".gitignore", ".gitattributes", "solutions", "lessons")


def timed(command: list[str], cwd: Path, expect: set[int], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - started
    if done.returncode not in expect:
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return elapsed


def grow_suite(folder: Path, size: int = SUITE_SIZE) -> None:
    """Copy the test modules of `folder/tests` until it holds at least `size` tests (no-op without tests)."""
    modules = sorted((folder / "tests").glob("test_*.py"))

    def count() -> int:
        return sum(len(TEST.findall(path.read_text())) for path in (folder / "tests").glob("test_*.py"))

    copy = 0
    while modules and count() < size:
        source = modules[copy % len(modules)]
        shutil.copyfile(source, source.with_name(f"{source.stem}_copy{copy // len(modules)}.py"))
        copy += 1


def checkout_with_solution(found: Lesson, root: Path) -> Path:
    """A copy of the repository whose lessons/NN is lesson NN's reference solution."""
    copy = root / "repo"
    copy.mkdir()
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__", ".venv"))
        elif source.is_file():
            shutil.copy2(source, copy / name)
    shutil.rmtree(copy / "lessons" / found.number)
    grow_suite(write_solution_tree(found, copy))
    return copy


def measure(found: Lesson, rounds: int, via_check: bool) -> tuple[float, float, float | None]:
    """(plain pytest, empty pytest, save → scorecard through the worker or None), medians in seconds."""
    uv = shutil.which("uv") or "uv"
    with tempfile.TemporaryDirectory(prefix="workshop-bench-") as scratch:
        root = Path(scratch)
        folder = write_solution_tree(found, root)
        grow_suite(folder)
        empty = root / "empty"
        empty.mkdir()
        base = [uv, "run", "--project", str(REPO), "pytest", "-c", str(REPO / "pyproject.toml"), "--rootdir", str(root)]
        checkout = checkout_with_solution(found, root) if via_check else None
        env = {**os.environ, "WORKSHOP_ROOT": str(checkout)} if checkout else None
        check = [uv, "run", "--project", str(REPO), "workshop", "check", found.number]
        saved = checkout / "lessons" / found.number / "app" / "__init__.py" if checkout else None
        plain, nothing, warm = [], [], []
        try:
            for round_number in range(rounds + 1):
                lesson_time = timed([*base, str(folder)], root, {0})
                empty_time = timed([*base, str(empty)], root, {5})  # 5: pytest collected nothing, as intended
                if round_number:  # round 0 warms the caches
                    plain.append(lesson_time)
                    nothing.append(empty_time)
            # The saves come after the plain runs, not between them: a plain run would take the spare
            # databases the worker makes for the next save (workshop.database.make_spares).
            for round_number in range(rounds + 1 if checkout is not None and saved is not None else 0):
                assert checkout is not None and saved is not None
                saved.write_text(saved.read_text())  # a save: the clock starts here
                check_time = timed(check, checkout, {0}, env)
                if round_number:  # round 0 starts the worker
                    warm.append(check_time)
                time.sleep(READING)
        finally:
            if checkout is not None:
                subprocess.run(
                    [uv, "run", "--project", str(REPO), "python", "-c", "from workshop import worker; worker.stop()"],
                    cwd=checkout,
                    env=env,
                    capture_output=True,
                )
    return statistics.median(plain), statistics.median(nothing), statistics.median(warm) if warm else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("lesson", nargs="?", default="01", help="a lesson number, or `all`")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--via", choices=["pytest", "check"], default="pytest")
    args = parser.parse_args()
    chosen = list(all_lessons()) if args.lesson == "all" else [lesson(args.lesson)]
    via_check = args.via == "check"
    if len(chosen) > 1:
        print(f"{'lesson':<8}{'plain pytest':>14}{'via check':>12}{'empty':>9}{'plain/empty':>13}")
    for found in chosen:
        plain, empty, warm = measure(found, args.rounds, via_check)
        if len(chosen) > 1:
            shown = f"{warm:.2f}" if warm is not None else "-"
            print(f"{found.number:<8}{plain:>14.2f}{shown:>12}{empty:>9.2f}{plain / empty:>12.2f}x")
            continue
        print(f"lesson {found.number} on its solution: median {plain:.2f} s over {args.rounds} warm rounds")
        print(f"empty pytest run:            median {empty:.2f} s  (ratio {plain / empty:.2f}x; target ≤ 3x)")
        if warm is not None:
            timings = f"plain pytest {plain:.2f} s, empty pytest {empty:.2f} s"
            print(f"save-to-scorecard {found.number}: {warm:.2f} s ({timings})")


if __name__ == "__main__":
    main()
