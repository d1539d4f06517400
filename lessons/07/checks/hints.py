"""Hints that `uv run workshop hint 07` reveals one at a time, per failing check: a nudge, then more."""

from .bugs import SEEDED_BUGS

HINTS = {f"test_your_tests_catch_the_seeded_bug[{bug.name}]": list(bug.hints) for bug in SEEDED_BUGS}

# The checks of your fixtures (test_fixtures.py) and of what your tests expect (test_assertions.py).
HINTS |= {
    "test_your_sessions_turn_the_codes_commits_into_savepoints": [
        "Step 1's 'Isolation' section: how does a session join a transaction already begun on its connection?",
        "Both sessions on the test's connection (the `session` fixture and your client's override) take the "
        "join_transaction_mode that step 1 names, so that the code's commit and rollback become SAVEPOINTs.",
    ],
    "test_your_tests_share_one_engine_for_the_whole_run": [
        "A fixture's scope says how long its value lives. How long should an engine and its pool live?",
        'The engine fixture is session-scoped: scope="session" beside its loop_scope.',
    ],
    "test_each_test_leaves_no_rows_for_the_next": [
        "Which fixture holds the transaction every test's writes land in, and how does it end it?",
        "The connection fixture begins a transaction before its `yield` and rolls it back after it; the sessions on "
        "that connection work in SAVEPOINTs, so the code's commits never end it.",
    ],
    "test_your_client_serves_every_test_that_asks_for_it": [
        "A skipped test passes whatever the app does. Which of your tests were skipped, and by what?",
        "Until step 2 the starter's `client` skips the tests that use it: replace its `pytest.skip(...)` and the "
        "TODO line above it with the fixture step 2 describes.",
    ],
    "test_your_live_client_serves_every_test_that_asks_for_it": [
        "A skipped test passes whatever the app does. Which of your tests were skipped, and by what?",
        "Until step 5 the starter's `live_client` skips the tests that use it: replace its `pytest.skip(...)` and "
        "the TODO line above it with the fixture step 5 describes.",
    ],
    "test_your_client_runs_the_apps_lifespan": [
        "ASGITransport sends no startup event: what runs the lifespan in step 2?",
        "Wrap the client in `async with LifespanManager(app) as manager:` and hand manager.app to the transport.",
    ],
    "test_your_client_rolls_back_a_request_that_failed": [
        "Read get_session (app/dependencies/session.py): what does it do when the route raises?",
        "In your override: commit in the `else:` of the try around `yield`, roll back (and re-raise) in `except`, "
        "never commit in a `finally:`.",
    ],
    "test_every_app_your_tests_build_uses_the_test_database": [
        "Where does create_app() read its settings from when you give it none?",
        "Every create_app call in your fixtures takes the `settings` fixture.",
    ],
    "test_your_live_client_empties_the_tables_after_each_test": [
        "live_client's requests commit: what removes their rows before the next test?",
        "After the `yield` of live_client, run EMPTY_TABLES on a connection of `engine` (engine.begin()).",
    ],
    "test_your_tests_expect_the_precise_error_not_any_exception": [
        "Which exception does the rule raise? Expect that class, so that another failure cannot pass for it.",
        "Import the domain error from app.services.errors and write pytest.raises(ThatError).",
    ],
}
