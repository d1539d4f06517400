"""Lesson 07 checks: each seeded bug, planted alone in the app, makes at least one of your tests fail.

A suite that stays green on a broken app would let that bug through review. Each check below is
one realistic mistake; its message says what a user would have seen and your tests did not.
`uv run workshop hint 07` says more, one step at a time.
"""

import pytest

from workshop.graders import seeded

from .bugs import SEEDED_BUGS
from .conftest import GRADING_TIMEOUT, passes_as_given

pytestmark = pytest.mark.workshop_timeout(GRADING_TIMEOUT)


@pytest.mark.parametrize(
    "bug", [pytest.param(bug, id=bug.name, marks=pytest.mark.step(bug.step)) for bug in SEEDED_BUGS]
)
async def test_your_tests_catch_the_seeded_bug(graded: seeded.Grading, bug: seeded.SeededBug) -> None:
    """Hint: ask of each rule "which test fails if I delete it?". Assert the precise error, the status code,
    the balances, not just "it did not crash".
    """
    passes_as_given(graded, "this seeded bug is graded")
    run = graded.runs[bug.name]
    assert not run.passed, (
        f"Lesson 07: your tests did not notice when {bug.missed} (step {bug.step}). "
        "For a nudge: uv run workshop hint 07"
    )
