"""Planted by lesson 07's grader as app/_workshop_watcher.py in a throwaway copy of the app, never in yours.

It watches how a test suite drives the app and notes what it sees in a log the checks read; it
changes nothing the app does. The checks process never imports this file: it is text to plant.

It notes:
* "join": a session on a test's connection that joins its transaction without SAVEPOINTs;
* "engine": each engine whose connections the tests' sessions use (one per run is the standard);
* "leftover": a test whose first session on its connection finds accounts an earlier test committed;
* "lifespan": a request served by an app whose lifespan never ran;
* "settings": a request served by an app whose settings name another database than the tests';
* "commit-after-failure": a request whose route raised, and whose session on the test's connection
  was committed all the same.
"""

import json
import os
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

LOG = "__WATCHER_LOG__"
TEST_DATABASE = "LEDGER_TEST_DATABASE_URL"
FAILED = "workshop_watcher_failed"

_engines: dict[int, object] = {}  # id → the engine itself, so that no id is reused while the run lasts
_connections: dict[int, object] = {}
_tests: list[tuple[str, bool]] = []  # (test, used the app's own sessions), in the order they first used one


def current_test() -> str:
    """The running test as `tests/test_x.py::test_y`."""
    test = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]
    return test[test.find("tests/") :] if "tests/" in test else test


def note(kind: str, detail: str = "", **more: Any) -> None:
    with open(LOG, "a", encoding="utf-8") as log:
        log.write(json.dumps({"kind": kind, "test": current_test(), "detail": detail, **more}) + "\n")


def _seen(test: str, live: bool) -> None:
    if not _tests or _tests[-1][0] != test:
        _tests.append((test, live))


def _on_test_connection(session: Session) -> bool:
    """A session bound to one connection (a test's), not to an engine (the app's own sessionmaker)."""
    return isinstance(session.bind, Connection)


@event.listens_for(Session, "after_begin")
def _began(session: Session, transaction: SessionTransaction, connection: Connection) -> None:
    test = current_test()
    if not _on_test_connection(session):
        _seen(test, live=True)
        return
    _seen(test, live=False)
    if session.join_transaction_mode != "create_savepoint":
        note("join", str(session.join_transaction_mode))
    engine = connection.engine
    if id(engine) not in _engines:
        _engines[id(engine)] = engine
        note("engine")
    if id(connection) not in _connections:
        _connections[id(connection)] = connection
        # Rows this transaction wrote have created_at = now(); older ones were committed before it began.
        left = connection.exec_driver_sql("SELECT count(*) FROM accounts WHERE created_at < now()").scalar()
        if left:
            earlier = [(name, live) for name, live in _tests if name != test]
            previous, live = earlier[-1] if earlier else ("", False)
            note("leftover", str(left), previous=previous, previous_live=live)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.info.get(FAILED) and _on_test_connection(session):
        note("commit-after-failure")


def request_served(request: Any, session: AsyncSession) -> None:
    """Called by each service dependency: what the app serving this request was built with."""
    state = request.app.state
    live = not _on_test_connection(session.sync_session)
    if not hasattr(state, "sessionmaker"):
        note("lifespan")
    settings = getattr(state, "settings", None)
    url = os.environ.get(TEST_DATABASE)
    if settings is not None and url and make_url(settings.database_url).database != make_url(url).database:
        note("settings", str(make_url(settings.database_url).database), live=live)


def request_failed(session: AsyncSession) -> None:
    session.info[FAILED] = True
