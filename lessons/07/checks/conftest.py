"""Shared by lesson 07's checks: your test suite, run on the app as given, on a rewrite of it, and on seeded bugs.

`graded` runs your suite (lessons/07/tests) in processes of its own, each on a throwaway copy of
the lesson (your files are only read) and on a fresh database of its own, cloned from the
migrated template and handed to your suite as LEDGER_TEST_DATABASE_URL, as when you run it
yourself. First on the app as given, under coverage; then, if that passes, on a rewrite of the
app that behaves the same, and once per seeded bug with that one bug planted, two or more at a
time; and once without LEDGER_TEST_DATABASE_URL, to see that your suite refuses to run rather
than use the app's own database. It runs once per `pytest lessons/07`, and only what the checks
of that run need.
"""

import pytest
import pytest_asyncio

from workshop import database, grading
from workshop.graders import seeded

from .bugs import SEEDED_BUGS
from .rewrites import REWRITES

# Grading runs your whole suite 1 + 16 times: these checks may take longer than the usual 10 s.
GRADING_TIMEOUT = 300


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def graded(
    request: pytest.FixtureRequest, database_server: database.Server, database_template: str | None
) -> seeded.Grading:
    """Your suite's runs: on the app as given (with coverage), then on each seeded bug this run checks."""
    callspecs = [getattr(item, "callspec", None) for item in request.session.items]
    wanted = {callspec.params["bug"] for callspec in callspecs if callspec and "bug" in callspec.params}
    bugs = [bug for bug in SEEDED_BUGS if bug in wanted]
    names = {item.name for item in request.session.items}
    return await seeded.grade(
        grading.folder(),
        grading.lesson(),
        bugs,
        server=database_server,
        template=database_template,
        rewrites=REWRITES if REWRITE_CHECK in names else None,
        fallback=FALLBACK_CHECK in names,
    )


# The checks that need a run of their own (the others read the run on the app as given).
REWRITE_CHECK = "test_your_tests_pass_on_a_rewrite_of_the_app_that_behaves_the_same"
FALLBACK_CHECK = "test_your_tests_refuse_to_run_without_a_test_database_of_their_own"


def why_it_fails_as_given(run: seeded.SuiteRun) -> str | None:
    """What went wrong when the suite ran on the app as given, or None when it passed."""
    if run.passed:
        return None
    if run.returncode is None:
        return f"they did not finish within {seeded.REFERENCE_TIMEOUT:g} s (a test that waits forever?)"
    if run.failures:
        more = f" (and {len(run.failures) - 1} more)" if len(run.failures) > 1 else ""
        return f"{run.failures[0]}{more}"
    last = [line.strip() for line in run.output.splitlines() if line.strip()][-1:] or ["no output"]
    return f"pytest exited with code {run.returncode} after {run.tests} tests: {last[0][:300]}"


def passes_as_given(graded: seeded.Grading, graded_what: str) -> None:
    """A one-line teaching failure unless the suite passed on the app as given (the first check explains)."""
    run = graded.reference
    problem = why_it_fails_as_given(run)
    if problem is not None and run.failures:
        problem = f"{run.failures[0].split(': ', 1)[0]} fails there"
    assert problem is None, f"Lesson 07: {graded_what} once your tests pass on the app as given; {problem} (step 1)"
