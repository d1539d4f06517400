"""Helpers shared by lesson 04's checks."""

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session


def watch_commits(session: AsyncSession) -> list[object]:
    """Every commit of the session's transaction from now on, however it is started.

    Releasing a SAVEPOINT (`begin_nested()`) is not counted: it ends no transaction.
    """
    commits: list[object] = []

    def committed(sync_session: Session) -> None:
        if not sync_session.in_nested_transaction():
            commits.append(sync_session)

    event.listen(session.sync_session, "after_commit", committed)
    return commits
