"""Lesson 07 checks: your tests pass on the app as given, and run (nearly) every line of the services."""

import pytest

from workshop import seeded

from .conftest import GRADING_TIMEOUT, passes_as_given, why_it_fails_as_given

pytestmark = pytest.mark.workshop_timeout(GRADING_TIMEOUT)

COVERAGE_FLOOR = 90


@pytest.mark.step(1)
async def test_your_tests_pass_on_the_app_as_given(graded: seeded.Grading) -> None:
    """Hint: run them yourself, on a database of their own:
    `export LEDGER_TEST_DATABASE_URL=$(uv run workshop db url ledger_test)`, then `uv run pytest lessons/07/tests`.
    """
    problem = why_it_fails_as_given(graded.reference)
    assert problem is None, (
        f"Lesson 07: your tests fail on the app as given, so they cannot tell a bug from a working app: {problem}. "
        "Run them yourself: uv run pytest lessons/07/tests (step 1)"
    )


@pytest.mark.step(6)
async def test_your_tests_run_at_least_90_percent_of_the_services(graded: seeded.Grading) -> None:
    """Hint: `uv run coverage run --source=lessons/07/app/services -m pytest lessons/07/tests`,
    then `uv run coverage report -m` lists the lines no test runs.
    """
    passes_as_given(graded, "coverage is measured")
    measured = graded.coverage
    assert measured is not None, (
        "Lesson 07: coverage recorded nothing while your tests ran; run them under coverage yourself to see why "
        "(step 6)"
    )
    never_run = "; ".join(f"{path} lines {lines}" for path, lines in measured.missing.items())
    assert measured.percent >= COVERAGE_FLOOR, (
        f"Lesson 07: your tests run {measured.percent:.0f}% of the lines in app/services; at least {COVERAGE_FLOOR}% "
        f"expected. Never run: {never_run}. Each is a rule or a branch no test exercises (step 6)"
    )
