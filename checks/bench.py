"""Benchmark: the warm wall time of a lesson's checks on its solution, against an empty pytest run.

    uv run python checks/bench.py            # lesson 01, 7 rounds
    uv run python checks/bench.py 05 --rounds 11

Both commands go through `uv run`, as a learner types them. Rounds are interleaved so that a
busy machine slows both sides alike; the first round of each warms caches and is discarded.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from workshop.authoring.verify import write_solution_tree
from workshop.lessons import REPO, lesson


def timed(command: list[str], cwd: Path, expect: set[int]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode not in expect:
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("lesson", nargs="?", default="01")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    found = lesson(args.lesson)
    uv = shutil.which("uv") or "uv"
    with tempfile.TemporaryDirectory(prefix="workshop-bench-") as scratch:
        root = Path(scratch)
        folder = write_solution_tree(found, root)
        empty = root / "empty"
        empty.mkdir()
        base = [uv, "run", "--project", str(REPO), "pytest", "-c", str(REPO / "pyproject.toml"), "--rootdir", str(root)]
        lesson_run = [*base, str(folder)]
        empty_run = [*base, str(empty)]
        lesson_times, empty_times = [], []
        for round_number in range(args.rounds + 1):
            lesson_time = timed(lesson_run, root, {0})
            empty_time = timed(empty_run, root, {5})  # 5: pytest collected nothing, as intended
            if round_number:  # round 0 warms the caches
                lesson_times.append(lesson_time)
                empty_times.append(empty_time)
    lesson_median, empty_median = statistics.median(lesson_times), statistics.median(empty_times)
    print(f"lesson {found.number} on its solution: median {lesson_median:.2f} s  (min {min(lesson_times):.2f})")
    print(f"empty pytest run:            median {empty_median:.2f} s  (min {min(empty_times):.2f})")
    print(f"ratio: {lesson_median / empty_median:.2f}x  over {args.rounds} warm rounds (target ≤ 3x, aim 2x)")


if __name__ == "__main__":
    main()
