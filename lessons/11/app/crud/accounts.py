"""The accounts repository: every query the service runs on `accounts`.

A repository adds, queries and flushes; it never commits (the request's session dependency
does, once, for all the request's writes) and raises nothing HTTP (a missing account is
`None`, and the service decides what that means).
"""

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Account


class AccountRepository:
    """Reads and writes `Account` rows through one request's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, account_id: uuid.UUID) -> Account | None:
        """The account with this id, or None when there is none."""
        # session.get looks in the session's identity map first: no query for a row it already holds.
        return await self.session.get(Account, account_id)

    async def get_for_update(self, account_id: uuid.UUID) -> Account | None:
        """The account with this id, its row locked (SELECT … FOR UPDATE) until the transaction ends."""
        statement = (
            select(Account)
            .where(Account.id == account_id)
            .with_for_update()
            # The account may already sit in the session with values read before the lock;
            # populate_existing overwrites them with the row as it is now, under the lock.
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def list(self, *, user_id: uuid.UUID, limit: int = 50, offset: int = 0) -> Sequence[Account]:
        """One page of the user's accounts, oldest first: ordered by id, which UUIDv7 makes time-ordered."""
        # Without ORDER BY, PostgreSQL may return rows in any order, and a different one per
        # query: page 2 could repeat a row of page 1 and never show another. The primary key
        # is unique, so the order is total; UUIDv7 makes it creation order, to the millisecond.
        statement = select(Account).where(Account.user_id == user_id).order_by(Account.id).limit(limit).offset(offset)
        return (await self.session.scalars(statement)).all()

    async def page(self, *, user_id: uuid.UUID, after: uuid.UUID | None, limit: int) -> Sequence[Account]:
        """A keyset page of the user's accounts, newest first: those whose id comes before `after` (lesson 11)."""
        # WHERE id < :after ORDER BY id DESC LIMIT :limit walks the index on (user_id, id) from where the last
        # page stopped: each page costs the same, however deep. An OFFSET reads and throws away every row
        # before the page, and shifts when a row is inserted in front of it.
        raise NotImplementedError("Lesson 11: this user's accounts, newest first (id descending), only those before `after` when it is given, at most `limit`; no OFFSET (step 4)")

    async def add(self, account: Account) -> Account:
        """Insert the account (flush, no commit) and return it with its id and created_at set."""
        self.session.add(account)
        # The flush sends the INSERT inside the request's transaction. On PostgreSQL the ORM
        # adds RETURNING for server defaults (eager_defaults="auto"), so created_at is loaded
        # by the same statement: no refresh, no second round trip.
        await self.session.flush()
        return account
