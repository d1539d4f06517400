"""Shared by lesson 07's checks: your test suite, run on the app as given, on a rewrite of it, and on seeded bugs.

`graded` runs your suite (lessons/07/tests) in processes of its own, each on a throwaway copy of
the lesson (your files are only read) and on a fresh database of its own, cloned from the
migrated template and handed to your suite as LEDGER_TEST_DATABASE_URL, as when you run it
yourself. First on the app as given, under coverage; then, if that passes, on a rewrite of the
app that behaves the same, and once per seeded bug with that one bug planted, two or more at a
time; once without LEDGER_TEST_DATABASE_URL, to see that your suite refuses to run rather
than use the app's own database; and once with a watcher planted in the app (watching.py), to see
how your fixtures drive it. It runs once per `pytest lessons/07`, and only what the checks of that
run need.
"""

import asyncio
import contextlib
from dataclasses import dataclass

import pytest
import pytest_asyncio

from workshop import database, grading
from workshop.graders import seeded

from .bugs import SEEDED_BUGS
from .rewrites import REWRITES
from .watching import Seen, Watched, watch


@dataclass
class Graded(seeded.Grading):
    """The engine's grading, and what the watcher saw (None when no check of this run needs it)."""

    watched: Watched | None = None

    def seen(self, kind: str) -> list[Seen]:
        return self.watched.of(kind) if self.watched is not None else []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The checks that read `graded` run in one process (workshop.shards), so your suite is graded once."""
    for item in items:
        if "graded" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.together("graded"))


# Grading runs your whole suite 1 + 16 times: these checks may take longer than the usual 10 s.
GRADING_TIMEOUT = 300


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def graded(
    request: pytest.FixtureRequest, database_server: database.Server, database_template: str | None
) -> Graded:
    """Your suite's runs: on the app as given (with coverage), then on each seeded bug this run checks."""
    callspecs = [getattr(item, "callspec", None) for item in request.session.items]
    wanted = {callspec.params["bug"] for callspec in callspecs if callspec and "bug" in callspec.params}
    bugs = [bug for bug in SEEDED_BUGS if bug in wanted]
    names = {item.name for item in request.session.items}
    folder, number = grading.folder(), grading.lesson()
    watching = (
        asyncio.ensure_future(watch(folder, number, server=database_server, template=database_template))
        if names & WATCH_CHECKS
        else None
    )
    try:
        graded = await seeded.grade(
            folder,
            number,
            bugs,
            server=database_server,
            template=database_template,
            rewrites=REWRITES if REWRITE_CHECK in names else None,
            fallback=FALLBACK_CHECK in names,
        )
        watched = await watching if watching is not None else None
    finally:
        if watching is not None and not watching.done():
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watching
    return Graded(**vars(graded), watched=watched)


# The checks that need a run of their own (the others read the run on the app as given).
AS_GIVEN_CHECK = "test_your_tests_pass_on_the_app_as_given"
REWRITE_CHECK = "test_your_tests_pass_on_a_rewrite_of_the_app_that_behaves_the_same"
FALLBACK_CHECK = "test_your_tests_refuse_to_run_without_a_test_database_of_their_own"
# The checks that read the watched run (test_fixtures.py), and the first check, which says when a fixture is why.
WATCH_CHECKS = {
    AS_GIVEN_CHECK,
    "test_your_sessions_turn_the_codes_commits_into_savepoints",
    "test_your_tests_share_one_engine_for_the_whole_run",
    "test_each_test_leaves_no_rows_for_the_next",
    "test_your_client_runs_the_apps_lifespan",
    "test_your_client_rolls_back_a_request_that_failed",
    "test_every_app_your_tests_build_uses_the_test_database",
    "test_your_live_client_empties_the_tables_after_each_test",
    "test_your_client_serves_every_test_that_asks_for_it",
    "test_your_live_client_serves_every_test_that_asks_for_it",
}


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


def leftover_problem(graded: Graded, *, after_live: bool) -> str | None:
    """The first test that began with rows an earlier test committed, when the test before it used live_client
    (`after_live`) or did not; None when no test did."""
    leftovers = graded.seen("leftover")
    if not leftovers or leftovers[0].previous_live != after_live:
        return None
    first = leftovers[0]
    count = int(first.detail)
    began = f"{first.test} began with {count} account{'s' if count != 1 else ''} that earlier tests had committed"
    if after_live:
        return (
            f"Lesson 07: {began} (the test before it, {first.previous}, used live_client). Rows a live test commits "
            "outlive it: live_client must empty the tables after each test, even a failing one (step 5)"
        )
    return (
        f"Lesson 07: {began} (the test before it: {first.previous}). A test's writes must be gone when it ends: "
        "the `connection` fixture holds each test in an outer transaction and rolls it back, and nothing the code "
        "under test does may commit it (step 1)"
    )


def settings_problem(graded: Graded) -> str | None:
    """A request served by an app built with settings for another database than the tests'; None when none was."""
    seen = graded.seen("settings")
    if not seen:
        return None
    first = seen[0]
    fixture = "live_client, whose commits are real" if first.live else "client"
    return (
        f"Lesson 07: a request in {first.test} reached an app built with the settings of the database "
        f"{first.detail!r}, not the test database (LEDGER_TEST_DATABASE_URL); it came through {fixture}. Every app "
        "your fixtures build takes the tests' settings, or your tests write into a database that is not theirs "
        "(steps 2 and 5)"
    )


# The fixtures whose starter stub skips the tests that use them (so that earlier steps' checks can pass),
# and the step that writes each.
SKIPPING_STUBS = {"client": 2, "live_client": 5}


def skipped_problem(graded: Graded, fixture: str) -> str | None:
    """The tests `fixture` skipped (the starter's stub does, until the learner writes it); None when it skipped none."""
    tests = list(dict.fromkeys(one.test for one in graded.seen("skip") if one.detail == fixture))
    if not tests:
        return None
    more = f" and {len(tests) - 1} more" if len(tests) > 1 else ""
    return (
        f"Lesson 07: your `{fixture}` fixture skips the tests that ask for it ({tests[0]}{more}): it is still the "
        "starter's stub, or skips on its own. A skipped test passes whatever the app does, so it catches no bug. "
        f"Write `{fixture}` so that it serves them (step {SKIPPING_STUBS[fixture]})"
    )


def fixture_problem(graded: Graded) -> str | None:
    """What the watcher saw that makes a suite fail on the app as given: rows left behind, the wrong database."""
    for problem in (
        leftover_problem(graded, after_live=False),
        leftover_problem(graded, after_live=True),
        settings_problem(graded),
    ):
        if problem is not None:
            return problem
    return None
