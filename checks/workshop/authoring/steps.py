"""Can a learner do a lesson's steps in the README's order? The proof of it.

A learner works step by step and runs the checks after each. After steps 1 to N, every check of
those steps must pass, whatever the later steps' stubs still raise: a check of step 2 that needs
step 4's code sends the learner to step 4 with a message about step 2 (lesson 11's app once could
not start before step 4). Each region's step is the first `(step N)` of its message; the tree of
"steps 1 to N done" keeps those regions and stubs the rest, as the starter does. A region that spans
steps counts as written at its first: where that hides an order problem, split the region.

    uv run python -m workshop.authoring.steps 11        # one lesson
    uv run python -m workshop.authoring.steps all       # every lesson (minutes)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from workshop.authoring.build import partial_files
from workshop.authoring.verify import is_engine_skip, run_checks, write_tree
from workshop.lessons import Lesson, all_lessons, lesson
from workshop.results import Outcome


def out_of_order(found: Lesson) -> list[str]:
    """Each check of steps 1 to N that fails once those steps are written, for every N before the last."""
    problems = []
    for step in found.metadata.steps[:-1]:  # after the last step the tree is the solution, which `verify` proves
        with tempfile.TemporaryDirectory(prefix=f"workshop-steps-{found.number}-") as scratch:
            run = run_checks(write_tree(found, Path(scratch), partial_files(found.number, step.number)))
        for check in run.checks:
            if check.step <= step.number and check.outcome == Outcome.FAILED and not is_engine_skip(check):
                problems.append(
                    f"lesson {found.number}, steps 1-{step.number} written: {check.name} (step {check.step}) "
                    f"fails: {check.message}"
                )
    return problems


def main() -> None:
    chosen = list(all_lessons()) if sys.argv[1:] == ["all"] else [lesson(number) for number in sys.argv[1:]]
    problems = []
    for found in chosen:
        found_here = out_of_order(found)
        print(f"lesson {found.number}: {'steps in order' if not found_here else f'{len(found_here)} problem(s)'}")
        problems.extend(found_here)
    for problem in problems:
        print(f"  {problem}")
    raise SystemExit(1 if problems else 0)


if __name__ == "__main__":
    main()
