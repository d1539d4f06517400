"""Lesson 07 checks: your fixtures drive the app the way the lesson builds them.

A fixture mistake often changes no assertion: the suite stays green while its sessions commit for
real, an engine is built for every test, the client's app never starts, or a fixture still skips
the tests that ask for it, as the starter's `client` and `live_client` do until you write them.
These checks read what a watcher planted in a copy of the app (watching.py) saw while your suite
ran once more.
"""

import pytest

from .conftest import (
    GRADING_TIMEOUT,
    Graded,
    leftover_problem,
    passes_as_given,
    settings_problem,
    skipped_problem,
)

pytestmark = pytest.mark.workshop_timeout(GRADING_TIMEOUT)

# One engine for the run; a second is tolerated (say, one of a fixture of your own). More is one per file or test.
MOST_ENGINES = 2


@pytest.mark.step(1)
async def test_your_sessions_turn_the_codes_commits_into_savepoints(graded: Graded) -> None:
    """Hint: the code under test commits (get_session) and rolls back. On the test's connection, a session that
    works in SAVEPOINTs keeps both inside the test's outer transaction.
    """
    seen = graded.seen("join")
    if seen:
        tests = {one.test for one in seen}
        pytest.fail(
            f"Lesson 07: in {seen[0].test} (and {len(tests) - 1} more tests), a session on the test's connection "
            f"joined the test's transaction without SAVEPOINTs (join_transaction_mode {seen[0].detail!r}): a "
            "rollback in the code under test would end the test's own transaction, and what the test did before "
            "it would vanish. Sessions on the test's connection turn the code's commits and rollbacks into "
            "SAVEPOINTs (step 1)",
            pytrace=False,
        )
    passes_as_given(graded, "how your sessions join the test's transaction is graded")


@pytest.mark.step(1)
async def test_your_tests_share_one_engine_for_the_whole_run(graded: Graded) -> None:
    """Hint: what is expensive and safe to share (the engine and its pool) lives for the whole session."""
    seen = graded.seen("engine")
    if len(seen) > MOST_ENGINES:
        pytest.fail(
            f"Lesson 07: your tests' sessions used {len(seen)} engines (connection pools) in one run, a new one in "
            f"{seen[1].test}, {seen[2].test} and more: each opens and closes its own connections. One engine "
            "serves the whole run, built once and disposed of at its end (step 1)",
            pytrace=False,
        )
    passes_as_given(graded, "how many engines your tests build is graded")


@pytest.mark.step(1)
async def test_each_test_leaves_no_rows_for_the_next(graded: Graded) -> None:
    """Hint: a test's connection holds an outer transaction, rolled back when the test ends, whatever the code
    under test committed.
    """
    problem = leftover_problem(graded, after_live=False)
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    passes_as_given(graded, "whether your tests leave rows behind is graded")


@pytest.mark.step(2)
async def test_your_client_serves_every_test_that_asks_for_it(graded: Graded) -> None:
    """Hint: `uv run pytest lessons/07/tests -rs` lists the tests that were skipped, and why."""
    problem = skipped_problem(graded, "client")
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    passes_as_given(graded, "whether your client serves your tests is graded")


@pytest.mark.step(2)
async def test_your_client_runs_the_apps_lifespan(graded: Graded) -> None:
    """Hint: ASGITransport sends no startup or shutdown events; something else must run the app's lifespan."""
    seen = graded.seen("lifespan")
    if seen:
        pytest.fail(
            f"Lesson 07: in {seen[0].test}, a request reached an app whose lifespan never ran: the engine and "
            "sessionmaker it creates at startup did not exist, so your tests never start the app the way a server "
            "does (nor stop it). The client must run the app's lifespan around its requests (step 2)",
            pytrace=False,
        )
    passes_as_given(graded, "how your client starts the app is graded")


@pytest.mark.step(2)
async def test_your_client_rolls_back_a_request_that_failed(graded: Graded) -> None:
    """Hint: your override of get_session keeps get_session's contract: commit when the route returns, roll back
    when it raises.
    """
    seen = graded.seen("commit-after-failure")
    if seen:
        pytest.fail(
            f"Lesson 07: in {seen[0].test}, a request whose route raised an error was committed by the session "
            "your client gives the app: what it wrote before the error stays, where the real get_session rolls it "
            "back. The override commits only when the route returns, and rolls back when it raises (step 2)",
            pytrace=False,
        )
    passes_as_given(graded, "how your client ends a failed request is graded")


@pytest.mark.step(2)
async def test_every_app_your_tests_build_uses_the_test_database(graded: Graded) -> None:
    """Hint: create_app() without arguments reads the app's own settings: LEDGER_DATABASE_URL, or its default."""
    problem = settings_problem(graded)
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    passes_as_given(graded, "which database your apps use is graded")


@pytest.mark.step(5)
async def test_your_live_client_serves_every_test_that_asks_for_it(graded: Graded) -> None:
    """Hint: `uv run pytest lessons/07/tests -rs` lists the tests that were skipped, and why."""
    problem = skipped_problem(graded, "live_client")
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    passes_as_given(graded, "whether your live client serves your tests is graded")


@pytest.mark.step(5)
async def test_your_live_client_empties_the_tables_after_each_test(graded: Graded) -> None:
    """Hint: live_client's requests commit for real; the code after its `yield` runs even when the test fails."""
    problem = leftover_problem(graded, after_live=True)
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    passes_as_given(graded, "whether live_client cleans up is graded")
