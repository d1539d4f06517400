"""The SQL a check's code under test sends: `with statements_sent(db_session) as sent:` (lessons 04 on).

One listener on SQLAlchemy's `before_cursor_execute`, for what a repository or a service sends
while the block runs; `summary()` says a statement in a few words for a message.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

SAVEPOINT = re.compile(r"\s*(RELEASE\s+)?(ROLLBACK\s+TO\s+)?SAVEPOINT\b", re.IGNORECASE)


@contextmanager
def statements_sent(
    target: Connection | Engine | AsyncConnection | AsyncSession, *, savepoints: bool = False
) -> Iterator[list[str]]:
    """The SQL statements sent on `target` inside the block, one per round trip, whitespace folded.

    SAVEPOINTs are left out unless `savepoints`: the checks' own transactions use them to isolate
    the code under test, so they are not that code's doing. An AsyncSession must be bound to one
    connection, as the `db_session` fixture is.
    """
    from sqlalchemy import event
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

    if isinstance(target, AsyncSession):
        if not isinstance(target.bind, AsyncConnection):
            raise TypeError("statements_sent() needs a session bound to one connection, as db_session is")
        target = target.bind
    listened = target.sync_connection if isinstance(target, AsyncConnection) else target
    sent: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if savepoints or not SAVEPOINT.match(statement):
            sent.append(" ".join(statement.split()))

    event.listen(listened, "before_cursor_execute", before)
    try:
        yield sent
    finally:
        event.remove(listened, "before_cursor_execute", before)


def summary(statement: str) -> str:
    """`SELECT … FROM accounts … FOR UPDATE`: what a statement does to which table, in a few words."""
    words = statement.split()
    verb = words[0].upper() if words else "?"
    found = re.search(r"\b(FROM|INTO|UPDATE)\s+(\w+)", statement, re.IGNORECASE)
    if found is None:
        shown = verb
    elif verb == found.group(1).upper():  # UPDATE accounts
        shown = f"{verb} {found.group(2)}"
    elif verb == "SELECT":
        shown = f"SELECT … FROM {found.group(2)}"
    else:  # INSERT INTO entries, DELETE FROM accounts
        shown = f"{verb} {found.group(1).upper()} {found.group(2)}"
    return shown + (" … FOR UPDATE" if re.search(r"FOR\s+UPDATE", statement, re.IGNORECASE) else "")
