"""Lesson 07 checks: your tests pass on the app as given and on a rewrite of it, keep to a database of their
own, read none of the grader's files, and run (nearly) every line of the services."""

import pytest

from workshop.graders import seeded

from .conftest import GRADING_TIMEOUT, Graded, fixture_problem, passes_as_given, why_it_fails_as_given

pytestmark = pytest.mark.workshop_timeout(GRADING_TIMEOUT)

COVERAGE_FLOOR = 90


@pytest.mark.step(1)
async def test_your_tests_pass_on_the_app_as_given(graded: Graded) -> None:
    """Hint: run them yourself, on a database of their own:
    `export LEDGER_TEST_DATABASE_URL=$(uv run workshop db url ledger_test)`, then `uv run pytest lessons/07/tests`.
    """
    problem = why_it_fails_as_given(graded.reference)
    why = fixture_problem(graded) if problem is not None else None
    cause = (
        f"Your fixtures are why: {why.removeprefix('Lesson 07: ')}"
        if why is not None
        else "Run them yourself: uv run pytest lessons/07/tests (step 1)"
    )
    assert problem is None, (
        f"Lesson 07: your tests fail on the app as given, so they cannot tell a bug from a working app: {problem}. "
        f"{cause}"
    )


def coverage_of(graded: seeded.Grading, prefix: str) -> tuple[float, str]:
    """(percent of `prefix`'s lines your tests run, "file lines …; …" of those they never run)."""
    passes_as_given(graded, "coverage is measured")
    measured = graded.coverage
    assert measured is not None, (
        "Lesson 07: coverage recorded nothing while your tests ran; run them under coverage yourself to see why "
        "(step 6)"
    )
    percent, missing = measured.of(prefix)
    return percent, "; ".join(f"{path} lines {lines}" for path, lines in missing.items())


@pytest.mark.step(6)
async def test_your_tests_run_at_least_90_percent_of_the_services(graded: seeded.Grading) -> None:
    """Hint: `cd lessons/07 && uv run pytest tests --cov` lists the lines no test runs."""
    percent, never_run = coverage_of(graded, "app/services")
    assert percent >= COVERAGE_FLOOR, (
        f"Lesson 07: your tests run {percent:.0f}% of the lines in app/services; at least {COVERAGE_FLOOR}% "
        f"expected. Never run: {never_run}. Each is a rule or a branch no test exercises (step 6)"
    )


@pytest.mark.step(6)
async def test_your_tests_run_at_least_90_percent_of_the_repositories(graded: seeded.Grading) -> None:
    """Hint: a repository test calls AccountRepository or EntryRepository on the test's `session` and reads what
    they return: a page, an order, None.
    """
    percent, never_run = coverage_of(graded, "app/crud")
    assert percent >= COVERAGE_FLOOR, (
        f"Lesson 07: your tests run {percent:.0f}% of the lines in app/crud; at least {COVERAGE_FLOOR}% expected. "
        f"Never run: {never_run} (steps 3 and 6)"
    )


@pytest.mark.step(6)
async def test_your_tests_run_every_line_of_the_transfer_service(graded: seeded.Grading) -> None:
    """Hint: the transfer service moves the money: every rule in it, and the replay of a key, needs a test."""
    percent, never_run = coverage_of(graded, "app/services/transfers.py")
    assert percent == 100, (
        f"Lesson 07: your tests run {percent:.1f}% of app/services/transfers.py; where money moves, every line is "
        f"tested. Never run: {never_run} (step 6)"
    )


@pytest.mark.step(1)
async def test_your_tests_refuse_to_run_without_a_test_database_of_their_own(graded: seeded.Grading) -> None:
    """Hint: what does your `settings` fixture do when LEDGER_TEST_DATABASE_URL is not set? Your tests empty
    the tables of the database they use.
    """
    passes_as_given(graded, "how your tests treat a missing test database is graded")
    fallback = graded.fallback
    assert fallback is not None, "conftest.FALLBACK_CHECK must name this check"
    assert fallback.row_kept, (
        "Lesson 07: run without LEDGER_TEST_DATABASE_URL, your tests used the app's own database "
        "(LEDGER_DATABASE_URL) and deleted the rows it held. A suite that empties tables needs a database of its "
        "own: when LEDGER_TEST_DATABASE_URL is missing, stop the run with a message instead (step 1)"
    )
    assert not fallback.run.passed, (
        f"Lesson 07: without LEDGER_TEST_DATABASE_URL your tests still passed ({fallback.run.tests} tests): they ran "
        "on some other database, such as the app's own. When the variable is missing, stop the run with a message "
        "that says how to set it (step 1)"
    )


@pytest.mark.step(1)
async def test_your_tests_read_none_of_the_workshops_own_files(graded: seeded.Grading) -> None:
    """Hint: a test exercises the app and asserts what it does; it never needs the workshop's checks,
    the solutions or your checkout's files.
    """
    tried = graded.reads
    if not tried:
        passes_as_given(graded, "what your tests read is graded")
    assert not tried, (
        f"Lesson 07: while graded, your tests tried to read {tried[0]}"
        + (f" (and {len(tried) - 1} more)" if len(tried) > 1 else "")
        + ": the workshop's own files. Tests that read the grader can pass without testing the app; test what the "
        "app does instead (step 1)"
    )


@pytest.mark.step(6)
async def test_your_tests_pass_on_a_rewrite_of_the_app_that_behaves_the_same(graded: seeded.Grading) -> None:
    """Hint: the grader renames locals, turns comparisons around and extracts a helper; a test of behaviour
    cannot tell. A test that reads the source, or expects a line of it, can.
    """
    passes_as_given(graded, "the rewrite is graded")
    run = graded.rewritten
    assert run is not None, "conftest.REWRITE_CHECK must name this check"
    problem = why_it_fails_as_given(run)
    assert problem is None, (
        "Lesson 07: your tests fail on a rewrite of the app that behaves exactly the same (locals renamed, "
        f"comparisons turned around, a helper extracted): {problem}. A test must check what the app does, "
        "not how its source is written (step 6)"
    )
